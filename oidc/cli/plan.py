"""``python -m oidc plan``: what ``pulumi up`` would declare, evaluated offline.

It runs the real ``__main__.py`` under mocks with the config of ``Pulumi.<stack>.yaml`` and prints the resources,
each account's provider and each role's trust policy and its size against the quota, the ESC definitions and the
deployment settings, then the notes and warnings.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from oidc import claims, testing, trust
from oidc import explain as explain_pure
from oidc.aws import client_ids
from oidc.cli import explain as explain_cli
from oidc.cli import offline
from oidc.cli.evaluate import (
    EXIT_INVALID,
    EXIT_OK,
    EXIT_USAGE,
    Evaluated,
    RoleView,
    StackError,
    UsageError,
    evaluate_stack,
    failed,
    pairs,
    role_views,
    show,
)
from oidc.cloud import guard
from oidc.components import provider
from oidc.model import ConfigIssue
from oidc.settings import hidden_settings

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


def _declared_provider(component: offline.RecordedResource) -> provider.OidcProvider:
    """The provider component the program constructed: what it was given is read from it, not from its inputs."""
    assert isinstance(component.declared, provider.OidcProvider)
    return component.declared


def _provider_report(provider_component: offline.RecordedResource, recording: offline.Recording) -> dict[str, Any]:
    arn = _declared_provider(provider_component).planned_arn
    created = [r for r in recording.children(provider_component) if r.type == PROVIDER]
    if not created:
        added = sorted(
            (r for r in recording.children(provider_component) if r.type == client_ids.TYPE),
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
    unknown = _declared_provider(provider_component).thumbprints == "auto" and not thumbprints
    return {
        "created": True,
        "name": resource.name,
        "arn": arn,
        "protected": resource.protect,
        "url": resource.inputs["url"],
        "clientIds": offline.plain(resource.inputs["clientIdLists"]),
        "thumbprints": DEPLOY_TIME if unknown else thumbprints or [],
    }


RUNNERS_NOTE = (
    "whoever may start a deployment of one of these stacks gets this role (from the console or the REST API with "
    "their own permissions, by a git push with the stack's)"
)


def access_report(view: RoleView) -> dict[str, Any]:
    """Who can get the role's credentials, as declared: the stacks whose deployments run with it (its trust policy's
    subjects, and the stacks whose settings it manages), the environments that open it, and each created
    environment's teams, deletion protection and approvals."""
    held_stacks, held_environments = explain_cli.held(view)
    operations: dict[str, set[str]] = {stack: set() for stack in held_stacks}
    environments: set[str] = set(held_environments)
    for subject in explain_pure.trusted_subjects(json.loads(view.trust_policy)):
        if subject.project is None or subject.name is None:
            continue
        identity = f"{subject.org}/{subject.project}/{subject.name}"
        if subject.kind == "deployments":
            operations.setdefault(identity, set()).add(subject.operation or "*")
        else:
            environments.add(identity)
    patterns = [(pattern, ops) for pattern, ops in operations.items() if claims.is_pattern(pattern)]
    for stack, ops in operations.items():
        if not ops:  # a managed stack whose subjects a pattern of the role admits: the pattern's operations
            ops.update(
                op
                for pattern, pattern_ops in patterns
                if pattern != stack and trust.string_like(pattern, stack)
                for op in pattern_ops
            )
    stacks = [
        {
            "stack": stack,
            "operations": "all" if not ops or "*" in ops else sorted(ops, key=claims.OPERATIONS.index),
            "settingsManagedHere": stack in held_stacks,
        }
        for stack, ops in sorted(operations.items())
    ]
    return {
        "deploymentStacks": stacks,
        "deploymentsNote": RUNNERS_NOTE if stacks else None,
        "environments": [
            {"environment": environment, "createdHere": environment in held_environments}
            for environment in sorted(environments)
        ],
        "createdEnvironments": explain_cli.environment_access(view),
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
        "access": access_report(view),
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
    declared = [r for r in recording.of_type(provider.PROVIDER_TYPE) if isinstance(r.declared, provider.OidcProvider)]
    for provider_component in sorted(declared, key=lambda r: (_declared_provider(r).account, r.name)):
        key = _declared_provider(provider_component).account
        owner = provider_component.parent_urn
        accounts.append(
            {
                "key": key,
                "component": (owner or "").rpartition("::")[2],
                "accountId": _declared_provider(provider_component).planned_arn.split(":")[4],
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
    lines += ["Config", *pairs([(key, show(value)) for key, value in report["config"].items()]), ""]

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
    lines += ["Outputs", *pairs([(key, show(value)) for key, value in outputs.items()])]
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
        lines += pairs(
            [
                ("arn", provider["arn"]),
                ("url", provider["url"]),
                ("client IDs", show(provider["clientIds"])),
                ("thumbprints", show(provider["thumbprints"])),
            ],
            "    ",
        )
    else:
        lines.append("  OIDC provider (reused, not managed by this stack)")
        lines += pairs([("arn", provider["arn"]), ("", provider["note"])], "    ")
        for item in provider.get("addsClientIds", []):
            lines.append(f"    adds client ID {item['clientId']} ({item['name']})")
    lines.append("")
    for role in account["roles"]:
        lines += _role_text(role)
    return lines


def _role_text(role: dict[str, Any]) -> list[str]:
    trust = role["trustPolicy"]
    lines = [f"  Role {role['key']}: {role['name']} ({role['logicalName']})"]
    lines += pairs([("arn", show(role["arn"])), ("policies", show(role["policyArns"]))], "    ")
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
            rows = [(key, show(value)) for key, value in item["oidc"].items()] + [("source", where)]
            rows += [(key, show(value)) for key, value in item["settings"].items()]
            lines += pairs(rows, "        ")
    lines.append("    ESC environments")
    for environment in role["environments"] or [{"environment": "(none)", "yaml": ""}]:
        lines += [f"      {environment['environment']}", _indent(environment["yaml"].rstrip(), "        ")]
    lines += _access_text(role["access"])
    lines.append("")
    return lines


def _access_text(access: dict[str, Any]) -> list[str]:
    lines = ["    Access (who can get this role's credentials, as declared)"]
    lines.append("      Deployments that run with it")
    for item in access["deploymentStacks"] or [{"stack": "(none)"}]:
        if "operations" not in item:
            lines.append(f"        {item['stack']}")
            continue
        ops = item["operations"]
        managed = "settings managed here" if item["settingsManagedHere"] else "settings not managed here"
        lines.append(f"        {item['stack']}  ({'all operations' if ops == 'all' else ', '.join(ops)}; {managed})")
    if access["deploymentsNote"]:
        lines.append(f"        {access['deploymentsNote']}")
    lines.append("      Environments that open it")
    for item in access["environments"] or [{"environment": "(none)"}]:
        how = ""
        if "createdHere" in item:
            how = "  (created here)" if item["createdHere"] else "  (defined elsewhere)"
        lines.append(f"        {item['environment']}{how}")
    if access["createdEnvironments"]:
        lines.append("      Who may open the environments it creates")
    for item in access["createdEnvironments"]:
        teams = ", ".join(
            f"{team} {grant['permission']}"
            + (f" (opens for at most {grant['maxOpenDuration']})" if "maxOpenDuration" in grant else "")
            for team, grant in item["teams"].items()
        )
        protected = {True: "yes", False: "no", None: "(not declared)"}[item["deletionProtected"]]
        rows = [
            ("teams", teams or "(none)"),
            ("every other member", item["otherMembers"]),
            ("deletion protected", protected),
        ]
        rows += [(f"{action} approval", explain_cli.approval_text(rule)) for action, rule in item["approvals"].items()]
        lines.append(f"        {item['environment']}")
        lines += pairs(rows, "          ")
    return lines


def plan(stack: str, as_json: bool, directory: Path, *, strict: bool = False) -> int:
    """``plan``: exit 0 printed, 1 invalid (or, with ``strict``, any warning), 2 bad usage."""
    try:
        evaluated = evaluate_stack(stack, directory)
    except UsageError as error:
        return failed(f"error: {error}", [ConfigIssue("--stack", str(error))], as_json, EXIT_USAGE)
    except StackError as error:
        return failed(str(error), error.errors, as_json, EXIT_INVALID)
    report = plan_report(evaluated)
    print(json.dumps(report, indent=2) if as_json else render_text(report), end="" if not as_json else "\n")
    if strict and report["warnings"]:
        count = len(report["warnings"])
        print(f"--strict: {count} warning{'s' if count != 1 else ''}, so exit {EXIT_INVALID}", file=sys.stderr)
        return EXIT_INVALID
    return EXIT_OK
