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

from oidc import audiences, cloud, component, explain, guard, offline, stack_files
from oidc.settings import ConfigError, hidden_settings, load_settings

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_DENY = 1
EXIT_USAGE = 2

TOKEN_VARIABLE = "PULUMI_OIDC_TOKEN"

DEPLOY_TIME = "(computed at deploy time)"
OFFLINE_NOTE = (
    "No credentials, no network: AWS look-ups are answered offline with partition aws; each account "
    "answers with its id (given, or its assumeRole's or reused provider's account), else a placeholder "
    f"({offline.PLACEHOLDER_ACCOUNT} for the stack's default AWS provider); names AWS would generate (a "
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
    "reused, addAudiences: each client ID below that the provider lacks at deploy time is added by this stack; "
    "one it has already is left as it is. pulumi destroy removes only those this stack added"
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
        "project": config.project,
        "stack": config.stack,
        "note": OFFLINE_NOTE + (THUMBPRINT_NOTE if unknown_thumbprints else ""),
        "config": {
            key: offline.SECRET
            if value == offline.SECRET_PLACEHOLDER and key in secret
            else _sorted_keys(hidden_settings(key.partition(":")[2], value) if key in secret else value)
            for key, value in sorted(config.values.items())
        },
        "resources": [
            {"type": r.type, "name": r.name, "parent": _parent_label(r), "protected": r.protect} for r in resources
        ],
        "accounts": accounts,
        "outputs": offline.plain(recording.outputs),
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
    lines = [f"Offline plan of stack {report['stack']} (project {report['project']})", report["note"], ""]
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
    """The stack cannot be evaluated: its files are missing or its config is invalid."""


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


def _default_account(config: offline.StackConfig) -> dict[str, Any]:
    """Mock options that make the default AWS provider answer as the config says its account is.

    Only for a program built from the stack's config; for any other the placeholder stays.
    """
    try:
        settings = load_settings(config.project_values)
    except ConfigError:
        return {}
    for account in settings.accounts:
        if account.uses_default_provider:
            reused = account.oidc_provider.arn
            account_id = account.id or (reused.split(":")[4] if reused else None)
            return {"account_id": account_id} if account_id else {}
    return {}


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
        problems = [f"  - {key}: a secure value; it cannot be decrypted offline" for key in config.undecryptable]
        if problems:
            raise StackError(f"Pulumi.{stack}.yaml: invalid config:\n" + "\n".join(problems))
        with cloud.offline():
            recording = offline.run_stack(config, preview=True, **_default_account(config))
    except stack_files.StackFileError as error:
        raise StackError(f"error: {error}") from None
    except (ConfigError, pulumi.RunError) as error:
        raise StackError(f"Pulumi.{stack}.yaml: {error}") from None
    roles = tuple(role_views(recording))
    if not roles:
        raise StackError(
            f"error: {config.directory} declares no {component.ROLE_TYPE}: plan and explain evaluate programs "
            f"that declare {component.TYPE} components, as this project's __main__.py does"
        )
    return Evaluated(config, recording, roles)


def plan(stack: str, as_json: bool, directory: Path) -> int:
    try:
        evaluated = evaluate_stack(stack, directory)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except StackError as error:
        print(error, file=sys.stderr)
        return EXIT_INVALID
    report = plan_report(evaluated)
    print(json.dumps(report, indent=2) if as_json else render_text(report), end="" if not as_json else "\n")
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


def explain_report(
    roles: Sequence[RoleView],
    token_claims: dict[str, Any],
    source: str,
    *,
    stack: str,
    decoded: bool,
    composed_program: bool = False,
) -> dict[str, Any]:
    """Everything ``explain`` shows, as one JSON-ready document: the answer of each role.

    ``composed_program``: the program declares several PulumiCloudOidc components, so each role is
    named with its component's name too.
    """
    exp = token_claims.get("exp")
    answers = []
    for view in roles:
        result = explain.explain(
            view.organization, view.issuer, json.loads(view.trust_policy), token_claims, view.entries
        )
        matched = result.decision.matched
        answers.append(
            {
                "role": view.key,
                "account": view.account,
                "component": view.owner,
                "label": view.label(composed_program),
                "name": view.role.outputs.get("name"),
                "decision": "ALLOW" if result.allowed else "DENY",
                "matchedStatement": matched.sid if matched else None,
                "statements": [
                    {"sid": s.sid, "allowed": s.allowed, "failures": explain.failure_text(s, token_claims)}
                    for s in result.decision.statements
                ],
                "nearestSubject": result.nearest_subject,
                "hints": list(result.hints),
            }
        )
    admitted = [
        {"role": a["role"], "account": a["account"], "component": a["component"]}
        for a in answers
        if a["decision"] == "ALLOW"
    ]
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
        "decision": "ALLOW" if admitted else "DENY",
        "admittedBy": admitted,
        "roles": answers,
    }


def render_explanation(report: dict[str, Any]) -> str:
    """The ``explain`` report as text."""
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
    admitted = bool(report["admittedBy"])
    for answer in report["roles"]:
        policy = f"the trust policy of role {answer['label']} of stack {report['stack']}"
        if answer["decision"] == "ALLOW":
            lines.append(f"ALLOW: statement {answer['matchedStatement']} of {policy} admits this token.")
            continue
        if admitted:
            continue  # another role admits it: why this one does not is no problem to solve (--json has it)
        lines.append(f"DENY: no statement of {policy} admits this token.")
        for statement in answer["statements"]:
            lines.append(f"  {statement['sid']}")
            lines += [f"    - {failure}" for failure in statement["failures"]]
        if answer["nearestSubject"]:
            lines += [f"  Nearest trusted subject: {answer['nearestSubject']}"]
        if answer["hints"]:
            lines += ["  Hints", *(f"    - {hint}" for hint in answer["hints"])]
        lines.append("")
    if len(report["roles"]) > 1:
        labels = {(a["component"], a["role"]): a["label"] for a in report["roles"]}
        names = ", ".join(labels[a["component"], a["role"]] for a in report["admittedBy"])
        others = [a for a in report["roles"] if a["decision"] != "ALLOW"]
        lines.append(f"Admitted by: {names or 'no role'}")
        if admitted and others:
            lines.append("Not admitted by: " + ", ".join(a["label"] for a in others))
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
        print(f"error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    try:
        evaluated = evaluate_stack(args.stack, args.cwd)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except StackError as error:
        print(error, file=sys.stderr)
        return EXIT_USAGE
    roles = evaluated.roles
    if args.role is not None:
        roles = tuple(view for view in roles if args.role in {view.key, f"{view.owner}/{view.key}"})
        known = sorted(
            {f"{view.owner}/{view.key}" if composed(evaluated.roles) else view.key for view in evaluated.roles}
        )
        if len(roles) != 1:
            why = "no such role" if not roles else "a role of several components: name it COMPONENT/KEY"
            print(f"error: --role {args.role}: {why}; the stack's roles are {', '.join(known)}", file=sys.stderr)
            return EXIT_USAGE
    if args.aud is not None:
        issuer = args.iss or roles[0].issuer
        token_claims: dict[str, Any] = {"iss": issuer, "aud": args.aud, "sub": args.sub}
        source = "--aud and --sub" + ("" if args.iss else ", iss taken as the configured issuer")
    else:
        try:
            token, source = read_token(args.token, stdin)
            token_claims = decode_token(token)
        except InputError as error:
            print(f"error: {error}", file=sys.stderr)
            return EXIT_USAGE
    stack = evaluated.config.stack
    report = explain_report(
        roles, token_claims, source, stack=stack, decoded=args.aud is None, composed_program=composed(evaluated.roles)
    )
    print(json.dumps(report, indent=2) if args.json else render_explanation(report), end="" if not args.json else "\n")
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
        sub.add_argument("--json", action="store_true", help="print one JSON document")
        sub.add_argument(
            "--cwd", type=Path, default=Path.cwd(), help="project folder, or a folder below it (default: here)"
        )
    explain_parser.add_argument("--token", metavar="FILE", help="file holding the token, or - for standard input")
    explain_parser.add_argument("--aud", help="evaluate this audience instead of a token (with --sub)")
    explain_parser.add_argument("--sub", help="evaluate this subject instead of a token (with --aud)")
    explain_parser.add_argument("--iss", help="with --aud/--sub: the issuer (default: the configured one)")
    explain_parser.add_argument("--role", metavar="KEY", help="evaluate only this role (default: every role)")
    settings_parser = commands.add_parser("settings", help="a stack's deployment settings in Pulumi Cloud")
    settings_commands = settings_parser.add_subparsers(dest="settings_command", required=True)
    pull_parser = settings_commands.add_parser(
        "pull",
        help="print the deployments[] entry that keeps a stack's current settings",
        description=(
            "Read GET /api/stacks/ORG/PROJECT/STACK/deployments/settings with the token the pulumiservice provider "
            "would use (PULUMI_ACCESS_TOKEN, else the Pulumi CLI's login; PULUMI_BACKEND_URL for another API) and "
            "print the deployments[] entry that keeps those settings. Exit 0 printed, 1 Pulumi Cloud failed or "
            "found no token, 2 bad usage."
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
    return root


def main(argv: Sequence[str] | None = None, stdin: TextIO | None = None) -> int:
    args = parser().parse_args(argv)
    # A failed Output makes asyncio log the same error again as "exception was never retrieved".
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    if args.command == "plan":
        return plan(args.stack, args.json, args.cwd)
    if args.command == "settings":
        return settings_pull(args.stack, args.at)
    return explain_command(args, stdin or sys.stdin)


_ENTRY_PATH = re.compile(r"^(?:roles\.[a-z0-9][a-z0-9-]*\.)?deployments\[\d+\]$")


def settings_pull(stack: str, at: str) -> int:
    """``settings pull``: print the entry that keeps ``stack``'s settings (``org/project/stack``)."""
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
    credentials = cloud.find_credentials({}, os.environ)
    if credentials is None:
        print(
            "error: no Pulumi Cloud token: run pulumi login, or set PULUMI_ACCESS_TOKEN "
            "(and PULUMI_BACKEND_URL for a self-hosted Pulumi Cloud)",
            file=sys.stderr,
        )
        return EXIT_INVALID
    org, project = name.organization, name.project
    try:
        with cloud.PulumiCloud(credentials) as client:
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
