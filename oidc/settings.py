"""The program's settings: one loader turns the stack's config into frozen dataclasses.

This is the only module that reads config. :func:`load_settings` validates every key of the
project namespace at once and raises :class:`ConfigError` listing each problem with its key
path, the value received and what is allowed, so bad config never reaches AWS.
:func:`read_pulumi_config` collects the raw values from the running Pulumi program.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, TypeVar

from oidc import claims
from oidc.durations import (
    MAX_SESSION_SECONDS,
    MIN_ROLE_MAX_SECONDS,
    MIN_SESSION_SECONDS,
    format_duration,
    parse_duration,
)
from oidc.model import (
    DEFAULT_DURATION,
    DEFAULT_ESC_SESSION_NAME,
    DEFAULT_ROLE_MAX_SESSION,
    DEFAULT_TRUST_POLICY_MAX_CHARS,
    FORM_A_KEY,
    MAX_CLIENT_IDS,
    MAX_ROLE_POLICIES,
    MAX_ROLE_TAGS,
    MAX_SESSION_POLICIES,
    MAX_THUMBPRINTS,
    MAX_TRUST_POLICY_CHARS,
    AccountSettings,
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
    provider_client_ids,
    top_key,
)

_T = TypeVar("_T")

_ORG = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_PROJECT_OR_STACK = re.compile(r"^[A-Za-z0-9_.*?-]+$")
_ESC_NAME = re.compile(r"^[A-Za-z0-9_.*?-]+$")
_ESC_PROJECT = re.compile(r"^[A-Za-z0-9_.-]+$")
_SESSION_NAME_CHARS = re.compile(r"^[\w+=,.@-]*$", re.ASCII)
_PLACEHOLDER = re.compile(r"\$\{[^}]*\}")
_ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$", re.ASCII)
_ROLE_PATH = re.compile(r"^/(?:[\x21-\x7E]+/)?$")
_POLICY_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(?:aws|\d{12}):policy/[\w+=,.@/-]+$", re.ASCII)
_PROVIDER_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:oidc-provider/\S+$")
_THUMBPRINT = re.compile(r"^[0-9a-fA-F]{40}$")
_REGION = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d+$")

KEYS = (
    "organization",
    "issuer",
    "oidcProvider",
    "role",
    "deployments",
    "environments",
    "trustPolicyMaxChars",
    "accounts",
    "roles",
)
"""Every key of the project namespace the program reads."""

_MAP_KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
_ACCOUNT_ID = re.compile(r"^\d{12}$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(?P<account>\d{12}):role/[\w+=,.@/-]+$", re.ASCII)
_ADMIN_SESSION_NAME = re.compile(r"^[\w+=,.@-]{2,64}$", re.ASCII)
_EXTERNAL_ID = re.compile(r"^[\w+=,.@:/-]{2,1224}$", re.ASCII)
_PROFILE = re.compile(r"^[\w+=,.@:-]{1,128}$", re.ASCII)


SHOWN_CHARS = 80
"""About how much of a received value a message quotes."""


def _show(value: Any) -> str:
    """A received value as the user wrote it, in JSON form (text quoted), cut to about 80 characters.

    Values come decoded (never the JSON text Pulumi keeps for an object or list), keep their keys'
    order and their non-ASCII characters; a longer one is cut with an ellipsis and its size.
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


def _did_you_mean(word: Any, known: Iterable[str], before: str = "; ") -> str:
    """``; did you mean `known`?`` for the known word closest to ``word`` (ignoring case), or nothing."""
    if not isinstance(word, str):
        return ""
    by_lower = {key.lower(): key for key in known}
    close = difflib.get_close_matches(word.lower(), list(by_lower), n=1, cutoff=0.6)
    return f"{before}did you mean `{by_lower[close[0]]}`?" if close else ""


def _unknown_key(key: str, allowed_keys: Sequence[str]) -> str:
    """What an unknown key is told: the closest known key, if one is close, and the keys allowed there."""
    allowed = ", ".join(allowed_keys)
    suggestion = _did_you_mean(key, allowed_keys, before="")
    return f"unknown key, {suggestion} (allowed: {allowed})" if suggestion else f"unknown key; allowed: {allowed}"


class _Reader:
    """Collects issues while reading untrusted values at key paths."""

    def __init__(self) -> None:
        self.issues: list[ConfigIssue] = []
        self.secret_keys: frozenset[str] = frozenset()
        """The top-level keys Pulumi marks secret (one holding a value set with ``--secret``)."""
        self.settings_secret = False
        """Every credential and environment variable is a secret, whatever key holds it (the package's arguments)."""
        self.warnings: list[ConfigIssue] = []

    def secret_key(self, path: str) -> bool:
        """Whether the top-level key of ``path`` is secret."""
        return top_key(path) in self.secret_keys

    def keeps_secret(self, path: str) -> bool:
        """Whether the values of ``deployments[].settings`` at ``path`` that may be secret are sent as secrets."""
        return self.settings_secret or self.secret_key(path)

    def fail(self, path: str, value: Any, allowed: str) -> None:
        if self.secret_key(path):
            # Pulumi marks the whole key secret, not which value in it is: show none of them.
            key = top_key(path)
            self.issues.append(ConfigIssue(path, f"got a value not shown, as {key} holds secrets; {allowed}"))
            return
        self.issues.append(ConfigIssue(path, f"got {_show(value)}; {allowed}"))

    def problem(self, path: str, message: str) -> None:
        self.issues.append(ConfigIssue(path, message))

    def obj(self, value: Any, path: str, allowed_keys: Sequence[str]) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.fail(path, value, f"expected an object with keys {', '.join(allowed_keys)}")
            return None
        for key in value:
            if key not in allowed_keys:
                self.fail(f"{path}.{key}", value[key], _unknown_key(key, allowed_keys))
        return value

    def string(
        self,
        value: Any,
        path: str,
        pattern: re.Pattern[str] | None = None,
        allowed: str = "expected a non-empty string",
        max_len: int | None = None,
    ) -> str | None:
        if isinstance(value, int | float) and not isinstance(value, bool):
            self.fail(path, value, f"{allowed}; YAML reads an unquoted number as a number: quote it")
            return None
        if not isinstance(value, str) or not value:
            self.fail(path, value, allowed)
            return None
        if pattern is not None and not pattern.fullmatch(value):
            self.fail(path, value, allowed)
            return None
        if max_len is not None and len(value) > max_len:
            self.fail(path, value, f"{allowed}, at most {max_len} characters")
            return None
        return value

    def region(self, value: Any, path: str) -> str | None:
        """An AWS region: its form checked, and a warning naming the closest known one when botocore knows it not."""
        region = self.string(value, path, _REGION, "expected an AWS region such as us-west-2")
        known = known_regions()
        if region is not None and region not in known:
            close = difflib.get_close_matches(region, sorted(known), n=1)
            self.warnings.append(
                ConfigIssue(
                    path,
                    f"{region} is not a region botocore {_botocore_version()} knows"
                    + (f"; did you mean {close[0]}?" if close else "")
                    + " A region newer than that botocore is fine; otherwise nothing reaches AWS there",
                )
            )
        return region

    def boolean(self, value: Any, path: str) -> bool | None:
        if not isinstance(value, bool):
            self.fail(path, value, "expected true or false")
            return None
        return value

    def strings(
        self,
        value: Any,
        path: str,
        item: Callable[[Any, str], str | None],
        max_items: int,
        what: str,
    ) -> tuple[str, ...] | None:
        if not isinstance(value, list):
            self.fail(path, value, f"expected a list of {what}, at most {max_items}")
            return None
        if len(value) > max_items:
            self.fail(path, value, f"at most {max_items} {what} are allowed, got {len(value)}")
            return None
        items = [item(element, f"{path}[{index}]") for index, element in enumerate(value)]
        if any(element is None for element in items):
            return None
        present = [element for element in items if element is not None]
        duplicates = sorted({element for element in present if present.count(element) > 1})
        if duplicates:
            self.fail(path, value, f"each entry once; repeated: {', '.join(duplicates)}")
            return None
        return tuple(present)

    def operation(self, value: Any, path: str) -> str | None:
        if value not in claims.OPERATIONS:
            self.fail(
                path, value, f"expected one of {', '.join(claims.OPERATIONS)}{_did_you_mean(value, claims.OPERATIONS)}"
            )
            return None
        return str(value)

    def policy_arn(self, value: Any, path: str) -> str | None:
        return self.string(
            value,
            path,
            _POLICY_ARN,
            "expected an IAM managed policy ARN such as arn:aws:iam::aws:policy/ReadOnlyAccess",
        )

    def policy_arns(self, value: Any, path: str, max_items: int) -> tuple[str, ...] | None:
        return self.strings(value, path, self.policy_arn, max_items, "policy ARNs")

    def duration(self, value: Any, path: str, low: int, high: int, why_high: str) -> int | None:
        allowed = (
            f"expected a duration of the form XhYmZs from {format_duration(low)} to {format_duration(high)}{why_high}"
        )
        if not isinstance(value, str):
            self.fail(path, value, allowed)
            return None
        try:
            seconds = parse_duration(value)
        except ValueError:
            self.fail(path, value, allowed)
            return None
        if not low <= seconds <= high:
            self.fail(path, value, allowed)
            return None
        return seconds

    def session_name(self, value: Any, path: str) -> str | None:
        allowed = (
            "expected an STS role session name: 2 to 64 of letters, digits and _+=,.@- "
            "(Pulumi ${...} placeholders allowed)"
        )
        if not isinstance(value, str):
            self.fail(path, value, allowed)
            return None
        literal = _PLACEHOLDER.sub("", value)
        # Placeholders render at run time (Pulumi trims what they add); the literal text must fit.
        shortest = 0 if literal != value else 2
        if not _SESSION_NAME_CHARS.fullmatch(literal) or not shortest <= len(literal) <= 64:
            self.fail(path, value, allowed)
            return None
        return value


def raw_text(value: Any) -> str:
    """The raw text Pulumi keeps for a config value: a string as it is, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value)


def load_settings(
    values: Mapping[str, str],
    *,
    aws_region: str | None = None,
    secret_keys: Iterable[str] = (),
    secret_settings: bool = False,
) -> Settings:
    """Build :class:`Settings` from raw config ``values`` of the project namespace.

    ``values`` maps a key without its namespace (``deployments``) to the raw text Pulumi keeps
    for it: a plain string for string keys, JSON for objects, lists, numbers and booleans.
    Without ``roles`` this is form A (one role in one account); with ``roles`` (and optionally
    ``accounts``), form B. ``aws_region`` is the stack's ``aws:region`` (:func:`read_aws_region`): the
    region of the AWS provider of an account reached through ``assumeRole`` or ``profile`` that names
    none. ``secret_keys`` are the keys of ``values`` Pulumi marks secret (:func:`read_secret_keys`): the
    credentials and environment variables of ``deployments[].settings`` must be, and stay, secret, and
    messages show no value of these keys. ``secret_settings`` makes every credential and environment
    variable a secret whatever key holds it (arguments given in code, which have no secure config).
    Raises :class:`ConfigError` with every problem found.
    """
    reader = _Reader()
    reader.secret_keys = frozenset(secret_keys)
    reader.settings_secret = secret_settings
    for key in sorted(values):
        scope, _, name = key.rpartition(":")
        if scope:
            reader.fail(
                key,
                _json(values, key, None),
                f"this program reads {name} from its own project's namespace, not {scope}'s; "
                "prefix it with the project name of Pulumi.yaml",
            )
        elif key not in KEYS:
            reader.fail(key, _json(values, key, None), _unknown_key(key, KEYS))

    organization = _organization(reader, values.get("organization"))
    issuer = _issuer(reader, values.get("issuer"))
    by_roles = _given(values, "roles")
    if by_roles:
        accounts, roles = _form_b(reader, values, issuer, aws_region)
    else:
        accounts, roles = _form_a(reader, values, issuer)

    if organization and accounts is not None and roles is not None:
        for account in accounts:
            _check_client_id_limit(reader, organization, account, roles, by_roles=by_roles)

    if reader.issues:
        raise ConfigError(reader.issues)
    return Settings(
        organization=_checked(organization),
        issuer=_checked(issuer),
        accounts=_checked(accounts),
        roles=_checked(roles),
        by_roles=by_roles,
        secret_keys=frozenset(key for key in reader.secret_keys if key in KEYS),
        warnings=tuple(reader.warnings),
    )


_UNSET: dict[str, Any] = {
    "oidcProvider": {},
    "role": {},
    "deployments": [],
    "environments": [],
    "accounts": {},
    "roles": {},
    "trustPolicyMaxChars": DEFAULT_TRUST_POLICY_MAX_CHARS,
}
"""Values that mean "not set": the defaults Pulumi.yaml declares, which Pulumi hands every stack."""


def _given(values: Mapping[str, str], key: str) -> bool:
    """Whether ``key`` is set to something: present, and not its empty default."""
    return key in values and _json(values, key, None) != _UNSET.get(key, object())


def _form_a(
    reader: _Reader, values: Mapping[str, str], issuer: str | None
) -> tuple[tuple[AccountSettings, ...] | None, tuple[RoleSettings, ...] | None]:
    """Form A: the top-level ``role``, ``deployments`` and ``environments``, in one account."""
    if _given(values, "accounts"):
        reader.fail(
            "accounts",
            _json(values, "accounts", None),
            "accounts go with roles: give roles.<key>.account for each role, or remove accounts",
        )
    provider = _oidc_provider(reader, _json(values, "oidcProvider", {}), "oidcProvider", issuer)
    max_chars = _max_chars(
        reader, _json(values, "trustPolicyMaxChars", DEFAULT_TRUST_POLICY_MAX_CHARS), "trustPolicyMaxChars"
    )
    raw_role = _json(values, "role", {})
    role = _role(reader, raw_role, "role", ROLE_FIELDS)
    max_session = _role_max_session(raw_role)
    deployments = _deployments(reader, _json(values, "deployments", []), "deployments", max_session, "role")
    environments = _environments(reader, _json(values, "environments", []), "environments", max_session, "role")
    if deployments == () and environments == ():
        reader.problem(
            "deployments",
            "got [] and environments got []; list at least one Deployments stack or ESC "
            "environment, or the role would trust nothing",
        )
    if provider is None or max_chars is None or role is None or deployments is None or environments is None:
        return None, None
    account = AccountSettings(oidc_provider=provider, trust_policy_max_chars=max_chars)
    return (account,), (replace(role, deployments=deployments, environments=environments),)


def _form_b(
    reader: _Reader, values: Mapping[str, str], issuer: str | None, aws_region: str | None
) -> tuple[tuple[AccountSettings, ...] | None, tuple[RoleSettings, ...] | None]:
    """Form B: ``roles`` (and ``accounts``), with the rules that hold across them."""
    for key in ("role", "deployments", "environments"):
        if _given(values, key):
            reader.fail(
                key,
                _json(values, key, None),
                f"with roles, each role holds its own {key if key != 'role' else 'fields'}: move this under "
                f"roles.<key>{'' if key == 'role' else '.' + key}",
            )
    explicit_accounts = _given(values, "accounts")
    if explicit_accounts:
        for key in ("oidcProvider", "trustPolicyMaxChars"):
            if _given(values, key):
                reader.fail(
                    key,
                    _json(values, key, None),
                    f"with accounts, each account has its own: move this to accounts.<key>.{key}",
                )
        accounts = _accounts(reader, _json(values, "accounts", {}), issuer, aws_region)
    else:
        provider = _oidc_provider(reader, _json(values, "oidcProvider", {}), "oidcProvider", issuer)
        max_chars = _max_chars(
            reader, _json(values, "trustPolicyMaxChars", DEFAULT_TRUST_POLICY_MAX_CHARS), "trustPolicyMaxChars"
        )
        accounts = None
        if provider is not None and max_chars is not None:
            accounts = (AccountSettings(oidc_provider=provider, trust_policy_max_chars=max_chars),)
    raw_accounts = _json(values, "accounts", {}) if explicit_accounts else {}
    account_keys = (
        {k for k in raw_accounts if isinstance(k, str) and _MAP_KEY.fullmatch(k)}
        if isinstance(raw_accounts, dict)
        else set()
    )
    roles, complete = _roles(reader, _json(values, "roles", {}), explicit_accounts, account_keys)
    # Judged on the roles that could be read, so that their conflicts show with the other errors.
    _cross_role_rules(reader, roles)
    if explicit_accounts:
        raw_roles = _json(values, "roles", {})
        claimed = (
            {r["account"] for r in raw_roles.values() if isinstance(r, dict) and isinstance(r.get("account"), str)}
            if isinstance(raw_roles, dict)
            else set()
        )
        for key in sorted(account_keys - claimed):
            reader.problem(f"accounts.{key}", f"holds no role; give a role account: {key}, or remove the account")
    if accounts is None or not complete:
        return None, None
    return accounts, roles


def _map(reader: _Reader, value: Any, path: str, what: str) -> dict[str, Any] | None:
    """A ``key -> object`` map whose keys go into logical names."""
    if not isinstance(value, dict) or not value:
        reader.fail(path, value, f"expected a map of {what} by key, with at least one")
        return None
    good = {}
    for key, item in value.items():
        if not isinstance(key, str) or not _MAP_KEY.fullmatch(key):
            reader.fail(
                f"{path}.{key}",
                item,
                f"{key!r} is not a valid {path} key: 1 to 32 of a-z, 0-9 and '-', starting with a letter or digit "
                "(it goes into logical names)",
            )
            continue
        good[key] = item
    return good


ACCOUNT_FIELDS = ("id", "assumeRole", "profile", "region", "oidcProvider", "trustPolicyMaxChars")
ROLE_FIELDS = ("name", "path", "description", "policyArns", "permissionsBoundary", "maxSessionDuration", "tags")
ROLE_ENTRY_FIELDS = ("account", "deployments", "environments")


def _accounts(
    reader: _Reader, value: Any, issuer: str | None, aws_region: str | None
) -> tuple[AccountSettings, ...] | None:
    entries = _map(reader, value, "accounts", "AWS accounts")
    if entries is None:
        return None
    issues_before = len(reader.issues)
    accounts = []
    ambient: list[str] = []
    for key in sorted(entries):
        path = f"accounts.{key}"
        data = reader.obj(entries[key], path, ACCOUNT_FIELDS)
        if data is None:
            continue
        account_id = None
        if "id" in data:
            account_id = _account_id(reader, data["id"], f"{path}.id")
        assume_role = None
        if "assumeRole" in data:
            assume_role = _assume_role(reader, data["assumeRole"], f"{path}.assumeRole")
        profile = None
        if "profile" in data:
            profile = reader.string(data["profile"], f"{path}.profile", _PROFILE, "expected a named AWS profile")
        if "assumeRole" in data and "profile" in data:
            reader.fail(
                f"{path}.profile",
                data["profile"],
                "give assumeRole or profile, not both: the account's AWS provider reaches it one way",
            )
        if "assumeRole" not in data and "profile" not in data:
            ambient.append(path)
        if assume_role is not None and account_id is not None and assume_role.account_id != account_id:
            reader.fail(
                f"{path}.id",
                account_id,
                f"assumeRole.roleArn is in account {assume_role.account_id}, so the provider would reach that account; "
                "make them agree",
            )
        region = None
        if "region" in data and "assumeRole" not in data and "profile" not in data:
            reader.fail(
                f"{path}.region",
                data["region"],
                "only with assumeRole or profile: an account without either uses the stack's default AWS "
                "provider, whose region is aws:region",
            )
        elif "region" in data:
            region = reader.region(data["region"], f"{path}.region")
        elif "assumeRole" in data or "profile" in data:
            region = aws_region
        provider = _oidc_provider(reader, data.get("oidcProvider", {}), f"{path}.oidcProvider", issuer)
        max_chars = _max_chars(
            reader, data.get("trustPolicyMaxChars", DEFAULT_TRUST_POLICY_MAX_CHARS), f"{path}.trustPolicyMaxChars"
        )
        if provider is None or max_chars is None:
            continue
        implied = {
            f"{path}.assumeRole.roleArn": assume_role.account_id if assume_role else None,
            f"{path}.oidcProvider.arn": provider.arn.split(":")[4] if provider.arn else None,
        }
        if account_id is None and len({v for v in implied.values() if v}) > 1:
            reader.problem(
                f"{path}.oidcProvider.arn",
                f"is a provider of account {implied[f'{path}.oidcProvider.arn']}, but assumeRole.roleArn reaches "
                f"account {implied[f'{path}.assumeRole.roleArn']}; a role trusts a provider of its own account",
            )
        elif account_id is not None and implied[f"{path}.oidcProvider.arn"] not in {None, account_id}:
            reader.problem(
                f"{path}.oidcProvider.arn",
                f"is a provider of account {implied[f'{path}.oidcProvider.arn']}, not of {account_id} (id); a role "
                "trusts a provider of its own account",
            )
        accounts.append(
            AccountSettings(
                key=key,
                id=account_id or next((v for v in implied.values() if v), None),
                assume_role=assume_role,
                profile=profile,
                region=region,
                oidc_provider=provider,
                trust_policy_max_chars=max_chars,
                config_path=f"{path}.",
            )
        )
    if len(ambient) > 1:
        reader.problem(
            ambient[1],
            f"has neither assumeRole nor profile, like {ambient[0]}: at most one account uses the stack's default "
            "AWS provider; give the others assumeRole or profile",
        )
    seen: dict[str, str] = {}
    for account in accounts:
        if account.id is None:
            continue
        if account.id in seen:
            reader.problem(
                f"accounts.{account.key}",
                f"reaches account {account.id}, like accounts.{seen[account.id]}: IAM holds one provider per issuer "
                "and account, so list each account once and put both sets of roles in it",
            )
        seen.setdefault(account.id, account.key)
    if len(reader.issues) > issues_before:
        return None
    return tuple(accounts)


def _account_id(reader: _Reader, value: Any, path: str) -> str | None:
    """An account ID; an unquoted one, which YAML reads as a number that drops leading zeros, is told how to quote."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**12:
        reader.fail(
            path,
            value,
            f"expected a 12-digit AWS account ID as text: YAML reads an unquoted one as a number, dropping any "
            f'leading zero; write it in quotes, "{value:012d}"',
        )
        return None
    return reader.string(value, path, _ACCOUNT_ID, "expected a 12-digit AWS account ID")


@functools.cache
def known_regions() -> frozenset[str]:
    """Every region of every partition in botocore's endpoint data."""
    import botocore.loaders  # type: ignore[import-untyped]  # noqa: PLC0415 (only a region given needs it)

    endpoints = botocore.loaders.create_loader().load_data("endpoints")
    return frozenset(region for partition in endpoints["partitions"] for region in partition["regions"])


def _botocore_version() -> str:
    import botocore  # noqa: PLC0415

    return str(botocore.__version__)


def _assume_role(reader: _Reader, value: Any, path: str) -> AssumeRole | None:
    data = reader.obj(value, path, ("roleArn", "sessionName", "externalId"))
    if data is None:
        return None
    role_arn = reader.string(
        data.get("roleArn"),
        f"{path}.roleArn",
        _ROLE_ARN,
        "expected the ARN of the role to assume, e.g. arn:aws:iam::123456789012:role/OrganizationAccountAccessRole",
    )
    session_name = None
    if "sessionName" in data:
        session_name = reader.string(
            data["sessionName"],
            f"{path}.sessionName",
            _ADMIN_SESSION_NAME,
            "expected an STS role session name: 2 to 64 of letters, digits and _+=,.@- (the admin stack's own "
            "session: no Pulumi placeholders)",
        )
    external_id = None
    if "externalId" in data:
        external_id = reader.string(
            data["externalId"],
            f"{path}.externalId",
            _EXTERNAL_ID,
            "expected an external ID: 2 to 1224 of letters, digits and _+=,.@:/-",
        )
    if role_arn is None:
        return None
    return AssumeRole(role_arn=role_arn, session_name=session_name, external_id=external_id)


def _roles(
    reader: _Reader, value: Any, explicit_accounts: bool, known_accounts: set[str]
) -> tuple[tuple[RoleSettings, ...], bool]:
    """The roles that could be read, and whether that is all of them, without an issue.

    ``known_accounts`` are the valid keys of ``accounts``, judged even if an account is not.
    """
    entries = _map(reader, value, "roles", "IAM roles")
    if entries is None:
        return (), False
    issues_before = len(reader.issues)
    roles = []
    for key in sorted(entries):
        path = f"roles.{key}"
        if not isinstance(entries[key], dict):
            reader.obj(entries[key], path, (*ROLE_FIELDS, *ROLE_ENTRY_FIELDS))
            continue
        data = entries[key]
        role = _role(
            reader, {k: v for k, v in data.items() if k not in ROLE_ENTRY_FIELDS}, path, ROLE_FIELDS, ROLE_ENTRY_FIELDS
        )
        account = FORM_A_KEY
        if explicit_accounts:
            if "account" not in data:
                reader.problem(
                    f"{path}.account",
                    f"missing; name the account of this role, one of: {', '.join(sorted(known_accounts))}",
                )
            elif not isinstance(data["account"], str) or data["account"] not in known_accounts:
                reader.fail(
                    f"{path}.account",
                    data["account"],
                    f"expected a key of accounts: {', '.join(sorted(known_accounts))}"
                    f"{_did_you_mean(data['account'], sorted(known_accounts))}",
                )
            else:
                account = str(data["account"])
        elif "account" in data:
            reader.fail(f"{path}.account", data["account"], "only with accounts: declare the accounts, or remove this")
        max_session = _role_max_session(data)
        deployments = _deployments(reader, data.get("deployments", []), f"{path}.deployments", max_session, path)
        environments = _environments(reader, data.get("environments", []), f"{path}.environments", max_session, path)
        if deployments == () and environments == ():
            reader.problem(
                path,
                "lists no deployments and no environments; list at least one, or the role would trust nothing",
            )
        if role is None or deployments is None or environments is None:
            continue
        roles.append(
            replace(
                role, key=key, account=account, deployments=deployments, environments=environments, config_path=path
            )
        )
    return tuple(roles), len(reader.issues) == issues_before


def _cross_role_rules(reader: _Reader, roles: tuple[RoleSettings, ...]) -> None:
    """Rules of form B that no single role can break alone."""
    _one_owner(
        reader,
        (d for role in roles for d in role.managed_stacks),
        "manages the deployment settings of {identity}, as {other} does: a stack's settings hold one role ARN, so "
        "one role manages them; give the other entry manageSettings: false to only trust it",
    )
    _one_owner(
        reader,
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
            reader.fail(
                f"{role.config_path}.name",
                role.name,
                f"{other} names the same role in account {role.account} (IAM compares role names ignoring case); "
                "give each role its own name",
            )


def _one_owner(reader: _Reader, entries: Iterable[DeploymentStack | EscEnvironment], message: str) -> None:
    """Report each entry whose identity an earlier entry already owns; ``message`` names both."""
    owners: dict[str, str] = {}
    for entry in entries:
        other = owners.setdefault(entry.identity, entry.path)
        if other != entry.path:
            reader.problem(entry.path, message.format(identity=entry.identity, other=other))


def _check_client_id_limit(
    reader: _Reader, organization: str, account: AccountSettings, roles: tuple[RoleSettings, ...], by_roles: bool
) -> None:
    provider = account.oidc_provider
    if provider.arn is not None:
        return
    needed = provider_client_ids(organization, account, [r for r in roles if r.account == account.key], by_roles)
    if len(needed) > MAX_CLIENT_IDS:
        reader.fail(
            f"{account.config_path}oidcProvider.audiences",
            list(provider.audiences),
            f"a provider holds at most {MAX_CLIENT_IDS} client IDs, including the audiences its roles need",
        )


def _checked(value: _T | None) -> _T:
    """A value its reader returned; only ``None`` when the reader recorded an issue."""
    if value is None:
        raise AssertionError("a config value is missing although no issue was recorded")
    return value


def _json(values: Mapping[str, str], key: str, default: Any) -> Any:
    """The value of ``key`` parsed as JSON; text that is not JSON as it is."""
    raw = values.get(key)
    if raw is None:
        return default
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


def _organization(reader: _Reader, value: str | None) -> str | None:
    if value is None:
        reader.problem(
            "organization",
            "missing; set it to your Pulumi organization login: pulumi config set organization <org>",
        )
        return None
    if isinstance(value, str) and value.lower() != value and _ORG.fullmatch(value.lower()):
        lowercase = "" if reader.secret_key("organization") else f" {value.lower()!r}"
        reader.fail(
            "organization",
            value,
            f"use the lowercase login{lowercase}: Pulumi sends it lowercase in aud and sub, "
            "and IAM compares case-sensitively",
        )
        return None
    return reader.string(
        value,
        "organization",
        _ORG,
        "expected a Pulumi organization login: lowercase letters, digits, '-', '_' and '.'",
    )


def _issuer(reader: _Reader, value: str | None) -> str | None:
    if value is None:
        return claims.DEFAULT_ISSUER
    allowed = (
        "expected an https:// URL with a host and optional path, no port, query or trailing "
        f"slash, at most 255 characters (Pulumi Cloud: {claims.DEFAULT_ISSUER})"
    )
    pattern = re.compile(r"^https://[A-Za-z0-9.-]+(?:/[A-Za-z0-9._~/-]*[A-Za-z0-9._~-])?$")
    return reader.string(value, "issuer", pattern, allowed, max_len=255)


def _oidc_provider(reader: _Reader, value: Any, path: str, issuer: str | None) -> OidcProviderSettings | None:
    data = reader.obj(value, path, ("arn", "thumbprints", "audiences", "protect", "addAudiences"))
    if data is None:
        return None
    issues_before = len(reader.issues)
    arn = None
    if "arn" in data:
        arn = reader.string(
            data["arn"],
            f"{path}.arn",
            _PROVIDER_ARN,
            "expected an IAM OIDC provider ARN: arn:aws:iam::<account-id>:oidc-provider/<host/path>",
        )
        if arn and issuer and not arn.endswith(f":oidc-provider/{claims.condition_prefix(issuer)}"):
            reader.fail(
                f"{path}.arn",
                arn,
                f"expected the provider of the issuer {issuer}, whose ARN ends "
                f"':oidc-provider/{claims.condition_prefix(issuer)}'",
            )
        for key in ("thumbprints", "audiences", "protect"):
            if key in data:
                reader.fail(
                    f"{path}.{key}",
                    data[key],
                    "only for a provider this program creates; remove it, or remove arn",
                )
    thumbprints: Literal["auto"] | tuple[str, ...] = "auto"
    if "thumbprints" in data and data["thumbprints"] != "auto":

        def thumbprint(item: Any, path: str) -> str | None:
            found = reader.string(item, path, _THUMBPRINT, "expected a SHA-1 thumbprint: 40 hex digits")
            return found.lower() if found else None

        if isinstance(data["thumbprints"], list):
            thumbprints = (
                reader.strings(data["thumbprints"], f"{path}.thumbprints", thumbprint, MAX_THUMBPRINTS, "thumbprints")
                or ()
            )
        else:
            reader.fail(
                f"{path}.thumbprints",
                data["thumbprints"],
                f'expected "auto", a list of up to {MAX_THUMBPRINTS} SHA-1 thumbprints, or [] for none',
            )
    audiences: tuple[str, ...] = ()
    if "audiences" in data:

        def audience(item: Any, path: str) -> str | None:
            return reader.string(item, path, None, "expected a client ID of 1 to 255 characters", max_len=255)

        audiences = reader.strings(data["audiences"], f"{path}.audiences", audience, MAX_CLIENT_IDS, "audiences") or ()
    protect = True
    if "protect" in data:
        protect = bool(reader.boolean(data["protect"], f"{path}.protect"))
    add_audiences = False
    if "addAudiences" in data:
        add_audiences = bool(reader.boolean(data["addAudiences"], f"{path}.addAudiences"))
        if add_audiences and "arn" not in data:
            reader.fail(
                f"{path}.addAudiences",
                data["addAudiences"],
                "only with arn: a provider this program creates already registers every audience its roles need",
            )
    if len(reader.issues) > issues_before:
        return None
    return OidcProviderSettings(
        arn=arn, thumbprints=thumbprints, audiences=audiences, protect=protect, add_audiences=add_audiences
    )


def _role(
    reader: _Reader, value: Any, at: str, keys: Sequence[str], also_allowed: Sequence[str] = ()
) -> RoleSettings | None:
    data = reader.obj(value, at, (*keys, *also_allowed))
    if data is None:
        return None
    issues_before = len(reader.issues)
    name = None
    if "name" in data:
        name = reader.string(
            data["name"], f"{at}.name", _ROLE_NAME, "expected an IAM role name: 1 to 64 of letters, digits and _+=,.@-"
        )
    path = "/"
    if "path" in data:
        path = (
            reader.string(
                data["path"],
                f"{at}.path",
                _ROLE_PATH,
                "expected an IAM path: '/' or '/segment/.../' of printable ASCII",
                max_len=512,
            )
            or "/"
        )
    description = None
    if "description" in data:
        description = reader.string(
            data["description"],
            f"{at}.description",
            re.compile(r"^[\t\n\r\x20-\x7E\xA1-\xFF]*$"),
            "expected text of Latin-1 characters",
            max_len=1000,
        )
    policy_arns = None
    if "policyArns" in data:
        policy_arns = reader.policy_arns(data["policyArns"], f"{at}.policyArns", MAX_ROLE_POLICIES)
        paths = [arn.split(":", 4)[4] for arn in policy_arns or ()]
        if len(set(paths)) != len(paths):
            reader.fail(
                f"{at}.policyArns", data["policyArns"], "each policy once; the same policy is listed for two partitions"
            )
    boundary = None
    if "permissionsBoundary" in data:
        boundary = reader.policy_arn(data["permissionsBoundary"], f"{at}.permissionsBoundary")
    max_session = DEFAULT_ROLE_MAX_SESSION
    if "maxSessionDuration" in data:
        max_session = (
            reader.duration(
                data["maxSessionDuration"],
                f"{at}.maxSessionDuration",
                MIN_ROLE_MAX_SECONDS,
                MAX_SESSION_SECONDS,
                "; the durations of the role's entries are checked against it once it is valid",
            )
            or DEFAULT_ROLE_MAX_SESSION
        )
    tags: dict[str, str] = {}
    if "tags" in data:
        tags = _tags(reader, data["tags"], f"{at}.tags")
    if len(reader.issues) > issues_before:
        return None
    return RoleSettings(
        name=name,
        path=path,
        description=description,
        policy_arns=policy_arns,
        permissions_boundary=boundary,
        max_session_duration=max_session,
        tags=tags,
    )


def _role_max_session(value: Any) -> int | None:
    """The role's ``maxSessionDuration`` in seconds (default 1h), the limit of its entries' durations.

    Read apart from the role's other fields, so that a wrong one elsewhere in the role does not
    change the limit. ``None`` when the maximum itself is invalid (reported once, by :func:`_role`)
    or the role is no object: then no limit is assumed.
    """
    if not isinstance(value, dict):
        return None
    if "maxSessionDuration" not in value:
        return DEFAULT_ROLE_MAX_SESSION
    return _Reader().duration(value["maxSessionDuration"], "", MIN_ROLE_MAX_SECONDS, MAX_SESSION_SECONDS, "")


def _tag_text(text: str) -> bool:
    """IAM's tag alphabet: Unicode letters, digits and spaces, and ``_ . : / = + - @``."""
    return all(unicodedata.category(c)[0] in "LNZ" or c in "_.:/=+-@" for c in text)


def _tags(reader: _Reader, value: Any, path: str) -> dict[str, str]:
    allowed = (
        f"expected a map of up to {MAX_ROLE_TAGS} tags: keys of 1 to 128 characters (not starting with 'aws:'), "
        "string values of up to 256, both of letters, digits, spaces and _.:/=+-@"
    )
    if not isinstance(value, dict) or len(value) > MAX_ROLE_TAGS:
        reader.fail(path, value, allowed)
        return {}
    tags: dict[str, str] = {}
    for key, tag in value.items():
        key_ok = 1 <= len(key) <= 128 and not key.lower().startswith("aws:") and _tag_text(key)
        if key_ok and isinstance(tag, str) and len(tag) <= 256 and _tag_text(tag):
            tags[key] = tag
        else:
            reader.fail(f"{path}.{key}", tag, allowed)
    return tags


_SESSION_KEYS = ("sessionName", "duration", "policyArns")


def _session(
    reader: _Reader, data: dict[str, Any], path: str, default_name: str, *, max_session: int | None, role_path: str
) -> AwsSession | None:
    """Read ``sessionName``, ``duration`` and ``policyArns`` of one list item.

    ``max_session`` is the role's ``maxSessionDuration``; ``None`` when it is invalid, so that only
    STS's own bounds are checked, and no limit of the role is claimed.
    """
    name = reader.session_name(data.get("sessionName", default_name), f"{path}.sessionName")
    if max_session is None:
        high, why = MAX_SESSION_SECONDS, f", and no longer than {role_path}.maxSessionDuration"
    else:
        high = max_session
        why = (
            f", and no longer than {role_path}.maxSessionDuration ({format_duration(max_session)}; "
            "raise it for longer sessions)"
        )
    duration = reader.duration(
        data.get("duration", DEFAULT_DURATION), f"{path}.duration", MIN_SESSION_SECONDS, high, why
    )
    policy_arns = reader.policy_arns(data.get("policyArns", []), f"{path}.policyArns", MAX_SESSION_POLICIES)
    if name is None or duration is None or policy_arns is None:
        return None
    return AwsSession(session_name=name, duration=format_duration(duration), policy_arns=policy_arns)


def _reject_keys(reader: _Reader, data: dict[str, Any], path: str, keys: Sequence[str], why: str) -> None:
    for key in keys:
        if key in data:
            reader.fail(f"{path}.{key}", data[key], why)


def _items(reader: _Reader, value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        reader.fail(path, value, "expected a list of objects")
        return []
    return value


def _once(reader: _Reader, seen: dict[str, str], identity: str, path: str, value: Any) -> None:
    if identity in seen:
        reader.fail(path, value, f"each entry once; {identity} is also at {seen[identity]}")
    seen.setdefault(identity, path)


DEPLOYMENT_FIELDS = (
    "project",
    "stack",
    "operations",
    "manageSettings",
    *_SESSION_KEYS,
    "source",
    "settings",
    "replaceSettings",
)
_SETTINGS_KEYS = ("source", "settings", "replaceSettings")
"""The keys of an entry that only a stack whose settings this program manages takes."""


def _deployments(
    reader: _Reader, value: Any, at: str, max_session: int | None, role_path: str
) -> tuple[DeploymentStack, ...] | None:
    keys = DEPLOYMENT_FIELDS
    allowed_name = "expected a Pulumi name of letters, digits, '-', '_' and '.', or a pattern with * and ?"
    issues_before = len(reader.issues)
    stacks: list[DeploymentStack] = []
    seen: dict[str, str] = {}
    for index, item in enumerate(_items(reader, value, at)):
        path = f"{at}[{index}]"
        data = reader.obj(item, path, keys)
        if data is None:
            continue
        project = reader.string(data.get("project"), f"{path}.project", _PROJECT_OR_STACK, allowed_name)
        stack = reader.string(data.get("stack"), f"{path}.stack", _PROJECT_OR_STACK, allowed_name)
        if project is None or stack is None:
            continue
        _once(reader, seen, f"{project}/{stack}", path, item)
        operations = None
        if "operations" in data:
            operations = reader.strings(
                data["operations"], f"{path}.operations", reader.operation, len(claims.OPERATIONS), "operations"
            )
            if operations == ():
                reader.fail(f"{path}.operations", [], "list at least one operation, or omit the key to trust all")
        pattern = claims.is_pattern(project) or claims.is_pattern(stack)
        manage = not pattern
        if "manageSettings" in data:
            given = reader.boolean(data["manageSettings"], f"{path}.manageSettings")
            if given is None:
                continue  # what else the entry may hold depends on it: judged once it is fixed
            manage = given
            if manage and pattern:
                reader.fail(
                    f"{path}.manageSettings",
                    True,
                    "a pattern names no single stack, so it has no settings to manage; use false or omit it",
                )
        session = None
        source = None
        declared: dict[str, Any] | None = {}
        replace_settings = False
        if manage and not pattern:
            session = _session(
                reader,
                data,
                path,
                _default_deploy_session_name(project, stack),
                max_session=max_session,
                role_path=role_path,
            )
            if "source" in data:
                source = _source(reader, data["source"], f"{path}.source")
            if "settings" in data:
                declared = _deployment_settings(reader, data["settings"], f"{path}.settings")
                if "source" in data and isinstance(declared, dict) and "sourceContext" in declared:
                    reader.fail(
                        f"{path}.source",
                        data["source"],
                        "source is the short form of settings.sourceContext.git: give one of them, not both",
                    )
            if "replaceSettings" in data:
                replace_settings = reader.boolean(data["replaceSettings"], f"{path}.replaceSettings") or False
        else:
            _reject_keys(
                reader,
                data,
                path,
                (*_SESSION_KEYS, *_SETTINGS_KEYS),
                "only used in deployment settings this program manages (a concrete stack with "
                "manageSettings true); remove it",
            )
        stacks.append(
            DeploymentStack(
                project,
                stack,
                operations,
                session,
                source,
                path,
                settings=declared or {},
                replace_settings=replace_settings,
            )
        )
    if len(reader.issues) > issues_before:
        return None
    return tuple(stacks)


def _default_deploy_session_name(project: str, stack: str) -> str:
    """``pulumi-deploy-<project>-<stack>``, cut to STS's 64 characters."""
    return f"pulumi-deploy-{project}-{stack}"[:64]


def _source(reader: _Reader, value: Any, path: str) -> GitSource | None:
    data = reader.obj(value, path, ("repoUrl", "branch", "repoDir"))
    if data is None:
        return None
    repo_url = reader.string(data.get("repoUrl"), f"{path}.repoUrl", None, "expected the git repository URL")
    branch = reader.string(data.get("branch"), f"{path}.branch", None, "expected the branch to deploy, e.g. main")
    repo_dir = None
    if "repoDir" in data:
        repo_dir = reader.string(
            data["repoDir"], f"{path}.repoDir", None, "expected the project's folder in the repository"
        )
    if repo_url and branch:
        return GitSource(repo_url=repo_url, branch=branch, repo_dir=repo_dir)
    return None


@dataclass(frozen=True)
class SettingsField:
    """One input of ``pulumiservice.DeploymentSettings`` that ``deployments[].settings`` carries."""

    kind: Literal["string", "bool", "int", "strings", "variables", "object"]
    required: bool = False
    credential: bool = False
    """Always secret: it must come from secure config (``pulumi config set --secret --path``)."""
    secret: bool = False
    """Secret when its config key is, as the service may keep it secret (a user name)."""
    keys: Mapping[str, SettingsField] = field(default_factory=dict)
    choices: tuple[str, ...] = ()


def _object(**keys: SettingsField) -> SettingsField:
    return SettingsField("object", keys=keys)


_STRING = SettingsField("string")
_BOOL = SettingsField("bool")
_STRINGS = SettingsField("strings")
_CREDENTIAL = SettingsField("string", required=True, credential=True)
_USER_NAME = SettingsField("string", required=True, secret=True)
VCS_PROVIDERS = ("github", "gitlab", "bitbucket", "azure_devops", "custom")
"""The ``vcs.provider`` values the pulumiservice provider maps to the service's VCS kinds."""

SETTINGS_FIELDS: Mapping[str, SettingsField] = {
    "agentPoolId": _STRING,
    "cacheOptions": _object(enable=SettingsField("bool", required=True)),
    "executorContext": _object(
        executorImage=SettingsField("string", required=True),
        credentials=_object(username=_USER_NAME, password=_CREDENTIAL),
    ),
    "github": _object(
        repository=_STRING, deployCommits=_BOOL, previewPullRequests=_BOOL, pullRequestTemplate=_BOOL, paths=_STRINGS
    ),
    "vcs": _object(
        provider=SettingsField("string", required=True, choices=VCS_PROVIDERS),
        repository=_STRING,
        deployCommits=_BOOL,
        previewPullRequests=_BOOL,
        pullRequestTemplate=_BOOL,
        paths=_STRINGS,
        installationId=_STRING,
        deployPullRequest=SettingsField("int"),
    ),
    "operationContext": _object(
        environmentVariables=SettingsField("variables"),
        options=_object(
            deleteAfterDestroy=_BOOL, shell=_STRING, skipInstallDependencies=_BOOL, skipIntermediateDeployments=_BOOL
        ),
        preRunCommands=_STRINGS,
    ),
    "sourceContext": _object(
        git=_object(
            repoUrl=_STRING,
            branch=_STRING,
            commit=_STRING,
            repoDir=_STRING,
            gitAuth=_object(
                basicAuth=_object(username=_USER_NAME, password=_CREDENTIAL),
                sshAuth=_object(sshPrivateKey=_CREDENTIAL, password=SettingsField("string", credential=True)),
            ),
        )
    ),
}
"""``deployments[].settings``: every input of ``pulumiservice.DeploymentSettings`` but the stack's name and
``operationContext.oidc``, named as the resource names them. Environment variables (``variables``) are
secret when their config key is (any value set with ``--secret`` makes the whole key secret)."""


def hidden_settings(key: str, value: Any, shown: str = "[secret]") -> Any:
    """``value`` of the top-level ``key`` with each value of ``deployments[].settings`` that may be secret
    (credentials, user names, environment variables) replaced by ``shown``: what may be printed of a secret key."""

    def hide(spec: SettingsField, item: Any) -> Any:
        if spec.kind == "variables" and isinstance(item, dict):
            return dict.fromkeys(item, shown)
        if spec.kind == "object" and isinstance(item, dict):
            return {k: hide(spec.keys[k], v) if k in spec.keys else v for k, v in item.items()}
        return shown if spec.credential or spec.secret else item

    def entries(items: Any) -> Any:
        if not isinstance(items, list):
            return items
        return [
            {**item, "settings": hide(_object(**SETTINGS_FIELDS), item["settings"])}
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


_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_OWN_OIDC = (
    "the program's own: it points the stack at this role. Set the session on the entry itself "
    "(sessionName, duration, policyArns), and remove this"
)


def _deployment_settings(reader: _Reader, value: Any, path: str) -> dict[str, Any] | None:
    """Read ``settings``: each key checked against :data:`SETTINGS_FIELDS`, credentials and (under a secret
    key) environment variable values wrapped as :class:`Secret`."""
    secret = reader.keeps_secret(path)
    issues_before = len(reader.issues)

    def read(spec: SettingsField, item: Any, at: str) -> Any:
        if spec.kind == "object":
            keys = tuple(spec.keys)
            if at.endswith(".operationContext") and isinstance(item, dict) and "oidc" in item:
                reader.fail(f"{at}.oidc", item["oidc"], _OWN_OIDC)
                item = {k: v for k, v in item.items() if k != "oidc"}
            data = reader.obj(item, at, keys)
            if data is None:
                return None
            result = {}
            for key, child in spec.keys.items():
                if key in data:
                    result[key] = read(child, data[key], f"{at}.{key}")
                elif child.required:
                    reader.problem(f"{at}.{key}", "missing; it is required here")
            return result
        if spec.kind == "bool":
            return reader.boolean(item, at)
        if spec.kind == "int":
            if isinstance(item, bool) or not isinstance(item, int) or item < 1:
                reader.fail(at, item, "expected a whole number above 0")
                return None
            return item
        if spec.kind == "strings":
            if not isinstance(item, list) or not all(isinstance(v, str) and v for v in item):
                reader.fail(at, item, "expected a list of non-empty strings")
                return None
            return list(item)
        if spec.kind == "variables":
            if not isinstance(item, dict):
                reader.fail(at, item, "expected a map of environment variable names to text")
                return None
            variables: dict[str, Any] = {}
            for name, text in item.items():
                if not _ENV_NAME.fullmatch(name):
                    reader.fail(f"{at}.{name}", text, "expected a variable name of letters, digits and _")
                elif not isinstance(text, str):
                    reader.fail(f"{at}.{name}", text, "expected text (quote numbers and booleans in YAML)")
                else:
                    variables[name] = Secret(text) if secret else text
            return variables
        if spec.choices and item not in spec.choices:
            reader.fail(at, item, f"expected one of {', '.join(spec.choices)}")
            return None
        text = reader.string(item, at)
        if text is None:
            return None
        if spec.credential:
            if not secret:
                reader.problem(
                    at,
                    "a credential, so it must come from secure config: run "
                    f"pulumi config set --secret --path '{at}' <value> (the value is not shown here)",
                )
                return None
            return Secret(text)
        return Secret(text) if spec.secret and secret else text

    settings = read(_object(**SETTINGS_FIELDS), value, path)
    if isinstance(settings, dict):
        git = (settings.get("sourceContext") or {}).get("git")
        if isinstance(git, dict) and ("branch" in git) == ("commit" in git):
            reader.problem(f"{path}.sourceContext.git", "give exactly one of branch and commit")
        auth = (git or {}).get("gitAuth") if isinstance(git, dict) else None
        if isinstance(auth, dict) and len(auth) != 1:
            reader.problem(f"{path}.sourceContext.git.gitAuth", "give exactly one of basicAuth and sshAuth")
    if len(reader.issues) > issues_before:
        return None
    return dict(settings or {})


def _environments(
    reader: _Reader, value: Any, at: str, max_session: int | None, role_path: str
) -> tuple[EscEnvironment, ...] | None:
    keys = ("project", "name", *_SESSION_KEYS, "region")
    issues_before = len(reader.issues)
    environments: list[EscEnvironment] = []
    seen: dict[str, str] = {}
    for index, item in enumerate(_items(reader, value, at)):
        path = f"{at}[{index}]"
        data = reader.obj(item, path, keys)
        if data is None:
            continue
        project = reader.string(
            data.get("project"),
            f"{path}.project",
            _ESC_PROJECT,
            "expected an ESC project name of letters, digits, '-', '_' and '.' "
            "(no pattern: the project decides the token's audience)",
        )
        name = reader.string(
            data.get("name"),
            f"{path}.name",
            _ESC_NAME,
            "expected an ESC environment name of letters, digits, '-', '_' and '.', or a pattern with * and ?",
        )
        if project is None or name is None:
            continue
        _once(reader, seen, f"{project}/{name}", path, item)
        session = None
        region = None
        if claims.is_pattern(name):
            _reject_keys(
                reader,
                data,
                path,
                (*_SESSION_KEYS, "region"),
                "a pattern creates no environment, so this has nowhere to go; remove it",
            )
        else:
            session = _session(
                reader, data, path, DEFAULT_ESC_SESSION_NAME, max_session=max_session, role_path=role_path
            )
            if "region" in data:
                region = reader.region(data["region"], f"{path}.region")
        environments.append(EscEnvironment(project, name, session, region, path))
    if len(reader.issues) > issues_before:
        return None
    return tuple(environments)


def _max_chars(reader: _Reader, value: Any, path: str) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_TRUST_POLICY_CHARS:
        reader.fail(
            path,
            value,
            f"expected a whole number up to {MAX_TRUST_POLICY_CHARS}: the account's IAM quota "
            f"'Role trust policy length' (default {DEFAULT_TRUST_POLICY_MAX_CHARS})",
        )
        return None
    return value


OTHER_NAMESPACES = frozenset({"aws", "pulumi", "pulumiservice", "tls"})
"""Namespaces of the packages this program uses: their keys are never this program's."""


def namespace_values(config: Mapping[str, Any], namespace: str) -> dict[str, str]:
    """The raw values ``load_settings`` takes, from a stack's whole config (``namespace:key`` keys).

    Keys of ``namespace`` lose their prefix. A key of another project's namespace that names
    one of this program's keys (as after a fork renames the project) is kept whole, so that
    ``load_settings`` reports it instead of silently ignoring it.
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
    """The running stack's ``pulumiservice:accessToken`` and ``pulumiservice:apiUrl``, where set (full keys):
    the Pulumi Cloud token and API the pulumiservice provider would use."""
    from pulumi.runtime import config as runtime_config  # noqa: PLC0415

    keys = ("pulumiservice:accessToken", "pulumiservice:apiUrl")
    return {key: value for key in keys if isinstance(value := runtime_config.get_config(key), str)}


def read_secret_keys() -> frozenset[str]:
    """The keys of :func:`read_pulumi_config` that Pulumi marks secret."""
    import pulumi  # noqa: PLC0415
    from pulumi.runtime import config as runtime_config  # noqa: PLC0415

    namespace = pulumi.Config().name
    keys = {key for key in runtime_config.CONFIG.get() if runtime_config.is_config_secret(key)}
    keys |= set(runtime_config.get_config_secret_keys_env())
    return frozenset(key.partition(":")[2] for key in keys if key.startswith(f"{namespace}:"))


def read_pulumi_config() -> dict[str, str]:
    """The raw values of the running program's config, as :func:`namespace_values` gives them.

    Reads the config Pulumi hands the program (the same values ``pulumi.Config()`` reads),
    including keys the program does not know, so that typos are reported.
    """
    # Imported here so that the pure modules (trust, esc) can use these dataclasses without Pulumi.
    import pulumi  # noqa: PLC0415
    from pulumi.runtime import config as runtime_config  # noqa: PLC0415

    keys = set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())
    return namespace_values({key: runtime_config.get_config(key) for key in keys}, pulumi.Config().name)
