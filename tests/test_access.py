"""Who may open a created environment: the keys ``teams``, ``environmentTeams``, ``deletionProtected`` and
``approvals``, the resources they declare, and the warnings about who gets a role's credentials.

Shapes checked against pulumi-pulumiservice at dc76a01: ``TeamEnvironmentPermission`` (index, ``permission`` one of
none|read|open|write|admin, ``maxOpenDuration``), ``api.esc.EnvironmentSettings`` (``deletionProtected``;
``requireImport`` in ``provider/pkg/cloud/metadata.json``) and ``api.Gate`` (``rule``: ``ChangeGateApprovalRuleInput``,
``target``: ``ChangeGateTargetInput`` of ``provider/pkg/cloud/spec.json``). What the service then does with them is
not emulated here.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from oidc import access, testing
from oidc.components.organization import PulumiCloudOidc
from oidc.model import ApprovalRule, AwsSession, ConfigError, DeploymentStack, EscEnvironment, TeamAccess
from oidc.settings import load_settings
from tests.conftest import run_component, settings

TEAM = "pulumiservice:index:TeamEnvironmentPermission"
SETTINGS = "pulumiservice:api/esc:EnvironmentSettings"
GATE = "pulumiservice:api:Gate"
ENVIRONMENT = "pulumiservice:index:Environment"


def problems(values: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ConfigError) as raised:
        load_settings({"organization": "acme", **values})
    return {issue.path: issue.message for issue in raised.value.issues}


# --- config ------------------------------------------------------------------------------------------------


def test_teams_take_a_permission_or_an_object_with_max_open_duration() -> None:
    configured = settings(
        environments=[
            {
                "project": "aws",
                "name": "dev",
                "teams": {"dev": "open", "ops": {"permission": "admin", "maxOpenDuration": "90m"}},
            }
        ]
    )

    [environment] = configured.roles[0].environments
    assert environment.teams == {"dev": TeamAccess("open"), "ops": TeamAccess("admin", "1h30m")}
    assert environment.deletion_protected is True
    assert environment.approvals == {}


def test_environment_teams_of_a_role_reach_every_created_environment_and_the_entry_wins_per_team() -> None:
    configured = settings(
        roles={
            "ops": {
                "environmentTeams": {"platform": "admin", "dev": "read"},
                "environments": [
                    {"project": "aws", "name": "dev", "teams": {"dev": "open"}},
                    {"project": "aws", "name": "prod"},
                    {"project": "aws", "name": "team-*"},
                ],
            }
        }
    )

    dev, prod, pattern = configured.roles[0].environments
    assert dev.teams == {"dev": TeamAccess("open"), "platform": TeamAccess("admin")}
    assert prod.teams == {"dev": TeamAccess("read"), "platform": TeamAccess("admin")}
    assert pattern.teams == {}


@pytest.mark.parametrize(
    ("key", "value"),
    [("teams", {"dev": "open"}), ("deletionProtected", False), ("approvals", {"open": {}})],
)
def test_a_pattern_refuses_the_keys_of_a_created_environment_naming_path_value_and_what_is_allowed(
    key: str, value: Any
) -> None:
    found = problems({"environments": [{"project": "aws", "name": "team-*", key: value}]})

    message = found[f"environments[0].{key}"]
    assert message.startswith(f"got {'false' if value is False else ''}")
    assert "only for an environment this stack creates (a concrete name)" in message
    assert list(found) == [f"environments[0].{key}"]


def test_environment_teams_on_a_role_that_creates_no_environment_is_an_error() -> None:
    found = problems(
        {"roles": {"ops": {"environmentTeams": {"dev": "open"}, "environments": [{"project": "aws", "name": "x-*"}]}}}
    )

    assert found == {
        "roles.ops.environmentTeams": 'got {"dev": "open"}; the role creates no environment (only a concrete name in '
        "environments creates one; patterns create none), so these permissions reach nothing; list a concrete "
        "environment or remove environmentTeams"
    }


def test_each_wrong_team_entry_is_told_at_its_path() -> None:
    found = problems(
        {
            "environments": [
                {
                    "project": "aws",
                    "name": "dev",
                    "teams": {
                        "dev": "opn",
                        "two words": "read",
                        "ops": {"permission": "admin", "maxOpenDuration": "forever"},
                        "sec": {"permission": "read", "until": "friday"},
                    },
                }
            ]
        }
    )

    assert found == {
        "environments[0].teams.dev": 'got "opn"; expected one of none, read, open, write, admin; did you mean `open`?',
        "environments[0].teams.two words": 'got "two words"; expected a team\'s name (not its display name): letters, '
        "digits, '-', '_' and '.'",
        "environments[0].teams.ops.maxOpenDuration": 'got "forever"; expected a duration of the form XhYmZs, such as '
        "4h or 30m",
        "environments[0].teams.sec.until": 'got "friday"; unknown key; allowed: permission, maxOpenDuration',
    }


def test_approvals_default_to_one_approval_by_writers_without_self_approval() -> None:
    configured = settings(environments=[{"project": "aws", "name": "dev", "approvals": {"update": {}}}])

    [environment] = configured.roles[0].environments
    assert environment.approvals == {"update": ApprovalRule()}
    assert access.gate_rule(environment.approvals["update"]) == {
        "ruleType": "approval_required",
        "numApprovalsRequired": 1,
        "allowSelfApproval": False,
        "requireReapprovalOnChange": True,
        "eligibleApprovers": [{"eligibilityType": "has_permission_on_target", "permission": "environment:write"}],
    }


def test_wrong_approvals_are_told_at_their_paths() -> None:
    found = problems(
        {
            "environments": [
                {
                    "project": "aws",
                    "name": "dev",
                    "approvals": {
                        "close": {},
                        "open": {"numApprovalsRequired": 0, "eligibleApprovers": {"permissions": ["environment:wrte"]}},
                    },
                }
            ]
        }
    )

    assert set(found) == {
        "environments[0].approvals.close",
        "environments[0].approvals.open.numApprovalsRequired",
        "environments[0].approvals.open.eligibleApprovers.permissions[0]",
    }
    assert (
        "did you mean `environment:write`?" in found["environments[0].approvals.open.eligibleApprovers.permissions[0]"]
    )


# --- resources -----------------------------------------------------------------------------------------------


def test_each_team_gets_a_permission_named_by_environment_and_team_under_the_role() -> None:
    teams = {"dev": "open", "ops": {"permission": "admin", "maxOpenDuration": "4h"}}
    recording = run_component(settings(environments=[{"project": "aws", "name": "dev", "teams": teams}]))

    found = {r.name: r for r in recording.of_type(TEAM)}
    assert sorted(found) == ["pulumi-cloud-env-team-aws/dev/dev", "pulumi-cloud-env-team-aws/dev/ops"]
    assert found["pulumi-cloud-env-team-aws/dev/ops"].inputs == {
        "organization": "acme",
        "team": "ops",
        "project": "aws",
        "environment": "dev",
        "permission": "admin",
        "maxOpenDuration": "4h",
    }
    assert "maxOpenDuration" not in found["pulumi-cloud-env-team-aws/dev/dev"].inputs
    for resource in found.values():
        assert str(resource.parent_urn).endswith("OidcRole::pulumi-cloud")
        assert resource.dependencies == ("pulumi-cloud-env-aws/dev",)


def test_every_created_environment_gets_its_settings_and_a_pattern_gets_nothing() -> None:
    environments = [
        {"project": "aws", "name": "dev"},
        {"project": "aws", "name": "prod", "deletionProtected": False},
        {"project": "aws", "name": "team-*"},
    ]
    recording = run_component(settings(environments=environments))

    found = {r.name: r.inputs for r in recording.of_type(SETTINGS)}
    assert found == {
        "pulumi-cloud-env-settings-aws/dev": {
            "orgName": "acme",
            "projectName": "aws",
            "envName": "dev",
            "deletionProtected": True,
        },
        "pulumi-cloud-env-settings-aws/prod": {
            "orgName": "acme",
            "projectName": "aws",
            "envName": "prod",
            "deletionProtected": False,
        },
    }
    assert recording.of_type(TEAM) == []
    assert recording.of_type(GATE) == []


def test_approvals_declare_one_gate_per_action_with_the_shapes_of_the_spec() -> None:
    approvals = {
        "update": {"numApprovalsRequired": 2, "eligibleApprovers": {"teams": ["platform"], "users": ["alice"]}},
        "open": {"allowSelfApproval": True, "eligibleApprovers": {"permissions": ["environment_access:update"]}},
    }
    recording = run_component(settings(environments=[{"project": "aws", "name": "dev", "approvals": approvals}]))

    gates = {r.name: r.inputs for r in recording.of_type(GATE)}
    assert sorted(gates) == ["pulumi-cloud-env-gate-aws/dev/open", "pulumi-cloud-env-gate-aws/dev/update"]
    update = gates["pulumi-cloud-env-gate-aws/dev/update"]
    assert (update["orgName"], update["name"], update["enabled"]) == ("acme", "aws/dev update approval", True)
    assert update["target"] == {"entityType": "environment", "qualifiedName": "aws/dev", "actionTypes": ["update"]}
    assert update["rule"] == {
        "ruleType": "approval_required",
        "numApprovalsRequired": 2,
        "allowSelfApproval": False,
        "requireReapprovalOnChange": True,
        "eligibleApprovers": [
            {"eligibilityType": "team_member", "teamName": "platform"},
            {"eligibilityType": "specific_user", "userLogin": "alice"},
        ],
    }
    rule = gates["pulumi-cloud-env-gate-aws/dev/open"]["rule"]
    assert rule["allowSelfApproval"] is True
    assert rule["eligibleApprovers"] == [
        {"eligibilityType": "has_permission_on_target", "permission": "environment_access:update"}
    ]


class _ImportsSeen(testing.OidcMocks):
    """The mocks of :mod:`oidc.testing`, keeping the import ID each resource was declared with."""

    def __init__(self) -> None:
        super().__init__(certificates=testing.CERTIFICATES)
        self.imports: dict[str, str | None] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        self.imports[args.name] = args.resource_id or None
        return super().new_resource(args)


@pytest.mark.parametrize(("preview", "imported"), [(False, "acme/aws/dev"), (True, None)])
def test_the_settings_adopt_the_environments_settings_by_import_in_an_update_only(
    preview: bool, imported: str | None
) -> None:
    mocks = _ImportsSeen()
    pulumi.runtime.set_mocks(mocks, preview=preview)
    configured = settings(environments=[{"project": "aws", "name": "dev", "teams": {"dev": "open"}}])
    component = PulumiCloudOidc("pulumi-cloud", configured)

    @pulumi.runtime.test
    def check() -> Any:
        return component.roles.apply(lambda _: None)

    check()
    assert mocks.imports["pulumi-cloud-env-settings-aws/dev"] == imported
    assert mocks.imports["pulumi-cloud-env-team-aws/dev/dev"] is None
    assert mocks.imports["pulumi-cloud-env-aws/dev"] is None


# --- warnings ------------------------------------------------------------------------------------------------


def test_a_created_environment_without_teams_is_warned_with_its_role_and_policies() -> None:
    configured = settings(
        role={"policyArns": ["arn:aws:iam::aws:policy/SecurityAudit"]},
        environments=[
            {"project": "aws", "name": "dev"},
            {"project": "aws", "name": "prod", "teams": {"ops": "open"}},
            {"project": "aws", "name": "team-*"},
        ],
    )
    recording = run_component(configured)

    found = [w for w in recording.warnings if "declares no teams" in w]
    assert found == [
        "acme/aws/dev (environments[0]) declares no teams, so every member with the organization's default "
        "environment permission (write unless changed) can open it and get these credentials: the role, with "
        "arn:aws:iam::aws:policy/SecurityAudit. Set the organization's default environment permission to none or "
        "read and give the environment teams (both need Pulumi Enterprise or Business Critical); see docs/access.md"
    ]


def test_a_role_with_privileged_policies_that_trusts_stacks_is_warned_once() -> None:
    deployments = (DeploymentStack("infra", "prod", path="roles.deploy.deployments[0]"), DeploymentStack("apps", "*"))
    admin = ["arn:aws:iam::aws:policy/AdministratorAccess", "arn:aws:iam::aws:policy/ReadOnlyAccess"]

    [warning] = access.deployment_runners("roles.deploy", deployments, admin)
    assert warning.startswith(
        "roles.deploy: anyone who may run a deployment of a stack it trusts (apps/*, infra/prod) gets this role, with "
        "arn:aws:iam::aws:policy/AdministratorAccess: "
    )
    assert access.deployment_runners("roles.deploy", deployments, ["arn:aws:iam::aws:policy/ReadOnlyAccess"]) == []
    assert access.deployment_runners("roles.deploy", (), admin) == []


def test_no_teams_warning_is_for_created_environments_only() -> None:
    environments = (
        EscEnvironment("aws", "team-*", path="environments[0]"),
        EscEnvironment("aws", "ok", AwsSession("esc", "1h"), path="environments[1]", teams={"ops": TeamAccess("open")}),
    )

    assert access.unrestricted_environments("role", "acme", environments, []) == []
