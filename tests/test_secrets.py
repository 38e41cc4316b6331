"""Secure config stays secret in what the engine records, attack by attack.

Each test runs the whole program as ``pulumi up`` hands it a stack's config: decrypted values, with the
top-level keys that held a ``secure:`` value marked secret. The assertions read the inputs as the SDK
serialised them for the engine (``oidc.offline`` replaces each value sent with the secret signature by
``[secret]`` before anything records it), so a value that would reach the state file in plain text shows
as itself here. Outputs are read as the engine would show them: a secret output as ``[secret]``.

Not emulated: the engine's own ``annotateSecrets`` (pulumi/pkg/resource/plugin/provider_plugin.go), which
marks an output of a provider that does not accept secrets (the client-ID dynamic provider) secret when the
input of the same name is; the tests check that those inputs are sent as secrets.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from oidc import cli
from oidc.cli import offline
from oidc.model import ConfigError
from oidc.settings import load_settings
from tests.conftest import PROJECT_DIR, project_config

TOKEN = "ghp_leakedTokenValue123"
SECRET = offline.SECRET


def run(values: dict[str, Any], secret: tuple[str, ...]) -> offline.Recording:
    """The program run on ``values`` (config keys without namespace), with the keys ``secret`` marked secret."""
    config = offline.StackConfig(
        "pulumi-aws-oidc",
        "dev",
        PROJECT_DIR,
        {"aws:region": "us-west-2", **project_config({"organization": "acme", **values})},
        tuple(f"pulumi-aws-oidc:{key}" for key in secret),
    )
    return offline.run_stack(config)


def recorded(recording: offline.Recording, type_: str) -> list[offline.RecordedResource]:
    return recording.of_type(type_)


def everything(recording: offline.Recording) -> str:
    return json.dumps([[r.inputs, r.outputs] for r in recording.resources] + [recording.outputs], default=str)


def test_secret_role_tags_and_description_do_not_reach_state_in_plain_text() -> None:
    role = {"name": "pulumi-deploy", "description": f"uses {TOKEN}", "tags": {"token": TOKEN}}

    recording = run({"role": role, "deployments": [{"project": "infra", "stack": "prod"}]}, secret=("role",))

    [iam_role] = recorded(recording, "aws:iam/role:Role")
    assert iam_role.inputs["description"] == SECRET
    assert iam_role.inputs["tags"] == SECRET
    assert iam_role.inputs["maxSessionDuration"] == SECRET
    assert iam_role.inputs["name"] == "pulumi-deploy"  # a name: plain by design
    assert TOKEN not in everything(recording)


def test_a_token_in_a_secret_repo_url_and_pre_run_commands_stays_secret() -> None:
    entry = {
        "project": "infra",
        "stack": "prod",
        "sessionName": "deploy-infra",
        "settings": {
            "sourceContext": {"git": {"repoUrl": f"https://x:{TOKEN}@github.com/acme/infra.git", "branch": "main"}},
            "operationContext": {"preRunCommands": [f"echo {TOKEN}"], "options": {"skipInstallDependencies": True}},
        },
    }

    recording = run({"deployments": [entry]}, secret=("deployments",))

    [written] = recorded(recording, "pulumiservice:index:DeploymentSettings")
    assert written.inputs["sourceContext"]["git"]["repoUrl"] == SECRET
    assert written.inputs["sourceContext"]["git"]["branch"] == SECRET
    assert written.inputs["operationContext"]["preRunCommands"] == SECRET
    assert written.inputs["operationContext"]["options"]["skipInstallDependencies"] == SECRET
    aws = written.inputs["operationContext"]["oidc"]["aws"]
    assert (aws["sessionName"], aws["duration"]) == (SECRET, SECRET)
    assert aws["roleARN"] != SECRET  # an ARN: plain by design
    assert (written.inputs["project"], written.inputs["stack"]) == ("infra", "prod")
    assert TOKEN not in everything(recording)


def test_the_short_source_of_a_secret_key_is_secret_too() -> None:
    entry = {"project": "infra", "stack": "prod", "source": {"repoUrl": f"https://{TOKEN}@g/r.git", "branch": "main"}}

    recording = run({"deployments": [entry]}, secret=("deployments",))

    [written] = recorded(recording, "pulumiservice:index:DeploymentSettings")
    assert written.inputs["sourceContext"]["git"]["repoUrl"] == SECRET
    assert TOKEN not in everything(recording)


def test_a_secret_external_id_reaches_neither_the_aws_provider_nor_the_client_id_resource_in_plain_text() -> None:
    accounts = {
        "prod": {
            "assumeRole": {
                "roleArn": "arn:aws:iam::111111111111:role/OrganizationAccountAccessRole",
                "sessionName": "admin-session",
                "externalId": TOKEN,
            },
            "oidcProvider": {
                "arn": "arn:aws:iam::111111111111:oidc-provider/api.pulumi.com/oidc",
                "addAudiences": True,
            },
        }
    }
    roles = {"deploy": {"account": "prod", "deployments": [{"project": "infra", "stack": "prod"}]}}

    recording = run({"accounts": accounts, "roles": roles}, secret=("accounts",))

    [provider] = recorded(recording, "pulumi:providers:aws")
    assert provider.inputs["assumeRoles"] == SECRET  # sent as one JSON text, secret as a whole
    [client_id] = [r for r in recording.resources if r.type.endswith("OpenIdConnectProviderClientId")]
    assert (client_id.inputs["externalId"], client_id.inputs["sessionName"]) == (SECRET, SECRET)
    assert client_id.inputs["roleArn"] == "arn:aws:iam::111111111111:role/OrganizationAccountAccessRole"
    assert TOKEN not in everything(recording)


def test_secret_audiences_are_secret_in_the_provider_and_in_the_audiences_output() -> None:
    recording = run(
        {"oidcProvider": {"audiences": [TOKEN]}, "deployments": [{"project": "infra", "stack": "prod"}]},
        secret=("oidcProvider",),
    )

    [provider] = recorded(recording, "aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    assert provider.inputs["clientIdLists"] == SECRET
    assert recording.outputs["audiences"] == SECRET
    assert recording.outputs["oidcProviderArn"] != SECRET
    assert TOKEN not in everything(recording)


def test_the_definition_of_an_environment_of_a_secret_key_is_secret() -> None:
    environment = {"project": "aws", "name": "dev", "sessionName": f"s-{TOKEN}"}

    recording = run({"environments": [environment]}, secret=("environments",))

    [written] = recorded(recording, "pulumiservice:index:Environment")
    assert written.inputs["yaml"] == SECRET
    assert (written.inputs["project"], written.inputs["name"]) == ("aws", "dev")
    assert TOKEN not in everything(recording)


def test_a_secret_key_of_form_b_keeps_every_value_of_every_role_secret_but_names() -> None:
    roles = {
        "deploy": {
            "name": "pulumi-deploy",
            "tags": {"owner": TOKEN},
            "deployments": [{"project": "infra", "stack": "prod", "sessionName": f"s-{TOKEN}"}],
            "environments": [{"project": "aws", "name": "prod", "region": "us-east-1"}],
        }
    }

    recording = run({"roles": roles}, secret=("roles",))

    assert TOKEN not in everything(recording)
    [written] = recorded(recording, "pulumiservice:index:Environment")
    assert written.inputs["yaml"] == SECRET
    assert recording.outputs["deploymentStacks"] == {"acme/infra/prod": "deploy"}


def test_plain_config_stays_plain() -> None:
    values = {"role": {"tags": {"team": "platform"}}, "deployments": [{"project": "infra", "stack": "prod"}]}

    recording = run(values, ())

    [iam_role] = recorded(recording, "aws:iam/role:Role")
    assert iam_role.inputs["tags"] == {"team": "platform"}
    assert not [note for note in recording.notes if "holds a secure value" in note]


def test_plan_says_once_per_secret_key_which_values_stay_plain_and_why() -> None:
    recording = run(
        {"role": {"tags": {"t": TOKEN}}, "deployments": [{"project": "infra", "stack": "prod"}]},
        secret=("role", "deployments"),
    )

    said = [note for note in recording.notes if "holds a secure value" in note]
    assert [note.split(" ", 1)[0] for note in said] == ["deployments", "role"]
    assert all("project, stack and environment names" in note for note in said)


def test_a_secret_organization_in_upper_case_is_not_printed_lowercased() -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings({"organization": "AcmeSecret", "deployments": []}, secret_keys={"organization"})

    text = str(raised.value)
    assert "acmesecret" not in text.lower()
    assert "use the lowercase login:" in text


def write_stack(directory: Path, text: str) -> None:
    for name in ("Pulumi.yaml", "__main__.py"):
        (directory / name).write_text((PROJECT_DIR / name).read_text())
    (directory / "Pulumi.sec.yaml").write_text(text)


def test_plan_marks_secret_exactly_what_a_real_run_marks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_stack(
        tmp_path,
        """
config:
  pulumi-aws-oidc:organization: acme
  pulumi-aws-oidc:role:
    tags:
      team:
        secure: v1:c2VjcmV0
  pulumi-aws-oidc:deployments:
    - project: infra
      stack: prod
      source: {repoUrl: "https://github.com/acme/infra.git", branch: main}
""",
    )

    code = cli.main(["plan", "--stack", "sec", "--cwd", str(tmp_path), "--json"])

    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert report["config"]["pulumi-aws-oidc:role"] == {"tags": {"team": SECRET}}
    [role] = report["accounts"][0]["roles"]
    [stack] = role["deploymentSettings"]
    assert stack["oidc"]["sessionName"] != SECRET  # deployments is not secret: plain, as a real run sends it
    assert [note.split(" ", 1)[0] for note in report["notes"] if "holds a secure value" in note] == ["role"]
    config = offline.read_stack_config(tmp_path, "sec")
    recording = offline.run_stack(config)
    [iam_role] = recorded(recording, "aws:iam/role:Role")
    assert iam_role.inputs["tags"] == SECRET


def test_plan_refuses_a_secure_value_where_a_name_is_expected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_stack(
        tmp_path,
        """
config:
  pulumi-aws-oidc:organization: acme
  pulumi-aws-oidc:deployments:
    - project:
        secure: v1:c2VjcmV0
      stack: prod
""",
    )

    code = cli.main(["plan", "--stack", "sec", "--cwd", str(tmp_path)])

    err = capsys.readouterr().err
    assert code == 1
    assert "deployments[0].project: a secure value where a name is expected" in err


def test_plan_says_a_secure_value_it_cannot_check_offline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_stack(
        tmp_path,
        """
config:
  pulumi-aws-oidc:organization: acme
  pulumi-aws-oidc:deployments:
    - project: infra
      stack: prod
      duration:
        secure: v1:c2VjcmV0
""",
    )

    code = cli.main(["plan", "--stack", "sec", "--cwd", str(tmp_path)])

    err = capsys.readouterr().err
    assert code == 1
    assert "deployments[0].duration: a secure value; it cannot be checked offline" in err
