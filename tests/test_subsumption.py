"""Subsumption at scale: a role of thousands of entries ends in the size error within seconds.

No quota (at most 4,096 characters) holds more than about 65 subjects, so the subsumption keeps no more
patterns than a policy could hold, and compares each subject with those kept only. The policy of every
config that fits is the one the former algorithm (each subject against every pattern kept, most general
first, a new pattern dropping what it covers) gave: :func:`former_uncovered` is that algorithm, compared
on many small inputs. The size check also runs before the guard reads Pulumi Cloud, which
tests/cloud_server.py serves on 127.0.0.1.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oidc import claims, trust
from oidc.cli import offline
from oidc.model import MAX_TRUST_POLICY_CHARS, ConfigError, DeploymentStack, EscEnvironment
from tests.cloud_server import FakeCloud, serving
from tests.conftest import run_component, settings

ORG = "acme"
PROVIDER_ARN = claims.provider_arn("aws", "123456789012", claims.DEFAULT_ISSUER)
TOKEN = "pul-0123456789abcdef0123456789abcdef01234567"
SIDS = (
    "Deployments",
    "DeploymentsPatterns",
    "Environments",
    "EnvironmentsPatterns",
    "EnvironmentsDefaultProject",
    "EnvironmentsDefaultProjectPatterns",
)


def former_uncovered(subjects: Iterable[str]) -> set[str]:
    """The former subsumption, quadratic: the reference for every policy that fits."""
    patterns: list[str] = []
    exact: set[str] = set()
    for subject in sorted(subjects, key=lambda s: (sum(c not in claims.WILDCARDS for c in s), s)):
        if any(trust.covers(pattern, subject) for pattern in patterns):
            continue
        if claims.is_pattern(subject):
            patterns = [p for p in patterns if not trust.covers(subject, p)]
            exact = {e for e in exact if not trust.covers(subject, e)}
            patterns.append(subject)
        else:
            exact.add(subject)
    return exact | set(patterns)


def former_admissions(
    deployments: Iterable[DeploymentStack], environments: Iterable[EscEnvironment]
) -> list[trust.Admission]:
    """:func:`oidc.trust.admissions` as it was, with :func:`former_uncovered`."""
    groups: dict[str, tuple[str, set[str]]] = {}

    def add(sid: str, audience: str, subject: str) -> None:
        groups.setdefault(sid + ("Patterns" if claims.is_pattern(subject) else ""), (audience, set()))[1].add(subject)

    for d in deployments:
        for operation in d.operations or ("*",):
            subject = claims.deployments_subject(ORG, d.project, d.stack, operation)
            add("Deployments", claims.deployments_audience(ORG), subject)
    for e in environments:
        sid = "EnvironmentsDefaultProject" if e.project == claims.LEGACY_ESC_PROJECT else "Environments"
        add(sid, claims.esc_audience(ORG, e.project), claims.esc_subject(ORG, e.project, e.name))
    kept = {
        audience: former_uncovered(s for aud, group in groups.values() if aud == audience for s in group)
        for audience, _ in groups.values()
    }
    found = []
    for sid in SIDS:
        if sid in groups:
            audience, subjects = groups[sid]
            remaining = tuple(sorted(s for s in subjects if s in kept[audience]))
            if remaining:
                found.append(trust.Admission(sid, audience, remaining))
    return found


names = st.text(alphabet="ab*?", min_size=1, max_size=4)
deployment_entries = st.builds(
    DeploymentStack,
    project=st.sampled_from(["p", "q", "*", "p*", "?"]),
    stack=names,
    operations=st.none()
    | st.lists(st.sampled_from(["preview", "update", "*"]), min_size=1, max_size=2, unique=True).map(tuple),
)
environment_entries = st.builds(EscEnvironment, project=st.sampled_from(["aws", "a*", "default"]), name=names)


@given(st.lists(deployment_entries, max_size=12), st.lists(environment_entries, max_size=12))
def test_the_policy_of_every_config_is_the_one_the_former_subsumption_gave(
    deployments: list[DeploymentStack], environments: list[EscEnvironment]
) -> None:
    assert trust.admissions(ORG, deployments, environments) == former_admissions(deployments, environments)


patterns = st.text(alphabet="ab*?", min_size=1, max_size=6)


@given(patterns, patterns)
def test_a_pattern_comes_before_every_pattern_it_alone_covers(first: str, second: str) -> None:
    # The order that lets each pattern be compared only with those kept before it: none is dropped later.
    if trust.covers(first, second) and not trust.covers(second, first):
        assert trust._generality(first) < trust._generality(second)


def covered_pairs(count: int) -> list[DeploymentStack]:
    """``count`` patterns that cover no other pattern, each with a stack it covers."""
    entries = []
    for index in range(count):
        entries += [DeploymentStack("p", f"s-{index:05d}-*"), DeploymentStack("p", f"s-{index:05d}-prod", ("update",))]
    return entries


def test_a_role_holding_more_than_any_policy_can_admits_the_same_tokens_in_a_policy_over_every_quota() -> None:
    entries = covered_pairs(200)

    admitted = trust.admissions(ORG, entries, [])

    reference = former_admissions(entries, [])
    [kept_patterns] = [a.subjects for a in reference if a.is_pattern]
    assert len(kept_patterns) == 200  # 200 subjects: far more than a policy holds
    subjects = {s for a in admitted for s in a.subjects}
    assert {s for a in reference for s in a.subjects} <= subjects
    extra = subjects - {s for a in reference for s in a.subjects}
    assert extra
    assert all(any(trust.string_like(p, s) for p in kept_patterns) for s in extra)
    assert len(trust.render(trust.trust_policy(claims.DEFAULT_ISSUER, PROVIDER_ARN, admitted))) > MAX_TRUST_POLICY_CHARS


def entries_of(count: int) -> list[dict[str, Any]]:
    """``count`` deployments entries: patterns, and concrete stacks they cover."""
    return [
        {"project": "p", "stack": f"s-{index // 2:05d}-*"}
        if index % 2 == 0
        else {"project": "p", "stack": f"s-{index // 2:05d}-prod", "manageSettings": False}
        for index in range(count)
    ]


def test_ten_thousand_entries_end_in_the_size_error_within_seconds() -> None:
    # Measured 0.25 s for loading the settings and the component's checks (2.5 s for python -m oidc plan);
    # the former subsumption took minutes from 4,300 entries.
    start = time.perf_counter()
    configured = settings(deployments=entries_of(10_000))
    recording = None

    with pytest.raises(ConfigError) as raised:
        recording = run_component(configured)

    assert time.perf_counter() - start < 30
    assert recording is None
    [issue] = raised.value.issues
    assert issue.path == "trustPolicyMaxChars"
    assert issue.message.startswith("the role's trust policy would be at least ")


def test_ten_thousand_pattern_entries_give_their_admissions_within_seconds() -> None:
    entries = [DeploymentStack("p", f"s-{index:05d}-*") for index in range(10_000)]
    start = time.perf_counter()

    admitted = trust.admissions(ORG, entries, [])

    assert time.perf_counter() - start < 10  # measured 0.3 to 1.2 s
    assert sum(len(a.subjects) for a in admitted) == 10_000


@pytest.fixture
def pulumi_cloud(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeCloud]:
    with serving() as server:
        monkeypatch.setenv("PULUMI_ACCESS_TOKEN", TOKEN)
        monkeypatch.setenv("PULUMI_BACKEND_URL", server.url)
        server.stack("acme", "pulumi-aws-oidc", "dev")
        yield server


def test_a_trust_policy_over_its_quota_fails_before_pulumi_cloud_or_aws_is_read(pulumi_cloud: FakeCloud) -> None:
    configured = settings(deployments=[{"project": "infra", "stack": f"stack-{n}"} for n in range(40)])
    recording = offline.Recording()

    with pytest.raises(ConfigError) as raised:
        run_component(configured, recording=recording)

    [issue] = raised.value.issues
    assert "over trustPolicyMaxChars (2048)" in issue.message
    assert pulumi_cloud.requests == []
    assert recording.calls == []
    assert recording.resources == []


def test_a_reused_providers_trust_policy_size_is_told_exactly_before_the_account_is_read() -> None:
    reused = claims.provider_arn("aws-us-gov", "123456789012", claims.DEFAULT_ISSUER)
    configured = settings(
        oidcProvider={"arn": reused},
        trustPolicyMaxChars=600,
        deployments=[{"project": "infra", "stack": f"stack-{n}", "manageSettings": False} for n in range(8)],
    )
    [role] = configured.roles
    policy = trust.render(
        trust.trust_policy(configured.issuer, reused, trust.admissions(ORG, role.deployments, role.environments))
    )
    recording = offline.Recording()

    with pytest.raises(ConfigError) as raised:
        run_component(configured, recording=recording)

    [issue] = raised.value.issues
    assert f"would be {len(policy)} characters, {len(policy) - 600} over trustPolicyMaxChars (600)" in issue.message
    assert recording.calls == []
