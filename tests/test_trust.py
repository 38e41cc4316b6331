from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oidc import trust
from oidc.model import MAX_TRUST_POLICY_CHARS, Settings
from oidc.settings import load_settings
from tests.tokens import (
    ALLOWED,
    AUD,
    DENIED,
    MATRIX_CONFIG,
    PROVIDER,
    SUB,
    deploy,
    deploy_sub,
    esc,
    esc_sub,
)


def settings(**values: Any) -> Settings:
    values = {"organization": "contoso", **values}
    return load_settings(values)


def admissions_of(loaded: Settings) -> list[trust.Admission]:
    """The admissions of the one role of a form-A config."""
    [role] = loaded.roles
    return trust.admissions(loaded.organization, role.deployments, role.environments)


def policy_of(loaded: Settings, provider: str = PROVIDER) -> dict[str, Any]:
    return trust.trust_policy(loaded.issuer, provider, admissions_of(loaded))


EVERY_KIND = settings(
    deployments=[
        {"project": "infra", "stack": "prod", "operations": ["update", "preview"]},
        {"project": "infra", "stack": "review-*"},
        {"project": "infra", "stack": "staging"},
    ],
    environments=[
        {"project": "aws", "name": "dev"},
        {"project": "aws", "name": "sandbox-*"},
        {"project": "default", "name": "legacy"},
        {"project": "default", "name": "old-?"},
    ],
)


def statement(sid: str, operator: str, audience: str, subjects: str | list[str]) -> dict[str, Any]:
    condition: dict[str, Any] = {"StringEquals": {AUD: audience}}
    condition.setdefault(operator, {})[SUB] = subjects
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"Federated": PROVIDER},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": condition,
    }


def test_trust_policy_has_one_statement_per_audience_and_match_kind() -> None:
    assert policy_of(EVERY_KIND) == {
        "Version": "2012-10-17",
        "Statement": [
            statement(
                "Deployments",
                "StringEquals",
                "contoso",
                [deploy_sub("contoso", "infra", "prod", "preview"), deploy_sub("contoso", "infra", "prod", "update")],
            ),
            statement(
                "DeploymentsPatterns",
                "StringLike",
                "contoso",
                [deploy_sub("contoso", "infra", "review-*", "*"), deploy_sub("contoso", "infra", "staging", "*")],
            ),
            statement("Environments", "StringEquals", "aws:contoso", esc_sub("contoso", "aws/dev")),
            statement("EnvironmentsPatterns", "StringLike", "aws:contoso", esc_sub("contoso", "aws/sandbox-*")),
            statement("EnvironmentsDefaultProject", "StringEquals", "contoso", esc_sub("contoso", "legacy")),
            statement("EnvironmentsDefaultProjectPatterns", "StringLike", "contoso", esc_sub("contoso", "old-?")),
        ],
    }


def test_every_statement_pins_aud_exactly_and_constrains_sub() -> None:
    for entry in policy_of(EVERY_KIND)["Statement"]:
        condition = entry["Condition"]
        assert isinstance(condition["StringEquals"][AUD], str)
        assert all(AUD not in keys for operator, keys in condition.items() if operator != "StringEquals")
        assert [operator for operator, keys in condition.items() if SUB in keys] == [
            "StringLike" if entry["Sid"].endswith("Patterns") else "StringEquals"
        ]
        assert entry["Action"] == "sts:AssumeRoleWithWebIdentity"
        assert entry["Principal"] == {"Federated": PROVIDER}
        assert entry["Effect"] == "Allow"


def test_patterns_never_share_a_statement_with_exact_subjects() -> None:
    for entry in policy_of(EVERY_KIND)["Statement"]:
        subjects = entry["Condition"].get("StringEquals", {}).get(SUB, [])
        assert not any("*" in s or "?" in s for s in ([subjects] if isinstance(subjects, str) else subjects))


def test_subjects_are_sorted_whatever_the_config_order() -> None:
    for admission in admissions_of(EVERY_KIND):
        assert list(admission.subjects) == sorted(admission.subjects)


def test_render_is_compact_json_of_the_document() -> None:
    document = policy_of(EVERY_KIND)
    text = trust.render(document)
    assert json.loads(text) == document
    assert text == json.dumps(document, separators=(",", ":"))
    assert " " not in text
    assert "\n" not in text


def test_reordered_settings_render_byte_identical() -> None:
    deployments = [
        {"project": "infra", "stack": "prod", "operations": ["update", "preview", "refresh"]},
        {"project": "infra", "stack": "review-*"},
        {"project": "net", "stack": "prod"},
    ]
    environments = [
        {"project": "aws", "name": "dev"},
        {"project": "aws", "name": "prod"},
        {"project": "default", "name": "a"},
    ]
    reordered = [
        {**deployments[0], "operations": ["refresh", "preview", "update"]},
        *reversed(deployments[1:]),
    ]
    first = trust.render(policy_of(settings(deployments=deployments, environments=environments)))
    second = trust.render(policy_of(settings(deployments=reordered[::-1], environments=environments[::-1])))
    assert first == second


def test_custom_issuer_changes_the_condition_key_prefix() -> None:
    provider = "arn:aws:iam::123456789012:oidc-provider/pulumi.example.com/oidc"
    custom = settings(issuer="https://pulumi.example.com/oidc", environments=[{"project": "aws", "name": "dev"}])
    (entry,) = policy_of(custom, provider)["Statement"]
    assert entry["Condition"] == {
        "StringEquals": {
            "pulumi.example.com/oidc:aud": "aws:contoso",
            "pulumi.example.com/oidc:sub": esc_sub("contoso", "aws/dev"),
        }
    }
    assert entry["Principal"] == {"Federated": provider}
    assert "api.pulumi.com" not in trust.render(policy_of(custom, provider))


QUOTA_KEYS = ["trustPolicyMaxChars", "accounts.prod.trustPolicyMaxChars"]
LONG = settings(
    deployments=[
        {"project": "infra", "stack": f"stack-{index:02d}", "operations": ["update", "preview"]} for index in range(40)
    ]
)
LONG_TEXT = trust.render(policy_of(LONG))
SPLIT_ADVICE = "split the entries across two or more roles (roles.<key>), each with a trust policy of its own"
QUOTA_ADVICE = "raise the account's IAM quota 'Role trust policy length' (up to 4096) in Service Quotas"


def test_size_problem_is_none_when_the_policy_fits() -> None:
    text = trust.render(policy_of(EVERY_KIND))
    assert trust.size_problem(text, len(text), "trustPolicyMaxChars") is None
    assert trust.size_problem(text, 4096, "trustPolicyMaxChars") is None


@pytest.mark.parametrize("quota_key", QUOTA_KEYS)
@pytest.mark.parametrize("over", [1, 250])
def test_size_problem_states_the_overage_and_the_setting(over: int, quota_key: str) -> None:
    text = trust.render(policy_of(EVERY_KIND))
    problem = trust.size_problem(text, len(text) - over, quota_key)
    assert problem is not None
    assert f"{len(text)} characters, {over} over {quota_key} ({len(text) - over})" in problem


def test_the_long_policy_is_longer_than_the_highest_quota() -> None:
    assert len(LONG_TEXT) > MAX_TRUST_POLICY_CHARS == 4096


@pytest.mark.parametrize("quota_key", QUOTA_KEYS)
def test_size_problem_at_the_highest_quota_suggests_splitting_not_raising_it(quota_key: str) -> None:
    problem = trust.size_problem(LONG_TEXT, MAX_TRUST_POLICY_CHARS, quota_key)
    assert problem is not None
    assert f"over {quota_key} (4096)" in problem
    assert SPLIT_ADVICE in problem
    assert "quota" not in problem
    assert "Service Quotas" not in problem
    assert "new value" not in problem


@pytest.mark.parametrize("quota_key", QUOTA_KEYS)
@pytest.mark.parametrize("max_chars", [2048, MAX_TRUST_POLICY_CHARS - 1])
def test_size_problem_below_the_highest_quota_suggests_splitting_and_raising_it(max_chars: int, quota_key: str) -> None:
    problem = trust.size_problem(LONG_TEXT, max_chars, quota_key)
    assert problem is not None
    assert f"over {quota_key} ({max_chars})" in problem
    assert SPLIT_ADVICE in problem
    assert f"{QUOTA_ADVICE} and set {quota_key} to the new value" in problem


# --- subsumption: an exact subject or a pattern another pattern of the same audience covers -----


def infra_stacks(count: int) -> list[dict[str, Any]]:
    """``count`` concrete infra stacks, every other one with operations."""
    return [
        {
            "project": "infra",
            "stack": f"stack-{index:03d}",
            **({"operations": ["update", "preview"]} if index % 2 else {}),
        }
        for index in range(count)
    ]


def sub_values(document: dict[str, Any]) -> list[str]:
    found = []
    for entry in document["Statement"]:
        for keys in entry["Condition"].values():
            if SUB in keys:
                found += [keys[SUB]] if isinstance(keys[SUB], str) else keys[SUB]
    return found


@pytest.mark.parametrize("pattern_first", [True, False], ids=["pattern-first", "pattern-last"])
def test_a_project_pattern_and_200_concrete_stacks_cost_one_subject(pattern_first: bool) -> None:
    pattern = {"project": "infra", "stack": "*"}
    stacks = infra_stacks(200)
    loaded = settings(deployments=[pattern, *stacks] if pattern_first else [*stacks, pattern])
    document = policy_of(loaded)

    assert len(loaded.roles[0].managed_stacks) == 200
    assert admissions_of(loaded) == [
        trust.Admission("DeploymentsPatterns", "contoso", (deploy_sub("contoso", "infra", "*", "*"),))
    ]
    assert sub_values(document) == [deploy_sub("contoso", "infra", "*", "*")]
    assert trust.size_problem(trust.render(document), 2048, "trustPolicyMaxChars") is None
    for stack in stacks:
        for operation in stack.get("operations", ["update", "destroy"]):
            assert trust.evaluate(document, deploy(stack=stack["stack"], operation=operation)).allowed


def admission(sid: str, aud: str, *subjects: str) -> trust.Admission:
    return trust.Admission(sid, aud, subjects)


SUBSUMED: dict[str, tuple[list[dict[str, Any]], list[dict[str, Any]], list[trust.Admission]]] = {
    "pattern-covers-some-operations-of-a-stack": (
        [
            {"project": "infra", "stack": "prod", "operations": ["update", "preview", "destroy"]},
            {"project": "infra", "stack": "*", "operations": ["preview"]},
        ],
        [],
        [
            admission(
                "Deployments",
                "contoso",
                deploy_sub("contoso", "infra", "prod", "destroy"),
                deploy_sub("contoso", "infra", "prod", "update"),
            ),
            admission("DeploymentsPatterns", "contoso", deploy_sub("contoso", "infra", "*", "preview")),
        ],
    ),
    "project-pattern-covers-one-operation-of-a-stack": (
        [
            {"project": "infra", "stack": "prod", "operations": ["update", "refresh"]},
            {"project": "*", "stack": "prod", "operations": ["update"]},
        ],
        [],
        [
            admission("Deployments", "contoso", deploy_sub("contoso", "infra", "prod", "refresh")),
            admission("DeploymentsPatterns", "contoso", deploy_sub("contoso", "*", "prod", "update")),
        ],
    ),
    "one-operation-pattern-keeps-a-stack-of-every-operation": (
        [{"project": "infra", "stack": "prod"}, {"project": "infra", "stack": "*", "operations": ["preview"]}],
        [],
        [
            admission(
                "DeploymentsPatterns",
                "contoso",
                deploy_sub("contoso", "infra", "*", "preview"),
                deploy_sub("contoso", "infra", "prod", "*"),
            )
        ],
    ),
    "project-pattern-keeps-other-projects": (
        [
            {"project": "infra", "stack": "*"},
            {"project": "infra", "stack": "prod", "operations": ["update"]},
            {"project": "net", "stack": "prod", "operations": ["update"]},
        ],
        [],
        [
            admission("Deployments", "contoso", deploy_sub("contoso", "net", "prod", "update")),
            admission("DeploymentsPatterns", "contoso", deploy_sub("contoso", "infra", "*", "*")),
        ],
    ),
    "wider-pattern-drops-narrower-pattern": (
        [{"project": "infra", "stack": "review-*"}, {"project": "infra", "stack": "*"}],
        [],
        [admission("DeploymentsPatterns", "contoso", deploy_sub("contoso", "infra", "*", "*"))],
    ),
    "star-drops-question-mark": (
        [{"project": "infra", "stack": "a?c"}, {"project": "infra", "stack": "a*c"}],
        [],
        [admission("DeploymentsPatterns", "contoso", deploy_sub("contoso", "infra", "a*c", "*"))],
    ),
    "default-project-star-keeps-every-named-project-subject": (
        [],
        [
            {"project": "default", "name": "*"},
            {"project": "aws", "name": "dev"},
            {"project": "aws", "name": "team-*"},
            {"project": "default", "name": "legacy"},
        ],
        [
            admission("Environments", "aws:contoso", esc_sub("contoso", "aws/dev")),
            admission("EnvironmentsPatterns", "aws:contoso", esc_sub("contoso", "aws/team-*")),
            admission("EnvironmentsDefaultProjectPatterns", "contoso", esc_sub("contoso", "*")),
        ],
    ),
    "team-pattern-drops-a-team-environment": (
        [],
        [
            {"project": "aws", "name": "team-*"},
            {"project": "aws", "name": "team-a"},
            {"project": "aws", "name": "teams"},
            {"project": "awsx", "name": "team-b"},
        ],
        [
            admission(
                "Environments", "aws:contoso", esc_sub("contoso", "aws/teams"), esc_sub("contoso", "awsx/team-b")
            ),
            admission("EnvironmentsPatterns", "aws:contoso", esc_sub("contoso", "aws/team-*")),
        ],
    ),
    "same-audience-of-another-kind-is-not-covered": (
        [{"project": "infra", "stack": "prod", "operations": ["update"]}],
        [{"project": "default", "name": "*"}],
        [
            admission("Deployments", "contoso", deploy_sub("contoso", "infra", "prod", "update")),
            admission("EnvironmentsDefaultProjectPatterns", "contoso", esc_sub("contoso", "*")),
        ],
    ),
}


@pytest.mark.parametrize(("deployments", "environments", "expected"), SUBSUMED.values(), ids=SUBSUMED.keys())
def test_admissions_leave_out_what_a_pattern_of_the_same_audience_covers(
    deployments: list[dict[str, Any]], environments: list[dict[str, Any]], expected: list[trust.Admission]
) -> None:
    loaded = settings(deployments=deployments, environments=environments)
    assert admissions_of(loaded) == expected


def test_default_project_star_admits_no_named_project_token_and_their_subjects_stay() -> None:
    loaded = settings(environments=[{"project": "default", "name": "*"}, {"project": "aws", "name": "dev"}])
    document = policy_of(loaded)

    assert esc_sub("contoso", "aws/dev") in sub_values(document)
    assert trust.evaluate(document, esc("aws/dev")).allowed
    assert not trust.evaluate(document, esc("aws/prod")).allowed
    assert trust.evaluate(document, esc("aws/prod", aud="contoso")).allowed


COVERS = [
    ("a?c", "a*c", False),
    ("a*", "a*b", True),
    ("a*", "b", False),
    ("a*c", "a?c", True),
    ("a?c", "abc", True),
    ("a?c", "a?c", True),
    ("a?c", "ac", False),
    ("a?", "a*", False),
    ("?", "*", False),
    ("*", "*", True),
    ("*", "", True),
    ("*", "a?*b", True),
    ("a*b*", "a*b", True),
    ("a*b", "a*b*", False),
    ("*a*", "a", True),
    ("abc", "abc", True),
    ("abc", "ab?", False),
    ("ab?", "abc", True),
    ("Review-*", "review-1", False),
    ("a.c", "abc", False),
    ("a*", "a\nb", True),
    (deploy_sub("contoso", "infra", "*", "*"), deploy_sub("contoso", "infra", "prod", "update"), True),
    (deploy_sub("contoso", "infra", "*", "*"), deploy_sub("contoso", "infra2", "prod", "update"), False),
    (deploy_sub("contoso", "infra", "*", "preview"), deploy_sub("contoso", "infra", "prod", "*"), False),
    (esc_sub("contoso", "*"), esc_sub("contoso", "aws/dev"), True),
    (esc_sub("contoso", "aws/team-*"), esc_sub("contoso", "aws/team-a"), True),
    (esc_sub("contoso", "aws/team-*"), esc_sub("contoso", "aws/teams"), False),
]


@pytest.mark.parametrize(("pattern", "subject", "expected"), COVERS, ids=[f"{p}|{s}" for p, s, _ in COVERS])
def test_covers(pattern: str, subject: str, expected: bool) -> None:
    assert trust.covers(pattern, subject) is expected


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("abc", "abc", True),
        ("abc", "abcd", False),
        ("abc", "ABC", False),
        ("a*", "a", True),
        ("a*", "abc:def", True),
        ("*c", "abc", True),
        ("a*c", "ac", True),
        ("a*c", "abd", False),
        ("a?c", "abc", True),
        ("a?c", "ac", False),
        ("a?c", "abbc", False),
        ("a.c", "abc", False),
        ("a.c", "a.c", True),
        ("a+", "aa", False),
        ("a+", "a+", True),
        ("[ab]", "a", False),
        ("[ab]", "[ab]", True),
        ("(a|b)", "a", False),
        ("^a$", "a", False),
        ("a\\d", "a1", False),
        ("a\\d", "a\\d", True),
        ("Review-*", "review-1", False),
        ("*", "", True),
        ("?", "", False),
        ("a*", "a\nb", True),
        ("abc", "abc\n", False),
    ],
)
def test_string_like(pattern: str, value: str, expected: bool) -> None:
    assert trust.string_like(pattern, value) is expected


@given(st.text())
def test_string_like_without_wildcards_is_equality(value: str) -> None:
    literal = value.replace("*", "").replace("?", "")
    assert trust.string_like(literal, literal)
    assert trust.string_like(literal, literal + "x") is False


MATRIX = load_settings(MATRIX_CONFIG)
POLICY = policy_of(MATRIX)


def by_sid(decision: trust.Decision, sid: str) -> trust.StatementResult:
    (found,) = [result for result in decision.statements if result.sid == sid]
    return found


@pytest.mark.parametrize(("claims", "sid"), ALLOWED.values(), ids=ALLOWED.keys())
def test_matrix_admits_the_listed_stacks_and_environments(claims: dict[str, str], sid: str) -> None:
    decision = trust.evaluate(POLICY, claims)
    assert decision.allowed
    assert decision.matched is not None
    assert decision.matched.sid == sid
    assert decision.matched.failures == ()
    assert [result.sid for result in decision.statements if result.allowed] == [sid]


@pytest.mark.parametrize(("claims", "sid", "failure"), DENIED.values(), ids=DENIED.keys())
def test_matrix_denies_and_names_the_failing_condition(
    claims: dict[str, str], sid: str, failure: tuple[Any, ...]
) -> None:
    decision = trust.evaluate(POLICY, claims)
    assert not decision.allowed
    assert decision.matched is None
    result = by_sid(decision, sid)
    assert result.principal_ok
    assert result.action_ok
    assert failure in [(c.operator, c.key, c.expected, c.actual) for c in result.failures]


def test_bare_org_audience_fails_only_on_aud_for_the_named_environment() -> None:
    result = by_sid(trust.evaluate(POLICY, esc("aws/dev", aud="contoso")), "Environments")
    assert [(c.key, c.passed) for c in result.conditions] == [(AUD, False), (SUB, True)]
    assert trust.evaluate(POLICY, esc("legacy", aud="contoso")).allowed


@pytest.mark.parametrize("claims", [c for c, _ in ALLOWED.values()], ids=ALLOWED.keys())
def test_other_issuer_is_denied_by_principal(claims: dict[str, str]) -> None:
    decision = trust.evaluate(POLICY, {**claims, "iss": "https://api.pulumi.example/oidc"})
    assert not decision.allowed
    assert not any(result.principal_ok for result in decision.statements)
    assert all(c.actual is None for result in decision.statements for c in result.conditions)


def test_token_for_a_provider_of_another_issuer_is_denied() -> None:
    other = policy_of(MATRIX, "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com")
    decision = trust.evaluate(other, deploy())
    assert not decision.allowed
    assert [result.principal_ok for result in decision.statements] == [False] * len(decision.statements)
    assert by_sid(decision, "Deployments").failures == ()


def test_other_action_is_denied() -> None:
    document = json.loads(trust.render(POLICY))
    for entry in document["Statement"]:
        entry["Action"] = "sts:AssumeRole"
    decision = trust.evaluate(document, deploy())
    assert not decision.allowed
    assert not by_sid(decision, "Deployments").action_ok


@given(st.from_regex(r"[a-z0-9][a-z0-9._-]{0,20}", fullmatch=True).filter(lambda org: org != "contoso"))
def test_no_token_of_another_org_is_admitted(org: str) -> None:
    for claims, _ in ALLOWED.values():
        forged = {key: value.replace("contoso", org) for key, value in claims.items()}
        assert not trust.evaluate(POLICY, forged).allowed
