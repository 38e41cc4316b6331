"""``python -m oidc doctor``: the live state of AWS and Pulumi Cloud against what the stack's config renders.

Read-only. It loads the stack's config as ``plan`` does, finds each role's name (``role.name``, else the name
``pulumi up`` generated, from the admin stack's last update in Pulumi Cloud), runs the AWS checks of
:mod:`oidc.aws.doctor` for every account and the Pulumi Cloud checks of :mod:`oidc.cloud.live`, and prints
each finding with what to do. Exit 0 when every check holds, 1 with findings (a service that cannot be read
is one), 2 bad usage or a config it cannot check.
"""

from __future__ import annotations

import functools
import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from oidc import cloud
from oidc.aws import doctor as aws_doctor
from oidc.cli import offline, stack_files
from oidc.cli.evaluate import EXIT_OK, EXIT_USAGE, StackName, UsageError, failed, offline_settings
from oidc.cloud import guard, live
from oidc.components.organization import component_name
from oidc.model import ConfigError, ConfigIssue, Finding, Settings
from oidc.settings import load_settings, parse_config

EXIT_FINDINGS = 1
PROGRAM_NAME = "pulumi-cloud"
"""The name ``__main__.py`` gives its ``PulumiCloudOidc``: the role of key K is ``<component_name(K)>-role``."""
FIX_ACCESS = "fix the access, then run doctor again"


@dataclass
class Report:
    """What the doctor checked and found."""

    stack: str
    checked: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    def document(self, seconds: float) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "checked": self.checked,
            "findings": [
                {"kind": f.kind, "subject": f.subject, "message": f.message, "fix": f.fix, "details": dict(f.details)}
                for f in self.findings
            ],
            "seconds": round(seconds, 2),
        }

    def text(self, seconds: float) -> str:
        lines = [f"Doctor of stack {self.stack}: the live state against the config", "", "Checked"]
        lines += [f"  - {item}" for item in self.checked] or ["  (nothing could be checked)"]
        lines.append("")
        if not self.findings:
            lines.append(f"No findings: AWS and Pulumi Cloud hold what the config renders ({seconds:.1f} s).")
        else:
            count = len(self.findings)
            lines.append(f"{count} finding{'s' if count != 1 else ''} ({seconds:.1f} s)")
            for finding in self.findings:
                lines += [f"  - [{finding.kind}] {finding.subject}: {finding.message}", f"    fix: {finding.fix}"]
        return "\n".join(lines) + "\n"


def doctor(stack: str, as_json: bool, directory: Path, timeout: cloud.Timeout | None = None) -> int:
    """``doctor``: exit 0 no findings, 1 findings, 2 bad usage or a config it cannot check."""
    started = time.monotonic()
    try:
        timeout = timeout or cloud.configured_timeout(os.environ)
        name, project, config, settings = _load(stack, directory)
    except UsageError as error:
        return failed(f"error: {error}", [ConfigIssue("--stack", str(error))], as_json, EXIT_USAGE)
    except cloud.CloudError as error:
        return failed(f"error: {error.detail}", [ConfigIssue("timeout", error.detail)], as_json, EXIT_USAGE)
    except stack_files.StackFileError as error:
        return failed(f"error: {error}", [ConfigIssue("files", str(error))], as_json, EXIT_USAGE)
    except ConfigError as error:
        return failed(f"Pulumi.{name_of(stack)}.yaml: {error}", error.issues, as_json, EXIT_USAGE)
    admin = guard.AdminStack(name.organization or settings.organization, project, name.name)
    report = Report(f"{admin.organization}/{admin.project}/{admin.stack}")
    pulumiservice = {key: str(value) for key, value in config.values.items() if key.startswith("pulumiservice:")}
    credentials = cloud.find_credentials(pulumiservice, os.environ)
    client = None
    if isinstance(credentials, cloud.NoToken):
        report.findings.append(
            Finding("cloud-error", "Pulumi Cloud", f"no token: {credentials.reason}", credentials.fix)
        )
    else:
        try:
            client = cloud.PulumiCloud(credentials, timeout=timeout)
        except cloud.CloudError as error:
            report.findings.append(Finding("cloud-error", "Pulumi Cloud", error.detail, FIX_ACCESS))
    try:
        region = config.values.get("aws:region")
        _run(report, settings, admin, stack=stack, region=region, seconds=timeout.seconds, client=client)
    finally:
        if client is not None:
            client.__exit__()
    seconds = time.monotonic() - started
    if as_json:
        print(json.dumps(report.document(seconds), indent=2))
    else:
        print(report.text(seconds), end="")
    return EXIT_FINDINGS if report.findings else EXIT_OK


def name_of(stack: str) -> str:
    return stack.rpartition("/")[2]


def _load(stack: str, directory: Path) -> tuple[StackName, str, offline.StackConfig, Settings]:
    """The stack's name, project, config and settings; the errors ``doctor`` turns into exit 2."""
    name = StackName.parse(stack)
    project_dir = offline.find_project(directory)
    project = offline.project_name(project_dir)
    if name.project is not None:
        name.check_project(stack, project, project_dir)
    config = offline.read_stack_config(project_dir, name.name)
    undecryptable = [
        ConfigIssue(key.partition(":")[2], "a secure value: doctor reads the config offline and cannot decrypt it")
        for key in config.undecryptable
    ]
    if undecryptable:
        raise ConfigError(undecryptable)
    settings = offline_settings(config)
    if settings is None:  # its config's own errors, which plan leaves to the program to report: said here
        secret_keys = [key.partition(":")[2] for key in config.secret_keys]
        settings = load_settings(parse_config(config.project_values), secret_keys=secret_keys)
    return name, project, config, settings


def _run(
    report: Report,
    settings: Settings,
    admin: guard.AdminStack,
    *,
    stack: str,
    region: Any,
    seconds: float,
    client: cloud.PulumiCloud | None,
) -> None:
    names = _role_names(report, settings, admin, client)
    chain = functools.cache(lambda: aws_doctor.issuer_thumbprint(settings.issuer, seconds))

    def thumbprint_now() -> str:
        return str(chain())

    role_arns: dict[str, str] = {}
    for account in settings.accounts:
        targets = [
            aws_doctor.RoleTarget(role, names[role.key]) for role in settings.roles_of(account.key) if role.key in names
        ]
        checked = aws_doctor.check_account(
            settings,
            account,
            targets,
            region=str(region) if isinstance(region, str) else None,
            seconds=seconds,
            issuer_thumbprint_of=thumbprint_now,
        )
        report.checked += checked.checked
        report.findings += checked.findings
        role_arns.update(checked.role_arns)
    if client is None:
        return
    org = settings.organization
    stacks = [
        live.ManagedStack(entry, role_arns[role.key])
        for role in settings.roles
        if role.key in role_arns
        for entry in role.managed_stacks
    ]
    environments = [
        live.CreatedEnvironment(entry, role_arns[role.key])
        for role in settings.roles
        if role.key in role_arns
        for entry in role.defined_environments
    ]
    try:
        report.findings += live.check_stacks(client, org, stacks)
        report.checked += [f"deployment settings of {org}/{s.entry.identity}" for s in stacks]
        report.findings += live.check_environments(client, org, environments, stack=stack)
        report.checked += [
            f"environment {org}/{e.entry.identity}: definition, open" + (", team permissions" if e.entry.teams else "")
            for e in environments
        ]
    except cloud.CloudError as error:
        report.findings.append(Finding("cloud-error", "Pulumi Cloud", live.redact(error.detail), FIX_ACCESS))


def _role_names(
    report: Report, settings: Settings, admin: guard.AdminStack, client: cloud.PulumiCloud | None
) -> dict[str, str]:
    """Each role's name in AWS: ``role.name``, else the one in the admin stack's last update."""
    names = {role.key: role.name for role in settings.roles if role.name is not None}
    generated = [role for role in settings.roles if role.name is None]
    if not generated:
        return names
    where = f"the admin stack {admin.organization}/{admin.project}/{admin.stack}"
    deployed: Mapping[str, Mapping[str, Any]] | None = None
    if client is not None:
        try:
            deployed = live.deployed_roles(client, admin)
        except cloud.CloudError as error:
            report.findings.append(Finding("cloud-error", "Pulumi Cloud", error.detail, FIX_ACCESS))
            return names
    for role in generated:
        logical = f"{component_name(PROGRAM_NAME, role.key)}-role"
        outputs = (deployed or {}).get(logical)
        if outputs and isinstance(outputs.get("name"), str):
            names[role.key] = str(outputs["name"])
            continue
        why = (
            "no Pulumi Cloud token to read it with"
            if client is None
            else "its last update cannot be read (no update yet, or a stack this token does not see)"
            if deployed is None
            else f"its last update holds no role {logical}"
        )
        report.findings.append(
            Finding(
                "role-missing",
                f"role {role.key}",
                f"its name is generated by pulumi up and kept in {where}, but {why}",
                f"run pulumi up on {where}, or set {role.config_path}.name to the role's name",
            )
        )
    return names
