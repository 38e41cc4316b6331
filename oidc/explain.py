"""Why a token would (not) be let in: the trust policy's answer with named causes.

Given one role's trust policy (with its organization and issuer) and a token's claims, it
reports the statement that admits the token, or each statement's failing conditions, the
nearest subject the policy does trust, and hints for the known traps: the audience of ESC
versus Deployments tokens, the unpinned ``<yaml>`` subject, another issuer, the organization's
case, and stacks or environments that are valid but not listed. Pure functions only.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

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


def _listing_hints(trusted: list[claims.Subject], subject: claims.Subject, where: str) -> list[str]:
    """Hints for a subject of the configured organization that no trusted subject names."""
    if subject.kind == "deployments":
        assert subject.project is not None
        assert subject.name is not None
        matching = [
            t
            for t in trusted
            if t.kind == "deployments" and _like(t.project, subject.project) and _like(t.name, subject.name)
        ]
        if not matching:
            entry = _entry(project=subject.project, stack=subject.name)
            return [
                f"not listed: stack {subject.project}/{subject.name} is in no entry; "
                f"add to {where}deployments: - {entry}"
            ]
        operations = sorted({t.operation for t in matching if t.operation is not None})
        if not any(_like(operation, subject.operation or "") for operation in operations):
            return [
                f"operation: {subject.project}/{subject.name} is trusted for operations {operations}, not "
                f"{subject.operation!r}; add it to the entry's operations, or omit operations to trust every "
                "operation"
            ]
        return []
    if subject.project is None or subject.name is None:
        return []
    path = claims.esc_environment_path(subject.project, subject.name)
    if any(
        t.kind == "environments"
        and t.project is not None
        and t.audience == subject.audience
        and _like(claims.esc_environment_path(t.project, t.name or ""), path)
        for t in trusted
    ):
        return []
    entry = _entry(project=subject.project, name=subject.name)
    return [
        f"not listed: environment {subject.project}/{subject.name} is in no entry; "
        f"add to {where}environments: - {entry}"
    ]


def hints(
    organization: str, issuer: str, document: Mapping[str, Any], token_claims: Mapping[str, Any], where: str = ""
) -> list[str]:
    """Named causes of a denial by ``document``, most fundamental first.

    ``where`` is the key path prefix of the role's entries (``roles.deploy.``), for the entry to add.
    """
    found: list[str] = []
    token_issuer = token_claims.get("iss")
    if token_issuer is not None and token_issuer != issuer:
        found.append(
            f"issuer: the token was issued by {token_issuer!r}, but this stack trusts {issuer!r} (config key "
            "issuer); the role's provider must be registered for the token's issuer"
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
            found.append(f"organization: the token comes from {subject.org!r}; this stack trusts only {org!r}")
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
    if subject.org == org and subject.pinned:
        found.extend(_listing_hints(trusted_subjects(document), subject, where))
    return found


def _describe(subject: claims.Subject) -> str:
    if subject.kind == "deployments":
        return "Deployments"
    if subject.project == claims.LEGACY_ESC_PROJECT:
        return "ESC ('default' project)"
    return f"ESC (project {subject.project!r})" if subject.project else "ESC"


def explain(
    organization: str, issuer: str, document: Mapping[str, Any], token_claims: Mapping[str, Any], where: str = ""
) -> Explanation:
    """Evaluate ``token_claims`` against ``document``, one role's trust policy for ``organization`` and ``issuer``."""
    decision = trust.evaluate(document, token_claims)
    if decision.allowed:
        return Explanation(decision, None, ())
    sub = str(token_claims.get("sub", ""))
    return Explanation(
        decision, nearest_subject(decision, sub), tuple(hints(organization, issuer, document, token_claims, where))
    )


def failure_text(result: trust.StatementResult, token_claims: Mapping[str, Any]) -> list[str]:
    """Each reason one statement does not admit the token, as ``expected ... got ...`` lines."""
    lines = []
    if not result.effect_ok:
        lines.append("Effect is not Allow")
    if not result.principal_ok:
        lines.append(
            f"Principal: expected a token of the provider {result.principal}, got one issued by "
            f"{json.dumps(token_claims.get('iss'))}"
        )
    if not result.action_ok:
        lines.append(f"Action: expected {trust.ACTION}")
    for condition in result.failures:
        expected = condition.expected[0] if len(condition.expected) == 1 else list(condition.expected)
        lines.append(
            f"{condition.operator} {condition.key}: expected {json.dumps(expected)}, got {json.dumps(condition.actual)}"
        )
    return lines
