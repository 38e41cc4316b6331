"""Property tests of the trust policy over generated valid settings.

Settings are generated as raw config and loaded with ``load_settings``. Each ``@given`` test runs
the number of examples of the active hypothesis profile (registered in ``tests/conftest.py``):
100 under ``default`` and 500 under ``ci``, which is loaded when ``CI`` is set;
``HYPOTHESIS_PROFILE`` selects another.

Whether a token should be admitted is decided by a model of the settings, independent of the
builder: a Deployments token when the org and audience are the configured ones and some entry's
project, stack and operations match it; an ESC token when some entry's audience is the token's
and the entry's environment path (``<project>/<name>``, or ``<name>`` in ``default``) matches
the token's, with ``*``/``?`` matching as IAM's ``StringLike`` does.

Subsumption (an exact subject or pattern another pattern of the same audience covers is left out)
is checked against a reference built here from every subject of the entries, grouped as the
builder grouped them before it subsumed: both policies must admit the same tokens.
"""

from __future__ import annotations

import copy
import fnmatch
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oidc import claims, testing, trust
from oidc.durations import format_duration
from oidc.model import MAX_TRUST_POLICY_CHARS, ConfigError, RoleSettings, Settings
from oidc.settings import load_settings
from tests.conftest import run_component

ACCOUNT = testing.PLACEHOLDER_ACCOUNT
NAME_CHARS = "abA1-_."
ORG_FIRST = "ab1"
ORG_CHARS = "ab1-_."
LOOK_ALIKES = ("acme", "acme2", "acm", "acme-corp", "a")
ISSUERS = (claims.DEFAULT_ISSUER, "https://pulumi.example.com/oidc")

# --- strategies ---------------------------------------------------------------------------

names = st.text(alphabet=NAME_CHARS, min_size=1, max_size=4)
patterns = st.builds(
    lambda head, wildcard, tail: head + wildcard + tail,
    st.text(alphabet=NAME_CHARS, max_size=3),
    st.sampled_from(["*", "?"]),
    st.text(alphabet=NAME_CHARS + "*?", max_size=3),
)
names_or_patterns = st.one_of(names, names, patterns)
generated_orgs = st.builds(
    lambda first, rest: first + rest, st.sampled_from(ORG_FIRST), st.text(alphabet=ORG_CHARS, max_size=4)
)
orgs = st.one_of(st.sampled_from(LOOK_ALIKES), generated_orgs)
esc_projects = st.one_of(st.just(claims.LEGACY_ESC_PROJECT), names)


def related_orgs(org: str) -> list[str]:
    """Orgs that look like ``org`` and are not it: its prefixes, extensions, upper case, the look-alikes."""
    candidates = [org[:length] for length in range(1, len(org))]
    candidates += [f"{org}2", f"{org}-malicious", org.upper(), *LOOK_ALIKES]
    return sorted({other for other in candidates if other != org})


def other_orgs(org: str) -> st.SearchStrategy[str]:
    """Any org that is not ``org``, extensions of it included."""
    extensions = st.text(alphabet=ORG_CHARS, min_size=1, max_size=3).map(lambda tail: org + tail)
    return st.one_of(extensions, generated_orgs).filter(lambda other: other != org)


def duration_text(minutes: int, form: int) -> str:
    return f"{minutes}m" if form == 0 else format_duration(minutes * 60)


@st.composite
def durations(draw: st.DrawFn, max_minutes: int) -> str:
    return duration_text(draw(st.integers(15, max_minutes)), draw(st.integers(0, 1)))


@st.composite
def deployment_entries(draw: st.DrawFn, max_minutes: int) -> dict[str, Any]:
    entry: dict[str, Any] = {"project": draw(names_or_patterns), "stack": draw(names_or_patterns)}
    operations = draw(st.none() | st.lists(st.sampled_from(claims.OPERATIONS), min_size=1, unique=True))
    if operations is not None:
        entry["operations"] = operations
    if not claims.is_pattern(entry["project"]) and not claims.is_pattern(entry["stack"]):
        if draw(st.booleans()):
            entry["manageSettings"] = False
        elif draw(st.booleans()):
            entry["duration"] = draw(durations(max_minutes))
    return entry


@st.composite
def environment_entries(draw: st.DrawFn, max_minutes: int) -> dict[str, Any]:
    entry: dict[str, Any] = {"project": draw(esc_projects), "name": draw(names_or_patterns)}
    if not claims.is_pattern(entry["name"]) and draw(st.booleans()):
        entry["duration"] = draw(durations(max_minutes))
    return entry


@st.composite
def configs(draw: st.DrawFn) -> dict[str, Any]:
    """Raw config values of valid settings."""
    values: dict[str, Any] = {"organization": draw(orgs)}
    max_minutes = 60
    if draw(st.booleans()):
        max_minutes = draw(st.integers(60, 720))
        values["role"] = {"maxSessionDuration": duration_text(max_minutes, draw(st.integers(0, 1)))}
    issuer = draw(st.sampled_from((None, *ISSUERS)))
    if issuer is not None:
        values["issuer"] = issuer
    audiences = draw(st.lists(st.one_of(orgs, orgs.map(lambda org: f"aws:{org}")), max_size=3, unique=True))
    if audiences:
        values["oidcProvider"] = {"audiences": audiences}
    deployments = draw(
        st.lists(deployment_entries(max_minutes), max_size=4, unique_by=lambda e: (e["project"], e["stack"]))
    )
    environments = draw(
        st.lists(
            environment_entries(max_minutes),
            min_size=0 if deployments else 1,
            max_size=4,
            unique_by=lambda e: (e["project"], e["name"]),
        )
    )
    if deployments or draw(st.booleans()):
        values["deployments"] = deployments
    if environments or draw(st.booleans()):
        values["environments"] = environments
    return values


@st.composite
def generalized(draw: st.DrawFn, text: str) -> str:
    """``text`` with some characters replaced by ``*`` or ``?``, and some ``*`` inserted."""
    chars = [draw(st.sampled_from([c, "*", "?"])) if draw(st.booleans()) else c for c in text]
    for _ in range(draw(st.integers(0, 2))):
        chars.insert(draw(st.integers(0, len(chars))), "*")
    return "".join(chars)


@st.composite
def overlapping_configs(draw: st.DrawFn) -> dict[str, Any]:
    """Valid config values in which patterns often cover other entries: ``configs()`` plus generalized copies.

    A copy keeps or generalizes the project and stack (or name) of an entry; ``default``-project copies of
    named-project environments, and ``{project: default, name: "*"}``, test that audiences keep them apart.
    """
    values = draw(configs())
    deployments = list(values.get("deployments", []))
    environments = list(values.get("environments", []))
    for d in list(deployments):
        if draw(st.booleans()):
            project = draw(st.one_of(st.just(d["project"]), st.just("*"), generalized(d["project"])))
            stack = draw(st.one_of(st.just("*"), generalized(d["stack"])))
            copy_entry: dict[str, Any] = {"project": project, "stack": stack}
            operations = draw(st.none() | st.lists(st.sampled_from(claims.OPERATIONS), min_size=1, unique=True))
            if operations is not None:
                copy_entry["operations"] = operations
            if claims.is_pattern(project + stack) and (project, stack) not in {
                (e["project"], e["stack"]) for e in deployments
            }:
                deployments.append(copy_entry)
    for e in list(environments):
        if draw(st.booleans()):
            project = draw(st.sampled_from([e["project"], claims.LEGACY_ESC_PROJECT]))
            name = draw(st.one_of(st.just("*"), generalized(e["name"])))
            if claims.is_pattern(name) and (project, name) not in {(o["project"], o["name"]) for o in environments}:
                environments.append({"project": project, "name": name})
    if draw(st.booleans()) and (claims.LEGACY_ESC_PROJECT, "*") not in {
        (o["project"], o["name"]) for o in environments
    }:
        environments.append({"project": claims.LEGACY_ESC_PROJECT, "name": "*"})
    order = draw(st.randoms(use_true_random=False))
    order.shuffle(deployments)
    order.shuffle(environments)
    return {**values, "deployments": deployments, "environments": environments}


def load(values: dict[str, Any]) -> Settings:
    return load_settings(values)


def provider_arn(settings: Settings) -> str:
    return claims.provider_arn("aws", ACCOUNT, settings.issuer)


def the_role(settings: Settings) -> RoleSettings:
    """The one role of a form-A config."""
    [role] = settings.roles
    return role


def policy_of(settings: Settings) -> dict[str, Any]:
    role = the_role(settings)
    admitted = trust.admissions(settings.organization, role.deployments, role.environments)
    return trust.trust_policy(settings.issuer, provider_arn(settings), admitted)


# --- tokens and the model of what the settings admit -----------------------------------------


@dataclass(frozen=True)
class DeployToken:
    org: str
    project: str
    stack: str
    operation: str
    aud: str

    def claims(self, issuer: str) -> dict[str, str]:
        sub = claims.deployments_subject(self.org, self.project, self.stack, self.operation)
        return {"iss": issuer, "aud": self.aud, "sub": sub}


@dataclass(frozen=True)
class EscToken:
    org: str
    project: str
    name: str
    aud: str

    def claims(self, issuer: str) -> dict[str, str]:
        return {"iss": issuer, "aud": self.aud, "sub": claims.esc_subject(self.org, self.project, self.name)}


Token = DeployToken | EscToken


def instance(pattern: str) -> str:
    """A concrete name that ``pattern`` matches."""
    return pattern.replace("*", "x").replace("?", "y")


def matches(pattern: str, value: str) -> bool:
    return fnmatch.fnmatchcase(value, pattern)


def admitted(settings: Settings, token: Token) -> bool:
    org = settings.organization
    if token.org != org:
        return False
    if isinstance(token, DeployToken):
        return token.aud == claims.deployments_audience(org) and any(
            matches(d.project, token.project)
            and matches(d.stack, token.stack)
            and (d.operations is None or token.operation in d.operations)
            for d in the_role(settings).deployments
        )
    path = claims.esc_environment_path(token.project, token.name)
    return any(
        token.aud == claims.esc_audience(org, e.project)
        and matches(claims.esc_environment_path(e.project, e.name), path)
        for e in the_role(settings).environments
    )


def configured_tokens(settings: Settings, org: str | None = None) -> Iterator[Token]:
    """A token for every configured stack and operation and every environment, from ``org``."""
    org = org or settings.organization
    for d in the_role(settings).deployments:
        for operation in d.operations or claims.OPERATIONS:
            yield DeployToken(org, instance(d.project), instance(d.stack), operation, claims.deployments_audience(org))
    for e in the_role(settings).environments:
        yield EscToken(org, e.project, instance(e.name), claims.esc_audience(org, e.project))


def look_alikes(name: str, other: str) -> list[str]:
    """Names near ``name``: ``other``, ``name`` with its case swapped, one character longer or shorter."""
    return [other, name.swapcase(), f"{name}z", f"z{name}", *([name[:-1], name[1:]] if len(name) > 1 else [])]


def allowed(policy: dict[str, Any], issuer: str, token: Token) -> bool:
    return trust.evaluate(policy, token.claims(issuer)).allowed


def subjects(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


# --- properties ----------------------------------------------------------------------------


@given(configs())
def test_every_statement_allows_web_identity_from_the_provider_pinning_aud_exactly_and_constraining_sub(
    values: dict[str, Any],
) -> None:
    settings = load(values)
    policy = policy_of(settings)
    org = settings.organization
    aud_key = f"{settings.condition_prefix}:aud"
    sub_key = f"{settings.condition_prefix}:sub"

    assert policy["Version"] == "2012-10-17"
    assert policy["Statement"]
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
        assert statement["Principal"] == {"Federated": provider_arn(settings)}
        condition = statement["Condition"]
        assert set(condition) <= {"StringEquals", "StringLike"}
        assert condition["StringEquals"][aud_key] in (org, f"aws:{org}")
        assert "StringLike" not in condition or aud_key not in condition["StringLike"]
        [(operator, sub)] = [(operator, keys[sub_key]) for operator, keys in condition.items() if sub_key in keys]
        assert subjects(sub)
        assert all(claims.is_pattern(s) == (operator == "StringLike") for s in subjects(sub))
        assert set(condition["StringEquals"]) | set(condition.get("StringLike", {})) == {aud_key, sub_key}


@given(configs())
def test_every_configured_stack_operation_and_environment_is_allowed(values: dict[str, Any]) -> None:
    settings = load(values)
    policy = policy_of(settings)

    for token in configured_tokens(settings):
        decision = trust.evaluate(policy, token.claims(settings.issuer))
        assert decision.allowed, token


@given(configs(), st.data())
def test_deployments_token_differing_in_one_part_is_denied_unless_another_entry_admits_it(
    values: dict[str, Any], data: st.DataObject
) -> None:
    settings = load(values)
    policy = policy_of(settings)
    org = settings.organization
    other_project = data.draw(names, label="other project")
    other_stack = data.draw(names, label="other stack")
    other_operation = data.draw(st.sampled_from(claims.OPERATIONS), label="other operation")

    for token in configured_tokens(settings):
        if not isinstance(token, DeployToken):
            continue
        wrong_audience = replace(token, aud=f"aws:{org}")
        mutants = [
            *(replace(token, project=project) for project in look_alikes(token.project, other_project)),
            *(replace(token, stack=stack) for stack in look_alikes(token.stack, other_stack)),
            replace(token, operation=other_operation),
            wrong_audience,
        ]
        for mutant in mutants:
            assert allowed(policy, settings.issuer, mutant) == admitted(settings, mutant), mutant
        assert not allowed(policy, settings.issuer, wrong_audience)


@given(configs(), st.data())
def test_esc_token_differing_in_one_part_is_denied_unless_another_entry_admits_it(
    values: dict[str, Any], data: st.DataObject
) -> None:
    settings = load(values)
    policy = policy_of(settings)
    org = settings.organization
    other_project = data.draw(esc_projects, label="other project")
    other_name = data.draw(names, label="other name")

    for token in configured_tokens(settings):
        if not isinstance(token, EscToken):
            continue
        other_audience = org if token.aud == f"aws:{org}" else f"aws:{org}"
        wrong_audience = replace(token, aud=other_audience)
        mutants = [
            *(
                EscToken(org, project, token.name, claims.esc_audience(org, project))
                for project in look_alikes(token.project, other_project)
            ),
            *(replace(token, name=name) for name in look_alikes(token.name, other_name)),
            wrong_audience,
        ]
        for mutant in mutants:
            assert allowed(policy, settings.issuer, mutant) == admitted(settings, mutant), mutant
        if token.project == claims.LEGACY_ESC_PROJECT:
            assert not allowed(policy, settings.issuer, wrong_audience)


@given(configs(), st.data())
def test_esc_named_project_token_with_the_bare_org_audience_is_denied_when_no_default_project_entry_is_listed(
    values: dict[str, Any], data: st.DataObject
) -> None:
    values = {**values, "environments": [e for e in values.get("environments", []) if e["project"] != "default"]}
    if not values["environments"] and not values.get("deployments"):
        values["environments"] = [{"project": data.draw(names, label="project"), "name": data.draw(names_or_patterns)}]
    settings = load(values)
    policy = policy_of(settings)
    org = settings.organization

    for token in configured_tokens(settings):
        if isinstance(token, EscToken):
            assert not allowed(policy, settings.issuer, EscToken(org, token.project, token.name, org)), token


@given(configs(), st.data())
def test_no_token_of_another_org_is_allowed(values: dict[str, Any], data: st.DataObject) -> None:
    settings = load(values)
    policy = policy_of(settings)
    others = [*related_orgs(settings.organization), data.draw(other_orgs(settings.organization), label="other org")]

    for other in others:
        for ours, theirs in zip(configured_tokens(settings), configured_tokens(settings, org=other), strict=True):
            for token in (theirs, replace(theirs, aud=ours.aud), replace(ours, aud=theirs.aud)):
                assert not allowed(policy, settings.issuer, token), token


def reordered(values: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    """``values`` with every list permuted and every object's keys in reverse order."""

    def reverse_keys(entry: dict[str, Any]) -> dict[str, Any]:
        return dict(reversed(list(entry.items())))

    result = reverse_keys(copy.deepcopy(values))
    for key in ("deployments", "environments"):
        if key in result:
            result[key] = [reverse_keys(e) for e in data.draw(st.permutations(result[key]), label=key)]
    for entry in result.get("deployments", []):
        if "operations" in entry:
            entry["operations"] = data.draw(st.permutations(entry["operations"]), label="operations")
    if "oidcProvider" in result:
        audiences = data.draw(st.permutations(result["oidcProvider"]["audiences"]), label="audiences")
        result["oidcProvider"] = {"audiences": audiences}
    return result


@given(configs(), st.data())
def test_render_is_byte_identical_when_built_twice_and_when_the_config_is_reordered(
    values: dict[str, Any], data: st.DataObject
) -> None:
    first = trust.render(policy_of(load(values)))

    assert trust.render(policy_of(load(values))) == first
    assert trust.render(policy_of(load(reordered(values, data)))) == first


@given(configs())
def test_trust_policy_ignores_provider_audiences_durations_and_role_settings(values: dict[str, Any]) -> None:
    stripped = copy.deepcopy(values)
    stripped.pop("oidcProvider", None)
    stripped.pop("role", None)
    for entry in [*stripped.get("deployments", []), *stripped.get("environments", [])]:
        entry.pop("duration", None)
        entry.pop("manageSettings", None)

    assert trust.render(policy_of(load(values))) == trust.render(policy_of(load(stripped)))


quota_keys = st.one_of(
    st.just("trustPolicyMaxChars"),
    st.from_regex(r"[a-z0-9][a-z0-9-]{0,31}", fullmatch=True).map(lambda key: f"accounts.{key}.trustPolicyMaxChars"),
)


@given(configs(), st.integers(-1, 1), st.integers(1, MAX_TRUST_POLICY_CHARS), quota_keys)
def test_size_problem_is_reported_iff_the_compact_json_is_longer_than_the_maximum(
    values: dict[str, Any], delta: int, maximum: int, quota_key: str
) -> None:
    policy = policy_of(load(values))
    text = trust.render(policy)
    size = len(text)

    assert text == json.dumps(policy, separators=(",", ":"), ensure_ascii=False)
    assert (trust.size_problem(text, size + delta, quota_key) is None) == (size <= size + delta)
    assert (trust.size_problem(text, maximum, quota_key) is None) == (size <= maximum)
    if size + delta < size:
        problem = str(trust.size_problem(text, size + delta, quota_key))
        assert f"{size} characters, {-delta} over {quota_key} ({size + delta})" in problem


@given(configs(), st.integers(1, MAX_TRUST_POLICY_CHARS), quota_keys)
def test_size_problem_suggests_splitting_always_and_raising_the_quota_only_below_its_highest_value(
    values: dict[str, Any], maximum: int, quota_key: str
) -> None:
    text = trust.render(policy_of(load(values)))
    longer = text * (MAX_TRUST_POLICY_CHARS // len(text) + 1)
    problem = trust.size_problem(longer, maximum, quota_key)

    assert problem is not None
    assert f"{len(longer)} characters, {len(longer) - maximum} over {quota_key} ({maximum})" in problem
    assert "split the entries across two or more roles (roles.<key>)" in problem
    below = maximum < MAX_TRUST_POLICY_CHARS
    assert ("raise the account's IAM quota 'Role trust policy length' (up to 4096)" in problem) == below
    assert (f"set {quota_key} to the new value" in problem) == below


# --- subsumption: leaving out covered subjects changes no admission -----------------------------

UNSUBSUMED_ORDER = (
    "Deployments",
    "DeploymentsPatterns",
    "Environments",
    "EnvironmentsPatterns",
    "EnvironmentsDefaultProject",
    "EnvironmentsDefaultProjectPatterns",
)


def unsubsumed_admissions(org: str, role: RoleSettings) -> list[trust.Admission]:
    """Every subject of ``role``, grouped as ``trust.admissions`` grouped them before subsumption.

    One statement per audience and match kind, every subject kept, sorted: the reference the
    subsumed policy is compared with.
    """
    groups: dict[str, tuple[str, set[str]]] = {}

    def add(sid: str, audience: str, subject: str) -> None:
        groups.setdefault(sid + ("Patterns" if claims.is_pattern(subject) else ""), (audience, set()))[1].add(subject)

    for d in role.deployments:
        for operation in d.operations or ("*",):
            add("Deployments", org, claims.deployments_subject(org, d.project, d.stack, operation))
    for e in role.environments:
        sid = "EnvironmentsDefaultProject" if e.project == claims.LEGACY_ESC_PROJECT else "Environments"
        add(sid, claims.esc_audience(org, e.project), claims.esc_subject(org, e.project, e.name))
    return [
        trust.Admission(sid, groups[sid][0], tuple(sorted(groups[sid][1]))) for sid in UNSUBSUMED_ORDER if sid in groups
    ]


def instances(pattern: str) -> list[str]:
    """Concrete names ``pattern`` matches (each ``*`` empty, one or several characters), and the pattern's text."""
    variants = {
        pattern.replace("*", "").replace("?", "A"),
        instance(pattern),
        pattern.replace("*", "a-1.").replace("?", "_"),
        pattern,
    }
    return sorted(variant for variant in variants if variant)


def candidate_tokens(settings: Settings, data: st.DataObject) -> list[Token]:
    """Tokens from the entries' values and their instances, near misses of each, and random ones."""
    org = settings.organization
    role = the_role(settings)
    other = data.draw(names, label="other name")
    other_operation = data.draw(st.sampled_from(claims.OPERATIONS), label="other operation")
    audiences = (org, f"aws:{org}")
    found: list[Token] = []
    for d in role.deployments:
        operations = (*(d.operations or claims.OPERATIONS[:1]), other_operation)
        for project in instances(d.project):
            for stack in instances(d.stack):
                found += [DeployToken(org, project, stack, operation, org) for operation in operations]
                found.append(DeployToken(org, project, stack, operations[0], f"aws:{org}"))
        near = DeployToken(org, instance(d.project), instance(d.stack), operations[0], org)
        found += [replace(near, project=project) for project in look_alikes(near.project, other)]
        found += [replace(near, stack=stack) for stack in look_alikes(near.stack, other)]
    for e in role.environments:
        for project in (e.project, claims.LEGACY_ESC_PROJECT, other):
            found += [EscToken(org, project, name, aud) for name in instances(e.name) for aud in audiences]
        found += [
            EscToken(org, e.project, name, aud) for name in look_alikes(instance(e.name), other) for aud in audiences
        ]
    for _ in range(data.draw(st.integers(0, 20), label="random tokens")):
        aud = data.draw(st.sampled_from(audiences), label="aud")
        if data.draw(st.booleans(), label="deployments"):
            project, stack = data.draw(names, label="project"), data.draw(names, label="stack")
            found.append(DeployToken(org, project, stack, data.draw(st.sampled_from(claims.OPERATIONS)), aud))
        else:
            found.append(EscToken(org, data.draw(esc_projects, label="project"), data.draw(names, label="name"), aud))
    return list(dict.fromkeys(found))


@given(overlapping_configs(), st.data())
def test_subsumption_admits_exactly_the_tokens_of_the_unsubsumed_policy_with_a_policy_never_longer(
    values: dict[str, Any], data: st.DataObject
) -> None:
    settings = load(values)
    org = settings.organization
    role = the_role(settings)
    subsumed = trust.admissions(org, role.deployments, role.environments)
    reference = unsubsumed_admissions(org, role)
    arn = provider_arn(settings)
    subsumed_policy = trust.trust_policy(settings.issuer, arn, subsumed)
    reference_policy = trust.trust_policy(settings.issuer, arn, reference)

    assert len(trust.render(subsumed_policy)) <= len(trust.render(reference_policy))
    by_sid = {a.sid: a for a in reference}
    for kept in subsumed:
        assert kept.audience == by_sid[kept.sid].audience
        assert set(kept.subjects) <= set(by_sid[kept.sid].subjects)
    for audience in {a.audience for a in subsumed}:
        left = [s for a in subsumed if a.audience == audience for s in a.subjects]
        patterns = [p for p in left if claims.is_pattern(p)]
        exact = [s for s in left if not claims.is_pattern(s)]
        assert not [(p, s) for p in patterns for s in exact if trust.string_like(p, s)]
        assert not [(p, s) for p in patterns for s in patterns if p != s and trust.covers(p, s)]
    for token in candidate_tokens(settings, data):
        expected = allowed(reference_policy, settings.issuer, token)
        assert allowed(subsumed_policy, settings.issuer, token) == expected, token


covered_texts = st.text(alphabet="ab*?", max_size=5)


@st.composite
def instantiated(draw: st.DrawFn, pattern: str) -> str:
    """A value ``pattern`` matches: each ``*`` a run of characters, each ``?`` one."""
    runs = st.text(alphabet="ab*?", max_size=3)
    return "".join(draw(runs) if c == "*" else draw(st.sampled_from("ab*?")) if c == "?" else c for c in pattern)


@given(covered_texts, st.data())
def test_covers_is_sound_and_exact_for_values(subject: str, data: st.DataObject) -> None:
    pattern = data.draw(st.one_of(generalized(subject), generalized(subject), covered_texts), label="pattern")
    drawn = data.draw(st.lists(instantiated(subject), min_size=1, max_size=10), label="values")
    shortest = subject.replace("*", "").replace("?", "a")
    longer = subject.replace("*", "ab*").replace("?", "*")
    values = [shortest, longer, *drawn]
    assert all(trust.string_like(subject, value) for value in values), values

    if trust.covers(pattern, subject):
        assert all(trust.string_like(pattern, value) for value in values), values
    assert all(
        trust.covers(pattern, value) == trust.string_like(pattern, value)
        for value in values
        if "*" not in value and "?" not in value
    )
    if not claims.is_pattern(subject):
        assert trust.covers(pattern, subject) == trust.string_like(pattern, subject)


SIZED = {
    "created-provider": (
        {
            "organization": "acme",
            "deployments": [
                {"project": "infra", "stack": "prod", "operations": ["preview", "update"]},
                {"project": "infra", "stack": "review-*"},
            ],
            "environments": [{"project": "aws", "name": "dev"}, {"project": "default", "name": "legacy"}],
        },
        {},
    ),
    "reused-provider-custom-issuer": (
        {
            "organization": "acme2",
            "issuer": "https://pulumi.example.com/oidc",
            "oidcProvider": {"arn": "arn:aws:iam::210987654321:oidc-provider/pulumi.example.com/oidc"},
            "environments": [{"project": "aws", "name": "team-*"}],
        },
        {"existing_client_ids": ["acme2", "aws:acme2"], "account_id": "210987654321"},
    ),
}


@pytest.mark.parametrize("delta", [-1, 0, 1], ids=["one-over", "exact", "one-under"])
@pytest.mark.parametrize(("values", "mocks"), SIZED.values(), ids=SIZED.keys())
def test_component_rejects_the_trust_policy_at_trust_policy_max_chars_iff_it_is_longer(
    values: dict[str, Any], mocks: dict[str, Any], delta: int
) -> None:
    size = len(run_component(load(values), **mocks).of_type("aws:iam/role:Role")[0].inputs["assumeRolePolicy"])
    limited = load({**values, "trustPolicyMaxChars": size + delta})

    if delta < 0:
        with pytest.raises(ConfigError) as raised:
            run_component(limited, **mocks)
        assert [issue.path for issue in raised.value.issues] == ["trustPolicyMaxChars"]
        assert f"{size} characters, {-delta} over trustPolicyMaxChars ({size + delta})" in str(raised.value)
    else:
        [role] = run_component(limited, **mocks).of_type("aws:iam/role:Role")
        assert len(role.inputs["assumeRolePolicy"]) == size
