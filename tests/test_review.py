"""Warnings for trust wider than the config reads: absorbed operations and broad patterns on privileged roles."""

from __future__ import annotations

from typing import Any

import pytest

from oidc import review
from oidc.model import DeploymentStack
from tests.conftest import run_component, settings

ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"


def entries(*items: dict[str, Any]) -> tuple[DeploymentStack, ...]:
    return settings(deployments=list(items)).roles[0].deployments


def test_a_pattern_that_admits_operations_an_entry_restricts_is_named_with_both_paths() -> None:
    found = review.absorbed_operations(
        "acme",
        entries(
            {"project": "*", "stack": "prod"},
            {"project": "security-baseline", "stack": "prod", "operations": ["preview", "update", "refresh"]},
        ),
    )

    assert found == [
        "deployments[1] trusts security-baseline/prod for preview, update and refresh only, but deployments[0] "
        '({project: "*", stack: "prod"}) admits it for destroy, detect-drift and remediate-drift too: the role '
        "admits what either entry allows, so the entry's operations do not narrow it. Trust the stack from a role "
        "without that pattern, or narrow the pattern"
    ]


def test_a_pattern_restricted_to_the_same_operations_absorbs_nothing() -> None:
    found = review.absorbed_operations(
        "acme",
        entries(
            {"project": "*", "stack": "prod", "operations": ["preview"]},
            {"project": "app", "stack": "prod", "operations": ["preview", "refresh"]},
            {"project": "app", "stack": "dev", "operations": ["preview"]},
        ),
    )

    assert found == []


def test_a_pattern_that_admits_one_more_operation_names_only_that_one() -> None:
    found = review.absorbed_operations(
        "acme",
        entries(
            {"project": "app", "stack": "*", "operations": ["preview", "destroy"]},
            {"project": "app", "stack": "prod", "operations": ["preview"]},
        ),
    )

    [warning] = found
    assert "admits it for destroy too" in warning


@pytest.mark.parametrize(
    "policy", [ADMIN, "arn:aws-us-gov:iam::aws:policy/PowerUserAccess", "arn:aws:iam::aws:policy/IAMFullAccess"]
)
def test_a_pattern_over_every_project_on_a_privileged_role_warns(policy: str) -> None:
    found = review.broad_patterns(entries({"project": "*", "stack": "prod"}), [READ_ONLY, policy])

    assert found == [
        'deployments[0] ({project: "*", stack: "prod"}) trusts the prod stack of every project, including projects '
        f"created later, with {policy}: whoever can create a project and run its deployments gets these "
        "credentials. Name the projects instead"
    ]


@pytest.mark.parametrize(
    ("entry", "policies"),
    [
        ({"project": "*", "stack": "prod"}, [READ_ONLY]),
        ({"project": "infra", "stack": "*"}, [ADMIN]),
        ({"project": "*", "stack": "*"}, [ADMIN]),  # org-wide: its own warning
        ({"project": "*", "stack": "prod"}, ["arn:aws:iam::123456789012:policy/AdministratorAccess"]),
    ],
)
def test_no_broad_pattern_warning_without_both_a_project_pattern_and_a_privileged_aws_policy(
    entry: dict[str, Any], policies: list[str]
) -> None:
    assert review.broad_patterns(entries(entry), policies) == []


def test_the_program_warns_of_both_in_plan_and_preview() -> None:
    loaded = settings(
        role={"policyArns": [ADMIN]},
        deployments=[
            {"project": "*", "stack": "prod"},
            {"project": "security-baseline", "stack": "prod", "operations": ["preview", "update", "refresh"]},
        ],
    )

    recording = run_component(loaded)

    assert [w.split(" ", 1)[0] for w in recording.warnings if w.startswith("deployments[")] == [
        "deployments[1]",
        "deployments[0]",
    ]


def test_the_size_hint_names_the_entries_that_list_operations_and_only_then() -> None:
    listed = [{"project": "infra", "stack": f"s{i}", "operations": ["preview", "update"]} for i in range(5)]
    unlisted = [{"project": "infra", "stack": f"s{i}"} for i in range(5)]

    with_operations = run_errors(listed)
    without = run_errors(unlisted)

    assert "omit operations at deployments[0], deployments[1], deployments[2] and 2 more" in with_operations
    assert "operations" not in without


def run_errors(deployments: list[dict[str, Any]]) -> str:
    from oidc.model import ConfigError  # noqa: PLC0415

    with pytest.raises(ConfigError) as raised:
        run_component(settings(deployments=deployments, trustPolicyMaxChars=300))
    [issue] = raised.value.issues
    return issue.message
