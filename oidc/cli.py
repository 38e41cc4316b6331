"""Command line: ``python -m oidc plan`` evaluates the program offline.

``plan`` runs the real ``__main__.py`` under mocks with the config of ``Pulumi.<stack>.yaml``
and prints what ``pulumi up`` would declare: the resources, the trust policy and its size
against the quota, the ESC definitions and the deployment settings' OIDC blocks.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pulumi
from pulumi.output import Unknown

from oidc import offline
from oidc.settings import ConfigError, load_settings

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2

DEPLOY_TIME = "(computed at deploy time)"
OPERATIONS_NOTE = (
    "No credentials, no network: AWS look-ups are answered offline with partition {partition} "
    "and the placeholder account {account}; the OIDC provider's thumbprint is taken from the "
    "issuer's certificate chain at deploy time."
)


def _plain(value: Any) -> Any:
    """Recorded inputs as JSON-ready data: assets as their text, unknowns as ``None``."""
    if isinstance(value, Unknown):
        return None
    if isinstance(value, pulumi.StringAsset):
        return value.text
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


AWS_OIDC_FIELDS = ("roleARN", "sessionName", "duration", "policyARNs")
"""``operationContext.oidc.aws`` as the service names its fields."""


def _ordered(fields: dict[str, Any], order: Sequence[str]) -> dict[str, Any]:
    return {key: fields.get(key) for key in order}


def _resource_order(resource: offline.RecordedResource) -> tuple[bool, str, str]:
    """Components first, then by type and name: the same order on every run."""
    return (resource.parent is not None, resource.type, resource.name)


def plan_report(config: offline.StackConfig, recording: offline.Recording) -> dict[str, Any]:
    """Everything ``plan`` shows, as one JSON-ready document."""
    settings = load_settings(config.project_values)
    resources = sorted(recording.resources, key=_resource_order)
    role = next(r for r in resources if r.type == "aws:iam/role:Role")
    policy_json = str(role.inputs["assumeRolePolicy"])
    providers = recording.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    if providers:
        provider_inputs = providers[0].inputs
        thumbprints = provider_inputs.get("thumbprintLists")
        provider: dict[str, Any] = {
            "created": True,
            "name": providers[0].name,
            "protected": providers[0].protect,
            "url": provider_inputs["url"],
            "clientIds": _plain(provider_inputs["clientIdLists"]),
            "thumbprints": DEPLOY_TIME if isinstance(thumbprints, Unknown) else _plain(thumbprints) or [],
        }
    else:
        provider = {
            "created": False,
            "arn": settings.oidc_provider.arn,
            "clientIds": recording.outputs.get("audiences"),
            "note": "reused: its client IDs are checked against these at deploy time",
        }
    deployment_settings = [
        {
            "stack": f"{r.inputs['organization']}/{r.inputs['project']}/{r.inputs['stack']}",
            "oidc": _ordered(_plain(r.inputs["operationContext"]["oidc"]["aws"]), AWS_OIDC_FIELDS),
            "source": _plain(r.inputs.get("sourceContext", {}).get("git")),
        }
        for r in recording.of_type("pulumiservice:index:DeploymentSettings")
    ]
    environments = [
        {
            "environment": f"{r.inputs['organization']}/{r.inputs['project']}/{r.inputs['name']}",
            "yaml": _plain(r.inputs["yaml"]),
        }
        for r in recording.of_type("pulumiservice:index:Environment")
    ]
    secret = set(config.secret_keys)
    return {
        "project": config.project,
        "stack": config.stack,
        "note": OPERATIONS_NOTE.format(partition="aws", account=offline.PLACEHOLDER_ACCOUNT),
        "config": {key: offline.SECRET if key in secret else value for key, value in sorted(config.values.items())},
        "resources": [{"type": r.type, "name": r.name, "parent": r.parent, "protected": r.protect} for r in resources],
        "oidcProvider": provider,
        "trustPolicy": {
            "chars": len(policy_json),
            "maxChars": settings.trust_policy_max_chars,
            "document": json.loads(policy_json),
        },
        "deploymentSettings": deployment_settings,
        "environments": environments,
        "outputs": _plain(recording.outputs),
        "warnings": recording.warnings,
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
    return json.dumps(value, separators=(", ", ": "))


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

    provider = report["oidcProvider"]
    if provider["created"]:
        lines.append(f"OIDC provider ({provider['name']}{', protected' if provider['protected'] else ''})")
        lines += _pairs(
            [
                ("url", provider["url"]),
                ("client IDs", _show(provider["clientIds"])),
                ("thumbprints", _show(provider["thumbprints"])),
            ]
        )
    else:
        lines.append("OIDC provider (reused, not managed by this stack)")
        lines += _pairs(
            [("arn", provider["arn"]), ("client IDs", _show(provider["clientIds"])), ("", provider["note"])]
        )
    lines.append("")

    trust = report["trustPolicy"]
    lines.append(f"Trust policy: {trust['chars']} of {trust['maxChars']} characters (trustPolicyMaxChars)")
    lines += [_indent(json.dumps(trust["document"], indent=2), "  "), ""]

    lines.append("Deployment settings (operationContext.oidc.aws)")
    for item in report["deploymentSettings"] or [{"stack": "(none)"}]:
        lines.append(f"  {item['stack']}")
        if "oidc" in item:
            source = item["source"]
            where = "(none: a source set elsewhere is removed)"
            if source:
                where = f"{source['repoUrl']} branch {source['branch']}"
                where += f" folder {source['repoDir']}" if source.get("repoDir") else ""
            rows = [(key, _show(value)) for key, value in item["oidc"].items()] + [("source", where)]
            lines += _pairs(rows, "    ")
    lines.append("")

    lines.append("ESC environments")
    for environment in report["environments"] or [{"environment": "(none)", "yaml": ""}]:
        lines += [f"  {environment['environment']}", _indent(environment["yaml"].rstrip())]
    lines.append("")

    outputs = dict(report["outputs"])
    if isinstance(outputs.get("trustPolicy"), str):
        outputs["trustPolicy"] = (
            f"(the trust policy above, as {len(outputs['trustPolicy'])} characters of compact JSON)"
        )
    lines += ["Outputs", *_pairs([(key, _show(value)) for key, value in outputs.items()])]
    if report["warnings"]:
        lines += ["", "Warnings", *(f"  - {warning}" for warning in report["warnings"])]
    return "\n".join(line.rstrip() for line in lines) + "\n"


def plan(stack: str, as_json: bool, directory: Path) -> int:
    try:
        config = offline.read_stack_config(offline.find_project(directory), stack)
        problems = [f"  - {key}: a secure value; plan cannot decrypt it offline" for key in config.project_secrets]
        if problems:
            print(f"Pulumi.{stack}.yaml: invalid config:\n" + "\n".join(problems), file=sys.stderr)
            return EXIT_INVALID
        recording = offline.run_stack(config, preview=True)
    except offline.StackFileError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INVALID
    except (ConfigError, pulumi.RunError) as error:
        print(f"Pulumi.{stack}.yaml: {error}", file=sys.stderr)
        return EXIT_INVALID
    report = plan_report(config, recording)
    print(json.dumps(report, indent=2) if as_json else render_text(report), end="" if not as_json else "\n")
    return EXIT_OK


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m oidc", description=__doc__.splitlines()[0] if __doc__ else None)
    commands = root.add_subparsers(dest="command", required=True)
    plan_parser = commands.add_parser(
        "plan", help="evaluate the program offline against Pulumi.yaml and Pulumi.<stack>.yaml"
    )
    plan_parser.add_argument("--stack", default="dev", help="stack whose Pulumi.<stack>.yaml to read (default: dev)")
    plan_parser.add_argument("--json", action="store_true", help="print one JSON document")
    plan_parser.add_argument(
        "--cwd", type=Path, default=Path.cwd(), help="project folder, or a folder below it (default: here)"
    )
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    # A failed Output makes asyncio log the same error again as "exception was never retrieved".
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    if args.command == "plan":
        return plan(args.stack, args.json, args.cwd)
    return EXIT_USAGE
