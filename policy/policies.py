"""Policies for any stack whose AWS roles trust Pulumi Cloud through OIDC.

They check what makes such a trust narrow and working, whoever wrote the program:

* ``pulumi-oidc-role-trust``: a role statement that trusts a Pulumi Cloud issuer allows only
  ``sts:AssumeRoleWithWebIdentity``, pins ``aud`` with ``StringEquals``, and constrains ``sub``
  to subjects of an allowed organization, never to the whole organization unless allowed;
* ``pulumi-oidc-provider``: the issuer's IAM OIDC provider has valid thumbprints and only
  ``<org>`` / ``aws:<org>`` audiences of allowed organizations;
* ``pulumi-esc-aws-login``: an ESC environment that logs in to AWS with OIDC sets
  ``subjectAttributes`` and a ``duration``;
* ``pulumi-oidc-session-duration``: every Deployments or ESC session duration that refers to a
  role of the same stack fits the role's ``maxSessionDuration``;
* ``require-environment-teams`` (off by default): an ESC environment that logs in to AWS with OIDC (a
  credential environment) is granted to at least one team in the same stack
  (``pulumiservice.TeamEnvironmentPermission``); otherwise the organization's default environment
  permission (``write`` unless changed) decides who may open it and get the credentials.

Enforcement levels are set per policy in the pack's config, like the keys each policy
declares in its ``config_schema``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pulumi
import yaml
from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

ROLE = "aws:iam/role:Role"
PROVIDER = "aws:iam/openIdConnectProvider:OpenIdConnectProvider"
DEPLOYMENT_SETTINGS = "pulumiservice:index:DeploymentSettings"
ENVIRONMENT = "pulumiservice:index:Environment"
TEAM_PERMISSION = "pulumiservice:index:TeamEnvironmentPermission"

ASSUME_ACTION = "sts:AssumeRoleWithWebIdentity"
AWS_LOGIN = "fn::open::aws-login"
DEFAULT_ISSUERS = ["api.pulumi.com/oidc"]
ESC_DEFAULT_DURATION = "2h"
"""What ``aws-login`` asks STS for when an environment sets no ``duration``."""
ROLE_DEFAULT_MAX_SECONDS = 3600

_ORG = r"[a-z0-9][a-z0-9._-]*"
_AUDIENCE = re.compile(rf"^(?:aws:)?(?P<org>{_ORG})$")
_THUMBPRINT = re.compile(r"^[0-9a-fA-F]{40}$")
_SUBJECT = re.compile(
    r"^pulumi:(?:deploy:org|environments:pulumi\.organization\.login|environments:org)"
    r":(?P<org>[^:]*)(?::(?P<rest>.*))?$",
    re.DOTALL,
)
_DURATION = re.compile(r"^(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?(?:(?P<s>\d+)s)?$")

ISSUERS_SCHEMA = {
    "type": "array",
    "items": {"type": "string"},
    "default": DEFAULT_ISSUERS,
    "description": "Pulumi Cloud issuers, as host/path without https://",
}
ORGS_SCHEMA = {
    "type": "array",
    "items": {"type": "string"},
    "default": [],
    "description": "Pulumi organizations a role or provider may trust; empty: the one each role's aud names",
}


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _config(args: ResourceValidationArgs | StackValidationArgs) -> tuple[list[str], set[str]]:
    config = args.get_config()
    issuers = [str(i).removeprefix("https://").rstrip("/") for i in config.get("issuers", DEFAULT_ISSUERS)]
    return issuers, {str(org) for org in config.get("allowedOrganizations", [])}


def seconds(duration: str) -> int | None:
    """Seconds in an ``XhYmZs`` duration; ``None`` when it is not one."""
    match = _DURATION.fullmatch(duration)
    if not duration or match is None:
        return None
    return int(match["h"] or 0) * 3600 + int(match["m"] or 0) * 60 + int(match["s"] or 0)


# --- roles ------------------------------------------------------------------------------


def _any(segment: str, pattern: bool) -> bool:
    """Whether a subject segment stands for every value: empty, or (in a pattern) only wildcards."""
    return not segment or (pattern and set(segment) <= {"*", "?"})


def _org_wide(rest: str, pattern: bool) -> bool:
    """Whether the part of a subject after its organization leaves every stack or environment open.

    Deployments: the project and the stack both open (``project:*:stack:prod`` names a stack).
    ESC: the environment open (``aws/*`` names a project), or the literal ``<yaml>`` subject that
    every environment imported into stack config without ``subjectAttributes`` sends.
    """
    tokens = rest.split(":")
    if _any(tokens[0], pattern):
        return True
    if tokens[0] == "project":
        project, after = (tokens[1] if len(tokens) > 1 else ""), tokens[2:]
        if not _any(project, pattern):
            return False
        return not after or _any(after[0], pattern) or (after[0] == "stack" and _any(":".join(after[1:2]), pattern))
    value = tokens[1] if len(tokens) > 1 else ""
    return value == "<yaml>" or all(_any(part, pattern) for part in value.split("/"))


def subject_problem(subject: str, orgs: set[str], allow_org_wide: bool, pattern: bool) -> str | None:
    """Why a ``sub`` value is too wide or foreign; ``None`` when it is fine.

    ``pattern`` says the value is matched with ``StringLike``, where ``*`` and ``?`` are wildcards.
    """
    match = _SUBJECT.fullmatch(subject)
    if match is None:
        return f"sub {subject!r} names no Pulumi organization (pulumi:deploy:org:<org>:... or pulumi:environments:...)"
    org = match["org"]
    if not org or (pattern and ("*" in org or "?" in org)):
        return f"sub {subject!r} does not pin the organization"
    if orgs and org not in orgs:
        return f"sub {subject!r} trusts organization {org!r}, which is not allowed (allowed: {', '.join(sorted(orgs))})"
    if _org_wide(match["rest"] or "", pattern) and not allow_org_wide:
        return (
            f"sub {subject!r} trusts every stack or environment of {org!r}; name the project and stack or "
            "environment, or set allowOrgWideSubjects"
        )
    return None


def statement_problems(
    statement: Mapping[str, Any], issuer: str, orgs: set[str], allow_org_wide: bool
) -> Iterator[str]:
    """Every reason one statement trusting ``issuer`` is too wide."""
    actions = _as_list(statement.get("Action"))
    if actions != [ASSUME_ACTION]:
        yield f"Action must be exactly {ASSUME_ACTION}, got {json.dumps(statement.get('Action'))}"
    conditions = statement.get("Condition") or {}
    if not isinstance(conditions, dict) or not all(isinstance(keys, dict) for keys in conditions.values()):
        yield f"Condition is not a map of operators to keys: {json.dumps(conditions)}"
        return
    aud_key, sub_key = f"{issuer}:aud", f"{issuer}:sub"
    aud_operators = [op for op, keys in conditions.items() if aud_key in keys]
    if "StringEquals" not in aud_operators:
        yield f"{aud_key} is not pinned with StringEquals"
    for operator in aud_operators:
        if operator != "StringEquals":
            yield f"{aud_key} is matched with {operator}; use StringEquals, as Pulumi sends one exact audience"
    audience_orgs = set()
    for audience in _as_list((conditions.get("StringEquals") or {}).get(aud_key)):
        match = _AUDIENCE.fullmatch(str(audience))
        if match is None or (orgs and match["org"] not in orgs):
            yield f"{aud_key} value {audience!r} is not <org> or aws:<org> of an allowed organization"
        elif match is not None:
            audience_orgs.add(match["org"])
    subject_orgs = orgs or audience_orgs  # unconfigured: the organizations the statement's aud names
    sub_operators = [op for op, keys in conditions.items() if sub_key in keys]
    if not sub_operators:
        yield f"no {sub_key} condition: every stack and environment of the organization could assume the role"
    for operator in sub_operators:
        if operator not in {"StringEquals", "StringLike"}:
            yield f"{sub_key} is matched with {operator}; use StringEquals, or StringLike for patterns"
            continue
        for subject in _as_list(conditions[operator][sub_key]):
            problem = subject_problem(str(subject), subject_orgs, allow_org_wide, pattern=operator == "StringLike")
            if problem is not None:
                yield problem


def _document(value: Any) -> dict[str, Any] | None:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return None
    return value if isinstance(value, dict) else None


def _trusted_issuers(statement: Mapping[str, Any], issuers: Sequence[str]) -> list[str]:
    principal = statement.get("Principal")
    federated = _as_list(principal.get("Federated")) if isinstance(principal, dict) else []
    return [issuer for issuer in issuers if any(str(p).endswith(f":oidc-provider/{issuer}") for p in federated)]


def validate_role(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != ROLE:
        return
    issuers, orgs = _config(args)
    allow_org_wide = bool(args.get_config().get("allowOrgWideSubjects", False))
    document = _document(args.props.get("assumeRolePolicy"))
    if document is None:
        return
    for index, statement in enumerate(_as_list(document.get("Statement"))):
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        name = statement.get("Sid") or f"Statement[{index}]"
        principal = statement.get("Principal")
        federated = _as_list(principal.get("Federated")) if isinstance(principal, dict) else []
        if principal == "*" or "*" in federated:
            report_violation(f"{name}: Principal trusts any identity provider, Pulumi Cloud's among them", None)
            continue
        for issuer in _trusted_issuers(statement, issuers):
            for problem in statement_problems(statement, issuer, orgs, allow_org_wide):
                report_violation(f"{name}: {problem}", None)


# --- providers --------------------------------------------------------------------------


def validate_provider(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != PROVIDER:
        return
    issuers, orgs = _config(args)
    url = str(args.props.get("url", "")).removeprefix("https://").rstrip("/")
    if url not in issuers:
        return
    thumbprints = _as_list(args.props.get("thumbprintLists"))
    if len(thumbprints) > 5:
        report_violation(f"{len(thumbprints)} thumbprints; IAM keeps at most 5", None)
    for thumbprint in thumbprints:
        if not _THUMBPRINT.fullmatch(str(thumbprint)):
            report_violation(f"thumbprint {thumbprint!r} is not a SHA-1 fingerprint (40 hex digits)", None)
    audiences = _as_list(args.props.get("clientIdLists"))
    if not audiences:
        report_violation("no client IDs: tokens of Pulumi Cloud carry <org> or aws:<org> as audience", None)
    for audience in audiences:
        match = _AUDIENCE.fullmatch(str(audience))
        if match is None or (orgs and match["org"] not in orgs):
            report_violation(f"client ID {audience!r} is not <org> or aws:<org> of an allowed organization", None)


# --- ESC environments -------------------------------------------------------------------


def aws_logins(node: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every ``fn::open::aws-login`` block with ``oidc`` in an environment definition."""
    if isinstance(node, dict):
        login = node.get(AWS_LOGIN)
        if isinstance(login, dict) and isinstance(login.get("oidc"), dict):
            yield path or AWS_LOGIN, login["oidc"]
        for key, value in node.items():
            yield from aws_logins(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from aws_logins(value, f"{path}[{index}]")


def _definition(value: Any) -> Any:
    text = value.text if isinstance(value, pulumi.StringAsset) else value
    if not isinstance(text, str):
        return None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return None


def validate_environment(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != ENVIRONMENT:
        return
    for path, oidc in aws_logins(_definition(args.props.get("yaml"))):
        if not oidc.get("subjectAttributes"):
            report_violation(
                f"{path}: oidc sets no subjectAttributes, so an environment imported into a stack's config sends "
                "the same subject (...:env:<yaml>) as every other; add subjectAttributes: [currentEnvironment.name]",
                None,
            )
        if "duration" not in oidc:
            report_violation(
                f"{path}: oidc sets no duration, so aws-login asks for {ESC_DEFAULT_DURATION}, more than a role's "
                "default maximum of 1h; set duration",
                None,
            )


# --- session durations across the stack -------------------------------------------------


def _sessions(resource: PolicyResource) -> Iterator[tuple[str | None, str]]:
    """(role ARN, duration) of each AWS session a resource asks Pulumi Cloud for."""
    if resource.resource_type == DEPLOYMENT_SETTINGS:
        context = resource.props.get("operationContext") or {}
        aws = ((context.get("oidc") or {}).get("aws")) or {}
        if aws.get("duration"):
            yield aws.get("roleARN"), str(aws["duration"])
    elif resource.resource_type == ENVIRONMENT:
        for _, oidc in aws_logins(_definition(resource.props.get("yaml"))):
            yield oidc.get("roleArn"), str(oidc.get("duration", ESC_DEFAULT_DURATION))


def _role_of(resource: PolicyResource, role_arn: Any, roles: Sequence[PolicyResource]) -> PolicyResource | None:
    """The stack's role a session refers to: by a literal ARN, else the one role it depends on."""
    if isinstance(role_arn, str):
        for role in roles:
            name = role.props.get("name")
            if name and role_arn.endswith(f":role{role.props.get('path') or '/'}{name}"):
                return role
    depended = [r for r in resource.dependencies if r.resource_type == ROLE]
    return depended[0] if len(depended) == 1 else None


def validate_session_durations(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    roles = [r for r in args.resources if r.resource_type == ROLE]
    for resource in args.resources:
        for role_arn, duration in _sessions(resource):
            role = _role_of(resource, role_arn, roles)
            if role is None:
                continue
            limit = int(role.props.get("maxSessionDuration") or ROLE_DEFAULT_MAX_SECONDS)
            asked = seconds(duration)
            if asked is None or asked > limit:
                report_violation(
                    f"{resource.name} asks for a {duration} session of role {role.name}, whose maxSessionDuration "
                    f"is {limit} seconds: STS would refuse it",
                    resource.urn,
                )


# --- who may open a credential environment ---------------------------------------------------


def _environment_key(props: Mapping[str, Any], name_key: str) -> tuple[Any, Any, Any]:
    """``(organization, project, name)``; the project defaults to ``default``, as both resources default it."""
    return props.get("organization"), props.get("project") or "default", props.get(name_key)


def validate_environment_teams(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    granted = {_environment_key(r.props, "environment") for r in args.resources if r.resource_type == TEAM_PERMISSION}
    for resource in args.resources:
        if resource.resource_type != ENVIRONMENT:
            continue
        if not any(True for _ in aws_logins(_definition(resource.props.get("yaml")))):
            continue
        organization, project, name = _environment_key(resource.props, "name")
        if (organization, project, name) not in granted:
            report_violation(
                f"{resource.name} ({organization}/{project}/{name}) logs in to AWS but no team is granted it in this "
                "stack: every member with the organization's default environment permission (write unless "
                "changed) can open it and get the credentials. Grant teams (TeamEnvironmentPermission; teams: in "
                "pulumi-aws-oidc) and set the default environment permission to none or read",
                resource.urn,
            )


POLICIES: list[ResourceValidationPolicy | StackValidationPolicy] = [
    ResourceValidationPolicy(
        name="pulumi-oidc-role-trust",
        description="Roles that trust Pulumi Cloud pin aud, constrain sub to named stacks or environments of "
        "allowed organizations, and allow only sts:AssumeRoleWithWebIdentity.",
        validate=validate_role,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=PolicyConfigSchema(
            properties={
                "issuers": ISSUERS_SCHEMA,
                "allowedOrganizations": ORGS_SCHEMA,
                "allowOrgWideSubjects": {
                    "type": "boolean",
                    "default": False,
                    "description": "Allow subjects that trust every stack or environment of an organization",
                },
            }
        ),
    ),
    ResourceValidationPolicy(
        name="pulumi-oidc-provider",
        description="The IAM OIDC provider of a Pulumi Cloud issuer has valid thumbprints and only <org> or "
        "aws:<org> audiences of allowed organizations.",
        validate=validate_provider,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=PolicyConfigSchema(properties={"issuers": ISSUERS_SCHEMA, "allowedOrganizations": ORGS_SCHEMA}),
    ),
    ResourceValidationPolicy(
        name="pulumi-esc-aws-login",
        description="ESC environments that log in to AWS with OIDC set subjectAttributes and a duration.",
        validate=validate_environment,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
    StackValidationPolicy(
        name="pulumi-oidc-session-duration",
        description="Deployments and ESC sessions of a role in the same stack fit its maxSessionDuration.",
        validate=validate_session_durations,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
    StackValidationPolicy(
        name="require-environment-teams",
        description="ESC environments that log in to AWS are granted to at least one team in the same stack "
        "(off by default: team permissions need Pulumi Enterprise or Business Critical).",
        validate=validate_environment_teams,
        enforcement_level=EnforcementLevel.DISABLED,
    ),
]
