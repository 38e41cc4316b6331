from __future__ import annotations

import pytest

from oidc import claims


def test_deployments_audience_is_the_bare_organization() -> None:
    assert claims.deployments_audience("contoso") == "contoso"


@pytest.mark.parametrize(
    ("project", "audience"),
    [("aws", "aws:contoso"), ("infra", "aws:contoso"), ("Default", "aws:contoso"), ("default", "contoso")],
)
def test_esc_audience_is_prefixed_except_in_the_default_project(project: str, audience: str) -> None:
    assert claims.esc_audience("contoso", project) == audience


@pytest.mark.parametrize(
    ("project", "stack", "operation", "subject"),
    [
        ("infra", "prod", "update", "pulumi:deploy:org:contoso:project:infra:stack:prod:operation:update:scope:write"),
        (
            "net-core",
            "eu.west_1",
            "detect-drift",
            "pulumi:deploy:org:contoso:project:net-core:stack:eu.west_1:operation:detect-drift:scope:write",
        ),
        ("infra", "review-*", "*", "pulumi:deploy:org:contoso:project:infra:stack:review-*:operation:*:scope:write"),
    ],
)
def test_deployments_subject(project: str, stack: str, operation: str, subject: str) -> None:
    assert claims.deployments_subject("contoso", project, stack, operation) == subject


@pytest.mark.parametrize(
    ("project", "name", "subject"),
    [
        ("aws", "dev", "pulumi:environments:pulumi.organization.login:contoso:currentEnvironment.name:aws/dev"),
        (
            "platform",
            "prod.us-east-1",
            "pulumi:environments:pulumi.organization.login:contoso:currentEnvironment.name:platform/prod.us-east-1",
        ),
        ("default", "legacy", "pulumi:environments:pulumi.organization.login:contoso:currentEnvironment.name:legacy"),
    ],
)
def test_esc_subject_names_the_environment(project: str, name: str, subject: str) -> None:
    assert claims.esc_subject("contoso", project, name) == subject


@pytest.mark.parametrize(
    ("project", "name", "path"), [("aws", "dev", "aws/dev"), ("default", "legacy", "legacy"), ("aws", "d*", "aws/d*")]
)
def test_esc_environment_path(project: str, name: str, path: str) -> None:
    assert claims.esc_environment_path(project, name) == path


@pytest.mark.parametrize(
    ("value", "expected"),
    [("prod", False), ("review-*", True), ("prod?", True), ("*", True), ("a.b-c_d", False), ("", False)],
)
def test_is_pattern(value: str, expected: bool) -> None:
    assert claims.is_pattern(value) is expected


@pytest.mark.parametrize(
    ("issuer", "prefix"),
    [
        ("https://api.pulumi.com/oidc", "api.pulumi.com/oidc"),
        ("https://pulumi.example.com/oidc/", "pulumi.example.com/oidc"),
        ("https://pulumi.example.com", "pulumi.example.com"),
    ],
)
def test_condition_prefix_drops_scheme_and_trailing_slash(issuer: str, prefix: str) -> None:
    assert claims.condition_prefix(issuer) == prefix


@pytest.mark.parametrize(
    ("partition", "issuer", "arn"),
    [
        ("aws", claims.DEFAULT_ISSUER, "arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/oidc"),
        ("aws-us-gov", claims.DEFAULT_ISSUER, "arn:aws-us-gov:iam::123456789012:oidc-provider/api.pulumi.com/oidc"),
        ("aws", "https://pulumi.example.com/oidc", "arn:aws:iam::123456789012:oidc-provider/pulumi.example.com/oidc"),
    ],
)
def test_provider_arn(partition: str, issuer: str, arn: str) -> None:
    assert claims.provider_arn(partition, "123456789012", issuer) == arn


def test_provider_client_ids_register_both_audiences_sorted_and_unique() -> None:
    assert claims.provider_client_ids("contoso") == ["aws:contoso", "contoso"]
    assert claims.provider_client_ids("contoso", ("fabrikam", "contoso", "aws:fabrikam")) == [
        "aws:contoso",
        "aws:fabrikam",
        "contoso",
        "fabrikam",
    ]


def test_default_issuer_and_operations() -> None:
    assert claims.DEFAULT_ISSUER == "https://api.pulumi.com/oidc"
    assert set(claims.OPERATIONS) == {"preview", "update", "refresh", "destroy", "detect-drift", "remediate-drift"}


@pytest.mark.parametrize(
    ("sub", "expected"),
    [
        (
            "pulumi:deploy:org:acme:project:infra:stack:prod:operation:update:scope:write",
            claims.Subject("deployments", "acme", "infra", "prod", "update"),
        ),
        (
            "pulumi:environments:pulumi.organization.login:acme:currentEnvironment.name:aws/dev",
            claims.Subject("environments", "acme", "aws", "dev", attributes=("currentEnvironment.name",)),
        ),
        (
            "pulumi:environments:pulumi.organization.login:acme:currentEnvironment.name:legacy",
            claims.Subject("environments", "acme", "default", "legacy", attributes=("currentEnvironment.name",)),
        ),
        (
            "pulumi:environments:org:acme:env:aws/dev",
            claims.Subject("environments", "acme", "aws", "dev", pinned=False),
        ),
        ("pulumi:environments:org:acme:env:<yaml>", claims.Subject("environments", "acme", None, None, pinned=False)),
        (
            "pulumi:environments:pulumi.organization.login:acme:currentEnvironment.name:aws/dev:pulumi.user.login:bob",
            claims.Subject(
                "environments", "acme", "aws", "dev", attributes=("currentEnvironment.name", "pulumi.user.login")
            ),
        ),
        (
            "pulumi:environments:pulumi.organization.login:acme:rootEnvironment.name:aws/base",
            claims.Subject("environments", "acme", None, None, attributes=("rootEnvironment.name",)),
        ),
        ("repo:acme/infra:ref:refs/heads/main", None),
        ("pulumi:deploy:org:acme:project:infra:stack:prod", None),
    ],
)
def test_parse_subject_reads_every_pulumi_form(sub: str, expected: claims.Subject | None) -> None:
    assert claims.parse_subject(sub) == expected


@pytest.mark.parametrize(
    ("sub", "audience"),
    [
        ("pulumi:deploy:org:acme:project:infra:stack:prod:operation:update:scope:write", "acme"),
        ("pulumi:environments:pulumi.organization.login:acme:currentEnvironment.name:aws/dev", "aws:acme"),
        ("pulumi:environments:pulumi.organization.login:acme:currentEnvironment.name:legacy", "acme"),
        ("pulumi:environments:org:acme:env:<yaml>", None),
    ],
)
def test_subject_knows_the_audience_sent_with_it(sub: str, audience: str | None) -> None:
    subject = claims.parse_subject(sub)
    assert subject is not None
    assert subject.audience == audience
