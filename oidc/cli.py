"""Command line: ``python -m oidc plan``, ``python -m oidc explain`` and ``python -m oidc settings pull``.

``plan`` runs the real ``__main__.py`` under mocks with the config of ``Pulumi.<stack>.yaml``
and prints what ``pulumi up`` would declare: the resources, the trust policy and its size
against the quota, the ESC definitions and the deployment settings' OIDC blocks.

``explain`` decodes an OIDC token (without verifying it) and says whether the trust policy
of that same run admits it: the statement that does, or why each one does not.

``settings pull`` reads a stack's deployment settings from Pulumi Cloud and prints the
``deployments[]`` entry that keeps them, the commands that set the values the API does not
return, and what no config can keep.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import pulumi

from oidc import audiences, cloud, component, explain, guard, offline, stack_files, testing
from oidc.settings import PLAIN_FIELD, ConfigError, ConfigIssue, Settings, hidden_settings, load_settings

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_DENY = 1
EXIT_USAGE = 2

TOKEN_VARIABLE = "PULUMI_OIDC_TOKEN"

DEPLOY_TIME = "(computed at deploy time)"
OFFLINE_NOTE = (
    "No credentials, no network: AWS look-ups are answered offline with partition aws; each account "
    "answers with its id (given, or its assumeRole's or reused provider's account), else a placeholder "
    f"({testing.PLACEHOLDER_ACCOUNT} for the stack's default AWS provider); names AWS would generate (a "
    "role's, unless its name is set) are placeholders too."
)
THUMBPRINT_NOTE = " The OIDC provider's thumbprint is read from the issuer's certificate chain at deploy time."


AWS_OIDC_FIELDS = ("roleARN", "sessionName", "duration", "policyARNs")
"""``operationContext.oidc.aws`` as the service names its fields."""


GIT_SOURCE_FIELDS = ("repoUrl", "branch", "commit", "repoDir")


def _ordered(fields: dict[str, Any], order: Sequence[str]) -> dict[str, Any]:
    """Recorded inputs come in no fixed order: give them one."""
    return {key: fields.get(key) for key in order}


def _source(git: dict[str, Any] | None) -> dict[str, Any] | None:
    if git is None:
        return None
    return {key: value for key, value in _ordered(git, GIT_SOURCE_FIELDS).items() if value is not None}


_SHOWN_ELSEWHERE = ("organization", "project", "stack", "operationContext.oidc.", "sourceContext.git.repoUrl")


def _other_settings(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The settings' inputs besides the stack, the OIDC block and the source's place: key path -> value."""
    leaves = guard.config_leaves(offline.plain(dict(inputs)))
    return {
        path: value
        for path, value in sorted(leaves.items())
        if not any(path == shown or path.startswith(shown) for shown in _SHOWN_ELSEWHERE)
        and path not in {"sourceContext.git.branch", "sourceContext.git.commit", "sourceContext.git.repoDir"}
    }


def _resource_order(resource: offline.RecordedResource) -> tuple[bool, str, str, str]:
    """Components first, then by type and name: the same order on every run."""
    return (resource.parent_urn is not None, resource.type, resource.name, resource.urn)


PROVIDER = "aws:iam/openIdConnectProvider:OpenIdConnectProvider"
ADD_AUDIENCES_NOTE = (
    "reused, addAudiences: each client ID below is claimed for this stack by a tag on the provider, and added "
    "when the provider lacks it at deploy time. pulumi destroy removes one only when no other admin stack claims "
    "it and a stack of this program added it"
)
ROLE = "aws:iam/role:Role"


@dataclass(frozen=True)
class RoleView:
    """One role of an evaluated program, as the offline run declared it."""

    component: offline.RecordedResource
    role: offline.RecordedResource
    children: tuple[offline.RecordedResource, ...]

    @property
    def key(self) -> str:
        return str(self.component.inputs["role"])

    @property
    def owner(self) -> str:
        """The name of the PulumiCloudOidc component that holds the role."""
        return (self.component.parent_urn or "").rpartition("::")[2]

    def label(self, composed: bool) -> str:
        """``<key> (account <account>)``, and the component's name where a program declares several."""
        return f"{self.key} (account {self.account}){f' of {self.owner}' if composed else ''}"

    @property
    def account(self) -> str:
        return str(self.component.inputs["account"])

    @property
    def organization(self) -> str:
        return str(self.component.inputs["organization"])

    @property
    def issuer(self) -> str:
        return str(self.component.inputs["issuer"])

    @property
    def entries(self) -> str:
        """The key path prefix of the role's entries: ``roles.<key>.``, or empty in form A."""
        path = str(self.component.inputs.get("entries") or "")
        return f"{path}." if path else ""

    @property
    def trust_policy(self) -> str:
        return str(self.role.inputs["assumeRolePolicy"])

    @property
    def max_chars(self) -> int:
        return int(self.component.inputs["trustPolicyMaxChars"])

    @property
    def quota_key(self) -> str:
        """The config key of the quota the trust policy was checked against."""
        return str(self.component.inputs["trustPolicyMaxCharsKey"])


def composed(roles: Sequence[RoleView]) -> bool:
    """Whether the roles belong to more than one PulumiCloudOidc component (a composed program)."""
    return len({view.owner for view in roles}) > 1


def role_views(recording: offline.Recording) -> list[RoleView]:
    """Every role component of the run, by account and key."""
    views = []
    for role_component in recording.of_type(component.ROLE_TYPE):
        children = tuple(recording.children(role_component))
        role = next(r for r in children if r.type == ROLE)
        views.append(RoleView(role_component, role, children))
    return sorted(views, key=lambda v: (v.account, v.key, v.component.name))


def _provider_report(provider_component: offline.RecordedResource, recording: offline.Recording) -> dict[str, Any]:
    arn = str(provider_component.inputs["arn"])
    created = [r for r in recording.children(provider_component) if r.type == PROVIDER]
    if not created:
        added = sorted(
            (r for r in recording.children(provider_component) if r.type == audiences.TYPE),
            key=lambda r: str(r.inputs["clientId"]),
        )
        if added:
            return {
                "created": False,
                "arn": arn,
                "note": ADD_AUDIENCES_NOTE,
                "addsClientIds": [{"clientId": r.inputs["clientId"], "name": r.name} for r in added],
            }
        return {
            "created": False,
            "arn": arn,
            "note": "reused: its client IDs are checked against what the roles need at deploy time",
        }
    resource = created[0]
    thumbprints = offline.plain(resource.inputs.get("thumbprintLists"))
    # Offline, the issuer's chain is never read: "auto" thumbprints stay unknown (and older SDKs leave them out).
    unknown = provider_component.inputs.get("thumbprints") == "auto" and not thumbprints
    return {
        "created": True,
        "name": resource.name,
        "arn": arn,
        "protected": resource.protect,
        "url": resource.inputs["url"],
        "clientIds": offline.plain(resource.inputs["clientIdLists"]),
        "thumbprints": DEPLOY_TIME if unknown else thumbprints or [],
    }


def _role_report(view: RoleView) -> dict[str, Any]:
    policy_json = view.trust_policy
    deployment_settings = sorted(
        (
            {
                "stack": f"{r.inputs['organization']}/{r.inputs['project']}/{r.inputs['stack']}",
                "oidc": _ordered(offline.plain(r.inputs["operationContext"]["oidc"]["aws"]), AWS_OIDC_FIELDS),
                "source": _source(offline.plain(r.inputs.get("sourceContext", {}).get("git"))),
                "settings": _other_settings(r.inputs),
            }
            for r in view.children
            if r.type == "pulumiservice:index:DeploymentSettings"
        ),
        key=lambda item: str(item["stack"]),
    )
    environments = sorted(
        (
            {
                "environment": f"{r.inputs['organization']}/{r.inputs['project']}/{r.inputs['name']}",
                "yaml": offline.plain(r.inputs["yaml"]),
            }
            for r in view.children
            if r.type == "pulumiservice:index:Environment"
        ),
        key=lambda item: str(item["environment"]),
    )
    policies = sorted(
        str(r.inputs["policyArn"])
        for r in view.children
        if r.type == "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
    )
    return {
        "key": view.key,
        "name": view.role.outputs.get("name"),
        "logicalName": view.role.name,
        "arn": view.role.outputs.get("arn"),
        "policyArns": policies,
        "trustPolicy": {
            "chars": len(policy_json),
            "maxChars": view.max_chars,
            "quotaKey": view.quota_key,
            "document": json.loads(policy_json),
        },
        "deploymentSettings": deployment_settings,
        "environments": environments,
    }


def _parent_label(resource: offline.RecordedResource) -> str | None:
    """The parent as ``Type name`` (its type's last part): components of different types share names."""
    if resource.parent_urn is None:
        return None
    chain, _, name = resource.parent_urn.rpartition("::")
    return f"{chain.rpartition('$')[2].rpartition(':')[2]} {name}"


def plan_report(evaluated: Evaluated) -> dict[str, Any]:
    """Everything ``plan`` shows, as one JSON-ready document: a section per account, and in it per role."""
    config, recording = evaluated.config, evaluated.recording
    resources = sorted(recording.resources, key=_resource_order)
    views = role_views(recording)
    accounts: list[dict[str, Any]] = []
    for provider_component in sorted(
        recording.of_type(component.PROVIDER_TYPE), key=lambda r: (str(r.inputs["account"]), r.name)
    ):
        key = str(provider_component.inputs["account"])
        owner = provider_component.parent_urn
        accounts.append(
            {
                "key": key,
                "component": (owner or "").rpartition("::")[2],
                "accountId": str(provider_component.inputs["arn"]).split(":")[4],
                "oidcProvider": _provider_report(provider_component, recording),
                "roles": [
                    _role_report(view) for view in views if view.account == key and view.component.parent_urn == owner
                ],
            }
        )
    unknown_thumbprints = any(a["oidcProvider"].get("thumbprints") == DEPLOY_TIME for a in accounts)
    secret = set(config.secret_keys)
    return {
        "organization": evaluated.organization,
        "project": config.project,
        "stack": config.stack,
        "note": OFFLINE_NOTE + (THUMBPRINT_NOTE if unknown_thumbprints else ""),
        "config": {
            key: _sorted_keys(hidden_settings(key.partition(":")[2], config.shown(key)) if key in secret else value)
            for key, value in sorted(config.values.items())
        },
        "resources": [
            {"type": r.type, "name": r.name, "parent": _parent_label(r), "protected": r.protect} for r in resources
        ],
        "accounts": accounts,
        "outputs": offline.plain(recording.outputs),
        "notes": sorted(set(recording.notes)),
        "warnings": sorted(recording.warnings),
    }


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line if line else line for line in text.splitlines())


def _pairs(rows: Sequence[tuple[str, Any]], prefix: str = "  ") -> list[str]:
    width = max((len(key) for key, _ in rows), default=0)
    return [f"{prefix}{key.ljust(width)}  {value}" for key, value in rows]


def _show(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None or value == []:
        return "(none)"
    return json.dumps(value, separators=(", ", ": "), sort_keys=True)


def _sorted_keys(value: Any) -> Any:
    """``value`` with every map's keys in order: the stack file's order means nothing to the program."""
    if isinstance(value, dict):
        return {key: _sorted_keys(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_sorted_keys(item) for item in value]
    return value


def render_text(report: dict[str, Any]) -> str:
    """The report as the text ``plan`` prints."""
    where = f"{report['organization']}/{report['project']}/" if report["organization"] else ""
    header = f"Offline plan of stack {where}{report['stack']} (project {report['project']})"
    lines = [header, report["note"], ""]
    lines += ["Config", *_pairs([(key, _show(value)) for key, value in report["config"].items()]), ""]

    resources = report["resources"]
    lines.append(f"Resources ({len(resources)})")
    rows = [("TYPE", "NAME", "PARENT", "")] + [
        (r["type"], r["name"], r["parent"] or "-", "protected" if r["protected"] else "") for r in resources
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    lines += [
        "  "
        + "  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True))
        + f"  {row[3]}".rstrip()
        for row in rows
    ]
    lines.append("")

    composed = len({account["component"] for account in report["accounts"]}) > 1
    for account in report["accounts"]:
        lines += _account_text(account, composed)

    outputs = dict(report["outputs"])
    if isinstance(outputs.get("trustPolicy"), str):
        outputs["trustPolicy"] = _policy_note(outputs["trustPolicy"])
    if isinstance(outputs.get("roles"), dict):
        outputs["roles"] = {
            key: {**role, "trustPolicy": _policy_note(role["trustPolicy"])} if isinstance(role, dict) else role
            for key, role in outputs["roles"].items()
        }
    lines += ["Outputs", *_pairs([(key, _show(value)) for key, value in outputs.items()])]
    if report["notes"]:
        lines += ["", "Notes", *(f"  - {note}" for note in report["notes"])]
    if report["warnings"]:
        lines += ["", "Warnings", *(f"  - {warning}" for warning in report["warnings"])]
    return "\n".join(line.rstrip() for line in lines) + "\n"


def _policy_note(policy: Any) -> str:
    return f"(the trust policy above, as {len(str(policy))} characters of compact JSON)"


def _account_text(account: dict[str, Any], composed: bool) -> list[str]:
    owner = f" of {account['component']}" if composed else ""
    lines = [f"Account {account['key']} ({account['accountId']}){owner}"]
    provider = account["oidcProvider"]
    if provider["created"]:
        lines.append(f"  OIDC provider ({provider['name']}{', protected' if provider['protected'] else ''})")
        lines += _pairs(
            [
                ("arn", provider["arn"]),
                ("url", provider["url"]),
                ("client IDs", _show(provider["clientIds"])),
                ("thumbprints", _show(provider["thumbprints"])),
            ],
            "    ",
        )
    else:
        lines.append("  OIDC provider (reused, not managed by this stack)")
        lines += _pairs([("arn", provider["arn"]), ("", provider["note"])], "    ")
        for item in provider.get("addsClientIds", []):
            lines.append(f"    adds client ID {item['clientId']} ({item['name']})")
    lines.append("")
    for role in account["roles"]:
        lines += _role_text(role)
    return lines


def _role_text(role: dict[str, Any]) -> list[str]:
    trust = role["trustPolicy"]
    lines = [f"  Role {role['key']}: {role['name']} ({role['logicalName']})"]
    lines += _pairs([("arn", _show(role["arn"])), ("policies", _show(role["policyArns"]))], "    ")
    lines.append(f"    Trust policy: {trust['chars']} of {trust['maxChars']} characters ({trust['quotaKey']})")
    lines += [_indent(json.dumps(trust["document"], indent=2), "      ")]
    lines.append("    Deployment settings (operationContext.oidc.aws)")
    for item in role["deploymentSettings"] or [{"stack": "(none)"}]:
        lines.append(f"      {item['stack']}")
        if "oidc" in item:
            source = item["source"]
            where = "(none: a source set elsewhere is removed)"
            if source:
                revision = f"branch {source['branch']}" if source.get("branch") else f"commit {source.get('commit')}"
                where = f"{source.get('repoUrl', 'the repository of the VCS integration')} {revision}"
                where += f" folder {source['repoDir']}" if source.get("repoDir") else ""
            rows = [(key, _show(value)) for key, value in item["oidc"].items()] + [("source", where)]
            rows += [(key, _show(value)) for key, value in item["settings"].items()]
            lines += _pairs(rows, "        ")
    lines.append("    ESC environments")
    for environment in role["environments"] or [{"environment": "(none)", "yaml": ""}]:
        lines += [f"      {environment['environment']}", _indent(environment["yaml"].rstrip(), "        ")]
    lines.append("")
    return lines


class StackError(Exception):
    """The stack cannot be evaluated: its files are missing or its config is invalid.

    ``errors`` are the problems one by one, each at its key path (or file), for ``--json``.
    """

    def __init__(self, text: str, errors: Sequence[ConfigIssue]) -> None:
        super().__init__(text)
        self.errors = tuple(errors)


class UsageError(Exception):
    """The command line names no stack of this project."""


_STACK_PART = re.compile(r"^[A-Za-z0-9_.-]+$")
"""Pulumi's alphabet for organization, project and stack names."""


@dataclass(frozen=True)
class StackName:
    """``--stack`` as Pulumi names stacks: ``name``, ``org/name`` or ``org/project/name``."""

    name: str
    organization: str | None = None
    project: str | None = None

    @classmethod
    def parse(cls, text: str) -> StackName:
        parts = text.split("/")
        if len(parts) > 3 or not all(_STACK_PART.fullmatch(part) and part.strip(".") for part in parts):
            raise UsageError(
                f"--stack {text}: expected NAME, ORG/NAME or ORG/PROJECT/NAME, each of letters, digits, '-', '_' "
                "and '.'"
            )
        if len(parts) == 3:
            return cls(name=parts[2], organization=parts[0], project=parts[1])
        if len(parts) == 2:
            return cls(name=parts[1], organization=parts[0])
        return cls(name=parts[0])

    def check_project(self, text: str, project: str, directory: Path) -> None:
        """A usage error when ``--stack`` names another project than the one in ``directory``."""
        if self.project is not None and self.project != project:
            raise UsageError(
                f"--stack {text}: names a stack of project {self.project}, but {directory / 'Pulumi.yaml'} is project "
                f"{project}; give --stack {self.organization}/{project}/{self.name}, or --cwd the folder of "
                f"project {self.project}"
            )


@dataclass(frozen=True)
class Evaluated:
    """A stack evaluated offline: its config, what the program declared, and its roles."""

    config: offline.StackConfig
    recording: offline.Recording
    roles: tuple[RoleView, ...]
    organization: str | None = None
    """The admin stack's organization, where ``--stack`` names it (``ORG/NAME``, ``ORG/PROJECT/NAME``)."""


def _default_account(settings: Settings) -> dict[str, Any]:
    """Mock options that make the default AWS provider answer as the config says its account is.

    Only for a program built from the stack's config; for any other the placeholder stays.
    """
    for account in settings.accounts:
        if account.uses_default_provider:
            reused = account.oidc_provider.arn
            account_id = account.id or (reused.split(":")[4] if reused else None)
            return {"account_id": account_id} if account_id else {}
    return {}


def _offline_settings(config: offline.StackConfig) -> Settings | None:
    """The stack's settings as the program will load them, or ``None`` for a program of another config.

    Raises :class:`ConfigError` for a config that cannot be checked offline: a ``secure:`` value where the
    placeholder read offline is not valid (its real value is checked by ``pulumi preview``), or where a name is
    expected (names stay plain, so a secret there would not stay secret).
    """
    secure = config.project_secure_paths
    issues = [
        ConfigIssue(
            path,
            "a secure value where a name is expected: names stay plain in URNs and state, so it would "
            "not stay secret; set it without --secret",
        )
        for path in secure
        if PLAIN_FIELD.search(path)
    ]
    try:
        settings = load_settings(config.project_values, secret_keys=[k.partition(":")[2] for k in config.secret_keys])
    except ConfigError as error:
        # The program reports its config's problems itself; those of a secure value are said here, as the program
        # would blame the placeholder read in its place.
        unchecked = [
            ConfigIssue(issue.path, "a secure value; it cannot be checked offline (pulumi preview checks it)")
            for issue in error.issues
            if any(issue.path == p or issue.path.startswith((f"{p}.", f"{p}[")) for p in secure)
        ]
        if unchecked:
            issues += [i for i in error.issues if i.path not in {u.path for u in unchecked}] + unchecked
        settings = None
    if issues:
        raise ConfigError(issues)
    return settings


def evaluate_stack(stack_text: str, directory: Path) -> Evaluated:
    """Read the stack's config and run the program offline; :class:`StackError` says what is wrong.

    ``stack_text`` is ``--stack``: ``name``, ``org/name`` or ``org/project/name`` (its project must be
    the one in ``directory``, or :class:`UsageError`); the config is ``Pulumi.<name>.yaml``.
    """
    stack_name = StackName.parse(stack_text)
    stack = stack_name.name
    try:
        project_dir = offline.find_project(directory)
        if stack_name.project is not None:
            stack_name.check_project(stack_text, offline.project_name(project_dir), project_dir)
        config = offline.read_stack_config(project_dir, stack)
        undecryptable = [
            ConfigIssue(key.partition(":")[2], "a secure value; it cannot be decrypted offline")
            for key in config.undecryptable
        ]
        if undecryptable:
            raise ConfigError(undecryptable)
        settings = _offline_settings(config)
        with cloud.offline():
            recording = offline.run_stack(
                config,
                preview=True,
                organization=stack_name.organization,
                **(_default_account(settings) if settings else {}),
            )
    except stack_files.StackFileError as error:
        raise StackError(f"error: {error}", [ConfigIssue("files", str(error))]) from None
    except ConfigError as error:
        raise StackError(_blamed(error, stack), error.issues) from None
    except component.ProgramError as error:
        raise StackError(_blamed(error.error, stack), error.error.issues) from None
    except pulumi.RunError as error:
        raise StackError(f"Pulumi.{stack}.yaml: {error}", [ConfigIssue("program", str(error))]) from None
    roles = tuple(role_views(recording))
    if not roles:
        message = (
            f"{config.directory} declares no {component.ROLE_TYPE}: plan and explain evaluate programs "
            f"that declare {component.TYPE} components, as this project's __main__.py does"
        )
        raise StackError(f"error: {message}", [ConfigIssue("program", message)])
    return Evaluated(config, recording, roles, stack_name.organization)


def _blamed(error: ConfigError, stack: str) -> str:
    """The error's text, prefixed with the stack file when the stack's config is what is wrong."""
    return f"Pulumi.{stack}.yaml: {error}" if error.where == "config" else f"error: {error}"


def errors_document(errors: Sequence[ConfigIssue], warnings: Sequence[str] = ()) -> str:
    """What ``--json`` prints for a failed command: every error at its path, and the warnings so far."""
    document = {
        "errors": [{"path": issue.path, "message": issue.message} for issue in errors],
        "warnings": list(warnings),
    }
    return json.dumps(document, indent=2)


def _failed(text: str, errors: Sequence[ConfigIssue], as_json: bool, code: int) -> int:
    """Say why a command failed, as text on standard error or as JSON on standard output; ``code``."""
    if as_json:
        print(errors_document(errors))
    else:
        print(text, file=sys.stderr)
    return code


def plan(stack: str, as_json: bool, directory: Path, *, strict: bool = False) -> int:
    """``plan``: exit 0 printed, 1 invalid (or, with ``strict``, any warning), 2 bad usage."""
    try:
        evaluated = evaluate_stack(stack, directory)
    except UsageError as error:
        return _failed(f"error: {error}", [ConfigIssue("--stack", str(error))], as_json, EXIT_USAGE)
    except StackError as error:
        return _failed(str(error), error.errors, as_json, EXIT_INVALID)
    report = plan_report(evaluated)
    print(json.dumps(report, indent=2) if as_json else render_text(report), end="" if not as_json else "\n")
    if strict and report["warnings"]:
        count = len(report["warnings"])
        print(f"--strict: {count} warning{'s' if count != 1 else ''}, so exit {EXIT_INVALID}", file=sys.stderr)
        return EXIT_INVALID
    return EXIT_OK


class InputError(Exception):
    """The token cannot be read or decoded."""


def read_token(source: str | None, stdin: TextIO) -> tuple[str, str]:
    """The raw token and where it came from: a file, ``-`` for stdin, or ``$PULUMI_OIDC_TOKEN``."""
    try:
        if source == "-":
            return stdin.read().strip(), "standard input"
        if source is not None:
            return Path(source).read_text(encoding="utf-8").strip(), source
    except OSError as error:
        raise InputError(f"cannot read the token file {source}: {error.strerror}") from None
    except UnicodeError:
        raise InputError(f"the token from {'standard input' if source == '-' else source} is not text") from None
    token = os.environ.get(TOKEN_VARIABLE)
    if not token:
        raise InputError(
            f"no token: pass --token FILE (or - for standard input), --aud and --sub, or set {TOKEN_VARIABLE}"
        )
    return token.strip(), f"${TOKEN_VARIABLE}"


def decode_token(token: str) -> dict[str, Any]:
    """The token's claims, decoded without verifying its signature (``explain`` judges, it does not trust)."""
    # PyJWT comes with the package's cli extra: only decoding a token needs it.
    try:
        import jwt  # noqa: PLC0415
    except ImportError:
        raise InputError(
            "decoding a token needs PyJWT, which the package's cli extra installs: "
            "pip install 'pulumi-aws-oidc[cli]' (or give --aud and --sub)"
        ) from None
    try:
        decoded = jwt.decode(token, options={"verify_signature": False})
    except (jwt.InvalidTokenError, UnicodeError, ValueError) as error:
        raise InputError(f"not a JWT: {error}") from None
    return dict(decoded)


def _timestamp(value: Any) -> str | None:
    """``exp`` as an ISO date, or as it is when it is no date at all."""
    if not isinstance(value, int | float):
        return None if value is None else f"{value!r} (not a time)"
    try:
        return datetime.fromtimestamp(value, UTC).isoformat()
    except (OverflowError, OSError, ValueError):
        return f"{value!r} (not a time)"


DEPLOYMENT_SETTINGS = "pulumiservice:index:DeploymentSettings"
ENVIRONMENT = "pulumiservice:index:Environment"


def held(view: RoleView) -> tuple[frozenset[str], frozenset[str]]:
    """The stacks whose deployment settings the role's component declares, and the ESC environments it creates,
    each as ``org/project/name``: their settings and ``fn::open::aws-login`` name this role's ARN."""
    stacks = frozenset(
        f"{r.inputs['organization']}/{r.inputs['project']}/{r.inputs['stack']}"
        for r in view.children
        if r.type == DEPLOYMENT_SETTINGS
    )
    environments = frozenset(
        f"{r.inputs['organization']}/{r.inputs['project']}/{r.inputs['name']}"
        for r in view.children
        if r.type == ENVIRONMENT
    )
    return stacks, environments


def deployment_entries(evaluated: Evaluated) -> dict[tuple[str, str], tuple[explain.Entry, ...]]:
    """Each role's ``deployments[]`` as the stack's config writes them, by account and role key.

    Only for the program built from the stack's config (one component whose roles manage the stacks the config
    says): hints then name the entry to change (``roles.readonly.deployments[1]``); otherwise ``{}``.
    """
    if composed(evaluated.roles):
        return {}
    try:
        settings = _offline_settings(evaluated.config)
    except ConfigError:
        return {}
    if settings is None:
        return {}
    recorded = {(view.account, view.key): held(view)[0] for view in evaluated.roles}
    found = {}
    for role in settings.roles:
        managed = frozenset(f"{settings.organization}/{d.identity}" for d in role.managed_stacks)
        if recorded.get((role.account, role.key)) != managed:
            return {}
        found[role.account, role.key] = tuple(
            explain.Entry(d.path, d.project, d.stack, d.operations or ()) for d in role.deployments
        )
    return found


def _role_id(view: RoleView, composed_program: bool) -> str:
    return f"{view.owner}/{view.key}" if composed_program else view.key


def explain_report(
    roles: Sequence[RoleView],
    token_claims: dict[str, Any],
    source: str,
    *,
    stack: str,
    decoded: bool,
    composed_program: bool = False,
    asked: RoleView | None = None,
    entries: Mapping[tuple[str, str], tuple[explain.Entry, ...]] | None = None,
) -> dict[str, Any]:
    """Everything ``explain`` shows, as one JSON-ready document: the answer, and each role's.

    ``roles`` are every role of the program: the token is answered for the role whose ARN its stack's settings
    or its environment name (:func:`explain.answering_role`), or, with ``asked`` (``--role``), evaluated against
    that role alone. ``composed_program``: the program declares several PulumiCloudOidc components, so each
    role is named with its component's name too. ``entries``: the roles' ``deployments[]`` as
    :func:`deployment_entries` reads them.
    """
    views = {_role_id(view, composed_program): view for view in roles}
    facts = []
    for role_id, view in views.items():
        stacks, environments = held(view)
        facts.append(
            explain.Role(
                id=role_id,
                organization=view.organization,
                issuer=view.issuer,
                document=json.loads(view.trust_policy),
                where=view.entries,
                managed_stacks=stacks,
                created_environments=environments,
                deployments=(entries or {}).get((view.account, view.key), ()),
            )
        )
    result = explain.answer(facts, token_claims, _role_id(asked, composed_program) if asked is not None else None)

    def identity(role_id: str) -> dict[str, Any]:
        view = views[role_id]
        return {"role": view.key, "account": view.account, "component": view.owner}

    def with_arn(role_id: str | None) -> dict[str, Any] | None:
        if role_id is None:
            return None
        view = views[role_id]
        return {**identity(role_id), "path": view.entries.removesuffix("."), "arn": view.role.outputs.get("arn")}

    answers = []
    for role_answer in result.answers:
        view = views[role_answer.role.id]
        explained = role_answer.explanation
        matched = explained.decision.matched
        answers.append(
            {
                **identity(role_answer.role.id),
                "organization": view.organization,
                "label": view.label(composed_program),
                "path": role_answer.role.where.removesuffix("."),
                "name": view.role.outputs.get("name"),
                "arn": view.role.outputs.get("arn"),
                "decision": "ALLOW" if explained.allowed else "DENY",
                "matchedStatement": matched.sid if matched else None,
                "statements": [
                    {"sid": s.sid, "allowed": s.allowed, "failures": explain.failure_text(s, token_claims)}
                    for s in explained.decision.statements
                ],
                "nearestSubject": explained.nearest_subject,
                "hints": list(explained.hints),
            }
        )
    choice = result.choice
    deciding = result.deciding
    exp = token_claims.get("exp")
    return {
        "stack": stack,
        "token": {
            "source": source,
            "decoded": decoded,
            "signatureVerified": False,
            **{key: token_claims.get(key) for key in ("iss", "aud", "sub")},
            "exp": _timestamp(exp),
            "expired": explain.expired(token_claims, datetime.now(UTC)),
        },
        "decision": "ALLOW" if result.allowed else "DENY",
        "answeredFor": with_arn(deciding.role.id) if deciding is not None else None,
        "why": "roleOption" if asked is not None else choice.why,
        "target": {"kind": choice.target.kind, "name": choice.target.identity} if choice.target else None,
        "managedBy": with_arn(choice.role) if choice.why == explain.MANAGED_BY else None,
        "createdBy": with_arn(choice.role) if choice.why == explain.CREATED_BY else None,
        "admittedBy": [identity(a.role.id) for a in result.admitted_by],
        "alsoAdmittedBy": [identity(a.role.id) for a in result.also_admitted_by],
        "cause": result.cause,
        "hints": list(result.hints),
        "roles": answers,
    }


def _title(answer: Mapping[str, Any]) -> str:
    """``roles.deploy (account prod)``: the role's key path (``role <key>`` in form A), account and component."""
    label = str(answer["label"])
    return f"{answer['path']} {label.partition(' ')[2]}" if answer["path"] else f"role {label}"


def _role_lines(report: Mapping[str, Any], answer: Mapping[str, Any]) -> list[str]:
    """One role's answer in full: the statement that admits the token, or each statement's failures and the hints."""
    policy = f"the trust policy of role {answer['label']} of stack {report['stack']}"
    if answer["decision"] == "ALLOW":
        return [f"ALLOW: statement {answer['matchedStatement']} of {policy} admits this token."]
    lines = [f"DENY: no statement of {policy} admits this token."]
    for statement in answer["statements"]:
        lines.append(f"  {statement['sid']}")
        lines += [f"    - {failure}" for failure in statement["failures"]]
    if answer["nearestSubject"]:
        lines += [f"  Nearest trusted subject: {answer['nearestSubject']}"]
    if answer["hints"]:
        lines += ["  Hints", *(f"    - {hint}" for hint in answer["hints"])]
    return lines


def _presented_by(target: Mapping[str, Any] | None) -> str:
    if target is not None and target["kind"] == "environment":
        return "the environment's fn::open::aws-login"
    return "the stack's settings"


def _any_role_reason(report: Mapping[str, Any], admitted: Sequence[Mapping[str, Any]]) -> str:
    """Why every role was asked: the config holds no settings or environment for the token's stack or environment."""
    target = report["target"]
    if target is None:
        return "the token's subject does not name a stack or environment, so every role was asked."
    organization = target["name"].split("/")[0]
    if all(answer["organization"] != organization for answer in report["roles"]):
        return (
            f"the token is of organization {organization}, of which this config holds nothing, so every role was asked."
        )
    if target["kind"] == "stack":
        held_here = (
            f"no role of this config manages the deployment settings of {target['name']}: they are set elsewhere"
        )
    else:
        held_here = (
            f"no role of this config creates the environment {target['name']}: its fn::open::aws-login is written "
            "elsewhere"
        )
    if not admitted:
        return f"{held_here} and may name any role's ARN, so every role was asked."
    arns = ", ".join(f"{_title(a)}, {a['arn']}" for a in admitted)
    return f"{held_here}, and must name the ARN of {arns if len(admitted) == 1 else 'one of: ' + arns}."


def _summary_lines(report: Mapping[str, Any], verbose: bool) -> list[str]:
    """The answer of several roles in short: the deciding role and why, the cause, the first hint, other roles."""
    by_role: dict[tuple[str, str], Mapping[str, Any]] = {(a["component"], a["role"]): a for a in report["roles"]}

    def answer_of(identity: Mapping[str, Any]) -> Mapping[str, Any]:
        return by_role[identity["component"], identity["role"]]

    target = report["target"]
    allowed = report["decision"] == "ALLOW"
    lines = []
    if report["answeredFor"] is not None:
        answer = answer_of(report["answeredFor"])
        if allowed:
            lines.append(f"ALLOW by {_title(answer)}, statement {answer['matchedStatement']}.")
        else:
            lines.append(f"DENY by {_title(answer)}: no statement of its trust policy admits this token.")
        if report["why"] == explain.MANAGED_BY:
            lines.append(
                f"  Why this role: it manages the deployment settings of {target['name']}, so Pulumi Deployments "
                f"presents its ARN, {answer['arn']}."
            )
        else:
            lines.append(
                f"  Why this role: it creates the environment {target['name']}, whose fn::open::aws-login names its "
                f"ARN, {answer['arn']}."
            )
    else:
        admitted = [answer_of(identity) for identity in report["admittedBy"]]
        if admitted:
            shown = "; ".join(f"{_title(a)}, statement {a['matchedStatement']}" for a in admitted)
            lines.append(f"ALLOW by {shown}.")
        else:
            lines.append(f"DENY: none of the {len(report['roles'])} roles of this config admits this token.")
        lines.append(f"  Why every role: {_any_role_reason(report, admitted)}")
    if not allowed:
        if report["cause"]:
            lines.append(f"  Cause: {report['cause']}")
        if verbose and report["hints"]:
            lines += ["  Hints", *(f"    - {hint}" for hint in report["hints"])]
        elif report["hints"]:
            lines.append(f"  Hint: {report['hints'][0]}")
    for identity in report["alsoAdmittedBy"]:
        answer = answer_of(identity)
        lines.append(
            f"Would also be admitted by {_title(answer)}, statement {answer['matchedStatement']} (informational: if "
            f"{_presented_by(target)} named its ARN)."
        )
    return lines


def _held_note(report: Mapping[str, Any]) -> list[str]:
    """With ``--role``, a note when the token's stack or environment uses another role of the config."""
    holder = report["managedBy"] or report["createdBy"]
    asked = report["answeredFor"]
    if report["why"] != "roleOption" or holder is None or asked is None:
        return []
    if (holder["component"], holder["role"]) == (asked["component"], asked["role"]):
        return []
    name = holder["path"] or f"role {holder['role']}"
    if report["managedBy"] is not None:
        held_text = f"manages the deployment settings of {report['target']['name']}, so Pulumi Deployments presents"
    else:
        held_text = f"creates the environment {report['target']['name']}, whose fn::open::aws-login names"
    return [
        f"Note: {name} {held_text} its ARN, not this role's; without --role, explain answers for {name}.",
        "",
    ]


def render_explanation(report: dict[str, Any], verbose: bool = False) -> str:
    """The ``explain`` report as text: in short for several roles (every role in full with ``verbose``)."""
    token = report["token"]
    if token["decoded"]:
        lines = [f"Token from {token['source']} (decoded without verifying its signature)"]
    else:
        lines = [f"Claims given with {token['source']}"]
    rows = [(key, _show(token[key])) for key in ("iss", "aud", "sub") if token[key] is not None]
    if token["exp"] is not None:
        statuses = {True: " (expired: STS refuses it whatever the policy says)", False: " (not expired)", None: ""}
        rows.append(("exp", f"{token['exp']}{statuses[token['expired']]}"))
    lines += [*_pairs(rows), ""]
    if len(report["roles"]) == 1:
        # One role (form A, or --role): its answer in full is short enough.
        lines += [*_held_note(report), *_role_lines(report, report["roles"][0])]
    else:
        lines += _summary_lines(report, verbose)
        if verbose:
            for answer in report["roles"]:
                lines += ["", *_role_lines(report, answer)]
        elif report["decision"] == "DENY":
            lines.append("(--verbose: every role's statements and hints; --json: everything)")
    return "\n".join(line.rstrip() for line in lines).rstrip("\n") + "\n"


def _usage_problem(args: argparse.Namespace) -> str | None:
    if (args.aud is None) != (args.sub is None):
        return "--aud and --sub go together"
    if args.aud is not None and args.token is not None:
        return "give either --token or --aud and --sub, not both"
    if args.iss is not None and args.aud is None:
        return "--iss goes with --aud and --sub; a token carries its own issuer"
    if args.token == "":
        return "--token needs a file name, or - for standard input"
    return None


def explain_command(args: argparse.Namespace, stdin: TextIO) -> int:
    problem = _usage_problem(args)
    if problem is not None:
        return _failed(f"error: {problem}", [ConfigIssue("arguments", problem)], args.json, EXIT_USAGE)
    try:
        evaluated = evaluate_stack(args.stack, args.cwd)
    except UsageError as error:
        return _failed(f"error: {error}", [ConfigIssue("--stack", str(error))], args.json, EXIT_USAGE)
    except StackError as error:
        return _failed(str(error), error.errors, args.json, EXIT_USAGE)
    roles = evaluated.roles
    asked = None
    if args.role is not None:
        named = [view for view in roles if args.role in {view.key, f"{view.owner}/{view.key}"}]
        known = sorted({f"{view.owner}/{view.key}" if composed(roles) else view.key for view in roles})
        if len(named) != 1:
            why = "no such role" if not named else "a role of several components: name it COMPONENT/KEY"
            problem = f"--role {args.role}: {why}; the stack's roles are {', '.join(known)}"
            return _failed(f"error: {problem}", [ConfigIssue("--role", problem)], args.json, EXIT_USAGE)
        [asked] = named
    if args.aud is not None:
        issuer = args.iss or (asked or roles[0]).issuer
        token_claims: dict[str, Any] = {"iss": issuer, "aud": args.aud, "sub": args.sub}
        source = "--aud and --sub" + ("" if args.iss else ", iss taken as the configured issuer")
    else:
        try:
            token, source = read_token(args.token, stdin)
            token_claims = decode_token(token)
        except InputError as error:
            return _failed(f"error: {error}", [ConfigIssue("--token", str(error))], args.json, EXIT_USAGE)
    stack = evaluated.config.stack
    report = explain_report(
        roles,
        token_claims,
        source,
        stack=stack,
        decoded=args.aud is None,
        composed_program=composed(roles),
        asked=asked,
        entries=deployment_entries(evaluated),
    )
    report["warnings"] = sorted(evaluated.recording.warnings)
    text = json.dumps(report, indent=2) if args.json else render_explanation(report, verbose=args.verbose)
    print(text, end="" if not args.json else "\n")
    if args.strict and report["warnings"]:
        count = len(report["warnings"])
        print(f"--strict: the stack's evaluation gave {count} warning{'s' if count != 1 else ''}", file=sys.stderr)
        return EXIT_INVALID
    return EXIT_OK if report["decision"] == "ALLOW" else EXIT_DENY


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m oidc", description=__doc__.splitlines()[0] if __doc__ else None)
    commands = root.add_subparsers(dest="command", required=True)
    plan_parser = commands.add_parser(
        "plan", help="evaluate the program offline against Pulumi.yaml and Pulumi.<stack>.yaml"
    )
    explain_parser = commands.add_parser(
        "explain",
        help="would this token be let in by the stack's trust policy, and if not, why?",
        description=(
            "Decode an OIDC token without verifying it and evaluate it against the trust policy of the stack's "
            f"config. Exit 0 allow, 1 deny, 2 bad usage or input. Without --token or --aud/--sub, reads "
            f"${TOKEN_VARIABLE} (Pulumi Deployments also writes the token to /mnt/pulumi/pulumi.oidc)."
        ),
    )
    for sub in (plan_parser, explain_parser):
        sub.add_argument(
            "--stack",
            default="dev",
            metavar="[ORG/[PROJECT/]]NAME",
            help="the stack, named as Pulumi names it; its config is Pulumi.<NAME>.yaml (default: dev)",
        )
        sub.add_argument("--json", action="store_true", help="print one JSON document (errors too, on standard output)")
        sub.add_argument(
            "--strict",
            action="store_true",
            help="exit 1 on any warning of the stack's evaluation (notes, such as offline or not guarded, do not "
            "count)",
        )
        sub.add_argument(
            "--cwd", type=Path, default=Path.cwd(), help="project folder, or a folder below it (default: here)"
        )
    explain_parser.add_argument("--token", metavar="FILE", help="file holding the token, or - for standard input")
    explain_parser.add_argument("--aud", help="evaluate this audience instead of a token (with --sub)")
    explain_parser.add_argument("--sub", help="evaluate this subject instead of a token (with --aud)")
    explain_parser.add_argument("--iss", help="with --aud/--sub: the issuer (default: the configured one)")
    explain_parser.add_argument(
        "--role",
        metavar="KEY",
        help="evaluate only this role (default: the role the token's stack or environment uses, else every role)",
    )
    explain_parser.add_argument(
        "--verbose", action="store_true", help="with several roles: every role's statements, hints and nearest subject"
    )
    settings_parser = commands.add_parser("settings", help="a stack's deployment settings in Pulumi Cloud")
    settings_commands = settings_parser.add_subparsers(dest="settings_command", required=True)
    pull_parser = settings_commands.add_parser(
        "pull",
        help="print the deployments[] entry that keeps a stack's current settings",
        description=(
            "Read GET /api/stacks/ORG/PROJECT/STACK/deployments/settings with the token the pulumiservice provider "
            "would use (PULUMI_ACCESS_TOKEN, else the token the Pulumi CLI stored for that API; PULUMI_BACKEND_URL "
            "for another API) and print the deployments[] entry that keeps those settings. Exit 0 printed, 1 Pulumi "
            "Cloud failed, does not hold the stack, or no token was found, 2 bad usage."
        ),
    )
    pull_parser.add_argument("stack", metavar="ORG/PROJECT/STACK", help="the stack whose settings to keep")
    pull_parser.add_argument(
        "--at",
        default="deployments[0]",
        metavar="KEY_PATH",
        help="where the entry goes in the config, for the commands that set its secrets (default: deployments[0]; "
        "e.g. roles.deploy.deployments[3])",
    )
    pull_parser.add_argument(
        "--timeout",
        type=_timeout_option,
        metavar="SECONDS",
        help=f"the deadline of each request to Pulumi Cloud, retries and the whole answer included (default: "
        f"${cloud.TIMEOUT_VARIABLE}, else {cloud.DEFAULT_TIMEOUT_SECONDS:g})",
    )
    return root


def _timeout_option(text: str) -> cloud.Timeout:
    try:
        return cloud.parse_timeout(text, "--timeout")
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error).removeprefix("--timeout is ")) from None


def main(argv: Sequence[str] | None = None, stdin: TextIO | None = None) -> int:
    args = parser().parse_args(argv)
    # A failed Output makes asyncio log the same error again as "exception was never retrieved".
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    if args.command == "plan":
        return plan(args.stack, args.json, args.cwd, strict=args.strict)
    if args.command == "settings":
        return settings_pull(args.stack, args.at, args.timeout)
    return explain_command(args, stdin or sys.stdin)


_ENTRY_PATH = re.compile(r"^(?:roles\.[a-z0-9][a-z0-9-]*\.)?deployments\[\d+\]$")


def settings_pull(stack: str, at: str, timeout: cloud.Timeout | None = None) -> int:
    """``settings pull``: print the entry that keeps ``stack``'s settings (``org/project/stack``).

    ``timeout`` bounds each request (default: ``PULUMI_AWS_OIDC_TIMEOUT``, else 30 s).
    """
    try:
        name = StackName.parse(stack)
    except UsageError:
        name = StackName(stack)
    if name.organization is None or name.project is None:
        print(f"error: got {stack!r}; expected ORG/PROJECT/STACK, e.g. acme/infra/prod", file=sys.stderr)
        return EXIT_USAGE
    if not _ENTRY_PATH.fullmatch(at):
        print(
            f"error: --at got {at!r}; expected deployments[N] or roles.<key>.deployments[N]",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        timeout = timeout or cloud.configured_timeout(os.environ)
    except cloud.CloudError as error:
        print(f"error: {error.detail}", file=sys.stderr)
        return EXIT_USAGE
    credentials = cloud.find_credentials(None, os.environ)
    if isinstance(credentials, cloud.NoToken):
        print(
            f"error: no Pulumi Cloud token: {credentials.reason}; {credentials.fix} "
            "(and PULUMI_BACKEND_URL for a self-hosted Pulumi Cloud)",
            file=sys.stderr,
        )
        return EXIT_INVALID
    org, project = name.organization, name.project
    try:
        with cloud.PulumiCloud(credentials, timeout=timeout) as client:
            body = client.deployment_settings(org, project, name.name)
    except cloud.CloudError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INVALID
    if body is None:
        print(f"# {stack} has no deployment settings: an entry of project and stack keeps nothing more")
        print(guard.dump([{"project": project, "stack": name.name}]), end="")
        return EXIT_OK
    print(guard.pulled_entry(project, name.name, guard.current_settings(body), at), end="")
    return EXIT_OK
