"""The role's trust policy: a builder, and the evaluator that checks tokens against it.

The builder turns one role's entries into an IAM policy document that admits exactly the listed
Deployments stacks and ESC environments. Every statement pins ``aud`` with ``StringEquals``
and constrains ``sub``: exact subjects with ``StringEquals``; patterns with ``StringLike`` in a
statement of their own, because the conditions of one statement are ANDed.

The evaluator applies IAM's ``StringEquals``/``StringLike`` semantics to a token's claims, so
that tests and ``python -m oidc explain`` can say which statement admits a token, or why none
does. Pure functions only: no Pulumi imports.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from oidc import claims
from oidc.model import MAX_TRUST_POLICY_CHARS, DeploymentStack, EscEnvironment

ACTION = "sts:AssumeRoleWithWebIdentity"
POLICY_VERSION = "2012-10-17"


@dataclass(frozen=True)
class Admission:
    """One audience and the subjects admitted with it, before they become statements."""

    sid: str
    audience: str
    subjects: tuple[str, ...]

    @property
    def is_pattern(self) -> bool:
        return self.sid.endswith("Patterns")


_ORDER = (
    "Deployments",
    "DeploymentsPatterns",
    "Environments",
    "EnvironmentsPatterns",
    "EnvironmentsDefaultProject",
    "EnvironmentsDefaultProjectPatterns",
)


def admissions(
    org: str, deployments: Iterable[DeploymentStack], environments: Iterable[EscEnvironment]
) -> list[Admission]:
    """Group every subject one role trusts by statement: one per audience and match kind.

    An exact subject that a pattern with the same audience already admits is left out: the
    tokens admitted stay the same, and the policy shorter (``infra/*`` covers ``infra/prod``).
    """
    groups: dict[str, tuple[str, set[str]]] = {}

    def add(sid: str, audience: str, subject: str) -> None:
        if claims.is_pattern(subject):
            sid += "Patterns"
        groups.setdefault(sid, (audience, set()))[1].add(subject)

    for deployment in deployments:
        for operation in deployment.operations or ("*",):
            subject = claims.deployments_subject(org, deployment.project, deployment.stack, operation)
            add("Deployments", claims.deployments_audience(org), subject)
    for environment in environments:
        legacy = environment.project == claims.LEGACY_ESC_PROJECT
        sid = "EnvironmentsDefaultProject" if legacy else "Environments"
        subject = claims.esc_subject(org, environment.project, environment.name)
        add(sid, claims.esc_audience(org, environment.project), subject)

    kept: dict[str, set[str]] = {}
    for audience in sorted({audience for audience, _ in groups.values()}):
        subjects = {s for sid, (aud, group) in groups.items() if aud == audience for s in group}
        kept[audience] = _uncovered(subjects)
    found = []
    for sid in _ORDER:
        if sid in groups:
            audience, subjects = groups[sid]
            remaining = tuple(sorted(s for s in subjects if s in kept[audience]))
            if remaining:
                found.append(Admission(sid, audience, remaining))
    return found


def _uncovered(subjects: Iterable[str]) -> set[str]:
    """``subjects`` without those another one (a pattern) already covers; what they admit together is the same.

    The most general patterns come first (:func:`_generality`), so each pattern is only compared with the
    patterns kept before it, and each exact subject with the patterns kept. No more are kept than
    :func:`_most_kept`: past that many no policy fits even the highest quota, so the patterns that follow
    stay without being compared with each other (sound: the tokens admitted are the same, the policy only
    longer, and its size check fails). The cost is linear in the number of subjects times that bound.
    """
    distinct = set(subjects)
    if not distinct:
        return set()
    most = _most_kept(distinct)
    kept: list[str] = []
    beyond: list[str] = []
    for pattern in sorted((s for s in distinct if claims.is_pattern(s)), key=_generality):
        if not any(covers(other, pattern) for other in kept):
            (kept if len(kept) <= most else beyond).append(pattern)
    exact = (s for s in distinct if not claims.is_pattern(s))
    return {*kept, *beyond, *(s for s in exact if not any(covers(pattern, s) for pattern in kept))}


def _most_kept(subjects: set[str]) -> int:
    """How many of ``subjects`` a policy of :data:`MAX_TRUST_POLICY_CHARS` could hold at most.

    Each costs at least its text and two quotes, however short the rest of the policy.
    """
    return MAX_TRUST_POLICY_CHARS // (min(len(s) for s in subjects) + 2)


def _generality(pattern: str) -> tuple[int, int, int, str]:
    """An order in which each pattern comes before every pattern it covers, so that none kept is dropped later.

    A pattern covering another has at most as many literal characters: each of its literals matches one
    of the other's. With as many, its literals match all of the other's, so its ``?`` match the other's
    ``?`` (it has at most as many) and its ``*`` runs of the other's wildcards; with as many ``?`` too,
    its ``*`` runs match runs of the other's ``*``, and it covers without the other covering it back only
    when one of its runs matches none (it has more runs of ``*``). Patterns that cover each other agree on
    all three counts; the first of them by text is kept, as the former order (literals, then text) kept it.
    """
    literals = sum(c not in claims.WILDCARDS for c in pattern)
    runs = len(re.findall(r"\*+", pattern))
    return (literals, pattern.count("?"), -runs, pattern)


@functools.lru_cache(maxsize=4096)
def _cover(pattern: str) -> tuple[str, re.Pattern[str]]:
    """The pattern's literal prefix (a quick test), and a regex over the text of another pattern.

    In the regex, * takes any run of the other pattern's symbols; ? one symbol that stands for exactly
    one character (a letter, or ?), never a *; a letter only itself.
    """
    prefix = re.split(r"[*?]", pattern, maxsplit=1)[0]
    regex = "".join(".*" if c == "*" else "[^*]" if c == "?" else re.escape(c) for c in pattern)
    return prefix, re.compile(regex, re.DOTALL)


def covers(pattern: str, subject: str) -> bool:
    """Whether every value ``subject`` matches (a value, or a ``StringLike`` pattern) also matches ``pattern``.

    Sound, not complete: ``True`` proves the containment; ``False`` may miss one (``a*`` covers ``a*b``
    and is found; a containment that needs reasoning across several wildcards at once may not be).
    """
    prefix, regex = _cover(pattern)
    return subject.startswith(prefix) and regex.fullmatch(subject) is not None


def _one_or_many(values: Sequence[str]) -> str | list[str]:
    return values[0] if len(values) == 1 else list(values)


def trust_policy(issuer: str, provider_arn: str, admitted: Iterable[Admission]) -> dict[str, Any]:
    """The trust policy document admitting ``admitted`` through the OIDC provider ``provider_arn`` of ``issuer``."""
    prefix = claims.condition_prefix(issuer)
    statements = []
    for admission in admitted:
        subject_operator = "StringLike" if admission.is_pattern else "StringEquals"
        condition: dict[str, dict[str, str | list[str]]] = {"StringEquals": {f"{prefix}:aud": admission.audience}}
        condition.setdefault(subject_operator, {})[f"{prefix}:sub"] = _one_or_many(admission.subjects)
        statements.append(
            {
                "Sid": admission.sid,
                "Effect": "Allow",
                "Principal": {"Federated": provider_arn},
                "Action": ACTION,
                "Condition": condition,
            }
        )
    return {"Version": POLICY_VERSION, "Statement": statements}


def render(document: Mapping[str, Any]) -> str:
    """Compact, deterministic JSON: what IAM stores and counts against its quota."""
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


def size_problem(
    policy_json: str, max_chars: int, quota_key: str, *, at_least: bool = False, restricting: Sequence[str] = ()
) -> str | None:
    """Why ``policy_json`` does not fit ``max_chars`` (set at ``quota_key``), with what to do; ``None`` when it fits.

    ``at_least``: the policy is the shortest the role's can be (its provider's partition still unknown),
    and the message says so. ``restricting``: the key paths of the role's entries that list ``operations``
    (one subject per operation), whose ``operations`` it may omit to trust all with one.
    """
    size = len(policy_json)
    if size <= max_chars:
        return None
    ways = []
    if restricting:
        shown = ", ".join(restricting[:3]) + (f" and {len(restricting) - 3} more" if len(restricting) > 3 else "")
        ways.append(f"trust every operation of a stack with one subject (omit operations at {shown})")
    ways += [
        "cover several stacks or environments with one * or ? pattern (exact entries it covers then cost nothing)",
        "split the entries across two or more roles (roles.<key>), each with a trust policy of its own",
    ]
    if max_chars < MAX_TRUST_POLICY_CHARS:
        ways.append(
            f"raise the account's IAM quota 'Role trust policy length' (up to {MAX_TRUST_POLICY_CHARS}) in "
            f"Service Quotas and set {quota_key} to the new value"
        )
    advice = "Shorten it: " + "; or ".join(ways)
    over = f"{size - max_chars} over {quota_key} ({max_chars})"
    return f"the role's trust policy would be {'at least ' if at_least else ''}{size} characters, {over}. {advice}"


# --- evaluation -------------------------------------------------------------------------


@dataclass(frozen=True)
class ConditionResult:
    """One condition of a statement, checked against a token."""

    operator: str
    key: str
    expected: tuple[str, ...]
    actual: str | None
    passed: bool


@dataclass(frozen=True)
class StatementResult:
    """Whether one statement admits the token, and each check that decided it."""

    sid: str
    effect_ok: bool
    principal: str
    principal_ok: bool
    action_ok: bool
    conditions: tuple[ConditionResult, ...]

    @property
    def allowed(self) -> bool:
        return self.effect_ok and self.principal_ok and self.action_ok and all(c.passed for c in self.conditions)

    @property
    def failures(self) -> tuple[ConditionResult, ...]:
        return tuple(c for c in self.conditions if not c.passed)


@dataclass(frozen=True)
class Decision:
    """The policy's answer for a token: the first statement that admits it, if any."""

    statements: tuple[StatementResult, ...]

    @property
    def allowed(self) -> bool:
        return self.matched is not None

    @property
    def matched(self) -> StatementResult | None:
        return next((s for s in self.statements if s.allowed), None)


@functools.lru_cache(maxsize=4096)
def _like(pattern: str) -> re.Pattern[str]:
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern), re.DOTALL)


def string_like(pattern: str, value: str) -> bool:
    """IAM ``StringLike``: case-sensitive, ``*`` any run of characters, ``?`` any one."""
    return _like(pattern).fullmatch(value) is not None


def _matches(operator: str, expected: Iterable[str], actual: str | None) -> bool:
    if actual is None:
        return False
    if operator == "StringEquals":
        return actual in expected
    if operator == "StringLike":
        return any(string_like(pattern, actual) for pattern in expected)
    return False


def _as_tuple(value: Any) -> tuple[str, ...]:
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    return (str(value),)


def claim_text(token_claims: Mapping[str, Any], claim: str) -> str | None:
    """A claim as one string; a list (a multi-audience ``aud``) is joined for display."""
    value = token_claims.get(claim)
    if value is None:
        return None
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


def evaluate(document: Mapping[str, Any], token_claims: Mapping[str, Any]) -> Decision:
    """Check ``token_claims`` (``iss``, ``aud``, ``sub``, ...) against a trust policy.

    Only ``Allow`` statements are modelled (the builder writes no others). A statement admits
    the token when it allows, its principal is the OIDC provider of the token's
    issuer, its action is ``sts:AssumeRoleWithWebIdentity`` and every condition holds: each
    condition key ``<issuer host/path>:<claim>`` is compared with that claim of the token.
    """
    issuer = str(token_claims.get("iss", ""))
    token_prefix = claims.condition_prefix(issuer)
    results = []
    for statement in document.get("Statement", []):
        principal = str(statement.get("Principal", {}).get("Federated", ""))
        principal_ok = bool(issuer) and principal.endswith(f":oidc-provider/{token_prefix}")
        action_ok = ACTION in _as_tuple(statement.get("Action", ()))
        checks = []
        for operator, keys in statement.get("Condition", {}).items():
            for key, expected in keys.items():
                prefix, _, claim = key.rpartition(":")
                actual = claim_text(token_claims, claim) if prefix == token_prefix else None
                allowed = _as_tuple(expected)
                checks.append(ConditionResult(operator, key, allowed, actual, _matches(operator, allowed, actual)))
        results.append(
            StatementResult(
                sid=str(statement.get("Sid", "")),
                effect_ok=statement.get("Effect") == "Allow",
                principal=principal,
                principal_ok=principal_ok,
                action_ok=action_ok,
                conditions=tuple(checks),
            )
        )
    return Decision(tuple(results))
