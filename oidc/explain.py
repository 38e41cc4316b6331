"""Why a token would (not) be let in: the trust policy's answer with named causes.

Given one role's trust policy (with its organization and issuer) and a token's claims, it
reports the statement that admits the token, or each statement's failing conditions, the
nearest subject the policy does trust, and hints for the known traps: the audience of ESC
versus Deployments tokens, the unpinned ``<yaml>`` subject, another issuer, the organization's
case, and stacks or environments that are valid but not listed.

For a whole config of several roles (:func:`answer`), the token is answered for the role that
its stack or environment actually uses: the role whose ARN the stack's deployment settings name
(the role that manages them), or the role an environment's ``fn::open::aws-login`` names (the
role that creates it). Only when no role of the config holds the stack or environment is every
role asked. Hints are checked against every role, so none says to list a stack or environment
in one role that another role holds. Pure functions over plain data only.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from oidc import claims, trust


@dataclass(frozen=True)
class Explanation:
    """The decision for one token, and what to do about a denial."""

    decision: trust.Decision
    nearest_subject: str | None
    hints: tuple[str, ...]

    @property
    def allowed(self) -> bool:
        return self.decision.allowed


def expired(token_claims: Mapping[str, Any], now: datetime) -> bool | None:
    """Whether ``exp`` is past; ``None`` when the token has no ``exp``."""
    exp = token_claims.get("exp")
    if not isinstance(exp, int | float):
        return None
    return exp <= now.timestamp()


def nearest_subject(decision: trust.Decision, sub: str) -> str | None:
    """The subject (or pattern) the evaluated policy trusts that reads most like ``sub``."""
    subjects = [
        value for s in decision.statements for c in s.conditions if c.key.endswith(":sub") for value in c.expected
    ]
    if not subjects:
        return None
    return max(subjects, key=lambda s: difflib.SequenceMatcher(None, s, sub, autojunk=False).ratio())


def _entry(**fields: str) -> str:
    return "{" + ", ".join(f"{key}: {value}" for key, value in fields.items()) + "}"


def trusted_subjects(document: Mapping[str, Any]) -> list[claims.Subject]:
    """Every subject (or pattern) the policy's statements name, read as Pulumi subjects."""
    found = []
    for statement in document.get("Statement", []):
        for keys in statement.get("Condition", {}).values():
            for key, values in keys.items():
                if key.endswith(":sub"):
                    for value in values if isinstance(values, list) else [values]:
                        parsed = claims.parse_subject(str(value))
                        if parsed is not None:
                            found.append(parsed)
    return found


def _like(pattern: str | None, value: str) -> bool:
    return pattern is not None and trust.string_like(pattern, value)


@dataclass(frozen=True)
class Entry:
    """One ``deployments[]`` entry as the config writes it: its key path and the stacks it names."""

    path: str
    """``roles.readonly.deployments[1]``, or ``deployments[0]`` in form A."""
    project: str
    stack: str
    operations: tuple[str, ...] = ()
    """The operations it trusts, as written; empty for every operation."""


def _matching_deployments(trusted: list[claims.Subject], subject: claims.Subject) -> list[claims.Subject]:
    """The trusted Deployments subjects of ``subject``'s stack, whatever their operation."""
    return [
        t
        for t in trusted
        if t.kind == "deployments" and _like(t.project, subject.project or "") and _like(t.name, subject.name or "")
    ]


def _environment_listed(trusted: list[claims.Subject], subject: claims.Subject) -> bool:
    """Whether a trusted ESC subject (with the audience ``subject`` needs) names ``subject``'s environment."""
    path = claims.esc_environment_path(subject.project or "", subject.name or "")
    return any(
        t.kind == "environments"
        and t.project is not None
        and t.audience == subject.audience
        and _like(claims.esc_environment_path(t.project, t.name or ""), path)
        for t in trusted
    )


def _not_listed(subject: claims.Subject, where: str) -> str:
    """The hint for a stack or environment in no entry, with the entry to add under ``where``."""
    if subject.kind == "deployments":
        entry = _entry(project=str(subject.project), stack=str(subject.name))
        return (
            f"not listed: stack {subject.project}/{subject.name} is in no entry; add to {where}deployments: - {entry}"
        )
    entry = _entry(project=str(subject.project), name=str(subject.name))
    return (
        f"not listed: environment {subject.project}/{subject.name} is in no entry; add to {where}environments: "
        f"- {entry}"
    )


def _operation_hint(subject: claims.Subject, operations: list[str], entries: Sequence[Entry]) -> str:
    """The hint for a stack trusted for other operations than the token's, naming the entries that list it."""
    stack = f"{subject.project}/{subject.name}"
    operation = str(subject.operation)
    listed = [e for e in entries if _like(e.project, str(subject.project)) and _like(e.stack, str(subject.name))]
    if len(listed) == 1 and listed[0].operations:
        [entry] = listed
        return (
            f"operation: {entry.path} trusts {stack} for operations {list(entry.operations)}, not {operation!r}; "
            f"add {operation!r} to its operations, or omit operations to trust every operation"
        )
    if listed and all(e.operations for e in listed):
        exact = [e for e in listed if not claims.is_pattern(e.project) and not claims.is_pattern(e.stack)]
        entry = (exact or listed)[0]
        return (
            f"operation: {stack} is trusted for operations {operations} (by {', '.join(e.path for e in listed)}), "
            f"not {operation!r}; add {operation!r} to the operations of {entry.path}, or omit operations there to "
            "trust every operation"
        )
    return (
        f"operation: {stack} is trusted for operations {operations}, not {operation!r}; add it to the entry's "
        "operations, or omit operations to trust every operation"
    )


def _listing_hints(
    trusted: list[claims.Subject],
    subject: claims.Subject,
    where: str,
    entries: Sequence[Entry] = (),
    holder: str | None = None,
) -> list[str]:
    """Hints for a subject of the configured organization that no trusted subject names.

    ``holder``: the role (``roles.deploy``) that manages the stack's settings or creates the environment, when
    that is another role than this one: listing it here too would change nothing, so no hint says to.
    """
    if subject.kind == "deployments":
        matching = _matching_deployments(trusted, subject)
        operations = sorted({t.operation for t in matching if t.operation is not None})
        if any(_like(operation, subject.operation or "") for operation in operations):
            return []
        if holder is not None:
            return [
                f"held: the deployment settings of {subject.project}/{subject.name} are managed by {holder}, so "
                "Pulumi Deployments presents that role's ARN; changing this role's entries would not change that "
                "(one role manages a stack's settings)"
            ]
        if not matching:
            return [_not_listed(subject, where)]
        return [_operation_hint(subject, operations, entries)]
    if subject.project is None or subject.name is None or _environment_listed(trusted, subject):
        return []
    if holder is not None:
        return [
            f"held: environment {subject.project}/{subject.name} is created by {holder}, and its "
            "fn::open::aws-login names that role's ARN; listing it in this role too would not change that (one role "
            "creates an environment)"
        ]
    return [_not_listed(subject, where)]


def _issuer_differs(issuer: str, token_claims: Mapping[str, Any]) -> bool:
    token_issuer = token_claims.get("iss")
    return token_issuer is not None and token_issuer != issuer


def token_hints(organization: str, issuer: str, token_claims: Mapping[str, Any]) -> list[str]:
    """Named causes that lie in the token itself, whatever a role lists: issuer, subject form, organization,
    audience; most fundamental first."""
    found: list[str] = []
    if _issuer_differs(issuer, token_claims):
        found.append(
            f"issuer: the token was issued by {token_claims.get('iss')!r}; this config trusts issuer {issuer!r} "
            "(config key issuer), and its OIDC providers are registered for that issuer only: set issuer to the "
            "token's issuer if this config is meant for it (a self-hosted Pulumi Cloud has its own)"
        )
    sub = str(token_claims.get("sub", ""))
    subject = claims.parse_subject(sub)
    if subject is None:
        found.append(
            f"subject: {sub!r} is neither a Pulumi Deployments subject (pulumi:deploy:org:...) nor an ESC "
            "subject (pulumi:environments:...)"
        )
        return found
    org = organization
    if subject.org != org:
        if subject.org.lower() == org:
            found.append(
                f"organization: the token names {subject.org!r}, which differs from {org!r} only in case; Pulumi "
                "sends the lowercase login and IAM compares case-sensitively"
            )
        else:
            found.append(f"organization: the token comes from {subject.org!r}; this config trusts only {org!r}")
    fix = (
        "set 'subjectAttributes: [currentEnvironment.name]' in the environment's fn::open::aws-login oidc "
        "block (environments this program writes already do)"
    )
    if not subject.pinned and subject.project is None:
        found.append(
            f"subject: {sub!r} is the default subject of an environment imported into a stack's config, the same "
            f"for every environment; {fix}"
        )
    elif not subject.pinned:
        found.append(f"subject: {sub!r} is the default subject of an environment without subjectAttributes; {fix}")
    elif subject.kind == "environments" and subject.attributes != (claims.ESC_SUBJECT_ATTRIBUTE,):
        found.append(
            f"subject: the environment sets subjectAttributes {list(subject.attributes)}, but the trusted subjects "
            f"name exactly [{claims.ESC_SUBJECT_ATTRIBUTE}]; {fix}"
        )
    audience = trust.claim_text(token_claims, "aud")
    if audience is not None and subject.audience is not None and audience != subject.audience:
        found.append(
            f"audience: this {_describe(subject)} token should carry aud {subject.audience!r}, not {audience!r}: "
            "Deployments tokens carry the bare organization, ESC tokens 'aws:<org>', except environments of "
            "the legacy 'default' project, which carry the bare organization"
        )
    return found


def _listable(organization: str, issuer: str, token_claims: Mapping[str, Any]) -> claims.Subject | None:
    """The token's subject when listing it in this role could matter: of its issuer and organization, pinned."""
    subject = claims.parse_subject(str(token_claims.get("sub", "")))
    if subject is None or subject.org != organization or not subject.pinned or _issuer_differs(issuer, token_claims):
        return None
    return subject


def hints(
    organization: str,
    issuer: str,
    document: Mapping[str, Any],
    token_claims: Mapping[str, Any],
    where: str = "",
    *,
    entries: Sequence[Entry] = (),
    holder: str | None = None,
) -> list[str]:
    """Named causes of a denial by ``document``, most fundamental first.

    ``where`` is the key path prefix of the role's entries (``roles.deploy.``), for the entry to add;
    ``entries`` the role's ``deployments[]`` as written, to name the entry whose operations to extend;
    ``holder`` the other role that holds the token's stack or environment (see :func:`_listing_hints`).
    A token of another issuer or organization gets no listing hint: no entry would let it in.
    """
    found = token_hints(organization, issuer, token_claims)
    subject = _listable(organization, issuer, token_claims)
    if subject is not None:
        found.extend(_listing_hints(trusted_subjects(document), subject, where, entries, holder))
    return found


def _describe(subject: claims.Subject) -> str:
    if subject.kind == "deployments":
        return "Deployments"
    if subject.project == claims.LEGACY_ESC_PROJECT:
        return "ESC ('default' project)"
    return f"ESC (project {subject.project!r})" if subject.project else "ESC"


def explain(
    organization: str,
    issuer: str,
    document: Mapping[str, Any],
    token_claims: Mapping[str, Any],
    where: str = "",
    *,
    entries: Sequence[Entry] = (),
    holder: str | None = None,
) -> Explanation:
    """Evaluate ``token_claims`` against ``document``, one role's trust policy for ``organization`` and ``issuer``.

    ``where``, ``entries`` and ``holder`` are as :func:`hints` takes them.
    """
    decision = trust.evaluate(document, token_claims)
    if decision.allowed:
        return Explanation(decision, None, ())
    sub = str(token_claims.get("sub", ""))
    found = hints(organization, issuer, document, token_claims, where, entries=entries, holder=holder)
    return Explanation(decision, nearest_subject(decision, sub), tuple(found))


# --- a whole config: which role answers -----------------------------------------------------


@dataclass(frozen=True)
class Role:
    """One role of a config, as ``explain`` needs it: plain data, whatever it was read from."""

    id: str
    """Unique among the roles of the config: its key, or ``component/key`` in a program of several components."""
    organization: str
    issuer: str
    document: Mapping[str, Any]
    """Its trust policy."""
    where: str = ""
    """The key path prefix of its entries: ``roles.deploy.``, or empty in form A."""
    managed_stacks: frozenset[str] = frozenset()
    """``org/project/stack`` of each stack whose deployment settings the role declares: they name its ARN."""
    created_environments: frozenset[str] = frozenset()
    """``org/project/name`` of each ESC environment the role creates: its ``fn::open::aws-login`` names the role."""
    deployments: tuple[Entry, ...] = ()
    """Its ``deployments[]`` as written, where known, so that hints name the entry to change."""

    @property
    def name(self) -> str:
        """How messages name it: its key path (``roles.deploy``), or ``role <key>`` in form A."""
        return self.where.removesuffix(".") or f"role {self.id}"


@dataclass(frozen=True)
class Target:
    """The stack or environment a token names."""

    kind: Literal["stack", "environment"]
    organization: str
    project: str
    name: str

    @property
    def identity(self) -> str:
        """``org/project/name``, as Pulumi Cloud names stacks and environments."""
        return f"{self.organization}/{self.project}/{self.name}"


def target_of(token_claims: Mapping[str, Any]) -> Target | None:
    """The stack or environment the token's subject names; ``None`` when it names none (``<yaml>``, no Pulumi form)."""
    subject = claims.parse_subject(str(token_claims.get("sub", "")))
    if subject is None or subject.project is None or subject.name is None:
        return None
    kind: Literal["stack", "environment"] = "stack" if subject.kind == "deployments" else "environment"
    return Target(kind, subject.org, subject.project, subject.name)


Why = Literal["managedBy", "createdBy", "anyRole"]
MANAGED_BY: Why = "managedBy"
CREATED_BY: Why = "createdBy"
ANY_ROLE: Why = "anyRole"


@dataclass(frozen=True)
class Choice:
    """Which role answers for a token, and why."""

    role: str | None
    """The :attr:`Role.id` of the role the token is answered for; ``None`` when every role is asked."""
    why: Why
    """``managedBy``: the role manages the stack's deployment settings, so Pulumi Deployments presents its ARN;
    ``createdBy``: the role creates the environment, whose ``fn::open::aws-login`` names it; ``anyRole``: no role
    of the config holds the stack or environment, so its settings are made elsewhere and may name any role."""
    target: Target | None


def answering_role(roles: Sequence[Role], token_claims: Mapping[str, Any]) -> Choice:
    """The role whose ARN the token's stack or environment presents to STS, as far as the config says."""
    target = target_of(token_claims)
    if target is not None:
        for role in roles:
            if target.kind == "stack" and target.identity in role.managed_stacks:
                return Choice(role.id, MANAGED_BY, target)
            if target.kind == "environment" and target.identity in role.created_environments:
                return Choice(role.id, CREATED_BY, target)
    return Choice(None, ANY_ROLE, target)


@dataclass(frozen=True)
class RoleAnswer:
    """One role's explanation of the token."""

    role: Role
    explanation: Explanation


@dataclass(frozen=True)
class Answer:
    """The answer of a whole config for a token: the deciding role's, with every role's explanation."""

    choice: Choice
    asked: str | None
    """The role a user named (``--role``): then it alone is evaluated, and decides."""
    answers: tuple[RoleAnswer, ...]
    hints: tuple[str, ...]
    """For a denial: what to do, most fundamental first, checked against every role."""
    cause: str | None
    """For a denial: the failing conditions of the statement closest to admitting the token."""

    @property
    def deciding(self) -> RoleAnswer | None:
        """The role whose answer is the answer; ``None`` when every role is asked (``anyRole``)."""
        key = self.asked or self.choice.role
        return next((a for a in self.answers if a.role.id == key), None)

    @property
    def admitted_by(self) -> tuple[RoleAnswer, ...]:
        return tuple(a for a in self.answers if a.explanation.allowed)

    @property
    def allowed(self) -> bool:
        deciding = self.deciding
        return deciding.explanation.allowed if deciding is not None else bool(self.admitted_by)

    @property
    def also_admitted_by(self) -> tuple[RoleAnswer, ...]:
        """Other roles that admit the token: were the stack's settings (or the environment) to name them."""
        deciding = self.deciding
        if deciding is None:
            return ()
        return tuple(a for a in self.admitted_by if a is not deciding)


def _likeness(value: str, actual: str | None) -> float:
    return difflib.SequenceMatcher(None, value, actual or "", autojunk=False).ratio()


def _distance(result: trust.StatementResult) -> tuple[bool, bool, int, float]:
    """How far a statement is from admitting the token: another provider is farthest, then a subject it does not
    name (the subject says which stack or environment the token is of), then the count of failing checks, then
    how unlike the token's subject its nearest subject reads."""
    subjects = [c for c in result.failures if c.key.endswith(":sub")]
    likeness = max((_likeness(value, c.actual) for c in subjects for value in c.expected), default=1.0)
    return (
        not result.principal_ok,
        bool(subjects),
        len(result.failures) + (not result.effect_ok) + (not result.action_ok),
        -likeness,
    )


def closest_statement(decision: trust.Decision) -> trust.StatementResult | None:
    """The statement nearest to admitting the token (the first of equals)."""
    return min(decision.statements, key=_distance, default=None)


def cause(result: trust.StatementResult, token_claims: Mapping[str, Any]) -> str:
    """Why ``result``'s statement does not admit the token, in one line (a list of subjects as its nearest one).

    For a token of another provider, only that: its conditions' keys are another issuer's.
    """
    parts = []
    if not result.effect_ok:
        parts.append("Effect is not Allow")
    if not result.principal_ok:
        return f"statement {result.sid}: " + "; ".join([*parts, _principal_text(result, token_claims)])
    if not result.action_ok:
        parts.append(f"Action: expected {trust.ACTION}")
    for condition in result.failures:
        if len(condition.expected) == 1:
            parts.append(
                f"{condition.operator} {condition.key}: expected {json.dumps(condition.expected[0])}, got "
                f"{json.dumps(condition.actual)}"
            )
            continue
        nearest = max(condition.expected, key=lambda value: _likeness(value, condition.actual))
        parts.append(
            f"{condition.operator} {condition.key}: got {json.dumps(condition.actual)}; the nearest of the "
            f"{len(condition.expected)} expected is {json.dumps(nearest)}"
        )
    return f"statement {result.sid}: " + "; ".join(parts)


def _organization_hints(roles: Sequence[Role], token_claims: Mapping[str, Any]) -> list[str]:
    """Hints for a token no role holds and none admits: the token's own causes, then where it is (not) listed."""
    found: list[str] = []
    for role in roles:
        found += [hint for hint in token_hints(role.organization, role.issuer, token_claims) if hint not in found]
    candidates = [r for r in roles if _listable(r.organization, r.issuer, token_claims) is not None]
    subject = claims.parse_subject(str(token_claims.get("sub", "")))
    if not candidates or subject is None:
        return found
    listing: list[str] = []
    listed = False
    for role in candidates:
        trusted = trusted_subjects(role.document)
        if subject.kind == "deployments" and _matching_deployments(trusted, subject):
            listed = True
            listing += [h for h in _listing_hints(trusted, subject, role.where, role.deployments) if h not in listing]
        elif subject.kind == "environments" and _environment_listed(trusted, subject):
            listed = True
    if listed:
        return found + listing
    if len(candidates) == 1:
        return [*found, _not_listed(subject, candidates[0].where)]
    names = ", ".join(role.name for role in candidates)
    if subject.kind == "deployments":
        entry = _entry(project=str(subject.project), stack=str(subject.name))
        return [
            *found,
            f"not listed: stack {subject.project}/{subject.name} is in no entry of any role; add - {entry} to the "
            f"deployments of the role whose ARN its settings name (one of {names})",
        ]
    entry = _entry(project=str(subject.project), name=str(subject.name))
    return [
        *found,
        f"not listed: environment {subject.project}/{subject.name} is in no entry of any role; add - {entry} to the "
        f"environments of the role whose ARN its fn::open::aws-login names (one of {names})",
    ]


def answer(roles: Sequence[Role], token_claims: Mapping[str, Any], asked: str | None = None) -> Answer:
    """Evaluate the token against a config's ``roles`` (or only the one whose id is ``asked``).

    The answer is that of the role :func:`answering_role` chooses (or of ``asked``); when it chooses none,
    the token is admitted when any role admits it. Each role's hints know which role holds the stack or
    environment, so none says to list it elsewhere.
    """
    choice = answering_role(roles, token_claims)
    holder = next((r for r in roles if r.id == choice.role), None)
    answers = tuple(
        RoleAnswer(
            role,
            explain(
                role.organization,
                role.issuer,
                role.document,
                token_claims,
                role.where,
                entries=role.deployments,
                holder=holder.name if holder is not None and holder.id != role.id else None,
            ),
        )
        for role in roles
        if asked is None or role.id == asked
    )
    result = Answer(choice, asked, answers, (), None)
    if result.allowed:
        return result
    deciding = result.deciding
    if deciding is not None:
        found = list(deciding.explanation.hints)
    else:
        found = _organization_hints([a.role for a in answers], token_claims)
    # The cause: the statement nearest to admitting the token, of the deciding role, else of any role.
    nearest = min(
        (
            (a, statement)
            for a in ([deciding] if deciding is not None else answers)
            if (statement := closest_statement(a.explanation.decision)) is not None
        ),
        key=lambda pair: _distance(pair[1]),
        default=None,
    )
    text = None
    if nearest is not None:
        text = cause(nearest[1], token_claims)
        if deciding is None and len(answers) > 1:
            text = f"{nearest[0].role.name}, {text}"
    return Answer(choice, asked, answers, tuple(found), text)


def _principal_text(result: trust.StatementResult, token_claims: Mapping[str, Any]) -> str:
    return (
        f"Principal: expected a token of the provider {result.principal}, got one issued by "
        f"{json.dumps(token_claims.get('iss'))}"
    )


def failure_text(result: trust.StatementResult, token_claims: Mapping[str, Any]) -> list[str]:
    """Each reason one statement does not admit the token, as ``expected ... got ...`` lines."""
    lines = []
    if not result.effect_ok:
        lines.append("Effect is not Allow")
    if not result.principal_ok:
        lines.append(_principal_text(result, token_claims))
    if not result.action_ok:
        lines.append(f"Action: expected {trust.ACTION}")
    for condition in result.failures:
        expected = condition.expected[0] if len(condition.expected) == 1 else list(condition.expected)
        lines.append(
            f"{condition.operator} {condition.key}: expected {json.dumps(expected)}, got {json.dumps(condition.actual)}"
        )
    return lines
