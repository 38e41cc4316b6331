"""``plan``'s ``Access`` section: who can get each role's credentials, as the config declares it, in text and JSON.

Read from what the program declared offline (the trust policy's subjects, the managed settings, the created
environments and their ``TeamEnvironmentPermission``, ``api.esc.EnvironmentSettings`` and ``api.Gate``), so it says
what ``pulumi up`` would write, not what Pulumi Cloud holds now.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from oidc import cli
from tests.test_plan import org_project, plan

CONFIG: dict[str, Any] = {
    "organization": "acme",
    "roles": {
        "deploy": {
            "policyArns": ["arn:aws:iam::aws:policy/AdministratorAccess"],
            "environmentTeams": {"platform": "admin"},
            "deployments": [
                {"project": "infra", "stack": "prod", "operations": ["preview", "update"]},
                {"project": "infra", "stack": "review-*", "operations": ["preview"]},
            ],
            "environments": [
                {
                    "project": "aws",
                    "name": "prod",
                    "teams": {"deployers": {"permission": "open", "maxOpenDuration": "1h"}},
                    "approvals": {"open": {"eligibleApprovers": {"teams": ["platform"]}}},
                },
                {"project": "aws", "name": "scratch", "deletionProtected": False},
                {"project": "aws", "name": "team-*"},
            ],
        }
    },
}


@pytest.fixture
def stack(tmp_path: Path) -> Path:
    return org_project(tmp_path / "access", CONFIG)


def test_json_access_names_the_stacks_the_environments_and_who_may_open_each_created_one(
    capsys: pytest.CaptureFixture[str], stack: Path
) -> None:
    code, out, _ = plan(capsys, "--stack", "org", "--json", "--cwd", str(stack))

    [account] = json.loads(out)["accounts"]
    [role] = account["roles"]
    access = role["access"]
    assert code == 0
    assert access["deploymentStacks"] == [
        {"stack": "acme/infra/prod", "operations": ["preview", "update"], "settingsManagedHere": True},
        {"stack": "acme/infra/review-*", "operations": ["preview"], "settingsManagedHere": False},
    ]
    assert access["deploymentsNote"].startswith("whoever may start a deployment of one of these stacks gets this role")
    assert access["environments"] == [
        {"environment": "acme/aws/prod", "createdHere": True},
        {"environment": "acme/aws/scratch", "createdHere": True},
        {"environment": "acme/aws/team-*", "createdHere": False},
    ]
    prod, scratch = access["createdEnvironments"]
    assert prod["environment"] == "acme/aws/prod"
    assert prod["teams"] == {
        "deployers": {"permission": "open", "maxOpenDuration": "1h"},
        "platform": {"permission": "admin"},
    }
    assert prod["deletionProtected"] is True
    assert prod["approvals"]["open"]["eligibleApprovers"] == [
        {"eligibilityType": "team_member", "teamName": "platform"}
    ]
    assert (scratch["teams"], scratch["deletionProtected"], scratch["approvals"]) == (
        {"platform": {"permission": "admin"}},
        False,
        {},
    )


def test_text_access_section_of_a_role(capsys: pytest.CaptureFixture[str], stack: Path) -> None:
    code, out, _ = plan(capsys, "--stack", "org", "--cwd", str(stack))

    section = out[out.index("    Access (") : out.index("\nOutputs\n")]
    assert code == 0
    assert section.splitlines() == [
        "    Access (who can get this role's credentials, as declared)",
        "      Deployments that run with it",
        "        acme/infra/prod  (preview, update; settings managed here)",
        "        acme/infra/review-*  (preview; settings not managed here)",
        "        whoever may start a deployment of one of these stacks gets this role (from the console or the REST "
        "API with their own permissions, by a git push with the stack's)",
        "      Environments that open it",
        "        acme/aws/prod  (created here)",
        "        acme/aws/scratch  (created here)",
        "        acme/aws/team-*  (defined elsewhere)",
        "      Who may open the environments it creates",
        "        acme/aws/prod",
        "          teams               deployers open (opens for at most 1h), platform admin",
        "          every other member  the organization's default environment permission (write unless changed)",
        "          deletion protected  yes",
        "          open approval       1 of: team platform",
        "        acme/aws/scratch",
        "          teams               platform admin",
        "          every other member  the organization's default environment permission (write unless changed)",
        "          deletion protected  no",
    ]


def test_the_role_with_administrator_access_is_warned_once_and_no_created_environment_lacks_teams(
    capsys: pytest.CaptureFixture[str], stack: Path
) -> None:
    _, out, _ = plan(capsys, "--stack", "org", "--json", "--cwd", str(stack))

    warnings = json.loads(out)["warnings"]
    assert [w for w in warnings if "declares no teams" in w] == []
    assert [w.partition(":")[0] for w in warnings if "anyone who may run a deployment" in w] == ["roles.deploy"]


def test_a_created_environment_without_teams_is_warned_in_plan(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = json.loads(json.dumps(CONFIG))
    del config["roles"]["deploy"]["environmentTeams"]
    directory = org_project(tmp_path / "bare", config)

    code, out, _ = plan(capsys, "--stack", "org", "--json", "--strict", "--cwd", str(directory))

    warned = [w for w in json.loads(out)["warnings"] if "declares no teams" in w]
    assert code == 1
    assert [w.partition(" ")[0] for w in warned] == ["acme/aws/scratch"]
    assert "roles.deploy, with arn:aws:iam::aws:policy/AdministratorAccess" in warned[0]


def explain(capsys: pytest.CaptureFixture[str], directory: Path, sub: str, *extra: str) -> tuple[int, str]:
    code = cli.main(["explain", "--stack", "org", "--cwd", str(directory), "--aud", "aws:acme", "--sub", sub, *extra])
    return code, capsys.readouterr().out


ESC_SUB = "pulumi:environments:pulumi.organization.login:acme:currentEnvironment.name:aws/{name}"


def test_explain_says_who_may_open_the_environment_of_an_esc_token(
    capsys: pytest.CaptureFixture[str], stack: Path
) -> None:
    code, out = explain(capsys, stack, ESC_SUB.format(name="prod"))

    assert code == 0
    assert out.endswith(
        "Who may open acme/aws/prod, as declared (and so get these credentials):\n"
        "  team deployers (open, at most 1h open), team platform (admin); every other member: the organization's "
        "default environment permission (write unless changed).\n"
        "  open needs approval, 1 of: team platform.\n"
    )
    code, out = explain(capsys, stack, ESC_SUB.format(name="prod"), "--json")
    assert json.loads(out)["whoMayOpen"]["teams"]["deployers"] == {"permission": "open", "maxOpenDuration": "1h"}


def test_explain_says_nothing_of_who_may_open_an_environment_the_config_does_not_create(
    capsys: pytest.CaptureFixture[str], stack: Path
) -> None:
    code, out = explain(capsys, stack, ESC_SUB.format(name="team-1"), "--json")

    report = json.loads(out)
    assert (code, report["decision"], report["whoMayOpen"]) == (0, "ALLOW", None)
