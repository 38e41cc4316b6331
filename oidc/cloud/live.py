"""The Pulumi Cloud half of ``python -m oidc doctor``: what Pulumi Cloud holds now, compared with the config.

With the client of :mod:`oidc.cloud` (its deadlines, size caps and retries), and nothing but reads (opening an
environment creates a session of the ESC open endpoint, which writes nothing):

- each managed stack's deployment settings (``GET .../deployments/settings``) name the role's ARN, and the
  session name, duration and session policies of its entry (``operationContext.oidc.aws``, the spec's
  ``OperationContextAWSOIDCConfiguration``: ``roleArn``, ``sessionName``, ``duration``, ``policyArns``);
- each environment this stack creates has the definition :mod:`oidc.esc` renders
  (``GET /api/esc/environments/{org}/{project}/{name}``, YAML, compared as data);
- each environment opens (``POST .../open`` -> ``{id}``, then ``GET .../open/{id}``): ESC logs in to AWS with
  the role, the end-to-end check that the role admits the environment's token. A 400 with ``diagnostics``
  is a finding that shows them; the opened values are credentials and are never shown (only whether the
  three ``AWS_*`` variables came back), and every text of the open endpoint is passed through :func:`redact`;
- each environment that declares ``teams``: every declared team holds its permission (and
  ``maxOpenDuration``) on it, and no other team can open it (:class:`TeamPermissions`, reading the
  organization's teams once per run through :mod:`oidc.cloud.teams`). An environment that declares none
  reads no team: ``plan`` warns about it instead, and an edition without teams answers nothing to read.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from oidc import claims, durations, esc
from oidc.cloud import CloudError, PulumiCloud, excerpt
from oidc.cloud import teams as cloud_teams
from oidc.cloud.guard import AdminStack
from oidc.model import DeploymentStack, EscEnvironment, Finding

ROLE_TYPE = "aws:iam/role:Role"
CREDENTIAL_VARIABLES = tuple(esc.CREDENTIAL_VARIABLES)
"""The variables an opened environment must hold: its role's temporary credentials."""
_REFRESH = (
    "pulumi up --refresh writes back what the config declares (a plain pulumi up compares with the recorded "
    "inputs and does not see a change made in the console)"
)


@dataclass(frozen=True)
class ManagedStack:
    """A stack whose deployment settings this config manages, and the ARN of its role."""

    entry: DeploymentStack
    role_arn: str


@dataclass(frozen=True)
class CreatedEnvironment:
    """An environment this config creates, and the ARN of its role."""

    entry: EscEnvironment
    role_arn: str


EnvironmentCheck = Callable[[PulumiCloud, str, CreatedEnvironment], list[Finding]]
"""One more check of a created environment: ``(client, organization, environment)`` -> its findings."""


class TeamPermissions:
    """The check of a created environment's declared ``teams`` against the team permissions Pulumi Cloud holds.

    One per run: the organization's teams (``ListTeams``, then ``GetTeam`` for each) are read once, by the first
    environment that declares teams, whichever thread checks it. When they cannot be read (an edition without
    teams, a 5xx), each environment that declares teams gets one ``cloud-error`` finding saying so, and its other
    checks stand.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._teams: dict[str, list[cloud_teams.Team] | CloudError] = {}

    def _read(self, client: PulumiCloud, org: str) -> list[cloud_teams.Team] | CloudError:
        with self._lock:
            if org not in self._teams:
                try:
                    self._teams[org] = cloud_teams.read_teams(client, org)
                except CloudError as error:
                    self._teams[org] = error
            return self._teams[org]

    def __call__(self, client: PulumiCloud, org: str, environment: CreatedEnvironment) -> list[Finding]:
        entry = environment.entry
        if not entry.teams:
            return []
        subject = f"environment {org}/{entry.identity}"
        teams = self._read(client, org)
        if isinstance(teams, CloudError):
            return [
                Finding(
                    "cloud-error",
                    subject,
                    f"its team permissions were not compared: {redact(teams.detail)}",
                    "fix the access (teams need the Enterprise or Business Critical edition), then run doctor again",
                )
            ]
        live = cloud_teams.environment_permissions(teams, entry.project, entry.name)
        key = f"{entry.path}.teams" if entry.path else "teams"
        findings: list[Finding] = []
        for team, declared in sorted(entry.teams.items()):
            grant = live.get(team)
            if grant is None or grant.permission != declared.permission:
                has = f"has {grant.permission} on it" if grant else "has no permission on it"
                if team not in {t.name for t in teams}:
                    has = f"does not exist in {org}"
                findings.append(
                    Finding(
                        "team-permission",
                        subject,
                        f"team {team} {has}; {key}.{team} declares {declared.permission}",
                        "pulumi up writes the declared permission (create the team first if it does not exist); "
                        f"or declare what the team should keep in {key}",
                        {"team": team, "live": grant.permission if grant else None, "declared": declared.permission},
                    )
                )
            elif declared.max_open_duration is not None and not _same_duration(
                grant.max_open_duration, declared.max_open_duration
            ):
                findings.append(
                    Finding(
                        "team-permission",
                        subject,
                        f"team {team} may keep it open for {grant.max_open_duration or 'the default time'}; "
                        f"{key}.{team}.maxOpenDuration declares {declared.max_open_duration}",
                        _REFRESH,
                        {"team": team, "live": grant.max_open_duration, "declared": declared.max_open_duration},
                    )
                )
        for team, grant in sorted(live.items()):
            if team not in entry.teams and grant.permission in cloud_teams.OPENS:
                findings.append(
                    Finding(
                        "team-permission-undeclared",
                        subject,
                        f"team {team} can open it ({grant.permission}) and get the role's credentials, but {key} "
                        "does not declare it",
                        f"declare the team in {key} to keep it, or lower its permission in Pulumi Cloud (Settings > "
                        "Access management > Teams)",
                        {"team": team, "live": grant.permission},
                    )
                )
        return findings


# --- redaction -----------------------------------------------------------------------------------

_ACCESS_KEY = re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b")
_PULUMI_TOKEN = re.compile(r"\bpul-[0-9a-f]{40}\b")
_BASE64_RUN = re.compile(r"[A-Za-z0-9/+=]{40,}")


def redact(text: str) -> str:
    """``text`` without anything that looks like a credential: AWS access key IDs, Pulumi tokens, and runs of 40
    or more base64 characters mixing upper and lower case letters and digits (AWS secret keys, session tokens).
    A path of the API (lower case, ``/``) stays."""

    def run(match: re.Match[str]) -> str:
        found = match.group()
        mixed = any(c.isupper() for c in found) and any(c.islower() for c in found) and any(c.isdigit() for c in found)
        return "[redacted]" if mixed else found

    text = _PULUMI_TOKEN.sub("[redacted]", _ACCESS_KEY.sub("[redacted]", text))
    return _BASE64_RUN.sub(run, text)


# --- the admin stack's roles -----------------------------------------------------------------------


def deployed_roles(client: PulumiCloud, admin: AdminStack) -> dict[str, dict[str, Any]] | None:
    """The IAM roles of the admin stack's last update: logical name -> outputs (``name``, ``arn``), or ``None``
    when the update cannot be read (none yet, or a stack this token does not see)."""
    resources = client.stack_resources(admin.organization, admin.project, admin.stack)
    if resources is None:
        return None
    return {
        str(resource.get("urn", "")).rpartition("::")[2]: dict(resource.get("outputs") or {})
        for resource in resources
        if resource.get("type") == ROLE_TYPE and not resource.get("delete")
    }


# --- deployment settings ---------------------------------------------------------------------------


def check_stacks(client: PulumiCloud, org: str, stacks: Sequence[ManagedStack]) -> list[Finding]:
    """Each managed stack's settings against its entry. :class:`CloudError` when Pulumi Cloud cannot be read."""
    bodies = client.each(lambda s: client.deployment_settings(org, s.entry.project, s.entry.stack), stacks)
    findings: list[Finding] = []
    for stack, body in zip(stacks, bodies, strict=True):
        findings += _settings_findings(org, stack, body)
    return findings


def _settings_findings(org: str, stack: ManagedStack, body: Mapping[str, Any] | None) -> list[Finding]:
    subject = f"stack {org}/{stack.entry.identity}"
    session = stack.entry.session
    assert session is not None  # a managed stack has a session
    if body is None:
        return [Finding("settings-missing", subject, "has no deployment settings", "run pulumi up to write them")]
    context = body.get("operationContext")
    oidc = context.get("oidc") if isinstance(context, Mapping) else None
    live = oidc.get("aws") if isinstance(oidc, Mapping) else None
    if not isinstance(live, Mapping):
        return [
            Finding(
                "settings-role",
                subject,
                "its deployment settings have no operationContext.oidc.aws, so deployments get no AWS credentials",
                _REFRESH,
            )
        ]
    findings: list[Finding] = []
    if live.get("roleArn") != stack.role_arn:
        findings.append(
            Finding(
                "settings-role",
                subject,
                f"its deployment settings name the role {live.get('roleArn')!r}, not {stack.role_arn} of "
                f"{stack.entry.path}",
                _REFRESH,
                {"live": live.get("roleArn"), "expected": stack.role_arn},
            )
        )
    differences = []
    if live.get("sessionName") != session.session_name:
        differences.append(f"sessionName {live.get('sessionName')!r} (config: {session.session_name!r})")
    if not _same_duration(live.get("duration"), session.duration):
        differences.append(f"duration {live.get('duration')!r} (config: {session.duration!r})")
    if sorted(live.get("policyArns") or []) != sorted(session.policy_arns):
        differences.append(f"policyArns {sorted(live.get('policyArns') or [])} (config: {sorted(session.policy_arns)})")
    if differences:
        findings.append(
            Finding(
                "settings-session",
                subject,
                "its deployment settings' AWS session differs from " + f"{stack.entry.path}: " + "; ".join(differences),
                _REFRESH,
            )
        )
    return findings


def _same_duration(live: Any, configured: str) -> bool:
    """Pulumi Cloud stores ``1h`` as Go prints it, ``1h0m0s``: compared in seconds."""
    try:
        return isinstance(live, str) and durations.parse_duration(live) == durations.parse_duration(configured)
    except ValueError:
        return False


# --- environments --------------------------------------------------------------------------------


def check_environments(
    client: PulumiCloud,
    org: str,
    environments: Sequence[CreatedEnvironment],
    checks: Sequence[EnvironmentCheck] | None = None,
    *,
    stack: str = "dev",
) -> list[Finding]:
    """Each created environment: its definition, its open, then ``checks`` (by default its team permissions).
    :class:`CloudError` when Pulumi Cloud cannot be read. ``stack`` is the admin stack as ``--stack`` named it, for
    the ``explain`` command suggested."""
    checks = (TeamPermissions(),) if checks is None else checks
    results = client.each(lambda e: _check_environment(client, org, e, checks, stack), environments)
    return [finding for found in results for finding in found]


def _check_environment(
    client: PulumiCloud, org: str, environment: CreatedEnvironment, checks: Sequence[EnvironmentCheck], stack: str
) -> list[Finding]:
    entry = environment.entry
    subject = f"environment {org}/{entry.identity}"
    text = client.environment_definition(org, entry.project, entry.name)
    if text is None:
        return [Finding("environment-missing", subject, "does not exist", "run pulumi up to create it")]
    rendered = esc.definition(entry, environment.role_arn)
    try:
        live = yaml.safe_load(text)
    except yaml.YAMLError as error:
        live = None
        problem = f"its definition is not YAML ({excerpt(str(error).splitlines()[0], 120)})"
    else:
        problem = "its definition is not the one this config renders"
    findings: list[Finding] = []
    if live != rendered:
        changed = _changed_paths(live, rendered)
        findings.append(
            Finding(
                "environment-definition",
                subject,
                problem + (f": {', '.join(changed[:8])}" if changed else ""),
                f"{_REFRESH}; copy what was added by hand into another environment first",
                {"live": live, "rendered": rendered},
            )
        )
    findings += _open_findings(client, org, entry, subject, stack)
    for check in checks:
        findings += check(client, org, environment)
    return findings


def _changed_paths(live: Any, rendered: Any, path: str = "") -> list[str]:
    """The key paths at which two definitions differ."""
    if isinstance(live, Mapping) and isinstance(rendered, Mapping):
        found: list[str] = []
        for key in sorted({*live, *rendered}, key=str):
            where = f"{path}.{key}" if path else str(key)
            if key not in live:
                found.append(f"{where} missing")
            elif key not in rendered:
                found.append(f"{where} added")
            else:
                found += _changed_paths(live[key], rendered[key], where)
        return found
    return [] if live == rendered else [f"{path or '(the whole definition)'} changed"]


def _open_findings(client: PulumiCloud, org: str, entry: EscEnvironment, subject: str, stack: str) -> list[Finding]:
    explain = (
        f"python -m oidc explain --stack {stack} --aud {claims.esc_audience(org, entry.project)} --sub "
        f"{claims.esc_subject(org, entry.project, entry.name)} says which condition of the role refuses this "
        "environment's token; the trust-policy and provider findings, if any, are the usual causes"
    )
    try:
        opened = client.open_environment(org, entry.project, entry.name)
    except CloudError as error:
        raise CloudError(redact(error.detail)) from None
    if not opened.opened:
        shown = [_diagnostic(d) for d in opened.diagnostics]
        return [
            Finding(
                "environment-open",
                subject,
                "ESC could not open it: " + " | ".join(shown),
                explain,
                {"diagnostics": shown},
            )
        ]
    variables = _value(opened.properties.get("environmentVariables"))
    missing = [
        name for name in CREDENTIAL_VARIABLES if not isinstance(variables, Mapping) or not _value(variables.get(name))
    ]
    if missing:
        return [
            Finding(
                "environment-open",
                subject,
                f"opened, but without {', '.join(missing)}: the AWS login gave no credentials",
                explain,
            )
        ]
    return []


def _value(value: Any) -> Any:
    """The plain value of an ESC ``Value`` (``{"value": ..., "secret": ..., "trace": ...}``)."""
    return value.get("value") if isinstance(value, Mapping) else None


def _diagnostic(diagnostic: Mapping[str, Any]) -> str:
    """One diagnostic of ESC as one line, redacted: its path, summary and detail."""
    parts = [str(diagnostic.get(key)) for key in ("path", "summary", "detail") if diagnostic.get(key)]
    return excerpt(redact(": ".join(parts) or "(a diagnostic without text)"), 300)
