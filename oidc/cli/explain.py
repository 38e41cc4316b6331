"""``python -m oidc explain``: would this token get credentials, and from which role.

It decodes an OIDC token (without verifying it) and evaluates it against the trust policies of the stack evaluated
offline, answering for the role the token's stack or environment uses.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from oidc import explain
from oidc.cli import offline
from oidc.cli.evaluate import (
    EXIT_DENY,
    EXIT_INVALID,
    EXIT_OK,
    EXIT_USAGE,
    Evaluated,
    RoleView,
    StackError,
    UsageError,
    composed,
    evaluate_stack,
    failed,
    offline_settings,
    pairs,
    show,
)
from oidc.model import ConfigError, ConfigIssue

TOKEN_VARIABLE = "PULUMI_OIDC_TOKEN"


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


TEAM_PERMISSION = "pulumiservice:index:TeamEnvironmentPermission"
ENVIRONMENT_SETTINGS = "pulumiservice:api/esc:EnvironmentSettings"
GATE = "pulumiservice:api:Gate"
DEFAULT_PERMISSION = "the organization's default environment permission (write unless changed)"


def environment_access(view: RoleView) -> list[dict[str, Any]]:
    """Each environment the role creates, with who may open it as declared: teams, protection, approvals."""
    teams: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    protected: dict[tuple[str, str], Any] = {}
    approvals: dict[str, dict[str, Any]] = {}
    for r in sorted(view.children, key=lambda r: str(r.inputs.get("team"))):
        if r.type == TEAM_PERMISSION:
            teams.setdefault((r.inputs["project"], r.inputs["environment"]), {})[str(r.inputs["team"])] = {
                key: value
                for key, value in (
                    ("permission", r.inputs["permission"]),
                    ("maxOpenDuration", r.inputs.get("maxOpenDuration")),
                )
                if value is not None
            }
        elif r.type == ENVIRONMENT_SETTINGS:
            protected.setdefault((r.inputs["projectName"], r.inputs["envName"]), r.inputs.get("deletionProtected"))
        elif r.type == GATE:
            target = r.inputs["target"]
            approvals.setdefault(str(target.get("qualifiedName")), {})[str(target["actionTypes"][0])] = offline.plain(
                r.inputs["rule"]
            )
    found = []
    for environment in sorted(
        (r for r in view.children if r.type == "pulumiservice:index:Environment"),
        key=lambda r: (str(r.inputs["project"]), str(r.inputs["name"])),
    ):
        project, name = str(environment.inputs["project"]), str(environment.inputs["name"])
        found.append(
            {
                "environment": f"{environment.inputs['organization']}/{project}/{name}",
                "teams": teams.get((project, name), {}),
                "otherMembers": DEFAULT_PERMISSION,
                "deletionProtected": protected.get((project, name)),
                "approvals": dict(sorted(approvals.get(f"{project}/{name}", {}).items())),
            }
        )
    return found


def deployment_entries(evaluated: Evaluated) -> dict[tuple[str, str], tuple[explain.Entry, ...]]:
    """Each role's ``deployments[]`` as the stack's config writes them, by account and role key.

    Only for the program built from the stack's config (one component whose roles manage the stacks the config
    says): hints then name the entry to change (``roles.readonly.deployments[1]``); otherwise ``{}``.
    """
    if composed(evaluated.roles):
        return {}
    try:
        settings = offline_settings(evaluated.config)
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
    opened_by = None
    if choice.why == explain.CREATED_BY and choice.role is not None and choice.target is not None:
        opened_by = next(
            (item for item in environment_access(views[choice.role]) if item["environment"] == choice.target.identity),
            None,
        )
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
        "whoMayOpen": opened_by,
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


def approval_text(rule: Mapping[str, Any]) -> str:
    """``1 of: team platform, holders of environment:write``: a gate's rule as ``plan`` and ``explain`` say it."""
    approvers = []
    for approver in rule.get("eligibleApprovers", []):
        kind = approver.get("eligibilityType")
        if kind == "team_member":
            approvers.append(f"team {approver.get('teamName')}")
        elif kind == "specific_user":
            approvers.append(f"user {approver.get('userLogin')}")
        else:
            approvers.append(f"holders of {approver.get('permission')}")
    flags = ["self-approval allowed"] if rule.get("allowSelfApproval") else []
    flags += [] if rule.get("requireReapprovalOnChange") else ["approvals kept on change"]
    count = int(rule.get("numApprovalsRequired", 1))
    return f"{count} of: {', '.join(approvers)}" + (f" ({', '.join(flags)})" if flags else "")


def _who_may_open_lines(report: Mapping[str, Any]) -> list[str]:
    """Who may open the token's environment, as the config declares it (only for an environment it creates)."""
    access = report.get("whoMayOpen")
    if access is None:
        return []
    teams = ", ".join(
        f"team {team} ({grant['permission']}"
        + (f", at most {grant['maxOpenDuration']} open" if "maxOpenDuration" in grant else "")
        + ")"
        for team, grant in access["teams"].items()
    )
    lines = [f"Who may open {access['environment']}, as declared (and so get these credentials):"]
    if teams:
        lines.append(f"  {teams}; every other member: {access['otherMembers']}.")
    else:
        lines.append(f"  no teams are declared: every member with {access['otherMembers']} can open it.")
    for action, rule in access["approvals"].items():
        lines.append(f"  {action} needs approval, {approval_text(rule)}.")
    return lines


def render_explanation(report: dict[str, Any], verbose: bool = False) -> str:
    """The ``explain`` report as text: in short for several roles (every role in full with ``verbose``)."""
    token = report["token"]
    if token["decoded"]:
        lines = [f"Token from {token['source']} (decoded without verifying its signature)"]
    else:
        lines = [f"Claims given with {token['source']}"]
    rows = [(key, show(token[key])) for key in ("iss", "aud", "sub") if token[key] is not None]
    if token["exp"] is not None:
        statuses = {True: " (expired: STS refuses it whatever the policy says)", False: " (not expired)", None: ""}
        rows.append(("exp", f"{token['exp']}{statuses[token['expired']]}"))
    lines += [*pairs(rows), ""]
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
    # Said when the token is admitted: who else may then get the same credentials (--json carries it always).
    opened = _who_may_open_lines(report) if report["decision"] == "ALLOW" else []
    if opened:
        lines += ["", *opened]
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
        return failed(f"error: {problem}", [ConfigIssue("arguments", problem)], args.json, EXIT_USAGE)
    try:
        evaluated = evaluate_stack(args.stack, args.cwd)
    except UsageError as error:
        return failed(f"error: {error}", [ConfigIssue("--stack", str(error))], args.json, EXIT_USAGE)
    except StackError as error:
        return failed(str(error), error.errors, args.json, EXIT_USAGE)
    roles = evaluated.roles
    asked = None
    if args.role is not None:
        named = [view for view in roles if args.role in {view.key, f"{view.owner}/{view.key}"}]
        known = sorted({f"{view.owner}/{view.key}" if composed(roles) else view.key for view in roles})
        if len(named) != 1:
            why = "no such role" if not named else "a role of several components: name it COMPONENT/KEY"
            problem = f"--role {args.role}: {why}; the stack's roles are {', '.join(known)}"
            return failed(f"error: {problem}", [ConfigIssue("--role", problem)], args.json, EXIT_USAGE)
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
            return failed(f"error: {error}", [ConfigIssue("--token", str(error))], args.json, EXIT_USAGE)
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
