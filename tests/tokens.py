"""Shared test data: the token matrix of the trust-policy evaluator and the config it is judged against.

``MATRIX_CONFIG`` is one form-A config; ``ALLOWED`` maps a case to a token its trust policy admits and
the statement that admits it; ``DENIED`` maps a case to a token it refuses, the statement whose failure
is checked, and that failure as ``(operator, key, expected, actual)``. ``tests/test_trust.py`` evaluates
the matrix directly and ``tests/test_explain.py`` through ``python -m oidc explain``.
"""

from __future__ import annotations

from typing import Any

ISSUER = "https://api.pulumi.com/oidc"
PROVIDER = "arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/oidc"
AUD = "api.pulumi.com/oidc:aud"
SUB = "api.pulumi.com/oidc:sub"


def deploy_sub(org: str, project: str, stack: str, operation: str) -> str:
    return f"pulumi:deploy:org:{org}:project:{project}:stack:{stack}:operation:{operation}:scope:write"


def esc_sub(org: str, path: str) -> str:
    return f"pulumi:environments:pulumi.organization.login:{org}:currentEnvironment.name:{path}"


MATRIX_CONFIG: dict[str, Any] = {
    "organization": "contoso",
    "deployments": [
        {"project": "infra", "stack": "prod", "operations": ["update", "preview"]},
        {"project": "infra", "stack": "review-*"},
    ],
    "environments": [{"project": "aws", "name": "dev"}, {"project": "default", "name": "legacy"}],
}
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


ALLOWED = {
    "prod-update": (deploy(), "Deployments"),
    "prod-preview": (deploy(operation="preview"), "Deployments"),
    "review-destroy": (deploy(stack="review-42", operation="destroy"), "DeploymentsPatterns"),
    "review-detect-drift": (deploy(stack="review-x.y", operation="detect-drift"), "DeploymentsPatterns"),
    "esc-aws-dev": (esc("aws/dev"), "Environments"),
    "esc-default-legacy": (esc("legacy"), "EnvironmentsDefaultProject"),
}


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
