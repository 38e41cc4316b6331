"""``python -m oidc doctor`` end to end: moto's AWS server, the local Pulumi Cloud and a TLS issuer, all on 127.0.0.1.

Each world is seeded from what ``plan`` declares for the stack (the recorded inputs of the role, its policy
attachments, the provider, the deployment settings and the environment), as ``pulumi up`` would leave it, with the
thumbprint of the chain the local issuer serves. A clean world has no findings; each drift, made as a console
edit would make it, is one finding of its kind.
"""

from __future__ import annotations

import json
import shutil
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped]
import pytest
import yaml
from botocore.exceptions import ClientError  # type: ignore[import-untyped]

from oidc.aws import doctor as aws_doctor
from oidc.cli import main, offline
from oidc.cli.evaluate import evaluate_stack, role_views
from oidc.cloud import live
from tests import certs
from tests.aws_server import AwsServer, with_managed_policies
from tests.cloud_server import FakeCloud, closed_port_url, hang, raw, serving
from tests.conftest import PROJECT_DIR
from tests.tls_server import serving_chain

TOKEN = "pul-" + "0123456789abcdef" * 2 + "01234567"
ADMIN = ("acme", "pulumi-aws-oidc", "dev")
CHAIN = certs.chain(1)
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "ASIAIOSFODNN7EXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "AWS_SESSION_TOKEN": "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD6EXAMPLE",
}


@dataclass
class World:
    """The project folder, the services, and what was seeded."""

    project: Path
    cloud: FakeCloud
    iam: Any
    role_name: str
    role_arn: str
    provider_arn: str
    environment: tuple[str, str, str]

    def doctor(self, capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, str, str]:
        code = main(["doctor", "--stack", "dev", "--cwd", str(self.project), "--timeout", "10", *arguments])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    def findings(self, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[dict[str, Any]]]:
        code, out, _ = self.doctor(capsys, "--json")
        return code, json.loads(out)["findings"]


def go_duration(text: str) -> str:
    """``1h`` as Pulumi Cloud stores it (Go's ``time.Duration.String``): ``1h0m0s``."""
    seconds = sum(int(n) * {"h": 3600, "m": 60, "s": 1}[u] for n, u in _parts(text))
    return f"{seconds // 3600}h{seconds % 3600 // 60}m{seconds % 60}s"


def _parts(text: str) -> Iterator[tuple[str, str]]:
    number = ""
    for c in text:
        if c.isdigit():
            number += c
        else:
            yield number, c
            number = ""


def project(folder: Path, edit: dict[str, Any] | None = None) -> Path:
    """A copy of this project with the shipped dev stack, its config keys changed by ``edit``."""
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(PROJECT_DIR / name, folder / name)
    stack = yaml.safe_load((PROJECT_DIR / "Pulumi.dev.yaml").read_text())
    for key, value in (edit or {}).items():
        stack["config"][f"pulumi-aws-oidc:{key}"] = value
    (folder / "Pulumi.dev.yaml").write_text(yaml.safe_dump(stack))
    return folder


def seed(folder: Path, aws: AwsServer, cloud: FakeCloud) -> World:
    """Everything as ``pulumi up`` of the stack's config leaves it, read from the offline plan's recording."""
    recording = evaluate_stack("dev", folder).recording
    (view,) = role_views(recording)
    iam = boto3.client("iam", endpoint_url=aws.endpoint, region_name="us-east-1")
    provider = next(r for r in recording.resources if r.type == "aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    provider_arn = iam.create_open_id_connect_provider(
        Url=provider.inputs["url"],
        ClientIDList=list(provider.inputs["clientIdLists"]),
        ThumbprintList=[certs.sha1_fingerprint(CHAIN.top)],
    )["OpenIDConnectProviderArn"]
    role_name = str(view.role.outputs["name"])
    role_arn = iam.create_role(
        RoleName=role_name,
        AssumeRolePolicyDocument=view.trust_policy,
        MaxSessionDuration=int(view.role.inputs.get("maxSessionDuration", 3600)),
    )["Role"]["Arn"]
    for child in view.children:
        if child.type == "aws:iam/rolePolicyAttachment:RolePolicyAttachment":
            iam.attach_role_policy(RoleName=role_name, PolicyArn=child.inputs["policyArn"])
        elif child.type == "pulumiservice:index:DeploymentSettings":
            aws_oidc = offline.plain(child.inputs["operationContext"]["oidc"]["aws"])
            body = {
                "version": 3,
                "source": "provider",
                "sourceContext": offline.plain(child.inputs.get("sourceContext")),
                "operationContext": {
                    "oidc": {
                        "aws": {
                            "roleArn": aws_oidc["roleARN"],
                            "sessionName": aws_oidc["sessionName"],
                            "duration": go_duration(aws_oidc["duration"]),
                            **({"policyArns": aws_oidc["policyARNs"]} if aws_oidc.get("policyARNs") else {}),
                        }
                    }
                },
            }
            cloud.settings(child.inputs["organization"], child.inputs["project"], child.inputs["stack"], body)
        elif child.type == "pulumiservice:index:Environment":
            where = (child.inputs["organization"], child.inputs["project"], child.inputs["name"])
            cloud.environment(*where, definition=offline.plain(child.inputs["yaml"]))
            cloud.opens(*where, {"environmentVariables": {"value": _esc_values(CREDENTIALS)}})
            environment = where
    types = "pulumi-aws-oidc:index:PulumiCloudOidc$pulumi-aws-oidc:index:OidcRole$aws:iam/role:Role"
    urn = f"urn:pulumi:dev::pulumi-aws-oidc::{types}::{view.role.name}"
    cloud.state(
        *ADMIN,
        {
            "resources": [
                {"resource": {"urn": urn, "type": "aws:iam/role:Role", "outputs": {"name": role_name, "arn": role_arn}}}
            ]
        },
    )
    return World(folder, cloud, iam, role_name, role_arn, provider_arn, environment)


def _esc_values(values: dict[str, str]) -> dict[str, Any]:
    return {name: {"value": value, "secret": True, "trace": {}} for name, value in values.items()}


@pytest.fixture
def issuer(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """The issuer's TLS server: ``api.pulumi.com:443`` resolves to it, in this process."""
    real = socket.getaddrinfo
    with serving_chain(CHAIN, tmp_path_factory.mktemp("tls")) as port:

        def resolve(host: Any, port_: Any, *args: Any, **kwargs: Any) -> Any:
            if host == certs.HOST and int(port_ or 0) == 443:
                return real("127.0.0.1", port, *args, **kwargs)
            return real(host, port_, *args, **kwargs)

        monkeypatch.setattr(socket, "getaddrinfo", resolve)
        yield port


@pytest.fixture
def services(aws: AwsServer, monkeypatch: pytest.MonkeyPatch, issuer: int) -> Iterator[tuple[AwsServer, FakeCloud]]:
    """moto with AWS's managed policies (ReadOnlyAccess), and the local Pulumi Cloud with a token for it."""
    with_managed_policies(monkeypatch, "ReadOnlyAccess")
    aws.reset()
    with serving() as cloud:
        monkeypatch.setenv("PULUMI_ACCESS_TOKEN", TOKEN)
        monkeypatch.setenv("PULUMI_BACKEND_URL", cloud.url)
        yield aws, cloud


@pytest.fixture
def world(services: tuple[AwsServer, FakeCloud], tmp_path: Path) -> World:
    return seed(project(tmp_path), *services)


def kinds(findings: list[dict[str, Any]]) -> list[str]:
    return [f["kind"] for f in findings]


def test_a_clean_world_has_no_findings(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    started = time.monotonic()
    code, out, err = world.doctor(capsys)
    assert (code, err) == (0, ""), out + err
    assert "No findings" in out
    assert f"role default ({world.role_arn})" in out
    assert "environment acme/aws/dev: definition, open" in out
    assert "deployment settings of acme/infra/prod" in out
    assert time.monotonic() - started < 10
    opened = [r.path for r in world.cloud.requests if r.method == "POST"]
    assert opened == ["/api/esc/environments/acme/aws/dev/open"]
    for value in CREDENTIALS.values():
        assert value not in out


def test_a_trust_policy_edited_in_the_console(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    document = world.iam.get_role(RoleName=world.role_name)["Role"]["AssumeRolePolicyDocument"]
    wider = dict(document["Statement"][0])
    wider["Sid"] = "AddedInConsole"
    wider["Condition"] = {"StringLike": {"api.pulumi.com/oidc:aud": "acme", "api.pulumi.com/oidc:sub": "*"}}
    document["Statement"].append(wider)
    world.iam.update_assume_role_policy(RoleName=world.role_name, PolicyDocument=json.dumps(document))
    code, findings = world.findings(capsys)
    assert (code, kinds(findings)) == (1, ["trust-policy"])
    assert "statement AddedInConsole is not in the config" in findings[0]["message"]
    assert "pulumi up --refresh" in findings[0]["fix"]


def test_a_trust_policy_reordered_or_reformatted_is_no_finding(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    document = world.iam.get_role(RoleName=world.role_name)["Role"]["AssumeRolePolicyDocument"]
    document["Statement"].reverse()
    world.iam.update_assume_role_policy(RoleName=world.role_name, PolicyDocument=json.dumps(document, indent=4))
    assert world.findings(capsys) == (0, [])


def test_a_policy_detached(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.iam.detach_role_policy(RoleName=world.role_name, PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    code, findings = world.findings(capsys)
    assert (code, kinds(findings)) == (1, ["policy-detached"])
    assert "arn:aws:iam::aws:policy/ReadOnlyAccess" in findings[0]["message"]
    assert "aws iam attach-role-policy" in findings[0]["fix"]


def test_a_max_session_too_short(
    services: tuple[AwsServer, FakeCloud], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = project(
        tmp_path,
        {
            "role": {"maxSessionDuration": "2h"},
            "environments": [{"project": "aws", "name": "dev", "region": "us-west-2", "duration": "2h"}],
        },
    )
    world = seed(folder, *services)
    assert world.findings(capsys) == (0, [])
    world.iam.update_role(RoleName=world.role_name, MaxSessionDuration=3600)
    code, findings = world.findings(capsys)
    assert (code, kinds(findings)) == (1, ["max-session"])
    assert "1h, shorter than the duration 2h of environments[0]" in findings[0]["message"]


def test_a_provider_missing_an_audience(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    # moto 5.2.5 lacks RemoveClientIDFromOpenIDConnectProvider: the same provider, made again without it.
    found = world.iam.get_open_id_connect_provider(OpenIDConnectProviderArn=world.provider_arn)
    world.iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=world.provider_arn)
    world.iam.create_open_id_connect_provider(
        Url=f"https://{found['Url']}", ClientIDList=["acme"], ThumbprintList=found["ThumbprintList"]
    )
    code, findings = world.findings(capsys)
    assert (code, kinds(findings)) == (1, ["provider-audience"])
    assert "lacks the client ID 'aws:acme' (its roles' tokens carry it" in findings[0]["message"]


def test_a_thumbprint_not_matching_the_chain(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    other = certs.sha1_fingerprint(certs.chain(2).top)
    world.iam.update_open_id_connect_provider_thumbprint(
        OpenIDConnectProviderArn=world.provider_arn, ThumbprintList=[other]
    )
    code, findings = world.findings(capsys)
    assert (code, kinds(findings)) == (1, ["provider-thumbprint"])
    assert certs.sha1_fingerprint(CHAIN.top) in findings[0]["message"]
    assert findings[0]["details"] == {"live": [other], "issuerChain": certs.sha1_fingerprint(CHAIN.top)}


def test_stack_settings_naming_another_role(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    path = "/api/stacks/acme/infra/prod/deployments/settings"
    _, body = world.cloud.routes[path]  # type: ignore[misc]
    body["operationContext"]["oidc"]["aws"]["roleArn"] = "arn:aws:iam::123456789012:role/console-made"
    code, findings = world.findings(capsys)
    assert (code, kinds(findings)) == (1, ["settings-role"])
    assert "'arn:aws:iam::123456789012:role/console-made', not " + world.role_arn in findings[0]["message"]


def test_stack_settings_with_another_session(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    _, body = world.cloud.routes["/api/stacks/acme/infra/prod/deployments/settings"]  # type: ignore[misc]
    body["operationContext"]["oidc"]["aws"]["duration"] = "2h0m0s"
    code, findings = world.findings(capsys)
    assert (code, kinds(findings)) == (1, ["settings-session"])
    assert "duration '2h0m0s' (config: '1h')" in findings[0]["message"]


def test_an_environment_definition_changed(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    path = "/api/esc/environments/acme/aws/dev"
    _, text = world.cloud.routes[path]  # type: ignore[misc]
    world.cloud.routes[path] = (200, text.replace("duration: 1h", "duration: 2h"))
    code, findings = world.findings(capsys)
    assert (code, kinds(findings)) == (1, ["environment-definition"])
    assert "values.aws.login.fn::open::aws-login.oidc.duration changed" in findings[0]["message"]


def test_an_environment_that_does_not_open(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    leaked = CREDENTIALS["AWS_SECRET_ACCESS_KEY"]
    world.cloud.open_fails(
        *world.environment,
        [
            {
                "path": "values.aws.login",
                "summary": f"sts:AssumeRoleWithWebIdentity: AccessDenied: Not authorized (key {leaked})",
                "severity": "error",
            }
        ],
    )
    code, out, _ = world.doctor(capsys)
    assert code == 1
    assert "[environment-open] environment acme/aws/dev: ESC could not open it: values.aws.login: " in out
    assert "AccessDenied: Not authorized (key [redacted])" in out
    assert leaked not in out
    subject = "pulumi:environments:pulumi.organization.login:acme:currentEnvironment.name:aws/dev"
    assert f"fix: python -m oidc explain --stack dev --aud aws:acme --sub {subject} says which" in out
    code, findings = world.findings(capsys)
    assert (code, kinds(findings)) == (1, ["environment-open"])
    assert leaked not in json.dumps(findings)


def test_an_environment_opened_without_credentials(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.cloud.opens(*world.environment, {"environmentVariables": {"value": {}}}, session="s-2")
    code, findings = world.findings(capsys)
    assert (code, kinds(findings)) == (1, ["environment-open"])
    assert "without AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN" in findings[0]["message"]


def test_the_role_missing(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.iam.detach_role_policy(RoleName=world.role_name, PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    world.iam.delete_role(RoleName=world.role_name)
    code, findings = world.findings(capsys)
    assert (code, kinds(findings)) == (1, ["role-missing"])


# --- the services failing: one line each, and a finding (never a silent pass) -----------------------


def test_pulumi_cloud_refusing_the_token(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.cloud.status = 401
    code, out, err = world.doctor(capsys)
    assert (code, err) == (1, "")
    (line,) = [line for line in out.splitlines() if "[cloud-error]" in line]
    assert "refused the token from PULUMI_ACCESS_TOKEN (401" in line
    assert TOKEN not in out


@pytest.mark.usefixtures("retries_without_waiting")
def test_pulumi_cloud_unreachable(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PULUMI_BACKEND_URL", closed_port_url())
    code, findings = world.findings(capsys)
    assert code == 1
    assert kinds(findings) == ["cloud-error"]
    assert "cannot reach Pulumi Cloud" in findings[0]["message"]
    assert "\n" not in findings[0]["message"]


@pytest.mark.usefixtures("retries_without_waiting")
def test_pulumi_cloud_failing(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.cloud.status = 500
    code, findings = world.findings(capsys)
    assert (code, kinds(findings)) == (1, ["cloud-error"])
    assert "Pulumi Cloud failed (500" in findings[0]["message"]
    assert "\n" not in findings[0]["message"]


def test_an_open_that_hangs_ends_at_the_deadline(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.cloud.routes["/api/esc/environments/acme/aws/dev/open"] = hang()
    started = time.monotonic()
    code, out, _ = world.doctor(capsys, "--timeout", "1")
    assert time.monotonic() - started < 5
    assert code == 1
    (line,) = [line for line in out.splitlines() if "[cloud-error]" in line]
    assert "POST http://127.0.0.1" in line
    assert "no complete answer within 1 s (--timeout)" in line


def test_an_opened_body_is_never_quoted(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    secret = CREDENTIALS["AWS_SECRET_ACCESS_KEY"]
    world.cloud.routes["/api/esc/environments/acme/aws/dev/open/s-1"] = raw(200, f"{{'{secret}'".encode())
    code, findings = world.findings(capsys)
    assert (code, kinds(findings)) == (1, ["cloud-error"])
    assert "bytes, not shown: it may hold credentials) is not the documented JSON object" in findings[0]["message"]
    assert secret not in json.dumps(findings)


def test_a_refused_open_without_diagnostics_is_one_line(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.cloud.routes["/api/esc/environments/acme/aws/dev/open"] = (400, {"code": 400, "message": "bad duration"})
    code, findings = world.findings(capsys)
    assert (code, kinds(findings)) == (1, ["cloud-error"])
    assert findings[0]["message"].endswith('/open: 400 Bad Request: {"code": 400, "message": "bad duration"}')


def test_no_aws_credentials(world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    code, findings = world.findings(capsys)
    assert code == 1
    aws_errors = [f for f in findings if f["kind"] == "aws-error"]
    assert len(aws_errors) == 1
    assert aws_errors[0]["message"].startswith("no AWS credentials for account default")
    assert "\n" not in aws_errors[0]["message"]


# --- team permissions of a created environment -------------------------------------------------------------

TEAMS = {"auditors": "open", "security": {"permission": "admin", "maxOpenDuration": "4h"}}
"""The teams the environment of the dev stack declares in these tests."""


def team_world(services: tuple[AwsServer, FakeCloud], folder: Path, live: dict[str, list[dict[str, Any]]]) -> World:
    """The dev stack with :data:`TEAMS` on its environment, seeded; Pulumi Cloud's teams hold ``live``."""
    environments = [{"project": "aws", "name": "dev", "region": "us-west-2", "teams": TEAMS}]
    world = seed(project(folder, {"environments": environments}), *services)
    world.cloud.teams("acme", live)
    return world


def grant(permission: str, max_open_duration: str | None = None) -> list[dict[str, Any]]:
    """A team's ``TeamEnvironmentSettings`` on acme/aws/dev, as ``GetTeam`` lists them."""
    found = {"projectName": "aws", "envName": "dev", "permission": permission}
    return [{**found, "maxOpenDuration": max_open_duration} if max_open_duration else found]


def test_declared_teams_holding_their_permissions_are_no_finding(
    services: tuple[AwsServer, FakeCloud], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    live = {"auditors": grant("open"), "security": grant("admin", "4h0m0s"), "readers": grant("read")}
    world = team_world(services, tmp_path, live)

    code, out, _ = world.doctor(capsys)

    assert code == 0, out
    assert "environment acme/aws/dev: definition, open, team permissions" in out
    team_reads = [p for p in world.cloud.paths() if "/teams" in p]
    assert sorted(team_reads) == [
        "/api/orgs/acme/teams",
        "/api/orgs/acme/teams/auditors",
        "/api/orgs/acme/teams/readers",
        "/api/orgs/acme/teams/security",
    ]


def test_a_team_permission_changed_in_the_console(
    services: tuple[AwsServer, FakeCloud], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    world = team_world(services, tmp_path, {"auditors": grant("read"), "security": grant("admin", "4h0m0s")})

    code, findings = world.findings(capsys)

    assert (code, kinds(findings)) == (1, ["team-permission"])
    assert findings[0]["message"] == "team auditors has read on it; environments[0].teams.auditors declares open"
    assert findings[0]["details"] == {"team": "auditors", "live": "read", "declared": "open"}


def test_a_declared_team_without_its_permission_or_missing_from_the_organization(
    services: tuple[AwsServer, FakeCloud], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    world = team_world(services, tmp_path, {"security": []})

    code, findings = world.findings(capsys)

    assert code == 1
    assert [f["message"].partition(";")[0] for f in findings] == [
        "team auditors does not exist in acme",
        "team security has no permission on it",
    ]


def test_a_max_open_duration_changed_in_the_console(
    services: tuple[AwsServer, FakeCloud], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    world = team_world(services, tmp_path, {"auditors": grant("open"), "security": grant("admin", "12h0m0s")})

    code, findings = world.findings(capsys)

    assert (code, kinds(findings)) == (1, ["team-permission"])
    assert (
        "may keep it open for 12h0m0s; environments[0].teams.security.maxOpenDuration declares 4h"
        in (findings[0]["message"])
    )


def test_an_undeclared_team_that_can_open_the_environment(
    services: tuple[AwsServer, FakeCloud], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    live = {
        "auditors": grant("open"),
        "security": grant("admin", "4h0m0s"),
        "contractors": grant("write"),
        "readers": grant("read"),
    }
    world = team_world(services, tmp_path, live)

    code, findings = world.findings(capsys)

    assert (code, kinds(findings)) == (1, ["team-permission-undeclared"])
    assert findings[0]["message"].startswith("team contractors can open it (write) and get the role's credentials")


def test_teams_that_cannot_be_read_are_one_finding_and_the_other_checks_stand(
    services: tuple[AwsServer, FakeCloud], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    world = team_world(services, tmp_path, {})
    del world.cloud.routes["/api/orgs/acme/teams"]  # an edition without teams: ListTeams is a 404

    code, out, _ = world.doctor(capsys)
    _, findings = world.findings(capsys)

    assert code == 1
    assert kinds(findings) == ["cloud-error"]
    assert findings[0]["subject"] == "environment acme/aws/dev"
    assert findings[0]["message"].startswith("its team permissions were not compared: GET ")
    assert "has no teams in this Pulumi Cloud" in findings[0]["message"]
    assert "environment acme/aws/dev: definition, open, team permissions" in out
    opened = [r.path for r in world.cloud.requests if r.method == "POST"]
    assert opened == ["/api/esc/environments/acme/aws/dev/open"] * 2  # the open was checked in each run


def test_an_environment_that_declares_no_teams_reads_no_team(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.cloud.teams("acme", {"contractors": grant("write")})

    code, _, _ = world.doctor(capsys)

    assert code == 0
    assert not [p for p in world.cloud.paths() if "/teams" in p]


def test_access_denied_is_one_line_naming_the_actions() -> None:
    error = ClientError(
        {"Error": {"Code": "AccessDenied", "Message": "User: arn:aws:iam::1:user/x is not authorized\n to GetRole"}},
        "GetRole",
    )
    message = aws_doctor._failure("iam:GetRole r", error, "account default (1)", 10).detail
    assert message.startswith("iam:GetRole r: access denied (User: arn:aws:iam::1:user/x is not authorized to GetRole)")
    assert "iam:ListAttachedRolePolicies" in message
    assert "\n" not in message


def test_an_issuer_that_does_not_answer_in_time() -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, never speaks TLS
        port = silent.getsockname()[1]
        started = time.monotonic()
        with pytest.raises(aws_doctor.AwsError, match=r"no TLS handshake with 127\.0\.0\.1 within 0\.5 s"):
            aws_doctor.issuer_thumbprint(
                "https://127.0.0.1/oidc", 0.5, lambda _, s: aws_doctor.issuer_chain(f"https://127.0.0.1:{port}/oidc", s)
            )
        assert time.monotonic() - started < 3


# --- usage -----------------------------------------------------------------------------------------


def test_a_config_it_cannot_check_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = project(tmp_path, {"deployments": [{"project": "infra", "stack": "prod", "duration": "20h"}]})
    code = main(["doctor", "--cwd", str(folder)])
    captured = capsys.readouterr()
    assert code == 2
    assert "deployments[0].duration" in captured.err


def test_a_stack_name_it_cannot_read_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", "--stack", "a/b/c/d", "--cwd", str(PROJECT_DIR)]) == 2
    assert "--stack a/b/c/d: expected NAME" in capsys.readouterr().err


# --- the pure parts --------------------------------------------------------------------------------


def test_policies_compare_as_iam_reads_them() -> None:
    rendered = {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "A", "Action": "sts:X", "Condition": {"StringEquals": {"k": ["a", "b"]}}}],
    }
    same = {
        "Statement": {"Condition": {"StringEquals": {"k": ["b", "a"]}}, "Action": ["sts:X"], "Sid": "A"},
        "Version": "2012-10-17",
    }
    assert aws_doctor.policy_differences(same, rendered) == []
    other = {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "A", "Action": "sts:X", "Condition": {"StringLike": {"k": "*"}}}],
    }
    assert aws_doctor.policy_differences(other, rendered) == ["statement A differs in Condition"]


def test_redaction_keeps_paths_and_hides_credentials() -> None:
    text = (
        "POST /api/esc/environments/acme/aws/dev/open: ASIAIOSFODNN7EXAMPLE wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY "
        f"{TOKEN}"
    )
    assert live.redact(text) == "POST /api/esc/environments/acme/aws/dev/open: [redacted] [redacted] [redacted]"
