"""The loader: config, validated with the models of :mod:`oidc.settings.models`, into the domain of :mod:`oidc.model`.

:func:`load_settings` takes the parsed values of the project namespace (objects as objects, not JSON text) and
raises :class:`~oidc.model.ConfigError` with every problem at once, each at its key path with the value received
(never a value of a secret key) and what is allowed, so bad config never reaches AWS.

Pydantic validates each object against its model: the value of each key (its check and its words), unknown keys,
missing ones, defaults. The loader validates the items of a list or map one by one, so that each error has its
path and the rules across keys (this module's second pass: forms A and B, one owner per stack and environment,
accounts, patterns that take no settings) are judged on every item that is valid, alongside the others' errors.
"""

from __future__ import annotations

import difflib
import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Annotated, Any, TypeVar, get_args, get_origin

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo

from oidc import claims
from oidc.model import (
    DEFAULT_TRUST_POLICY_MAX_CHARS,
    FORM_A_KEY,
    GATED_ACTIONS,
    MAX_CLIENT_IDS,
    AccountSettings,
    ApprovalRule,
    AssumeRole,
    AwsSession,
    ConfigError,
    ConfigIssue,
    DeploymentStack,
    EscEnvironment,
    GitSource,
    OidcProviderSettings,
    RoleSettings,
    Secret,
    Settings,
    TeamAccess,
    provider_client_ids,
    top_key,
)
from oidc.settings import fields, models
from oidc.settings.models import Keys

_D = TypeVar("_D")

KEYS: tuple[str, ...] = tuple(str(info.alias) for info in models.Program.model_fields.values())
"""Every key of the project namespace the program reads."""

SHOWN_CHARS = 80
"""About how much of a received value a message quotes."""

_OWN_OIDC = (
    "the program's own: it points the stack at this role. Set the session on the entry itself "
    "(sessionName, duration, policyArns), and remove this"
)
_SESSION_KEYS = ("sessionName", "duration", "policyArns")
_SETTINGS_KEYS = ("source", "settings", "replaceSettings")
"""The keys of an entry that only a stack whose settings this program manages takes."""
_ACCESS_KEYS = ("teams", "deletionProtected", "approvals")
"""The keys of an environment entry that only an environment this program creates takes."""


# --- messages -------------------------------------------------------------------------------------------------


def show(value: Any) -> str:
    """A received value as the user wrote it, in JSON form (text quoted), cut to about 80 characters.

    Values come decoded (never the JSON text Pulumi keeps for an object or list), keep their keys' order and
    their non-ASCII characters; a longer one is cut with an ellipsis and its size.
    """
    text = json.dumps(value, ensure_ascii=False, default=str)
    if len(text) <= SHOWN_CHARS:
        return text
    size = ""
    if isinstance(value, str):
        size = f" ({len(value)} characters)"
    elif isinstance(value, dict):
        size = f" ({len(value)} {'entry' if len(value) == 1 else 'entries'})"
    elif isinstance(value, list):
        size = f" ({len(value)} item{'' if len(value) == 1 else 's'})"
    return f"{text[: SHOWN_CHARS - 1]}…{size}"


def unknown_key(key: str, allowed_keys: Sequence[str]) -> str:
    """What an unknown key is told: the closest known key, if one is close, and the keys allowed there."""
    allowed = ", ".join(allowed_keys)
    suggestion = fields.did_you_mean(key, allowed_keys, before="")
    return f"unknown key, {suggestion} (allowed: {allowed})" if suggestion else f"unknown key; allowed: {allowed}"


def aliases(model: type[Keys]) -> list[str]:
    """The config keys of ``model``, in their declared order."""
    return [str(info.alias) for info in model.model_fields.values()]


def _field(model: type[Keys], alias: str) -> FieldInfo | None:
    return next((info for info in model.model_fields.values() if info.alias == alias), None)


def _inner_model(annotation: Any) -> type[Keys] | None:
    """The model a field's annotation holds (``X``, ``X | None``, ``Annotated[X, ...]``), if any."""
    if isinstance(annotation, type) and issubclass(annotation, Keys):
        return annotation
    if get_origin(annotation) is Annotated:
        return _inner_model(get_args(annotation)[0])
    return next((found for arg in get_args(annotation) if (found := _inner_model(arg))), None)


def model_at(model: type[Keys], loc: Sequence[str | int]) -> type[Keys] | None:
    """The model of the object at ``loc`` below ``model`` (aliases and list indices), if it is one."""
    current: type[Keys] | None = model
    for part in loc:
        if current is None or isinstance(part, int):
            continue
        info = _field(current, part)
        current = _inner_model(info.annotation) if info is not None else None
    return current


def metadata(info: FieldInfo) -> dict[str, Any]:
    extra = info.json_schema_extra
    return dict(extra) if isinstance(extra, dict) else {}


def path_of(prefix: str, loc: Sequence[str | int]) -> str:
    path = prefix
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


class Issues:
    """The problems found so far, and the secret keys whose values no message shows."""

    def __init__(self, secret_keys: frozenset[str]) -> None:
        self.found: list[ConfigIssue] = []
        self.warnings: list[ConfigIssue] = []
        self.secret_keys = secret_keys

    def fail(self, path: str, value: Any, allowed: str) -> None:
        """``<path>: got <value>; <allowed>``, the value not shown when its key is secret."""
        if top_key(path) in self.secret_keys:
            # Pulumi marks the whole key secret, not which value in it is: show none of them.
            key = top_key(path)
            self.found.append(ConfigIssue(path, f"got a value not shown, as {key} holds secrets; {allowed}"))
            return
        self.found.append(ConfigIssue(path, f"got {show(value)}; {allowed}"))

    def problem(self, path: str, message: str) -> None:
        self.found.append(ConfigIssue(path, message))

    def at(self, path: str) -> bool:
        """Whether a problem is reported at ``path`` or below it."""
        return any(i.path == path or i.path.startswith((f"{path}.", f"{path}[")) for i in self.found)

    def validation(
        self, error: ValidationError, model: type[Keys] | None, prefix: str, skip: Iterable[str] = ()
    ) -> None:
        """Each error of ``error`` (of a value at ``prefix``, of ``model`` if an object), in this project's words;
        none at or below a path of ``skip`` (a rule there says more)."""
        skipped = tuple(skip)
        for line in error.errors(include_url=False):
            loc = tuple(line["loc"])
            path = path_of(prefix, loc)
            if any(path == s or path.startswith((f"{s}.", f"{s}[")) for s in skipped):
                continue
            kind, ctx, value = line["type"], line.get("ctx") or {}, line.get("input")
            if kind == "config":
                self.fail(path, value, str(ctx["allowed"]))
            elif kind == "config_problem":
                self.problem(path, str(ctx["message"]))
            elif kind == "config_several":
                for below, item, allowed in ctx["entries"]:
                    self.fail(f"{path}{below}", item, allowed)
            elif kind == "config_credential":
                self.problem(
                    path,
                    "a credential, so it must come from secure config: run "
                    f"pulumi config set --secret --path '{path}' <value> (the value is not shown here)",
                )
            elif kind == "missing":
                holder = model_at(model, loc[:-1]) if model else None
                info = _field(holder, str(loc[-1])) if holder else None
                said = metadata(info).get("missing") if info else None
                allowed = _allowed(holder, str(loc[-1])) if holder else None
                self.problem(path, said or "missing; it is required here" + (f": {allowed}" if allowed else ""))
            elif kind == "extra_forbidden":
                holder = model_at(model, loc[:-1]) if model else None
                self.fail(path, value, unknown_key(str(loc[-1]), aliases(holder) if holder else []))
            elif kind in {"model_type", "model_attributes_type", "dict_type"}:
                holder = model_at(model, loc) if model else None
                keys = ", ".join(aliases(holder)) if holder else ""
                self.fail(path, value, f"expected an object with keys {keys}")
            elif kind == "list_type":
                self.fail(path, value, "expected a list of objects")
            else:  # a pydantic error no check of ours raises first
                self.fail(path, value, str(line["msg"]))


# --- validation of one value -------------------------------------------------------------------------------------


@functools.cache
def _adapter(model: type[Keys], name: str) -> TypeAdapter[Any]:
    info = model.model_fields[name]
    annotation: Any = info.annotation
    if info.metadata:
        annotation = Annotated[(annotation, *info.metadata)]  # the field's checks, as the model runs them
    return TypeAdapter(annotation)


def _allowed(model: type[Keys], alias: str) -> str | None:
    """What the check of key ``alias`` of ``model`` allows, as its error says (``None`` for an object's key)."""
    info = _field(model, alias)
    if info is None or _inner_model(info.annotation) is not None:
        return None
    try:
        _adapter(model, _name(model, alias)).validate_python(None)
    except ValidationError as error:
        ctx = error.errors()[0].get("ctx") or {}
        return str(ctx["allowed"]) if "allowed" in ctx else None
    return None


def _name(model: type[Keys], alias: str) -> str:
    return next(name for name, info in model.model_fields.items() if info.alias == alias)


def valid(model: type[Keys], alias: str, value: Any, context: fields.Context | None = None) -> Any:
    """``value`` of the key ``alias`` of ``model`` as it validates, or ``None`` when it does not."""
    try:
        return _adapter(model, _name(model, alias)).validate_python(value, context=context or fields.Context())
    except ValidationError:
        return None


def validate(  # noqa: PLR0917 (one call site per kind of value; the order reads as the sentence)
    model: type[Keys],
    value: Any,
    path: str,
    issues: Issues,
    context: fields.Context,
    skip: Iterable[str] = (),
) -> Any:
    """``value`` validated as ``model`` at ``path``; ``None``, with its problems in ``issues``, when it is not valid."""
    regions = len(context.regions)
    try:
        return model.model_validate(value, context=context)
    except ValidationError as error:
        issues.validation(error, model, path, skip)
        return None
    finally:
        # A region's check knows its key, not where its object is: give it its path.
        for index in range(regions, len(context.regions)):
            region, key = context.regions[index]
            context.regions[index] = (region, f"{path}.{key}")


def validate_key(  # noqa: PLR0917 (as validate)
    model: type[Keys], alias: str, value: Any, path: str, issues: Issues, context: fields.Context
) -> Any:
    """The value of one key of ``model`` validated at ``path``; ``None`` when it is not valid."""
    try:
        return _adapter(model, _name(model, alias)).validate_python(value, context=context)
    except ValidationError as error:
        issues.validation(error, model_at(model, (alias,)), path)
        return None


# --- the loader ------------------------------------------------------------------------------------------------


_UNSET: dict[str, Any] = {
    str(info.alias): info.get_default(call_default_factory=True, validated_data={})
    for name, info in models.Program.model_fields.items()
    if name not in {"organization", "issuer"}
}
"""Values that mean "not set": the defaults declared, which Pulumi.yaml gives every stack."""
_UNSET["oidcProvider"] = {}
_UNSET["role"] = {}


def given(values: Mapping[str, Any], key: str) -> bool:
    """Whether ``key`` is set to something: present, and not its empty default."""
    return key in values and values[key] != _UNSET.get(key, object())


def load_settings(
    values: Mapping[str, Any],
    *,
    aws_region: str | None = None,
    secret_keys: Iterable[str] = (),
    secret_settings: bool = False,
) -> Settings:
    """Build :class:`~oidc.model.Settings` from ``values``, the config keys of the project namespace (without it).

    Values are parsed (:func:`parse_config` reads them from the text Pulumi keeps). Without ``roles`` this is
    form A (one role in one account); with ``roles`` (and optionally ``accounts``), form B. ``aws_region`` is the
    stack's ``aws:region``: the region of the AWS provider of an account reached through ``assumeRole`` or
    ``profile`` that names none. ``secret_keys`` are the keys Pulumi marks secret: their values are sent as secrets,
    the credentials of ``deployments[].settings`` must come from one, and no message shows their values.
    ``secret_settings`` makes every credential and environment variable a secret whatever key holds it
    (arguments given in code, which have no secure config). Raises :class:`~oidc.model.ConfigError`.
    """
    loader = _Loader(frozenset(secret_keys), secret_settings, aws_region)
    return loader.load(values)


@dataclass
class _Entries:
    deployments: tuple[DeploymentStack, ...]
    environments: tuple[EscEnvironment, ...]
    complete: bool


@dataclass
class _Loader:
    secret_keys: frozenset[str]
    secret_settings: bool
    aws_region: str | None
    issues: Issues = field(init=False)
    regions: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.issues = Issues(self.secret_keys)

    def context(self, path: str, **overrides: Any) -> fields.Context:
        found = fields.Context(secret=self.secret_settings or top_key(path) in self.secret_keys, **overrides)
        found.regions = self.regions
        return found

    def load(self, values: Mapping[str, Any]) -> Settings:
        issues = self.issues
        for key in sorted(values):
            scope, _, name = key.rpartition(":")
            if scope:
                issues.fail(
                    key,
                    values[key],
                    f"this program reads {name} from its own project's namespace, not {scope}'s; "
                    "prefix it with the project name of Pulumi.yaml",
                )
            elif key not in KEYS:
                issues.fail(key, values[key], unknown_key(key, KEYS))
        organization = self.organization(values.get("organization"))
        issuer: str | None = claims.DEFAULT_ISSUER
        if "issuer" in values:
            issuer = validate_key(models.Program, "issuer", values["issuer"], "issuer", issues, self.context("issuer"))
        by_roles = given(values, "roles")
        if by_roles:
            accounts, roles = self.form_b(values, issuer)
        else:
            accounts, roles = self.form_a(values, issuer)
        if organization and accounts is not None and roles is not None:
            for account in accounts:
                self.client_id_limit(organization, account, roles, by_roles)
        self.check_regions()
        if issues.found:
            raise ConfigError(issues.found)
        if organization is None or issuer is None or accounts is None or roles is None:
            raise AssertionError("a config value is missing although no problem was recorded")
        return Settings(
            organization=organization,
            issuer=issuer,
            accounts=accounts,
            roles=roles,
            by_roles=by_roles,
            secret_keys=frozenset(key for key in self.secret_keys if key in KEYS),
            warnings=tuple(issues.warnings),
        )

    # --- the top level ------------------------------------------------------------------------------------

    def organization(self, value: Any) -> str | None:
        if value is None:
            info = models.Program.model_fields["organization"]
            self.issues.problem("organization", metadata(info)["missing"])
            return None
        if isinstance(value, str) and value.lower() != value and fields.ORG.fullmatch(value.lower()):
            lowercase = "" if "organization" in self.secret_keys else f" {value.lower()!r}"
            self.issues.fail(
                "organization",
                value,
                f"use the lowercase login{lowercase}: Pulumi sends it lowercase in aud and sub, and IAM compares "
                "case-sensitively",
            )
            return None
        found: str | None = validate_key(
            models.Program, "organization", value, "organization", self.issues, self.context("organization")
        )
        return found

    def max_chars(self, value: Any, path: str) -> int | None:
        found: int | None = validate_key(
            models.Program, "trustPolicyMaxChars", value, path, self.issues, self.context(path)
        )
        return found

    def form_a(
        self, values: Mapping[str, Any], issuer: str | None
    ) -> tuple[tuple[AccountSettings, ...] | None, tuple[RoleSettings, ...] | None]:
        """Form A: the top-level ``role``, ``deployments`` and ``environments``, in one account."""
        if given(values, "accounts"):
            self.issues.fail(
                "accounts",
                values["accounts"],
                "accounts go with roles: give roles.<key>.account for each role, or remove accounts",
            )
        provider = self.oidc_provider(values.get("oidcProvider", {}), "oidcProvider", issuer)
        max_chars = self.max_chars(
            values.get("trustPolicyMaxChars", DEFAULT_TRUST_POLICY_MAX_CHARS), "trustPolicyMaxChars"
        )
        raw_role = values.get("role", {})
        role = self.role_keys(raw_role, "role", models.RoleKeys)
        entries = self.entries(values.get("deployments", []), values.get("environments", []), raw_role, "", "role")
        if entries.complete and not entries.deployments and not entries.environments:
            self.issues.problem(
                "deployments",
                "got [] and environments got []; list at least one Deployments stack or ESC environment, or the role "
                "would trust nothing",
            )
        if provider is None or max_chars is None or role is None or not entries.complete:
            return None, None
        account = AccountSettings(oidc_provider=provider, trust_policy_max_chars=max_chars)
        return (account,), (replace(role, deployments=entries.deployments, environments=entries.environments),)

    def form_b(
        self, values: Mapping[str, Any], issuer: str | None
    ) -> tuple[tuple[AccountSettings, ...] | None, tuple[RoleSettings, ...] | None]:
        """Form B: ``roles`` (and ``accounts``), with the rules that hold across them."""
        for key in ("role", "deployments", "environments"):
            if given(values, key):
                self.issues.fail(
                    key,
                    values[key],
                    f"with roles, each role holds its own {key if key != 'role' else 'fields'}: move this under "
                    f"roles.<key>{'' if key == 'role' else '.' + key}",
                )
        explicit_accounts = given(values, "accounts")
        accounts: tuple[AccountSettings, ...] | None
        if explicit_accounts:
            for key in ("oidcProvider", "trustPolicyMaxChars"):
                if given(values, key):
                    self.issues.fail(
                        key, values[key], f"with accounts, each account has its own: move this to accounts.<key>.{key}"
                    )
            accounts = self.accounts(values["accounts"], issuer)
        else:
            provider = self.oidc_provider(values.get("oidcProvider", {}), "oidcProvider", issuer)
            max_chars = self.max_chars(
                values.get("trustPolicyMaxChars", DEFAULT_TRUST_POLICY_MAX_CHARS), "trustPolicyMaxChars"
            )
            accounts = None
            if provider is not None and max_chars is not None:
                accounts = (AccountSettings(oidc_provider=provider, trust_policy_max_chars=max_chars),)
        raw_accounts = values.get("accounts", {}) if explicit_accounts else {}
        account_keys = (
            {k for k in raw_accounts if isinstance(k, str) and fields.MAP_KEY.fullmatch(k)}
            if isinstance(raw_accounts, dict)
            else set()
        )
        roles, complete = self.roles(values.get("roles", {}), explicit_accounts, account_keys)
        # Judged on the roles that could be read, so that their conflicts show with the other errors.
        self.cross_role_rules(roles)
        if explicit_accounts:
            raw_roles = values.get("roles", {})
            claimed = (
                {r["account"] for r in raw_roles.values() if isinstance(r, dict) and isinstance(r.get("account"), str)}
                if isinstance(raw_roles, dict)
                else set()
            )
            for key in sorted(account_keys - claimed):
                self.issues.problem(
                    f"accounts.{key}", f"holds no role; give a role account: {key}, or remove the account"
                )
        if accounts is None or not complete:
            return None, None
        return accounts, roles

    def map(self, value: Any, path: str, what: str) -> dict[str, Any] | None:
        """A ``key -> object`` map whose keys go into logical names."""
        if not isinstance(value, dict) or not value:
            self.issues.fail(path, value, f"expected a map of {what} by key, with at least one")
            return None
        good = {}
        for key, item in value.items():
            if not isinstance(key, str) or not fields.MAP_KEY.fullmatch(key):
                self.issues.fail(
                    f"{path}.{key}",
                    item,
                    f"{key!r} is not a valid {path} key: 1 to 32 of a-z, 0-9 and '-', starting with a letter or digit "
                    "(it goes into logical names)",
                )
                continue
            good[key] = item
        return good

    # --- providers and accounts -----------------------------------------------------------------------------

    def oidc_provider(self, value: Any, path: str, issuer: str | None) -> OidcProviderSettings | None:
        before = len(self.issues.found)
        skip = []
        if isinstance(value, dict) and "arn" in value:
            for key in ("thumbprints", "audiences", "protect"):
                if key in value:
                    skip.append(f"{path}.{key}")
                    self.issues.fail(
                        f"{path}.{key}",
                        value[key],
                        "only for a provider this program creates; remove it, or remove arn",
                    )
        model = validate(models.OidcProvider, value, path, self.issues, self.context(path), skip)
        if isinstance(value, dict) and value.get("addAudiences") is True and "arn" not in value:
            self.issues.fail(
                f"{path}.addAudiences",
                True,
                "only with arn: a provider this program creates already registers every audience its roles need",
            )
        if (
            model is not None
            and model.arn
            and issuer
            and not model.arn.endswith(f":oidc-provider/{claims.condition_prefix(issuer)}")
        ):
            self.issues.fail(
                f"{path}.arn",
                model.arn,
                f"expected the provider of the issuer {issuer}, whose ARN ends "
                f"':oidc-provider/{claims.condition_prefix(issuer)}'",
            )
        if model is None or len(self.issues.found) > before:
            return None
        return OidcProviderSettings(
            arn=model.arn,
            thumbprints="auto" if model.thumbprints == "auto" else tuple(model.thumbprints),
            audiences=tuple(model.audiences),
            protect=model.protect,
            add_audiences=model.add_audiences,
        )

    def accounts(self, value: Any, issuer: str | None) -> tuple[AccountSettings, ...] | None:
        entries = self.map(value, "accounts", "AWS accounts")
        if entries is None:
            return None
        before = len(self.issues.found)
        accounts = []
        ambient: list[str] = []
        for key in sorted(entries):
            path = f"accounts.{key}"
            data = entries[key]
            raw = data if isinstance(data, dict) else {}
            skip = [f"{path}.oidcProvider"]
            if "assumeRole" in raw and "profile" in raw:
                skip.append(f"{path}.profile")
                self.issues.fail(
                    f"{path}.profile",
                    raw["profile"],
                    "give assumeRole or profile, not both: the account's AWS provider reaches it one way",
                )
            reaches = "assumeRole" in raw or "profile" in raw
            if "region" in raw and not reaches:
                skip.append(f"{path}.region")
                self.issues.fail(
                    f"{path}.region",
                    raw["region"],
                    "only with assumeRole or profile: an account without either uses the stack's default AWS provider, "
                    "whose region is aws:region",
                )
            if isinstance(data, dict) and not reaches:
                ambient.append(path)
            account = validate(
                models.Account,
                {k: v for k, v in raw.items() if k != "oidcProvider"} if isinstance(data, dict) else data,
                path,
                self.issues,
                self.context(path),
                skip,
            )
            provider = self.oidc_provider(raw.get("oidcProvider", {}), f"{path}.oidcProvider", issuer)
            if account is None or provider is None:
                continue
            assume = account.assume_role
            assume_role = (
                AssumeRole(assume.role_arn, assume.session_name, assume.external_id) if assume is not None else None
            )
            if assume_role is not None and account.id is not None and assume_role.account_id != account.id:
                self.issues.fail(
                    f"{path}.id",
                    account.id,
                    f"assumeRole.roleArn is in account {assume_role.account_id}, so the provider would reach that "
                    "account; make them agree",
                )
            implied = {
                "assumeRole": assume_role.account_id if assume_role else None,
                "oidcProvider": provider.arn.split(":")[4] if provider.arn else None,
            }
            if account.id is None and len({v for v in implied.values() if v}) > 1:
                self.issues.problem(
                    f"{path}.oidcProvider.arn",
                    f"is a provider of account {implied['oidcProvider']}, but assumeRole.roleArn reaches account "
                    f"{implied['assumeRole']}; a role trusts a provider of its own account",
                )
            elif account.id is not None and implied["oidcProvider"] not in {None, account.id}:
                self.issues.problem(
                    f"{path}.oidcProvider.arn",
                    f"is a provider of account {implied['oidcProvider']}, not of {account.id} (id); a role trusts a "
                    "provider of its own account",
                )
            accounts.append(
                AccountSettings(
                    key=key,
                    id=account.id or next((v for v in implied.values() if v), None),
                    assume_role=assume_role,
                    profile=account.profile,
                    region=account.region if account.region else (self.aws_region if reaches else None),
                    oidc_provider=provider,
                    trust_policy_max_chars=account.trust_policy_max_chars,
                    config_path=f"{path}.",
                )
            )
        if len(ambient) > 1:
            self.issues.problem(
                ambient[1],
                f"has neither assumeRole nor profile, like {ambient[0]}: at most one account uses the stack's default "
                "AWS provider; give the others assumeRole or profile",
            )
        seen: dict[str, str] = {}
        for account in accounts:
            if account.id is None:
                continue
            if account.id in seen:
                self.issues.problem(
                    f"accounts.{account.key}",
                    f"reaches account {account.id}, like accounts.{seen[account.id]}: IAM holds one provider per "
                    "issuer and account, so list each account once and put both sets of roles in it",
                )
            seen.setdefault(account.id, account.key)
        if len(self.issues.found) > before:
            return None
        return tuple(accounts)

    def client_id_limit(
        self, organization: str, account: AccountSettings, roles: Sequence[RoleSettings], by_roles: bool
    ) -> None:
        provider = account.oidc_provider
        if provider.arn is not None:
            return
        needed = provider_client_ids(organization, account, [r for r in roles if r.account == account.key], by_roles)
        if len(needed) > MAX_CLIENT_IDS:
            self.issues.fail(
                f"{account.config_path}oidcProvider.audiences",
                list(provider.audiences),
                f"a provider holds at most {MAX_CLIENT_IDS} client IDs, including the audiences its roles need",
            )

    def check_regions(self) -> None:
        """A warning for each region botocore does not know, naming the closest it does."""
        known = fields.known_regions() if self.regions else frozenset()
        for region, path in self.regions:
            if region in known or self.issues.at(path):
                continue
            close = difflib.get_close_matches(region, sorted(known), n=1)
            self.issues.warnings.append(
                ConfigIssue(
                    path,
                    f"{region} is not a region botocore {fields.botocore_version()} knows"
                    + (f"; did you mean {close[0]}?" if close else "")
                    + " A region newer than that botocore is fine; otherwise nothing reaches AWS there",
                )
            )

    # --- roles ----------------------------------------------------------------------------------------------

    def role_keys(
        self, value: Any, path: str, model: type[models.RoleKeys], skip: Sequence[str] = ()
    ) -> RoleSettings | None:
        role = validate(model, value, path, self.issues, self.context(path), skip)
        if role is None:
            return None
        policy_arns = role.policy_arns
        if policy_arns is not None:
            paths = [arn.split(":", 4)[4] for arn in policy_arns]
            if len(set(paths)) != len(paths):
                self.issues.fail(
                    f"{path}.policyArns",
                    value.get("policyArns"),
                    "each policy once; the same policy is listed for two partitions",
                )
                return None
        return domain(RoleSettings, role, models.RoleKeys)

    def roles(
        self, value: Any, explicit_accounts: bool, known_accounts: set[str]
    ) -> tuple[tuple[RoleSettings, ...], bool]:
        """The roles that could be read, and whether that is all of them, without an issue."""
        entries = self.map(value, "roles", "IAM roles")
        if entries is None:
            return (), False
        before = len(self.issues.found)
        roles = []
        for key in sorted(entries):
            path = f"roles.{key}"
            data = entries[key]
            if not isinstance(data, dict):
                validate(models.Role, data, path, self.issues, self.context(path))
                continue
            # The account and the entries are judged below, against the accounts and one by one.
            skip = [f"{path}.account", f"{path}.deployments", f"{path}.environments", f"{path}.environmentTeams"]
            role = self.role_keys(data, path, models.Role, skip)
            account = FORM_A_KEY
            if explicit_accounts:
                if "account" not in data:
                    self.issues.problem(
                        f"{path}.account",
                        f"missing; name the account of this role, one of: {', '.join(sorted(known_accounts))}",
                    )
                elif not isinstance(data["account"], str) or data["account"] not in known_accounts:
                    self.issues.fail(
                        f"{path}.account",
                        data["account"],
                        f"expected a key of accounts: {', '.join(sorted(known_accounts))}"
                        f"{fields.did_you_mean(data['account'], sorted(known_accounts))}",
                    )
                else:
                    account = str(data["account"])
            elif "account" in data:
                self.issues.fail(
                    f"{path}.account", data["account"], "only with accounts: declare the accounts, or remove this"
                )
            entries_ = self.entries(data.get("deployments", []), data.get("environments", []), data, f"{path}.", path)
            if entries_.complete and not entries_.deployments and not entries_.environments:
                self.issues.problem(
                    path, "lists no deployments and no environments; list at least one, or the role would trust nothing"
                )
            environments = self.environment_teams(data, path, entries_)
            if role is None or not entries_.complete or environments is None:
                continue
            roles.append(
                replace(
                    role,
                    key=key,
                    account=account,
                    deployments=entries_.deployments,
                    environments=environments,
                    config_path=path,
                )
            )
        return tuple(roles), len(self.issues.found) == before

    def environment_teams(
        self, data: Mapping[str, Any], path: str, entries: _Entries
    ) -> tuple[EscEnvironment, ...] | None:
        """The role's environments with ``environmentTeams`` merged into each it creates (an entry's own ``teams``
        wins per team); ``None`` when ``environmentTeams`` is not valid there."""
        if "environmentTeams" not in data:
            return entries.environments
        at = f"{path}.environmentTeams"
        raw = data["environmentTeams"]
        teams = validate_key(models.Role, "environmentTeams", raw, at, self.issues, self.context(at))
        if teams is None:
            return None
        if not teams:
            return entries.environments
        if entries.complete and not any(e.session is not None for e in entries.environments):
            self.issues.fail(
                at,
                data["environmentTeams"],
                "the role creates no environment (only a concrete name in environments creates one; patterns create "
                "none), so these permissions reach nothing; list a concrete environment or remove environmentTeams",
            )
            return None
        shared = team_access(teams)
        return tuple(
            replace(e, teams=dict(sorted({**shared, **e.teams}.items()))) if e.session is not None else e
            for e in entries.environments
        )

    def cross_role_rules(self, roles: Sequence[RoleSettings]) -> None:
        """Rules of form B that no single role can break alone."""
        self.one_owner(
            (d for role in roles for d in role.managed_stacks),
            "manages the deployment settings of {identity}, as {other} does: a stack's settings hold one role ARN, so "
            "one role manages them; give the other entry manageSettings: false to only trust it",
        )
        self.one_owner(
            (e for role in roles for e in role.defined_environments),
            "creates the ESC environment {identity}, as {other} does: one role creates it; trust it from the other "
            "role with a name pattern, or point the environment at one role",
        )
        names: dict[tuple[str, str], str] = {}
        for role in roles:
            if role.name is None:
                continue
            other = names.setdefault((role.account, role.name.lower()), f"{role.config_path}.name")
            if other != f"{role.config_path}.name":
                self.issues.fail(
                    f"{role.config_path}.name",
                    role.name,
                    f"{other} names the same role in account {role.account} (IAM compares role names ignoring case); "
                    "give each role its own name",
                )

    def one_owner(self, entries: Iterable[DeploymentStack | EscEnvironment], message: str) -> None:
        owners: dict[str, str] = {}
        for entry in entries:
            other = owners.setdefault(entry.identity, entry.path)
            if other != entry.path:
                self.issues.problem(entry.path, message.format(identity=entry.identity, other=other))

    # --- entries --------------------------------------------------------------------------------------------

    def entries(self, deployments: Any, environments: Any, raw_role: Any, prefix: str, role_path: str) -> _Entries:
        """The deployments and environments of one role, each against the role's ``maxSessionDuration``."""
        before = len(self.issues.found)
        max_session = role_max_session(raw_role)
        found_deployments = self.deployments(deployments, f"{prefix}deployments", max_session, role_path)
        found_environments = self.environments(environments, f"{prefix}environments", max_session, role_path)
        return _Entries(tuple(found_deployments), tuple(found_environments), len(self.issues.found) == before)

    def items(self, value: Any, path: str) -> list[Any]:
        if not isinstance(value, list):
            self.issues.fail(path, value, "expected a list of objects")
            return []
        return value

    def once(self, seen: dict[str, str], identity: str, path: str, value: Any) -> None:
        if identity in seen:
            self.issues.fail(path, value, f"each entry once; {identity} is also at {seen[identity]}")
        seen.setdefault(identity, path)

    def deployments(self, value: Any, at: str, max_session: int | None, role_path: str) -> list[DeploymentStack]:
        stacks: list[DeploymentStack] = []
        seen: dict[str, str] = {}
        for index, item in enumerate(self.items(value, at)):
            path = f"{at}[{index}]"
            context = self.context(path, max_session=max_session, role_path=role_path)
            if not isinstance(item, dict):
                validate(models.Deployment, item, path, self.issues, context)
                continue
            project = valid(models.Deployment, "project", item.get("project"))
            stack = valid(models.Deployment, "stack", item.get("stack"))
            skip: list[str] = []
            manage: bool | None = None
            if project is not None and stack is not None:
                self.once(seen, f"{project}/{stack}", path, item)
                pattern = claims.is_pattern(project) or claims.is_pattern(stack)
                manage = not pattern
                if "manageSettings" in item:
                    manage = valid(models.Deployment, "manageSettings", item["manageSettings"])
                    if manage and pattern:
                        skip.append(f"{path}.manageSettings")
                        self.issues.fail(
                            f"{path}.manageSettings",
                            True,
                            "a pattern names no single stack, so it has no settings to manage; use false or omit it",
                        )
                if manage is not None and not (manage and not pattern):
                    for key in (*_SESSION_KEYS, *_SETTINGS_KEYS):
                        if key in item:
                            skip.append(f"{path}.{key}")
                            self.issues.fail(
                                f"{path}.{key}",
                                item[key],
                                "only used in deployment settings this program manages (a concrete stack with "
                                "manageSettings true); remove it",
                            )
                elif manage:
                    skip += self.settings_rules(item, path)
            model = validate(models.Deployment, item, path, self.issues, context, skip)
            if model is None or manage is None or any(self.issues.at(s) for s in skip):
                continue
            stacks.append(self.deployment(model, path, manage))
        return stacks

    def settings_rules(self, item: dict[str, Any], path: str) -> list[str]:
        """The rules of a managed stack's ``source`` and ``settings`` no single key holds; the paths they report."""
        reported: list[str] = []
        settings = item.get("settings")
        if not isinstance(settings, dict):
            return reported
        context = settings.get("operationContext")
        if isinstance(context, dict) and "oidc" in context:
            at = f"{path}.settings.operationContext.oidc"
            reported.append(at)
            self.issues.fail(at, context["oidc"], _OWN_OIDC)
        source_context = settings.get("sourceContext")
        if "source" in item and source_context is not None:
            reported.append(f"{path}.source")
            self.issues.fail(
                f"{path}.source",
                item["source"],
                "source is the short form of settings.sourceContext.git: give one of them, not both",
            )
        git = source_context.get("git") if isinstance(source_context, dict) else None
        if isinstance(git, dict):
            if ("branch" in git) == ("commit" in git):
                self.issues.problem(f"{path}.settings.sourceContext.git", "give exactly one of branch and commit")
            auth = git.get("gitAuth")
            if isinstance(auth, dict) and len(auth) != 1:
                self.issues.problem(
                    f"{path}.settings.sourceContext.git.gitAuth", "give exactly one of basicAuth and sshAuth"
                )
        return reported

    def deployment(self, model: models.Deployment, path: str, manage: bool) -> DeploymentStack:
        pattern = claims.is_pattern(model.project) or claims.is_pattern(model.stack)
        session = None
        source = None
        declared: dict[str, Any] = {}
        if manage and not pattern:
            name = model.session_name or f"pulumi-deploy-{model.project}-{model.stack}"[:64]
            session = AwsSession(session_name=name, duration=model.duration, policy_arns=tuple(model.policy_arns))
            if model.source is not None:
                source = GitSource(model.source.repo_url, model.source.branch, model.source.repo_dir)
            secret = self.secret_settings or top_key(path) in self.secret_keys
            declared = declared_settings(model.settings, secret)
        return DeploymentStack(
            model.project,
            model.stack,
            tuple(model.operations) if model.operations is not None else None,
            session,
            source,
            path,
            settings=declared,
            replace_settings=model.replace_settings,
        )

    def environments(self, value: Any, at: str, max_session: int | None, role_path: str) -> list[EscEnvironment]:
        found: list[EscEnvironment] = []
        seen: dict[str, str] = {}
        for index, item in enumerate(self.items(value, at)):
            path = f"{at}[{index}]"
            context = self.context(path, max_session=max_session, role_path=role_path)
            skip: list[str] = []
            if isinstance(item, dict):
                project = valid(models.Environment, "project", item.get("project"))
                name = valid(models.Environment, "name", item.get("name"))
                if project is not None and name is not None:
                    self.once(seen, f"{project}/{name}", path, item)
                    if claims.is_pattern(name):
                        for key in (*_SESSION_KEYS, "region"):
                            if key in item:
                                skip.append(f"{path}.{key}")
                                self.issues.fail(
                                    f"{path}.{key}",
                                    item[key],
                                    "a pattern creates no environment, so this has nowhere to go; remove it",
                                )
                        for key in _ACCESS_KEYS:
                            if key in item:
                                skip.append(f"{path}.{key}")
                                self.issues.fail(
                                    f"{path}.{key}",
                                    item[key],
                                    f"{key} is only for an environment this stack creates (a concrete name): a "
                                    "pattern creates none, so it grants or protects nothing; set it where the "
                                    "matching environments are created, or remove it",
                                )
            model = validate(models.Environment, item, path, self.issues, context, skip)
            if model is None or skip:
                continue
            session = None
            if not claims.is_pattern(model.name):
                session = AwsSession(
                    session_name=model.session_name, duration=model.duration, policy_arns=tuple(model.policy_arns)
                )
            found.append(
                EscEnvironment(
                    model.project,
                    model.name,
                    session,
                    model.region,
                    path,
                    teams=team_access(model.teams),
                    deletion_protected=model.deletion_protected,
                    approvals=approval_rules(model.approvals),
                )
            )
        return found


def team_access(teams: Mapping[str, Mapping[str, str]]) -> dict[str, TeamAccess]:
    """``teams`` as validated (:func:`oidc.settings.fields.teams`), as the domain holds them, by team name."""
    return {
        name: TeamAccess(entry["permission"], entry.get("maxOpenDuration")) for name, entry in sorted(teams.items())
    }


def approval_rules(approvals: models.Approvals | None) -> dict[str, ApprovalRule]:
    """``approvals`` as the domain holds them, by gated action (``update``, ``open``)."""
    if approvals is None:
        return {}
    found = {}
    for action in GATED_ACTIONS:
        rule: models.Approval | None = getattr(approvals, action)
        if rule is None:
            continue
        approvers = rule.eligible_approvers
        found[action] = ApprovalRule(
            num_approvals_required=rule.num_approvals_required,
            allow_self_approval=rule.allow_self_approval,
            require_reapproval_on_change=rule.require_reapproval_on_change,
            teams=tuple(approvers.teams),
            users=tuple(approvers.users),
            permissions=tuple(approvers.permissions),
        )
    return found


def domain(kind: type[_D], found: Keys, model: type[Keys]) -> _D:
    """The domain value of ``found``: each key ``model`` declares, under the name both share, lists as tuples.

    A key added to the model reaches the domain type by its name alone; one the domain type lacks fails here.
    """
    values = {}
    for name in model.model_fields:
        value = getattr(found, name)
        values[name] = tuple(value) if isinstance(value, list) else value
    return kind(**values)


def role_max_session(value: Any) -> int | None:
    """The role's ``maxSessionDuration`` in seconds (default 1h), the limit of its entries' durations.

    Read apart from the role's other fields, so that a wrong one elsewhere in the role does not change the limit.
    ``None`` when the maximum itself is invalid (reported once, with the role) or the role is no object: then no
    limit is assumed.
    """
    if not isinstance(value, dict):
        return None
    if "maxSessionDuration" not in value:
        return 3600
    found: int | None = valid(models.RoleKeys, "maxSessionDuration", value["maxSessionDuration"])
    return found


# --- deployment settings as the loader keeps them ---------------------------------------------------------------


def declared_settings(settings: models.StackSettings, secret: bool) -> dict[str, Any]:
    """``settings`` as the config names them (camelCase), only the keys given; credentials, and under a secret key
    user names and environment variables, as :class:`~oidc.model.Secret`."""

    def walk(model: BaseModel) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for name in model.model_fields_set:
            info = type(model).model_fields[name]
            value = getattr(model, name)
            if value is None:
                continue
            kind = metadata(info).get("secret")
            if isinstance(value, BaseModel):
                found[str(info.alias)] = walk(value)
            elif kind == "always" or (kind == "key" and secret and isinstance(value, str)):
                found[str(info.alias)] = Secret(value)
            elif kind == "key" and secret and isinstance(value, dict):
                found[str(info.alias)] = {k: Secret(v) for k, v in value.items()}
            else:
                found[str(info.alias)] = list(value) if isinstance(value, list) else value
        return {key: found[key] for key in _ordered(type(model), found)}

    return walk(settings)


def _ordered(model: type[BaseModel], found: Mapping[str, Any]) -> list[str]:
    order = [str(info.alias) for info in model.model_fields.values()]
    return sorted(found, key=order.index)


def hidden_settings(key: str, value: Any, shown: str = "[secret]") -> Any:
    """``value`` of the top-level ``key`` with each value of ``deployments[].settings`` that may be secret
    (credentials, user names, environment variables) replaced by ``shown``: what may be printed of a secret key."""

    def hide(model: type[Keys], item: Any) -> Any:
        if not isinstance(item, dict):
            return item
        hidden = {}
        for name, inner in item.items():
            info = _field(model, name)
            if info is None:
                hidden[name] = inner
                continue
            nested = _inner_model(info.annotation)
            kind = metadata(info).get("secret")
            if nested is not None:
                hidden[name] = hide(nested, inner)
            elif kind and isinstance(inner, dict):
                hidden[name] = dict.fromkeys(inner, shown)
            elif kind:
                hidden[name] = shown
            else:
                hidden[name] = inner
        return hidden

    def entries(items: Any) -> Any:
        if not isinstance(items, list):
            return items
        return [
            {**item, "settings": hide(models.StackSettings, item["settings"])}
            if isinstance(item, dict) and "settings" in item
            else item
            for item in items
        ]

    if key == "deployments":
        return entries(value)
    if key == "roles" and isinstance(value, dict):
        return {
            name: {**role, "deployments": entries(role["deployments"])}
            if isinstance(role, dict) and "deployments" in role
            else role
            for name, role in value.items()
        }
    return value


# --- reading config from the running program ---------------------------------------------------------------------

OTHER_NAMESPACES = frozenset({"aws", "pulumi", "pulumiservice", "tls"})
"""Namespaces of the packages this program uses: their keys are never this program's."""

TEXT_KEYS = frozenset(
    str(info.alias) for info in models.Program.model_fields.values() if metadata(info).get("type") == "string"
)
"""Keys whose value Pulumi hands as plain text; every other holds JSON (an object, a list, a number)."""


def raw_text(value: Any) -> str:
    """The raw text Pulumi keeps for a config value: a string as it is, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value)


def parse_config(values: Mapping[str, str]) -> dict[str, Any]:
    """The values :func:`load_settings` takes, from the text Pulumi keeps for each key (:func:`namespace_values`):
    the text of a string key as it is, every other parsed as JSON (text that is no JSON stays text, which the
    loader then reports)."""
    parsed: dict[str, Any] = {}
    for key, text in values.items():
        if key in TEXT_KEYS:
            parsed[key] = text
            continue
        try:
            parsed[key] = json.loads(text)
        except (json.JSONDecodeError, RecursionError):
            parsed[key] = text
    return parsed


def namespace_values(config: Mapping[str, Any], namespace: str) -> dict[str, str]:
    """The raw texts of this program's keys, from a stack's whole config (``namespace:key`` keys).

    Keys of ``namespace`` lose their prefix. A key of another project's namespace that names one of this program's
    keys (as after a fork renames the project) is kept whole, so that the loader reports it instead of silently
    ignoring it.
    """
    values: dict[str, str] = {}
    for full_key in sorted(config):
        scope, _, key = full_key.partition(":")
        raw = config[full_key]
        if raw is None:
            continue
        text = raw_text(raw)
        if scope == namespace and key:
            values[key] = text
        elif key in KEYS and scope not in OTHER_NAMESPACES:
            values[full_key] = text
    return values


def read_aws_region() -> str | None:
    """The running stack's ``aws:region``, the default region of the AWS providers this program declares."""
    import pulumi  # noqa: PLC0415

    return pulumi.Config("aws").get("region")


def read_pulumiservice_config() -> dict[str, str]:
    """The running stack's ``pulumiservice:accessToken`` and ``pulumiservice:apiUrl``, where set (full keys): the
    Pulumi Cloud token and API the pulumiservice provider would use."""
    import pulumi  # noqa: PLC0415

    keys = ("pulumiservice:accessToken", "pulumiservice:apiUrl")
    return {key: value for key in keys if isinstance(value := pulumi.runtime.get_config(key), str)}


def read_secret_keys() -> frozenset[str]:
    """The keys of :func:`read_pulumi_config` that Pulumi marks secret."""
    import pulumi  # noqa: PLC0415

    from oidc import sdk  # noqa: PLC0415

    namespace = pulumi.Config().name
    keys = {key for key in sdk.config_keys_set() if pulumi.runtime.is_config_secret(key)}
    keys |= set(pulumi.runtime.get_config_secret_keys_env())
    return frozenset(key.partition(":")[2] for key in keys if key.startswith(f"{namespace}:"))


def read_pulumi_config() -> dict[str, Any]:
    """The values of the running program's config, parsed as :func:`load_settings` takes them.

    Reads the config Pulumi hands the program (the same values ``pulumi.Config()`` reads), including keys the
    program does not know, so that typos are reported.
    """
    import pulumi  # noqa: PLC0415

    from oidc import sdk  # noqa: PLC0415

    keys = sdk.config_keys_set() | set(pulumi.runtime.get_config_env())
    texts = namespace_values({key: pulumi.runtime.get_config(key) for key in keys}, pulumi.Config().name)
    return parse_config(texts)


__all__ = [
    "KEYS",
    "ConfigError",
    "hidden_settings",
    "load_settings",
    "namespace_values",
    "parse_config",
    "raw_text",
    "read_aws_region",
    "read_pulumi_config",
    "read_pulumiservice_config",
    "read_secret_keys",
]
