"""``python -m oidc discover``: an admin stack file proposed from what exists, against emulated services.

AWS is moto's server on 127.0.0.1 (``tests/aws_server.py``: IAM, STS, Organizations), seeded with three accounts
(``tests/discover_seed.py``); Pulumi Cloud is the local server of ``tests/cloud_server.py`` serving the documented
list, settings and environment shapes. Untested without the real services: see ``docs/discover.md``.
"""

from __future__ import annotations

import contextlib
import io
import json
import shlex
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from oidc import cli, cloud, trust
from oidc.aws import discover as aws_discover
from oidc.cli import discover, offline, stack_files
from oidc.cloud import inventory
from oidc.model import DeploymentStack
from tests import certs, discover_seed
from tests.aws_server import AwsServer
from tests.cloud_server import FakeCloud, closed_port_url, serving
from tests.conftest import PROJECT_DIR

TOKEN = "pul-discover0123456789abcdef0123456789abcdef"
ORG = discover_seed.ORG


def project_in(folder: Path) -> Path:
    """A project folder with this program (``Pulumi.yaml``, ``__main__.py``) and no stack file."""
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(PROJECT_DIR / name, folder / name)
    return folder


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return project_in(tmp_path)


def _cloud_environ(server: FakeCloud) -> dict[str, str]:
    return {"PULUMI_ACCESS_TOKEN": TOKEN, "PULUMI_BACKEND_URL": server.url, cloud.TIMEOUT_VARIABLE: "5"}


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeCloud]:
    with serving() as server:
        for name, value in _cloud_environ(server).items():
            monkeypatch.setenv(name, value)
        yield server


@dataclass(frozen=True)
class Discovered:
    """The seeded organization, discovered once into a project folder that the tests sharing it only read."""

    seeded: discover_seed.Seeded
    project: Path
    code: int
    stdout: str

    @property
    def out(self) -> Path:
        return self.project / "Pulumi.admin.yaml"


@pytest.fixture(scope="module")
def discovered(aws_endpoint: AwsServer, tmp_path_factory: pytest.TempPathFactory) -> Discovered:
    """``discover --accounts-from-organizations --out <project>/Pulumi.admin.yaml`` of the seeded organization."""
    project = project_in(tmp_path_factory.mktemp("discovered"))
    aws_endpoint.reset()
    stdout = io.StringIO()
    with pytest.MonkeyPatch.context() as patch, serving() as server:
        for name, value in {**aws_endpoint.environ(), **_cloud_environ(server)}.items():
            patch.setenv(name, value)
        seeded = discover_seed.seed_aws()
        discover_seed.seed_cloud(server, seeded)
        arguments = ["--accounts-from-organizations", "--out", str(project / "Pulumi.admin.yaml")]
        with contextlib.redirect_stdout(stdout):
            code = cli.main(["discover", "--org", ORG, *arguments])
    return Discovered(seeded, project, code, stdout.getvalue())


@pytest.fixture
def seeded(aws: AwsServer, fake: FakeCloud) -> discover_seed.Seeded:
    found = discover_seed.seed_aws()
    discover_seed.seed_cloud(fake, found)
    return found


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(["discover", "--org", ORG, *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def proposed(path: Path) -> dict[str, Any]:
    document = stack_files.load(path)
    config: dict[str, Any] = document["config"]
    return {key.removeprefix("pulumi-aws-oidc:"): value for key, value in config.items()}


def imports(text: str) -> list[list[str]]:
    return [
        shlex.split(line.removeprefix("#   ")) for line in text.splitlines() if line.startswith("#   pulumi import ")
    ]


# --- the seeded organization ------------------------------------------------------------------------------


def test_the_seeded_organization_becomes_a_stack_file_that_plan_accepts(
    discovered: Discovered, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, project, seeded = discovered.out, discovered.project, discovered.seeded

    assert discovered.code == 0, discovered.stdout
    config = proposed(out)
    assert sorted(config["accounts"]) == ["dev", "master", "prod"]
    assert config["accounts"]["master"]["id"] == seeded.management
    assert config["accounts"]["prod"]["assumeRole"]["roleArn"] == (
        f"arn:aws:iam::{seeded.prod}:role/OrganizationAccountAccessRole"
    )
    assert {key: role["account"] for key, role in config["roles"].items()} == {
        "pulumi-deploy": "prod",
        "pulumi-dev": "dev",
        "pulumi-esc": "master",
    }
    for name in ("PULUMI_ACCESS_TOKEN", "PULUMI_BACKEND_URL", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    assert cli.main(["plan", "--stack", "admin", "--cwd", str(project)]) == 0


def test_each_role_keeps_its_account_name_path_policies_session_and_tags(discovered: Discovered) -> None:
    out, seeded = discovered.out, discovered.seeded

    roles = proposed(out)["roles"]
    deploy = {k: v for k, v in roles["pulumi-deploy"].items() if k not in {"deployments", "environments"}}
    assert deploy == {
        "account": "prod",
        "name": "pulumi-deploy",
        "policyArns": [f"arn:aws:iam::{seeded.prod}:policy/deploy"],
        "maxSessionDuration": "2h",
        "tags": {"team": "platform"},
    }
    assert roles["pulumi-dev"]["path"] == "/pulumi/"
    assert roles["pulumi-esc"]["description"] == "ESC credentials"


def test_trust_is_kept_entry_by_entry_and_settings_as_settings_pull_keeps_them(discovered: Discovered) -> None:
    out = discovered.out
    text = out.read_text(encoding="utf-8")

    deployments = proposed(out)["roles"]["pulumi-deploy"]["deployments"]
    assert deployments[0] == {"project": "apps", "stack": "prod", "operations": ["preview", "update"], "duration": "1h"}
    assert deployments[1] == {
        "project": "infra",
        "stack": "prod",
        "sessionName": "deploy-infra",
        "duration": "2h",
        "settings": {
            "github": {"deployCommits": True, "previewPullRequests": True, "repository": "acme/infra"},
            "operationContext": {"environmentVariables": {"STAGE": "prod"}},
            "sourceContext": {"git": {"branch": "refs/heads/main", "repoDir": "infra"}},
        },
    }
    assert deployments[2] == {"project": "infra", "stack": "prod-*"}
    assert (
        "#   pulumi config set --secret --path "
        "'roles.pulumi-deploy.deployments[1].settings.operationContext.environmentVariables.TOKEN' <value>"
    ) in text
    assert proposed(out)["roles"]["pulumi-esc"]["environments"] == [
        {"project": "aws", "name": "dev"},
        {"project": "default", "name": "legacy"},
    ]


def test_a_role_whose_exact_entries_would_not_fit_gets_the_pattern_that_admits_nothing_more(
    discovered: Discovered,
) -> None:
    out, seeded = discovered.out, discovered.seeded

    dev = proposed(out)["roles"]["pulumi-dev"]["deployments"]
    exact = [DeploymentStack(d["project"], d["stack"]) for d in dev if "*" not in d["stack"]]
    provider = f"arn:aws:iam::{seeded.dev}:oidc-provider/api.pulumi.com/oidc"
    assert len(exact) == 40
    assert discover.policy_size(ORG, discover_seed.ISSUER, provider, exact, []) > 2048
    assert dev[-1] == {"project": "apps", "stack": "dev-*"}
    assert (
        discover.policy_size(ORG, discover_seed.ISSUER, provider, [*exact, DeploymentStack("apps", "dev-*")], [])
        <= 2048
    )
    assert "roles.pulumi-dev (arn:aws:iam::" in out.read_text(encoding="utf-8")


def test_each_provider_keeps_its_thumbprints_and_every_client_id_it_has(discovered: Discovered) -> None:
    project = discovered.project
    recording = offline.run_stack(
        offline.read_stack_config(project, "admin"),
        preview=False,
        certificates=certs.wire_certificates(certs.chain(1).leaf_first()),
    )

    declared = {r.name: r.inputs for r in recording.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider")}
    assert sorted(declared["pulumi-cloud-master-provider"]["clientIdLists"]) == [
        "acme",
        "aws:acme",
        "sts.amazonaws.com",
    ]
    assert sorted(declared["pulumi-cloud-prod-provider"]["clientIdLists"]) == ["acme"]
    assert sorted(declared["pulumi-cloud-dev-provider"]["clientIdLists"]) == ["acme", "aws:acme"]
    assert {tuple(inputs["thumbprintLists"]) for inputs in declared.values()} == {(discover_seed.THUMBPRINT,)}


def test_every_import_names_a_resource_the_program_declares_under_that_parent_and_provider(
    discovered: Discovered,
) -> None:
    out, project, seeded = discovered.out, discovered.project, discovered.seeded
    text = out.read_text(encoding="utf-8")
    recording = offline.run_stack(
        offline.read_stack_config(project, "admin"),
        preview=False,
        certificates=certs.wire_certificates(certs.chain(1).leaf_first()),
    )
    prefix = "urn:pulumi:admin::pulumi-aws-oidc::"
    urns = {r.urn for r in recording.resources}

    commands = imports(text)
    assert len(commands) == 3 + 3 * 2 + 2  # 3 providers, 3 roles with one attachment each, 2 environments
    for command in commands:
        kind, name, _id = command[2:5]
        declared = recording.named(name, kind)
        parent = command[command.index("--parent") + 1].partition("=")[2]
        assert parent == prefix + (declared.parent_urn or ""), command
        if "--provider" in command:
            assert command[command.index("--provider") + 1].partition("=")[2].removeprefix(prefix) in urns
    ids = {command[3]: command[4] for command in commands}
    assert ids["pulumi-cloud-pulumi-deploy-role"] == "pulumi-deploy"
    assert ids["pulumi-cloud-env-aws/dev"] == "acme/aws/dev"
    assert ids[f"pulumi-cloud-pulumi-dev-policy-{seeded.dev}/dev/deploy"] == (
        f"pulumi-dev/arn:aws:iam::{seeded.dev}:policy/dev/deploy"
    )
    line = next(line for line in text.splitlines() if line.startswith("#   pulumi up --target"))
    targets = shlex.split(line.removeprefix("#   "))[3::2]
    assert len(targets) == 1 + 3 + 2 + 3  # the program's component, 3 OidcProvider, 2 AWS providers, 3 OidcRole
    assert {t.removeprefix(prefix) for t in targets} <= urns


def test_discover_writes_nothing_to_aws_or_pulumi_cloud(
    seeded: discover_seed.Seeded, fake: FakeCloud, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _aws_state(seeded)
    code, _, _ = run(capsys, "--accounts-from-organizations")

    assert code == 0
    assert _aws_state(seeded) == before
    assert {request.method for request in fake.requests} == {"GET"}


def _aws_state(seeded: discover_seed.Seeded) -> list[Any]:
    state = []
    for account in (seeded.management, seeded.prod, seeded.dev):
        iam = boto3.client("iam") if account == seeded.management else discover_seed._member(account).client("iam")
        providers = [
            iam.get_open_id_connect_provider(OpenIDConnectProviderArn=p["Arn"])
            for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
        ]
        roles = iam.list_roles()["Roles"]
        state.append(
            json.dumps(
                [
                    [{k: v for k, v in p.items() if k not in {"ResponseMetadata", "CreateDate"}} for p in providers],
                    [{k: v for k, v in r.items() if k != "CreateDate"} for r in roles],
                    [iam.list_attached_role_policies(RoleName=r["RoleName"])["AttachedPolicies"] for r in roles],
                ],
                sort_keys=True,
                default=str,
            )
        )
    return state


def test_the_lists_are_read_page_by_page_and_soft_deleted_environments_skipped(
    seeded: discover_seed.Seeded, fake: FakeCloud, capsys: pytest.CaptureFixture[str]
) -> None:
    code, stdout, _ = run(capsys, "--accounts-from-organizations")

    assert code == 0
    stack_pages = [p for p in fake.paths() if p.startswith("/api/user/stacks")]
    assert stack_pages == [
        "/api/user/stacks?organization=acme",
        "/api/user/stacks?organization=acme&continuationToken=page-25",
    ]
    env_pages = [
        p for p in fake.paths() if p.startswith("/api/esc/environments/acme?") or p == "/api/esc/environments/acme"
    ]
    assert env_pages == ["/api/esc/environments/acme", "/api/esc/environments/acme?continuationToken=page-2"]
    settings_reads = {p for p in fake.paths() if p.endswith("/deployments/settings")}
    assert len(settings_reads) == 44  # every stack of acme, none of other-org
    assert "aws/old" not in stdout


def test_a_list_that_repeats_its_token_ends_in_one_clear_error(
    seeded: discover_seed.Seeded, fake: FakeCloud, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.routes["/api/user/stacks?organization=acme"] = (200, {"stacks": [], "continuationToken": "again"})
    fake.routes["/api/user/stacks?organization=acme&continuationToken=again"] = (
        200,
        {"stacks": [], "continuationToken": "again"},
    )

    code, _, stderr = run(capsys)

    assert code == 1
    assert stderr.count("\n") == 1
    assert "repeats a token already followed" in stderr


# --- the output file -------------------------------------------------------------------------------------


def test_an_existing_out_file_is_not_overwritten_without_force(
    seeded: discover_seed.Seeded, capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    out = project / "Pulumi.admin.yaml"
    out.write_text("config: {}\n", encoding="utf-8")

    code, _, stderr = run(capsys, "--out", str(out))
    assert code == 2
    assert "exists" in stderr
    assert "--force" in stderr
    assert out.read_text(encoding="utf-8") == "config: {}\n"

    code, _, _ = run(capsys, "--out", str(out), "--force")
    assert code == 0
    assert "pulumi-aws-oidc:roles" in out.read_text(encoding="utf-8")


def test_strings_that_yaml_would_read_as_numbers_or_booleans_are_quoted(tmp_path: Path) -> None:
    values = ["012345678901", "123456789012", "true", "no", "1e3", "0o17", "0x1f", "~", "", "1:20", ".inf", "null"]
    text = discover.dump({"config": {f"k{i}": v for i, v in enumerate(values)}})
    path = tmp_path / "Pulumi.x.yaml"
    path.write_text(text, encoding="utf-8")

    assert list(stack_files.load(path)["config"].values()) == values  # YAML 1.2, as Pulumi reads it
    assert list(yaml.safe_load(text)["config"].values()) == values  # YAML 1.1


# --- failures ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected"),
    [(401, "refused the token"), (500, "Pulumi Cloud failed (500")],
)
@pytest.mark.usefixtures("retries_without_waiting")
def test_a_failing_pulumi_cloud_is_one_line_and_exit_1(
    aws: AwsServer, fake: FakeCloud, capsys: pytest.CaptureFixture[str], status: int, expected: str
) -> None:
    fake.status = status

    code, stdout, stderr = run(capsys)

    assert code == 1
    assert stdout == ""
    assert stderr.startswith("error: pulumi cloud: ")
    assert stderr.count("\n") == 1
    assert expected in stderr
    assert TOKEN not in stderr


@pytest.mark.usefixtures("retries_without_waiting")
def test_an_unreachable_pulumi_cloud_is_one_line_and_exit_1(
    aws: AwsServer, fake: FakeCloud, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PULUMI_BACKEND_URL", closed_port_url())

    code, _, stderr = run(capsys)

    assert code == 1
    assert "cannot reach Pulumi Cloud" in stderr
    assert stderr.count("\n") == 1


def test_an_organization_pulumi_cloud_does_not_know_is_named(
    aws: AwsServer, fake: FakeCloud, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, stderr = run(capsys)

    assert code == 1
    assert "does not know the organization 'acme'" in stderr
    assert stderr.count("\n") == 1


def test_an_organization_login_of_the_wrong_form_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["discover", "--org", "Acme Corp"])

    assert code == 2
    assert "--org got 'Acme Corp'" in capsys.readouterr().err


def test_accounts_from_organizations_with_no_account_listed_says_so(
    aws: AwsServer, fake: FakeCloud, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.environments(ORG, [])
    fake.stacks(ORG, [])

    code, _, stderr = run(capsys, "--accounts-from-organizations")

    assert code == 1
    assert "lists no active account; run without --accounts-from-organizations" in stderr
    assert stderr.count("\n") == 1


def test_credentials_outside_any_organization_are_told_to_read_their_own_account() -> None:
    from botocore.stub import Stubber  # noqa: PLC0415

    client = boto3.client("organizations", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_client_error(
            "list_accounts", "AWSOrganizationsNotInUseException", "Your account is not a member of an organization."
        )
        with pytest.raises(aws_discover.AwsError) as raised:
            aws_discover._organization_accounts(client, "123456789012", "aws", "OrganizationAccountAccessRole")

    assert str(raised.value) == (
        "aws: account 123456789012 is not in an AWS organization, so --accounts-from-organizations finds no accounts; "
        "run without it to read this account only"
    )


def test_an_account_with_nothing_for_the_issuer_leaves_nothing_to_propose(
    aws: AwsServer, fake: FakeCloud, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.environments(ORG, [])
    fake.stacks(ORG, [("infra", "prod")])
    fake.stack(ORG, "infra", "prod")

    code, stdout, stderr = run(capsys)

    assert code == 1
    assert stdout == ""
    assert "nothing to propose" in stderr
    assert "no IAM OIDC provider for the issuer" in stderr


def test_an_unreachable_aws_is_one_line_and_exit_1(
    aws: AwsServer, fake: FakeCloud, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.environments(ORG, [])
    fake.stacks(ORG, [])
    monkeypatch.setenv("AWS_ENDPOINT_URL", closed_port_url())
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")

    code, _, stderr = run(capsys, "--timeout", "2")

    assert code == 1
    assert stderr.startswith("error: aws: sts:GetCallerIdentity")
    assert "cannot reach AWS" in stderr
    assert stderr.count("\n") == 1


def test_a_member_account_whose_role_cannot_be_assumed_is_said_and_the_others_proposed(
    seeded: discover_seed.Seeded, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """STS refuses the role in the dev account (moto admits every AssumeRole, so the refusal is injected where
    botocore's Stubber injects answers: a ``before-call`` handler, with AWS's error shape)."""
    from botocore.awsrequest import AWSResponse  # noqa: PLC0415

    real = aws_discover._client

    def refuse(params: dict[str, Any], **_: Any) -> Any:
        if seeded.dev in str(params.get("body", "")):
            error = {"Code": "AccessDenied", "Message": "User is not authorized to perform: sts:AssumeRole"}
            return AWSResponse("https://sts.amazonaws.com", 403, {}, None), {
                "Error": error,
                "ResponseMetadata": {"HTTPStatusCode": 403},
            }
        return None

    def client(session: Any, service: str, timeout: float) -> Any:
        made = real(session, service, timeout)
        if service == "sts":
            made.meta.events.register("before-call.sts.AssumeRole", refuse)
        return made

    monkeypatch.setattr(aws_discover, "_client", client)

    code, stdout, _ = run(capsys, "--accounts-from-organizations")

    assert code == 0
    assert (
        f"#   account {seeded.dev} (Dev): not read: sts:AssumeRole in account {seeded.dev} (Dev) failed (AccessDenied"
        in stdout
    )
    assert "use --assume-role-name for another role" in stdout
    assert "  pulumi-dev:" not in stdout
    assert "  pulumi-deploy:" in stdout


# --- pure parts ----------------------------------------------------------------------------------------------


PROVIDER = "arn:aws:iam::111111111111:oidc-provider/api.pulumi.com/oidc"


def _document(*subjects: str, like: bool = False) -> dict[str, Any]:
    return {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": PROVIDER},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringLike" if like else "StringEquals": {"api.pulumi.com/oidc:sub": list(subjects)}},
            }
        ]
    }


def test_trusted_subjects_become_entries_and_the_others_are_said() -> None:
    document = _document(
        "pulumi:deploy:org:acme:project:infra:stack:prod:operation:preview:scope:write",
        "pulumi:deploy:org:acme:project:infra:stack:prod:operation:update:scope:write",
        "pulumi:deploy:org:acme:project:apps:stack:*:operation:*:scope:write",
        "pulumi:deploy:org:acme:project:apps:stack:dev:operation:pre*:scope:write",
        "pulumi:environments:pulumi.organization.login:acme:currentEnvironment.name:aws/dev",
        "pulumi:environments:org:acme:env:legacy",
        "pulumi:environments:org:acme:env:<yaml>",
        "pulumi:deploy:org:contoso:project:infra:stack:prod:operation:*:scope:write",
        "pulumi:deploy:org:acme:*",
        like=True,
    )

    found = discover.read_trust(document, PROVIDER, "acme", discover_seed.ISSUER)

    assert found.deployments == {
        ("infra", "prod"): ("preview", "update"),
        ("apps", "*"): None,
        ("apps", "dev"): ("preview",),
    }
    assert found.environments == {("aws", "dev"), ("default", "legacy")}
    assert len(found.ignored) == 3
    assert any("of the organization 'contoso'" in why for why in found.ignored)


def test_a_statement_of_another_provider_or_without_a_subject_is_not_read_as_trust() -> None:
    other = _document("pulumi:deploy:org:acme:project:infra:stack:prod:operation:*:scope:write")
    other["Statement"][0]["Principal"]["Federated"] = PROVIDER.replace("111111111111", "222222222222")
    wide = {"Statement": [{"Effect": "Allow", "Principal": {"Federated": PROVIDER}, "Action": "*", "Condition": {}}]}

    assert discover.read_trust(other, PROVIDER, "acme", discover_seed.ISSUER).deployments == {}
    found = discover.read_trust(wide, PROVIDER, "acme", discover_seed.ISSUER)
    assert found.deployments == {}
    assert "no sub condition" in found.ignored[0]


def test_fit_prefers_the_pattern_that_admits_no_stack_the_role_does_not_list() -> None:
    listed = [DeploymentStack("apps", f"team-a-{n:02d}") for n in range(30)]
    known = [inventory.Stack("apps", d.stack) for d in listed] + [inventory.Stack("apps", "team-b-01")]

    patterns, size = discover.fit(
        "acme", discover_seed.ISSUER, PROVIDER, 2048, deployments=listed, environments=[], known_stacks=known
    )

    assert [(p.project, p.name, p.widens) for p in patterns] == [("apps", "team-a-*", 0)]
    assert size <= 2048
    assert not trust.string_like(patterns[0].name, "team-b-01")


def test_fit_widens_only_when_no_narrower_pattern_makes_it_fit() -> None:
    listed = [DeploymentStack("apps", f"s{n:03d}x") for n in range(40)]
    known = [inventory.Stack("apps", d.stack) for d in listed] + [inventory.Stack("apps", "payments")]

    patterns, size = discover.fit(
        "acme", discover_seed.ISSUER, PROVIDER, 2048, deployments=listed, environments=[], known_stacks=known
    )

    assert [(p.project, p.name, p.widens) for p in patterns] == [("apps", "*", 1)]
    assert size <= 2048


def test_fit_adds_nothing_to_a_policy_that_fits() -> None:
    listed = [DeploymentStack("apps", f"s{n}") for n in range(3)]

    assert discover.fit("acme", discover_seed.ISSUER, PROVIDER, 2048, deployments=listed, environments=[])[0] == []
