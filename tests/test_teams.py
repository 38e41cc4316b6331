"""Who may open a created environment: teams' permissions read from Pulumi Cloud, and the guard that keeps a
permission set there from being changed without a word.

The reads talk HTTP to tests/cloud_server.py on 127.0.0.1, serving ``ListTeams``, ``GetTeam`` and
``GetOrganizationMetadata`` bodies of the shapes of the service's OpenAPI. Untested without the service: the
list in its docstring (what an organization without teams answers, what a member who is not an admin sees).
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pulumi_pulumiservice
import pytest

from oidc import cloud
from oidc.cloud import CloudError, guard, teams
from oidc.cloud.guard import DeclaredTeams
from oidc.settings import load_settings
from tests import cloud_server
from tests.cloud_server import FakeCloud, closed_port_url, recorded, serving

TOKEN = "pul-0123456789abcdef0123456789abcdef01234567"
TEAMS_PATH = "/api/orgs/acme/teams"
METADATA_PATH = "/api/orgs/acme/metadata"
ADMIN = guard.AdminStack("acme", "pulumi-aws-oidc", "dev")
STATE_PATH = "/api/stacks/acme/pulumi-aws-oidc/dev/resources/latest"


def grant(project: str, environment: str, permission: str, max_open: str | None = None) -> dict[str, Any]:
    """A ``TeamEnvironmentSettings`` as ``GetTeam`` returns it."""
    body = {"projectName": project, "envName": environment, "permission": permission}
    return body | ({"maxOpenDuration": max_open} if max_open else {})


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cloud, "BACKOFF_SECONDS", (0.01, 0.02))


@pytest.fixture
def server() -> Iterator[FakeCloud]:
    with serving() as fake:
        yield fake


def client(url: str) -> cloud.PulumiCloud:
    credentials = cloud.Credentials(TOKEN, "PULUMI_ACCESS_TOKEN", url, "PULUMI_BACKEND_URL")
    return cloud.PulumiCloud(credentials, timeout=cloud.Timeout(2.0, "the tests"))


def read(server: FakeCloud) -> list[teams.Team]:
    with client(server.url) as pulumi_cloud:
        return teams.read_teams(pulumi_cloud, "acme")


def reader(path: str) -> Callable[[cloud.PulumiCloud], object]:
    """The read that asks for ``path``: the organization's metadata, or its teams (and each team)."""
    if path == METADATA_PATH:
        return lambda pulumi_cloud: teams.organization_access(pulumi_cloud, "acme")
    return lambda pulumi_cloud: teams.read_teams(pulumi_cloud, "acme")


# --- the reads -----------------------------------------------------------------------------------


def test_teams_are_listed_once_then_each_read_with_its_environment_permissions(server: FakeCloud) -> None:
    server.teams(
        "acme",
        {
            "platform": [grant("aws", "prod", "open", "1h0m0s"), grant("aws", "dev", "admin")],
            "auditors": [grant("aws", "prod", "read")],
            "interns": [],
        },
    )

    found = read(server)

    assert [team.name for team in found] == ["platform", "auditors", "interns"]
    assert teams.environment_permissions(found, "aws", "prod") == {
        "platform": teams.EnvironmentGrant("open", "1h0m0s"),
        "auditors": teams.EnvironmentGrant("read"),
    }
    assert teams.environment_permissions(found, "aws", "dev") == {"platform": teams.EnvironmentGrant("admin")}
    assert teams.environment_permissions(found, "aws", "staging") == {}
    # ListTeams is not paged (the spec has no continuation token): one request, then one GetTeam per team.
    assert server.paths().count(TEAMS_PATH) == 1
    assert sorted(server.paths()[1:]) == [f"{TEAMS_PATH}/{name}" for name in ("auditors", "interns", "platform")]
    assert {request.authorization for request in server.requests} == {f"token {TOKEN}"}


def test_a_team_without_environments_or_deleted_between_the_reads_has_no_permission(server: FakeCloud) -> None:
    server.teams("acme", {"platform": [grant("aws", "prod", "open")], "gone": []})
    body = {key: value for key, value in recorded("team").items() if key != "environments"}
    server.routes[f"{TEAMS_PATH}/platform"] = (200, body | {"name": "platform"})
    del server.routes[f"{TEAMS_PATH}/gone"]  # 404: deleted after it was listed

    found = read(server)

    assert found == [teams.Team("platform")]


def test_a_team_name_is_sent_as_one_segment_of_the_path(server: FakeCloud) -> None:
    server.teams("acme", {"ops team/eu": [grant("aws", "prod", "write")]})

    [team] = read(server)

    assert team.environments == {("aws", "prod"): teams.EnvironmentGrant("write")}
    # A "/" in the name stays in its segment: quoted, it cannot reach another path of the API.
    assert [request.sent for request in server.requests] == [TEAMS_PATH, f"{TEAMS_PATH}/ops%20team%2Feu"]


@pytest.mark.parametrize("permission", ["none", "write"])
def test_the_default_environment_permission_and_deployment_role_are_read(server: FakeCloud, permission: str) -> None:
    server.organization("acme", permission, defaultDeploymentRoleId="role-7")

    with client(server.url) as pulumi_cloud:
        access = teams.organization_access(pulumi_cloud, "acme")

    assert access == teams.OrganizationAccess(permission, "role-7")
    assert server.paths() == [METADATA_PATH]


def test_metadata_without_a_default_says_none(server: FakeCloud) -> None:
    body = {k: v for k, v in recorded("organization_metadata").items() if k != "defaultEnvironmentPermission"}
    server.routes[METADATA_PATH] = (200, body)

    with client(server.url) as pulumi_cloud:
        assert teams.organization_access(pulumi_cloud, "acme") == teams.OrganizationAccess(None, None)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (TEAMS_PATH, "the organization acme has no teams in this Pulumi Cloud (teams are a feature of the Enterprise"),
        (METADATA_PATH, "the organization acme does not exist in this Pulumi Cloud"),
    ],
)
def test_a_404_of_the_organization_is_a_clear_error(server: FakeCloud, path: str, expected: str) -> None:
    with client(server.url) as pulumi_cloud, pytest.raises(CloudError) as raised:
        reader(path)(pulumi_cloud)

    message = str(raised.value)
    assert message.startswith(f"pulumi cloud: GET {server.url}{path}: 404 Not Found: {expected}")
    assert "PULUMI_BACKEND_URL" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("status", "expected", "attempts"),
    [
        (401, "Pulumi Cloud refused the token from PULUMI_ACCESS_TOKEN (401 Unauthorized)", 1),
        (500, "Pulumi Cloud failed (500 Internal Server Error) on each of 3 attempts", 3),
    ],
)
def test_a_refused_token_or_a_failing_service_is_a_one_line_error(
    server: FakeCloud, status: int, expected: str, attempts: int
) -> None:
    server.teams("acme", {"platform": []})
    server.status = status

    with pytest.raises(CloudError) as raised:
        read(server)

    message = str(raised.value)
    assert message.startswith(f"pulumi cloud: GET {server.url}{TEAMS_PATH}: {expected}")
    assert "\n" not in message
    assert TOKEN not in message
    assert server.paths() == [TEAMS_PATH] * attempts


def test_a_failing_team_read_stops_the_others_with_its_error(server: FakeCloud) -> None:
    server.teams("acme", {f"team-{i}": [] for i in range(20)})
    server.routes[f"{TEAMS_PATH}/team-3"] = (401, {"code": 401, "message": "Unauthorized"})

    with pytest.raises(CloudError) as raised:
        read(server)

    assert str(raised.value).startswith(f"pulumi cloud: GET {server.url}{TEAMS_PATH}/team-3: Pulumi Cloud refused")


def test_an_unreachable_api_is_a_clear_error() -> None:
    url = closed_port_url()

    with client(url) as pulumi_cloud, pytest.raises(CloudError) as raised:
        teams.read_teams(pulumi_cloud, "acme")

    message = str(raised.value)
    assert message.startswith(f"pulumi cloud: GET {url}{TEAMS_PATH}: cannot reach Pulumi Cloud (")
    assert "on each of 3 attempts" in message


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (TEAMS_PATH, ["platform"]),
        (TEAMS_PATH, {"teams": "platform"}),
        (TEAMS_PATH, {"teams": [{"name": 7}]}),
        (TEAMS_PATH, {"teams": [{"name": ""}]}),
        (TEAMS_PATH, {}),
        (f"{TEAMS_PATH}/platform", ["not", "a", "team"]),
        (f"{TEAMS_PATH}/platform", {"name": "platform", "environments": {"aws/prod": "open"}}),
        (f"{TEAMS_PATH}/platform", {"name": "platform", "environments": ["open"]}),
        (f"{TEAMS_PATH}/platform", {"name": "platform", "environments": [{"projectName": "aws", "envName": "prod"}]}),
        (f"{TEAMS_PATH}/platform", {"environments": [grant("aws", "prod", "open") | {"permission": 3}]}),
        (f"{TEAMS_PATH}/platform", {"environments": [grant("aws", "prod", "open") | {"maxOpenDuration": 3600}]}),
        (METADATA_PATH, ["write"]),
        (METADATA_PATH, {"defaultEnvironmentPermission": 2}),
        (METADATA_PATH, {"defaultEnvironmentPermission": "write", "defaultDeploymentRoleId": {"id": "x"}}),
    ],
)
def test_a_body_of_another_shape_is_a_clear_error(server: FakeCloud, path: str, body: Any) -> None:
    server.teams("acme", {"platform": [grant("aws", "prod", "open")]})
    server.routes[path] = (200, body)

    with client(server.url) as pulumi_cloud, pytest.raises(CloudError) as raised:
        reader(path)(pulumi_cloud)

    message = str(raised.value)
    assert message.startswith(f"pulumi cloud: GET {server.url}{path}: the answer is not of the documented shape (")
    assert "\n" not in message


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (cloud_server.raw(200, b"<html>sign in</html>"), "the answer is not JSON (Expecting value"),
        (cloud_server.raw(200, b'{"teams": [\xff]}'), "the answer is not UTF-8 text (byte 0xff"),
        (cloud_server.nested(cloud.MAX_DEPTH + 1), f"the answer nests deeper than {cloud.MAX_DEPTH} levels"),
        (cloud_server.flood(teams.MAX_TEAM_BYTES + 1, declared=True), "declares 4194305 bytes, more than 4 MiB"),
        (cloud_server.flood(teams.MAX_TEAM_BYTES + 1, declared=False), "goes on past 4 MiB"),
    ],
)
def test_a_hostile_body_ends_in_one_clear_line_fast(server: FakeCloud, answer: Any, expected: str) -> None:
    server.routes[TEAMS_PATH] = answer

    started = time.monotonic()
    with pytest.raises(CloudError) as raised:
        read(server)

    message = str(raised.value)
    assert message.startswith(f"pulumi cloud: GET {server.url}{TEAMS_PATH}: ")
    assert expected in message
    assert "\n" not in message
    assert len(message) < 600
    assert time.monotonic() - started < 5.0


def test_a_hanging_team_read_ends_at_the_deadline(server: FakeCloud) -> None:
    server.teams("acme", {"platform": []})
    server.routes[f"{TEAMS_PATH}/platform"] = cloud_server.hang()

    started = time.monotonic()
    with pytest.raises(CloudError) as raised:
        read(server)

    assert "no complete answer within 2 s (the tests)" in str(raised.value)
    assert time.monotonic() - started < 6.0


def test_a_list_of_more_teams_than_are_read_one_by_one_is_refused(
    server: FakeCloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(teams, "MAX_TEAMS", 5)
    server.teams("acme", {f"team-{i}": [] for i in range(6)})

    with pytest.raises(CloudError) as raised:
        read(server)

    assert "the answer lists 6 teams, more than the 5 this program reads one by one" in str(raised.value)
    assert server.paths() == [TEAMS_PATH]


# --- the rule ------------------------------------------------------------------------------------


def issues(
    declared: Mapping[str, str], live: Mapping[str, str], written: Mapping[str, str], default: str = "write"
) -> dict[str, str]:
    found = guard.team_permission_issues(
        "acme", "aws", "prod", declared, live=live, written=written, default=default, path="environments[0]"
    )
    return {issue.path: issue.message for issue in found}


@pytest.mark.parametrize(
    ("declared", "live", "written"),
    [
        pytest.param({"platform": "open"}, {}, {}, id="a new grant"),
        pytest.param({"platform": "open"}, {"platform": "open"}, {}, id="Pulumi Cloud holds what is declared"),
        pytest.param({"platform": "read"}, {"platform": "open"}, {"platform": "open"}, id="the config lowers it"),
        pytest.param({"platform": "admin"}, {"platform": "open"}, {"platform": "open"}, id="the config raises it"),
        pytest.param({}, {"platform": "open"}, {"platform": "open"}, id="the config removes what it wrote"),
        pytest.param({"platform": "admin"}, {"platform": "admin"}, {"platform": "read"}, id="both moved alike"),
        pytest.param({}, {"auditors": "admin"}, {}, id="an undeclared team is left as it is"),
        pytest.param({}, {}, {"platform": "open"}, id="removed in Pulumi Cloud and from the config"),
    ],
)
def test_a_change_the_config_asks_for_or_no_change_passes(
    declared: dict[str, str], live: dict[str, str], written: dict[str, str]
) -> None:
    assert issues(declared, live, written) == {}


def test_a_permission_raised_in_pulumi_cloud_is_not_lowered_without_a_word() -> None:
    found = issues({"platform": "open"}, live={"platform": "admin"}, written={"platform": "open"})

    assert list(found) == ["environments[0].teams.platform"]
    assert found["environments[0].teams.platform"] == (
        "the team platform has `admin` on the ESC environment acme/aws/prod in Pulumi Cloud, which this stack did "
        "not set (it last wrote `open`), and this entry declares `open`: pulumi up would lower it to `open` without "
        "a word. To keep what Pulumi Cloud holds, declare environments[0].teams.platform: admin; to apply the "
        "config, first set the team's permission on acme/aws/prod to open in Pulumi Cloud (Settings > Access "
        "management > Teams > platform), then preview again"
    )


def test_a_permission_lowered_in_pulumi_cloud_is_not_raised_again_without_a_word() -> None:
    found = issues({"platform": "write"}, live={"platform": "read"}, written={"platform": "write"})

    [message] = found.values()
    assert "has `read` on the ESC environment acme/aws/prod" in message
    assert "(it last wrote `write`), and this entry declares `write`: pulumi up would raise it to `write`" in message
    assert "declare environments[0].teams.platform: read" in message


def test_a_grant_made_in_pulumi_cloud_before_this_stack_wrote_any_is_not_replaced() -> None:
    found = issues({"platform": "read"}, live={"platform": "admin"}, written={})

    [message] = found.values()
    assert "which this stack did not set (it last wrote nothing for this team)" in message
    assert "pulumi up would lower it to `read`" in message


def test_a_team_dropped_from_the_config_after_pulumi_cloud_changed_it_is_not_removed_without_a_word() -> None:
    found = issues({}, live={"platform": "admin"}, written={"platform": "open"}, default="read")

    [message] = found.values()
    assert "this entry no longer names the team: pulumi up would remove it (its members then get the " in message
    assert "organization's default, `read`)" in message
    assert "declare environments[0].teams.platform: admin" in message
    assert "first remove the team's permission on acme/aws/prod in Pulumi Cloud" in message


def test_a_grant_removed_in_pulumi_cloud_is_not_made_again_without_a_word() -> None:
    found = issues({"platform": "open"}, live={}, written={"platform": "open"})

    [message] = found.values()
    assert message.startswith("the team platform has no permission of its own on the ESC environment acme/aws/prod")
    assert "pulumi up would grant it `open`" in message
    assert "To keep what Pulumi Cloud holds, remove environments[0].teams.platform;" in message


def test_every_team_changed_in_pulumi_cloud_is_reported_at_once() -> None:
    found = issues(
        {"platform": "open", "auditors": "read", "sre": "write"},
        live={"platform": "admin", "auditors": "none", "sre": "write"},
        written={"platform": "open", "auditors": "read", "sre": "open"},
    )

    assert sorted(found) == ["environments[0].teams.auditors", "environments[0].teams.platform"]


def test_a_team_that_can_open_it_undeclared_gets_a_warning_and_one_that_only_reads_it_none() -> None:
    warnings = guard.team_permission_warnings(
        "acme",
        "aws",
        "prod",
        {"platform": "open"},
        live={"platform": "open", "interns": "write", "auditors": "read", "old": "admin"},
        written={"old": "admin"},
        path="environments[0]",
    )

    assert warnings == [
        "acme/aws/prod: the team interns can open it, and get the credentials it resolves, by `write` set in Pulumi "
        "Cloud; environments[0].teams does not name the team, so pulumi up leaves it. Declare "
        "environments[0].teams.interns: write to manage it here, or remove it in Pulumi Cloud"
    ]


# --- the guard -----------------------------------------------------------------------------------


def team_resource(environment: str, team: str, permission: str, *, delete: bool = False) -> dict[str, Any]:
    """A ``TeamEnvironmentPermission`` of this admin stack's state, as ``.../resources/latest`` returns it."""
    inputs = {"organization": "acme", "team": team, "project": "aws", "environment": environment}
    return {
        "resource": {
            "urn": f"urn:pulumi:dev::pulumi-aws-oidc::{guard.TEAM_PERMISSION_TYPE}::{team}-{environment}",
            "type": guard.TEAM_PERMISSION_TYPE,
            "custom": True,
            "delete": delete,
            "inputs": inputs | {"permission": permission},
            "outputs": inputs | {"permission": permission},
        }
    }


def environment_resource(name: str) -> dict[str, Any]:
    inputs = {"organization": "acme", "project": "aws", "name": name}
    return {"resource": {"type": guard.ENVIRONMENT_TYPE, "custom": True, "inputs": inputs, "outputs": inputs}}


@pytest.fixture
def organization(server: FakeCloud) -> FakeCloud:
    """acme, whose admin stack created aws/prod and granted platform `open` on it; default permission `none`."""
    server.stack("acme", "pulumi-aws-oidc", "dev")
    server.state(
        "acme",
        "pulumi-aws-oidc",
        "dev",
        {
            "resources": [
                environment_resource("prod"),
                team_resource("prod", "platform", "open"),
                team_resource("prod", "auditors", "admin", delete=True),
            ]
        },
    )
    server.organization("acme", "none")
    server.teams("acme", {"platform": [grant("aws", "prod", "open")], "auditors": [], "interns": []})
    return server


def run_guard(server: FakeCloud, *declared: DeclaredTeams) -> guard.Findings:
    with client(server.url) as pulumi_cloud:
        return guard.guard_teams(pulumi_cloud, "acme", declared, guard.read_state(pulumi_cloud, ADMIN))


def prod(**teams_declared: str) -> DeclaredTeams:
    return DeclaredTeams("aws", "prod", teams_declared, "environments[0]")


def test_the_state_holds_the_permissions_this_stack_wrote_and_not_the_deleted_ones(organization: FakeCloud) -> None:
    with client(organization.url) as pulumi_cloud:
        state = guard.read_state(pulumi_cloud, ADMIN)

    assert state.team_permissions == {"acme/aws/prod": {"platform": "open"}}


def test_what_pulumi_cloud_holds_as_written_passes_and_reads_teams_and_the_default(organization: FakeCloud) -> None:
    found = run_guard(organization, prod(platform="open", interns="read"))

    assert found.issues == []
    assert found.warnings == []
    assert organization.paths()[:2] == [STATE_PATH, METADATA_PATH]
    assert organization.paths().count(TEAMS_PATH) == 1


def test_a_permission_changed_in_pulumi_cloud_stops_the_run_with_what_to_do(organization: FakeCloud) -> None:
    organization.teams("acme", {"platform": [grant("aws", "prod", "admin")]})

    found = run_guard(organization, prod(platform="open"))

    [issue] = found.issues
    assert issue.path == "environments[0].teams.platform"
    assert "has `admin` on the ESC environment acme/aws/prod" in issue.message
    assert "pulumi up would lower it to `open`" in issue.message


def test_a_declared_team_the_organization_does_not_have_stops_the_run(organization: FakeCloud) -> None:
    found = run_guard(organization, prod(platform="open", platfrom="read"))

    [issue] = found.issues
    assert issue.path == "environments[0].teams.platfrom"
    assert issue.message.startswith(
        "the organization acme has no team platfrom (its teams: auditors, interns, platform), so pulumi up would "
        "stop half-way when it grants the team its permission"
    )


def test_a_default_permission_that_opens_every_environment_is_a_warning(organization: FakeCloud) -> None:
    organization.organization("acme", "write")

    found = run_guard(organization, prod(platform="open"))

    assert found.issues == []
    assert found.warnings == [
        "every member of acme can open acme/aws/prod and get the credentials they resolve: the organization's "
        "default environment permission is `write`, and every member gets it on every environment, whatever the "
        "teams. For the teams declared to decide who opens them, set it to `read` or `none` (Settings > Access "
        "management)"
    ]


def test_without_the_last_update_permissions_are_not_compared_and_a_warning_says_so(organization: FakeCloud) -> None:
    del organization.routes[STATE_PATH]
    del organization.routes["/api/stacks/acme/pulumi-aws-oidc/dev"]  # kept elsewhere: not found here
    organization.teams("acme", {"platform": [grant("aws", "prod", "admin")]})

    found = run_guard(organization, prod(platform="open"))

    assert found.issues == []
    [warning] = found.warnings
    assert warning.startswith("not guarded: this admin stack's last update cannot be read from Pulumi Cloud, so ")
    assert "acme/aws/prod were not compared" in warning


def test_nothing_declared_and_nothing_written_reads_no_team(organization: FakeCloud) -> None:
    found = run_guard(organization, DeclaredTeams("aws", "staging", {}, "environments[1]"))

    assert found == guard.Findings([], [])
    assert organization.paths() == [STATE_PATH]


def test_the_guard_of_the_program_takes_the_teams_declared(organization: FakeCloud) -> None:
    organization.teams("acme", {"platform": [grant("aws", "prod", "admin")]})
    organization.stack("acme", "infra", "prod")
    settings = load_settings(
        {
            "organization": "acme",
            "deployments": [{"project": "infra", "stack": "prod"}],
            "environments": [{"project": "aws", "name": "prod"}],
        }
    )

    with client(organization.url) as pulumi_cloud:
        found = guard.guard(settings, pulumi_cloud, ADMIN, lambda *_: "", teams=[prod(platform="open")])

    assert [issue.path for issue in found.issues] == ["environments[0].teams.platform"]
    assert organization.paths().count(STATE_PATH) == 1  # the state is read once for settings and teams


# --- the deployment role ------------------------------------------------------------------------


def test_a_deployment_role_in_the_settings_gets_the_warning_that_each_write_erases_it() -> None:
    body = recorded("unmodelled_settings")

    warning = guard.deployment_role_warning("acme/infra/prod", "deployments[0]", body)

    assert warning is not None
    assert warning.startswith(
        "acme/infra/prod: its deployment settings run deployments with the deployment role stack-deployer "
        "(id 4c1b1c0e-8f6a-4d43-9f1e-0c3b6f0c2a11) (operationContext.role), which pulumiservice.DeploymentSettings "
        "cannot express: every pulumi up that writes the settings erases it (pulumi/pulumi-pulumiservice#823)"
    )
    assert "make it the organization's default deployment role" in warning
    assert "give deployments[0] manageSettings: false" in warning


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"operationContext": {}},
        {"operationContext": {"role": None}},
        {"operationContext": {"role": "deployer"}},
        {"operationContext": {"role": {}}},
        {"operationContext": {"role": {"id": "", "name": 3}}},
        {"operationContext": ["role"]},
    ],
)
def test_settings_without_a_role_get_no_warning(body: dict[str, Any]) -> None:
    assert guard.deployment_role_warning("acme/infra/prod", "deployments[0]", body) is None


def test_a_hostile_role_name_is_cut_and_escaped() -> None:
    body = {"operationContext": {"role": {"id": "r-1", "name": "\x1b[31m" + "x" * 10_000}}}

    warning = guard.deployment_role_warning("acme/infra/prod", "deployments[0]", body)

    assert warning is not None
    assert "\x1b" not in warning
    assert "… (10005 characters)" in warning
    assert len(warning) < 1200


def test_the_state_is_read_by_the_type_token_of_the_providers_resource() -> None:
    # The SDK's class registers its resources under this token: the state lists them by it.
    assert f"'{guard.TEAM_PERMISSION_TYPE}'," in inspect.getsource(pulumi_pulumiservice.TeamEnvironmentPermission)
