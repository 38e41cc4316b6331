from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oidc import trust
from oidc.settings import Settings, load_settings
from tests.conftest import raw_config

ISSUER = "https://api.pulumi.com/oidc"
PROVIDER = "arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/oidc"
AUD = "api.pulumi.com/oidc:aud"
SUB = "api.pulumi.com/oidc:sub"


def settings(**values: Any) -> Settings:
    values = {"organization": "contoso", **values}
    return load_settings(raw_config(values))


def deploy_sub(org: str, project: str, stack: str, operation: str) -> str:
    return f"pulumi:deploy:org:{org}:project:{project}:stack:{stack}:operation:{operation}:scope:write"


def esc_sub(org: str, path: str) -> str:
    return f"pulumi:environments:pulumi.organization.login:{org}:currentEnvironment.name:{path}"


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
    assert trust.trust_policy(EVERY_KIND, PROVIDER) == {
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
    for entry in trust.trust_policy(EVERY_KIND, PROVIDER)["Statement"]:
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
    for entry in trust.trust_policy(EVERY_KIND, PROVIDER)["Statement"]:
        subjects = entry["Condition"].get("StringEquals", {}).get(SUB, [])
        assert not any("*" in s or "?" in s for s in ([subjects] if isinstance(subjects, str) else subjects))


def test_subjects_are_sorted_whatever_the_config_order() -> None:
    for admission in trust.admissions(EVERY_KIND):
        assert list(admission.subjects) == sorted(admission.subjects)


def test_render_is_compact_json_of_the_document() -> None:
    document = trust.trust_policy(EVERY_KIND, PROVIDER)
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
    first = trust.render(trust.trust_policy(settings(deployments=deployments, environments=environments), PROVIDER))
    second = trust.render(
        trust.trust_policy(settings(deployments=reordered[::-1], environments=environments[::-1]), PROVIDER)
    )
    assert first == second


def test_custom_issuer_changes_the_condition_key_prefix() -> None:
    provider = "arn:aws:iam::123456789012:oidc-provider/pulumi.example.com/oidc"
    custom = settings(issuer="https://pulumi.example.com/oidc", environments=[{"project": "aws", "name": "dev"}])
    (entry,) = trust.trust_policy(custom, provider)["Statement"]
    assert entry["Condition"] == {
        "StringEquals": {
            "pulumi.example.com/oidc:aud": "aws:contoso",
            "pulumi.example.com/oidc:sub": esc_sub("contoso", "aws/dev"),
        }
    }
    assert entry["Principal"] == {"Federated": provider}
    assert "api.pulumi.com" not in trust.render(trust.trust_policy(custom, provider))


def test_size_problem_is_none_when_the_policy_fits() -> None:
    text = trust.render(trust.trust_policy(EVERY_KIND, PROVIDER))
    assert trust.size_problem(text, len(text)) is None
    assert trust.size_problem(text, 4096) is None


@pytest.mark.parametrize("over", [1, 250])
def test_size_problem_states_the_overage_and_the_setting(over: int) -> None:
    text = trust.render(trust.trust_policy(EVERY_KIND, PROVIDER))
    problem = trust.size_problem(text, len(text) - over)
    assert problem is not None
    assert f"{len(text)} characters" in problem
    assert f"{over} over" in problem
    assert f"trustPolicyMaxChars ({len(text) - over})" in problem


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


MATRIX = settings(
    deployments=[
        {"project": "infra", "stack": "prod", "operations": ["update", "preview"]},
        {"project": "infra", "stack": "review-*"},
    ],
    environments=[{"project": "aws", "name": "dev"}, {"project": "default", "name": "legacy"}],
)
POLICY = trust.trust_policy(MATRIX, PROVIDER)
PROD_SUBJECTS = (deploy_sub("contoso", "infra", "prod", "preview"), deploy_sub("contoso", "infra", "prod", "update"))
REVIEW_PATTERN = (deploy_sub("contoso", "infra", "review-*", "*"),)


def token(aud: str, sub: str, iss: str = ISSUER) -> dict[str, str]:
    return {"iss": iss, "aud": aud, "sub": sub}


def deploy(
    project: str = "infra", stack: str = "prod", operation: str = "update", org: str = "contoso"
) -> dict[str, str]:
    return token(org, deploy_sub(org, project, stack, operation))


def esc(path: str, org: str = "contoso", aud: str | None = None) -> dict[str, str]:
    default_aud = org if "/" not in path else f"aws:{org}"
    return token(aud or default_aud, esc_sub(org, path))


def by_sid(decision: trust.Decision, sid: str) -> trust.StatementResult:
    (found,) = [result for result in decision.statements if result.sid == sid]
    return found


ALLOWED = {
    "prod-update": (deploy(), "Deployments"),
    "prod-preview": (deploy(operation="preview"), "Deployments"),
    "review-destroy": (deploy(stack="review-42", operation="destroy"), "DeploymentsPatterns"),
    "review-detect-drift": (deploy(stack="review-x.y", operation="detect-drift"), "DeploymentsPatterns"),
    "esc-aws-dev": (esc("aws/dev"), "Environments"),
    "esc-default-legacy": (esc("legacy"), "EnvironmentsDefaultProject"),
}


@pytest.mark.parametrize(("claims", "sid"), ALLOWED.values(), ids=ALLOWED.keys())
def test_matrix_admits_the_listed_stacks_and_environments(claims: dict[str, str], sid: str) -> None:
    decision = trust.evaluate(POLICY, claims)
    assert decision.allowed
    assert decision.matched is not None
    assert decision.matched.sid == sid
    assert decision.matched.failures == ()
    assert [result.sid for result in decision.statements if result.allowed] == [sid]


def deploy_sub_failure(
    sub: str, expected: tuple[str, ...] = PROD_SUBJECTS, operator: str = "StringEquals"
) -> tuple[Any, ...]:
    return (operator, SUB, expected, sub)


DENIED = {
    "other-org": (deploy(org="fabrikam"), "Deployments", ("StringEquals", AUD, ("contoso",), "fabrikam")),
    "look-alike-org": (
        deploy(org="contoso-malicious"),
        "Deployments",
        ("StringEquals", AUD, ("contoso",), "contoso-malicious"),
    ),
    "look-alike-org-pattern": (
        deploy(org="contoso-malicious", stack="review-1"),
        "DeploymentsPatterns",
        ("StringEquals", AUD, ("contoso",), "contoso-malicious"),
    ),
    "look-alike-org-sub-with-right-aud": (
        token("contoso", deploy_sub("contoso-malicious", "infra", "review-1", "update")),
        "DeploymentsPatterns",
        ("StringLike", SUB, REVIEW_PATTERN, deploy_sub("contoso-malicious", "infra", "review-1", "update")),
    ),
    "look-alike-org-esc": (
        esc("aws/dev", org="contoso-malicious"),
        "Environments",
        ("StringEquals", AUD, ("aws:contoso",), "aws:contoso-malicious"),
    ),
    "other-project": (
        deploy(project="infra2"),
        "Deployments",
        deploy_sub_failure(deploy_sub("contoso", "infra2", "prod", "update")),
    ),
    "other-project-pattern": (
        deploy(project="infra-old", stack="review-1"),
        "DeploymentsPatterns",
        deploy_sub_failure(deploy_sub("contoso", "infra-old", "review-1", "update"), REVIEW_PATTERN, "StringLike"),
    ),
    "other-stack": (
        deploy(stack="staging"),
        "Deployments",
        deploy_sub_failure(deploy_sub("contoso", "infra", "staging", "update")),
    ),
    "other-operation": (
        deploy(operation="destroy"),
        "Deployments",
        deploy_sub_failure(deploy_sub("contoso", "infra", "prod", "destroy")),
    ),
    "stack-longer": (
        deploy(stack="prod2"),
        "Deployments",
        deploy_sub_failure(deploy_sub("contoso", "infra", "prod2", "update")),
    ),
    "stack-prefix": (
        deploy(stack="pro"),
        "Deployments",
        deploy_sub_failure(deploy_sub("contoso", "infra", "pro", "update")),
    ),
    "pattern-needs-dash": (
        deploy(stack="review"),
        "DeploymentsPatterns",
        deploy_sub_failure(deploy_sub("contoso", "infra", "review", "update"), REVIEW_PATTERN, "StringLike"),
    ),
    "pattern-is-case-sensitive": (
        deploy(stack="Review-1"),
        "DeploymentsPatterns",
        deploy_sub_failure(deploy_sub("contoso", "infra", "Review-1", "update"), REVIEW_PATTERN, "StringLike"),
    ),
    "esc-yaml-subject": (
        token("aws:contoso", "pulumi:environments:org:contoso:env:<yaml>"),
        "Environments",
        ("StringEquals", SUB, (esc_sub("contoso", "aws/dev"),), "pulumi:environments:org:contoso:env:<yaml>"),
    ),
    "esc-other-environment": (
        esc("aws/prod"),
        "Environments",
        ("StringEquals", SUB, (esc_sub("contoso", "aws/dev"),), esc_sub("contoso", "aws/prod")),
    ),
    "esc-bare-org-audience": (
        esc("aws/dev", aud="contoso"),
        "Environments",
        ("StringEquals", AUD, ("aws:contoso",), "contoso"),
    ),
    "esc-default-project-prefixed-audience": (
        esc("legacy", aud="aws:contoso"),
        "EnvironmentsDefaultProject",
        ("StringEquals", AUD, ("contoso",), "aws:contoso"),
    ),
    "esc-default-project-name-without-project": (
        esc("aws/legacy"),
        "EnvironmentsDefaultProject",
        ("StringEquals", SUB, (esc_sub("contoso", "legacy"),), esc_sub("contoso", "aws/legacy")),
    ),
    "deployments-token-for-environment": (
        token("contoso", esc_sub("contoso", "aws/dev")),
        "Environments",
        ("StringEquals", AUD, ("aws:contoso",), "contoso"),
    ),
    "no-subject": ({"iss": ISSUER, "aud": "contoso"}, "Deployments", ("StringEquals", SUB, PROD_SUBJECTS, None)),
}


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
    other = trust.trust_policy(MATRIX, "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com")
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
