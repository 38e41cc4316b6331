"""``deployments[].settings``: every input of the stack's DeploymentSettings, and secrets that stay secret."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from oidc import cli
from oidc.cli import offline
from oidc.cli.evaluate import Evaluated, role_views
from oidc.cli.plan import plan_report, render_text
from oidc.model import ConfigError, Secret
from oidc.settings import load_settings
from tests.conftest import PROJECT_DIR, run_component

DEPLOYMENT_SETTINGS = "pulumiservice:index:DeploymentSettings"
PASSWORD = "hunter2-not-in-any-output"


def load(settings: Any, *, secret: bool = False, **keys: Any) -> Any:
    entry = {"project": "infra", "stack": "prod", "settings": settings, **keys}
    values = {"organization": "acme", "deployments": [entry]}
    return load_settings(values, secret_keys={"deployments"} if secret else ())


def problems(settings: Any, *, secret: bool = False, **keys: Any) -> dict[str, str]:
    with pytest.raises(ConfigError) as raised:
        load(settings, secret=secret, **keys)
    return {issue.path: issue.message for issue in raised.value.issues}


AT = "deployments[0].settings"


def test_every_modelled_input_is_read_into_the_entry() -> None:
    given = {
        "agentPoolId": "pool-1",
        "cacheOptions": {"enable": True},
        "executorContext": {"executorImage": "pulumi/pulumi:latest"},
        "github": {"repository": "acme/infra", "deployCommits": False, "paths": ["infra/**"]},
        "vcs": {"provider": "gitlab", "repository": "acme/infra", "deployPullRequest": 7},
        "operationContext": {
            "environmentVariables": {"AWS_REGION": "eu-west-1"},
            "options": {"skipInstallDependencies": True},
            "preRunCommands": ["make deps"],
        },
        "sourceContext": {"git": {"repoUrl": "https://github.com/acme/infra.git", "commit": "0a1b2c3"}},
    }

    [deployment] = load(given).roles[0].deployments

    assert deployment.settings == given
    assert deployment.declared_settings() == given
    assert deployment.replace_settings is False


def test_the_short_source_is_the_source_context_the_guard_compares() -> None:
    values = {
        "organization": "acme",
        "deployments": [
            {"project": "infra", "stack": "prod", "source": {"repoUrl": "https://g/r.git", "branch": "main"}}
        ],
    }

    [deployment] = load_settings(values).roles[0].deployments

    assert deployment.declared_settings() == {
        "sourceContext": {"git": {"repoUrl": "https://g/r.git", "branch": "main"}}
    }


def test_oidc_is_the_programs_own() -> None:
    found = problems({"operationContext": {"oidc": {"aws": {"roleArn": "arn:aws:iam::1:role/x"}}}})

    assert found[f"{AT}.operationContext.oidc"].endswith(
        "the program's own: it points the stack at this role. Set the session on the entry itself "
        "(sessionName, duration, policyArns), and remove this"
    )


def test_source_and_source_context_together_are_an_error() -> None:
    found = problems(
        {"sourceContext": {"git": {"branch": "main"}}}, source={"repoUrl": "https://g/r.git", "branch": "main"}
    )

    assert "short form of settings.sourceContext.git: give one of them, not both" in found["deployments[0].source"]


@pytest.mark.parametrize("git", [{"repoUrl": "u"}, {"branch": "main", "commit": "0a1b"}])
def test_a_git_source_names_exactly_one_of_branch_and_commit(git: dict[str, str]) -> None:
    found = problems({"sourceContext": {"git": git}})

    assert found[f"{AT}.sourceContext.git"] == "give exactly one of branch and commit"


def test_one_kind_of_git_credentials() -> None:
    auth = {"basicAuth": {"username": "u", "password": "p"}, "sshAuth": {"sshPrivateKey": "k"}}

    found = problems({"sourceContext": {"git": {"branch": "main", "gitAuth": auth}}}, secret=True)

    assert found[f"{AT}.sourceContext.git.gitAuth"] == "give exactly one of basicAuth and sshAuth"


def test_a_credential_in_plain_config_is_refused_with_the_command_that_sets_it_secret_and_is_not_shown() -> None:
    auth = {"basicAuth": {"username": "bot", "password": PASSWORD}}

    found = problems({"sourceContext": {"git": {"branch": "main", "gitAuth": auth}}})

    path = f"{AT}.sourceContext.git.gitAuth.basicAuth.password"
    assert found[path] == (
        "a credential, so it must come from secure config: run "
        f"pulumi config set --secret --path '{path}' <value> (the value is not shown here)"
    )
    assert PASSWORD not in json.dumps(found)


def test_under_a_secret_key_credentials_user_names_and_variables_are_secrets() -> None:
    settings = {
        "executorContext": {"executorImage": "img", "credentials": {"username": "bot", "password": PASSWORD}},
        "operationContext": {"environmentVariables": {"TOKEN": PASSWORD}},
    }

    [deployment] = load(settings, secret=True).roles[0].deployments

    assert deployment.settings["executorContext"]["credentials"] == {
        "username": Secret("bot"),
        "password": Secret(PASSWORD),
    }
    assert deployment.settings["operationContext"]["environmentVariables"] == {"TOKEN": Secret(PASSWORD)}
    assert PASSWORD not in repr(deployment)


def test_in_plain_config_variables_are_plain() -> None:
    [deployment] = (
        load({"operationContext": {"environmentVariables": {"AWS_REGION": "eu-west-1"}}}).roles[0].deployments
    )

    assert deployment.settings["operationContext"]["environmentVariables"] == {"AWS_REGION": "eu-west-1"}


@pytest.mark.parametrize(
    ("settings", "path", "expected"),
    [
        (
            {"vcs": {"provider": "svn"}},
            "vcs.provider",
            "expected one of github, gitlab, bitbucket, azure_devops, custom",
        ),
        ({"vcs": {"repository": "a/b"}}, "vcs.provider", "missing; it is required here"),
        ({"vcs": {"provider": "github", "deployPullRequest": 0}}, "vcs.deployPullRequest", "a whole number above 0"),
        ({"cacheOptions": {}}, "cacheOptions.enable", "missing; it is required here"),
        (
            {"operationContext": {"environmentVariables": {"1BAD": "x"}}},
            "operationContext.environmentVariables.1BAD",
            "variable name",
        ),
        (
            {"operationContext": {"environmentVariables": {"N": 3}}},
            "operationContext.environmentVariables.N",
            "expected text",
        ),
        ({"operationContext": {"preRunCommands": "make"}}, "operationContext.preRunCommands", "a list of non-empty"),
        ({"github": {"deployCommits": "yes"}}, "github.deployCommits", "expected true or false"),
    ],
)
def test_bad_settings_name_the_key_path_and_what_is_allowed(settings: Any, path: str, expected: str) -> None:
    assert expected in problems(settings)[f"{AT}.{path}"]


@pytest.mark.parametrize("keys", [{"stack": "review-*"}, {"manageSettings": False}])
def test_settings_are_refused_where_the_program_manages_no_settings(keys: dict[str, Any]) -> None:
    found = problems({"agentPoolId": "pool"}, **keys)

    assert "only used in deployment settings this program manages" in found[AT]


def test_replace_settings_is_a_boolean() -> None:
    assert "expected true or false" in problems({}, replaceSettings="yes")["deployments[0].replaceSettings"]


# --- declared --------------------------------------------------------------------------------


def test_the_resource_gets_each_input_under_its_own_name_and_the_oidc_block_beside_them() -> None:
    settings = {
        "agentPoolId": "pool-1",
        "vcs": {"provider": "github", "repository": "acme/infra", "installationId": "42"},
        "operationContext": {"environmentVariables": {"my_var": "x"}, "preRunCommands": ["make deps"]},
        "sourceContext": {"git": {"repoUrl": "https://g/r.git", "branch": "main", "repoDir": "infra"}},
    }

    recording = run_component(load(settings))

    [written] = recording.of_type(DEPLOYMENT_SETTINGS)
    assert written.inputs["agentPoolId"] == "pool-1"
    # With the resource's defaults, as its own classes send them.
    assert written.inputs["vcs"] == {
        "provider": "github",
        "repository": "acme/infra",
        "installationId": "42",
        "deployCommits": True,
        "previewPullRequests": True,
        "pullRequestTemplate": False,
    }
    assert written.inputs["operationContext"]["environmentVariables"] == {"my_var": "x"}
    assert written.inputs["operationContext"]["preRunCommands"] == ["make deps"]
    assert set(written.inputs["operationContext"]["oidc"]["aws"]) == {"roleARN", "sessionName", "duration"}
    assert written.inputs["sourceContext"] == {
        "git": {"repoUrl": "https://g/r.git", "branch": "main", "repoDir": "infra"}
    }


def test_a_shell_is_declared_with_a_warning_that_the_provider_does_not_send_it() -> None:
    recording = run_component(load({"operationContext": {"options": {"shell": "/bin/zsh"}}}))

    [warning] = [w for w in recording.warnings if "shell" in w]
    assert warning.startswith("deployments[0].settings.operationContext.options.shell is not sent")


def test_plan_of_a_stack_with_secure_settings_shows_them_as_secret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(PROJECT_DIR / name, tmp_path / name)
    (tmp_path / "Pulumi.adopt.yaml").write_text(
        """
config:
  pulumi-aws-oidc:organization: acme
  pulumi-aws-oidc:deployments:
    - project: infra
      stack: prod
      settings:
        operationContext:
          environmentVariables:
            DATADOG_API_KEY:
              secure: v1:c2VjcmV0LXZhbHVl
        sourceContext:
          git:
            repoUrl: https://github.com/acme/infra.git
            branch: main
            gitAuth:
              sshAuth:
                sshPrivateKey:
                  secure: v1:a2V5
"""
    )

    code = cli.main(["plan", "--stack", "adopt", "--cwd", str(tmp_path), "--json"])

    report = json.loads(capsys.readouterr().out)
    assert code == 0
    entry = report["config"]["pulumi-aws-oidc:deployments"][0]
    assert entry["settings"]["operationContext"]["environmentVariables"] == {"DATADOG_API_KEY": offline.SECRET}
    auth = entry["settings"]["sourceContext"]["git"]["gitAuth"]
    assert auth == {"sshAuth": {"sshPrivateKey": offline.SECRET}}
    [stack] = report["accounts"][0]["roles"][0]["deploymentSettings"]
    assert stack["settings"]["sourceContext.git.gitAuth.sshAuth.sshPrivateKey"] == offline.SECRET


def test_no_secret_reaches_the_plan_report_of_a_run_given_the_decrypted_values() -> None:
    # As pulumi up hands them: decrypted, the key marked secret.
    entry = {
        "project": "infra",
        "stack": "prod",
        "settings": {"operationContext": {"environmentVariables": {"TOKEN": PASSWORD}}},
    }
    config = offline.StackConfig(
        "pulumi-aws-oidc",
        "dev",
        PROJECT_DIR,
        {"pulumi-aws-oidc:organization": "acme", "pulumi-aws-oidc:deployments": [entry]},
        ("pulumi-aws-oidc:deployments",),
    )

    recording = offline.run_stack(config)
    report = plan_report(Evaluated(config, recording, tuple(role_views(recording))))

    assert PASSWORD not in json.dumps([r.inputs for r in recording.resources], default=str)
    assert PASSWORD not in render_text(report)
    assert PASSWORD not in json.dumps(report, default=str)


@pytest.mark.parametrize(
    "settings",
    [
        {"operationContext": {"environmentVariable": {"TOKEN": PASSWORD}}},
        {"operationContext": {"environmentVariables": {"DB-PASSWORD": PASSWORD}}},
        {"sourceContext": {"git": {"branch": "main", "gitAuth": {"basicAuth": {"pasword": PASSWORD}}}}},
        {"sourceContext": {"git": {"branch": "main", "gitAuth": {"sshAuth": {"sshPrivatekey": PASSWORD}}}}},
    ],
)
def test_no_message_shows_a_value_of_a_secret_key(settings: Any) -> None:
    found = problems(settings, secret=True)

    assert PASSWORD not in json.dumps(found)
    assert all("got a value not shown, as deployments holds secrets" in m for m in found.values() if "got" in m)


def test_an_entry_misspelling_settings_under_a_secret_key_shows_none_of_it() -> None:
    values = {"organization": "acme", "deployments": [{"project": "infra", "stack": "prod", "settigns": PASSWORD}]}

    with pytest.raises(ConfigError) as raised:
        load_settings(values, secret_keys={"deployments"})

    [issue] = raised.value.issues
    assert issue.path == "deployments[0].settigns"
    assert PASSWORD not in issue.message
    assert "did you mean `settings`?" in issue.message
