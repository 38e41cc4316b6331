"""The guard: before writing, the program reads what exists in Pulumi Cloud and refuses to erase it.

Every test talks HTTP to a server on 127.0.0.1 (tests/cloud_server.py) answering recorded bodies of the
service's documented shapes; the program finds it as the pulumiservice provider would, through
``PULUMI_ACCESS_TOKEN`` and ``PULUMI_BACKEND_URL`` (or ``pulumiservice:*`` config).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from oidc import cli, cloud, testing
from oidc.cli import offline
from oidc.cloud import CloudError, guard
from oidc.components.organization import PulumiCloudOidc
from oidc.model import ConfigError, Secret
from oidc.settings import load_settings
from tests.cloud_server import FakeCloud, closed_port_url, recorded, serving
from tests.conftest import run_component

TOKEN = "pul-0123456789abcdef0123456789abcdef01234567"
SETTINGS_PATH = "/api/stacks/acme/infra/prod/deployments/settings"
STACK_PATH = "/api/stacks/acme/infra/prod"
STATE_PATH = "/api/stacks/acme/pulumi-aws-oidc/dev/resources/latest"
ADMIN_PATH = "/api/stacks/acme/pulumi-aws-oidc/dev"
DEPLOYMENT_SETTINGS = "pulumiservice:index:DeploymentSettings"

# What a config must declare to keep every field of console_settings.json the resource can express.
KEEPS_CONSOLE: dict[str, Any] = {
    "cacheOptions": {"enable": True},
    "executorContext": {"executorImage": "pulumi/pulumi-python:3.210.0"},
    "github": {
        "repository": "acme/infra",
        "deployCommits": True,
        "previewPullRequests": True,
        "paths": ["infra/**"],
    },
    "operationContext": {
        "preRunCommands": ["make deps", "make lint"],
        "environmentVariables": {"AWS_REGION": "eu-west-1", "DATADOG_API_KEY": "dd-key-0000"},
        "options": {"skipIntermediateDeployments": True},
    },
    "sourceContext": {"git": {"repoUrl": "https://github.com/acme/infra.git", "branch": "main", "repoDir": "infra"}},
}


@pytest.fixture(autouse=True)
def guard_reads_the_local_server() -> Iterator[None]:
    """The guard reads Pulumi Cloud only in a real preview or up; these tests run it under mocks against a server
    they start, as a real run would read Pulumi Cloud."""
    with testing.reading_pulumi_cloud():
        yield


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries wait a few milliseconds here (tests/test_cloud_hardening.py times the real waits)."""
    monkeypatch.setattr(cloud, "BACKOFF_SECONDS", (0.01, 0.02))


@pytest.fixture
def pulumi_cloud(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeCloud]:
    with serving() as server:
        monkeypatch.setenv("PULUMI_ACCESS_TOKEN", TOKEN)
        monkeypatch.setenv("PULUMI_BACKEND_URL", server.url)
        server.stack("acme", "pulumi-aws-oidc", "dev")  # the admin stack, made by pulumi stack init
        for stack in ("prod", "staging", "dev"):  # the stacks whose settings the tests manage
            server.stack("acme", "infra", stack)
        yield server


def entry(**keys: Any) -> dict[str, Any]:
    return {"project": "infra", "stack": "prod", **keys}


def declare(
    deployments: list[dict[str, Any]] | None = None, secret: bool = False, **config: Any
) -> tuple[offline.Recording, ConfigError | CloudError | None]:
    """Run the component for acme's config; the recording, and the error it raised if any."""
    values = {"organization": "acme", "deployments": deployments if deployments is not None else [entry()], **config}
    loaded = load_settings(values, secret_keys={"deployments"} if secret else ())
    recording = offline.Recording()
    try:
        run_component(loaded, recording=recording)
    except (ConfigError, CloudError) as error:
        return recording, error
    return recording, None


# --- no settings, or nothing lost --------------------------------------------------------


def test_a_stack_without_settings_404_is_written_after_the_read_with_the_token_as_the_provider_sends_it(
    pulumi_cloud: FakeCloud,
) -> None:
    recording, error = declare()

    assert error is None
    assert recording.of_type(DEPLOYMENT_SETTINGS)
    # A 404 of the settings is "none" only once the stack itself is found.
    assert pulumi_cloud.paths() == [STATE_PATH, ADMIN_PATH, SETTINGS_PATH, STACK_PATH]
    assert {request.authorization for request in pulumi_cloud.requests} == {f"token {TOKEN}"}
    assert not [w for w in recording.warnings if w.startswith("not guarded")]


def test_settings_fully_declared_pass_and_every_declared_field_is_written(pulumi_cloud: FakeCloud) -> None:
    pulumi_cloud.settings("acme", "infra", "prod", recorded("console_settings"))

    recording, error = declare([entry(settings=KEEPS_CONSOLE)])

    assert error is None
    [written] = recording.of_type(DEPLOYMENT_SETTINGS)
    assert written.inputs["github"] == {
        "repository": "acme/infra",
        "deployCommits": True,
        "previewPullRequests": True,
        "pullRequestTemplate": False,
        "paths": ["infra/**"],
    }
    assert written.inputs["executorContext"] == {"executorImage": "pulumi/pulumi-python:3.210.0"}
    assert written.inputs["cacheOptions"] == {"enable": True}
    assert written.inputs["operationContext"]["preRunCommands"] == ["make deps", "make lint"]
    assert written.inputs["operationContext"]["options"] == {"skipIntermediateDeployments": True}
    assert written.inputs["operationContext"]["oidc"]["aws"]["sessionName"] == "pulumi-deploy-infra-prod"


def test_secret_values_stay_secret_in_the_recorded_inputs(pulumi_cloud: FakeCloud) -> None:
    recording, error = declare([entry(settings=KEEPS_CONSOLE)], secret=True)

    assert error is None
    [written] = recording.of_type(DEPLOYMENT_SETTINGS)
    assert written.inputs["operationContext"]["environmentVariables"] == {
        "AWS_REGION": offline.SECRET,
        "DATADOG_API_KEY": offline.SECRET,
    }
    assert "dd-key-0000" not in json.dumps([r.inputs for r in recording.resources])
    assert "dd-key-0000" not in json.dumps([r.outputs for r in recording.resources], default=str)


def test_a_field_this_stack_wrote_and_no_longer_declares_is_a_removal_not_a_loss(pulumi_cloud: FakeCloud) -> None:
    # The admin stack's state holds the settings it wrote: LOG_LEVEL and TOKEN were its own.
    pulumi_cloud.state("acme", "pulumi-aws-oidc", "dev", recorded("admin_state"))
    pulumi_cloud.settings(
        "acme",
        "infra",
        "prod",
        {"operationContext": {"environmentVariables": {"LOG_LEVEL": "debug", "TOKEN": {"ciphertext": "AAAB"}}}},
    )

    _, error = declare()

    assert error is None


def test_a_secret_object_in_state_covers_every_field_below_it() -> None:
    sealed = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "ciphertext": "v1:abc"}
    current = guard.current_settings({"operationContext": {"environmentVariables": {"OLD": "x"}}, "agentPoolID": "p"})

    assert guard.lost(current, {}, {"operationContext": sealed}) == {"agentPoolId": "p"}


# --- settings that would be erased -----------------------------------------------------------


def test_console_settings_fail_before_anything_is_declared_with_the_fields_and_the_config_that_keeps_them(
    pulumi_cloud: FakeCloud,
) -> None:
    pulumi_cloud.settings("acme", "infra", "prod", recorded("console_settings"))

    recording, error = declare([entry(source={"repoUrl": "https://github.com/acme/infra.git", "branch": "main"})])

    assert error is not None
    assert recording.resources == []
    [issue] = error.issues
    assert issue.path == "deployments[0]"
    lost = issue.message.splitlines()[1]
    assert lost == (
        "    would be erased: cacheOptions.enable, executorContext.executorImage, github.deployCommits, "
        "github.paths, github.previewPullRequests, github.repository, "
        "operationContext.environmentVariables.AWS_REGION, operationContext.environmentVariables.DATADOG_API_KEY, "
        "operationContext.options.skipIntermediateDeployments, operationContext.preRunCommands, "
        "sourceContext.git.repoDir"
    )
    block = issue.message.split("keep them by adding to deployments[0]:\n", 1)[1].split("\n    and set", 1)[0]
    keep = yaml.safe_load("\n".join(line[6:] for line in block.splitlines()))
    assert keep["settings"]["github"] == {
        "repository": "acme/infra",
        "deployCommits": True,
        "previewPullRequests": True,
        "paths": ["infra/**"],
    }
    assert keep["settings"]["operationContext"]["environmentVariables"] == {"AWS_REGION": "eu-west-1"}
    # The entry keeps its short source, with the folder it lacked.
    assert keep["source"] == {"repoUrl": "https://github.com/acme/infra.git", "branch": "main", "repoDir": "infra"}
    assert "sourceContext" not in keep["settings"]
    assert (
        "pulumi config set --secret --path "
        "'deployments[0].settings.operationContext.environmentVariables.DATADOG_API_KEY' <value>" in issue.message
    )
    assert "replaceSettings: true accepts losing them" in issue.message
    assert "python -m oidc settings pull acme/infra/prod" in issue.message


def test_a_short_source_that_cannot_hold_what_is_lost_is_moved_into_settings(pulumi_cloud: FakeCloud) -> None:
    git = {"repoUrl": "https://g/r.git", "branch": "main", "gitAuth": {"basicAuth": {"userName": "bot"}}}
    git["gitAuth"]["basicAuth"]["password"] = {"ciphertext": "AAAB"}
    pulumi_cloud.settings("acme", "infra", "prod", {"sourceContext": {"git": git}})

    _, error = declare([entry(source={"repoUrl": "https://g/r.git", "branch": "main"})])

    assert error is not None
    message = error.issues[0].message
    assert "(deployments[0].source becomes settings.sourceContext.git: remove source)" in message
    block = message.split("keep them by adding to deployments[0]:\n", 1)[1].split("\n    and set", 1)[0]
    keep = yaml.safe_load("\n".join(line[6:] for line in block.splitlines()))
    assert keep == {
        "settings": {
            "sourceContext": {
                "git": {"repoUrl": "https://g/r.git", "branch": "main", "gitAuth": {"basicAuth": {"username": "bot"}}}
            }
        }
    }
    assert (
        "pulumi config set --secret --path 'deployments[0].settings.sourceContext.git.gitAuth.basicAuth.password'"
        in message
    )


def test_the_guard_message_quotes_no_value_of_a_secret_key(pulumi_cloud: FakeCloud) -> None:
    token_url = "https://x:ghp_secretToken@github.com/acme/infra.git"
    pulumi_cloud.settings("acme", "infra", "prod", {"sourceContext": {"git": {"repoDir": "infra"}}})

    _, error = declare([entry(source={"repoUrl": token_url, "branch": "main"})], secret=True)

    assert error is not None
    message = error.issues[0].message
    assert "ghp_secretToken" not in message
    block = message.split("keep them by adding to deployments[0]:\n", 1)[1]
    keep = yaml.safe_load("\n".join(line[6:] for line in block.splitlines() if line.startswith("      ")))
    assert keep["source"] == {"repoUrl": guard.AS_CONFIGURED, "branch": guard.AS_CONFIGURED, "repoDir": "infra"}


def test_what_the_resource_sends_by_default_keeps_the_same_value_and_a_false_the_service_omits_is_kept(
    pulumi_cloud: FakeCloud,
) -> None:
    # deployCommits and previewPullRequests default to true in the resource; the service omits a false.
    pulumi_cloud.settings("acme", "infra", "prod", {"gitHub": {"repository": "acme/infra", "deployCommits": True}})

    _, error = declare([entry(settings={"github": {"repository": "acme/infra"}})])

    assert error is not None
    message = error.issues[0].message
    assert message.splitlines()[1] == "    would be erased: github.previewPullRequests"
    assert "previewPullRequests: false" in message

    pulumi_cloud.settings("acme", "infra", "prod", {"gitHub": {"repository": "acme/infra", "deployCommits": True}})
    pulumi_cloud.routes[SETTINGS_PATH][1]["gitHub"]["previewPullRequests"] = True

    _, error = declare([entry(settings={"github": {"repository": "acme/infra"}})])

    assert error is None


def test_a_field_declared_false_is_declared_and_not_reported(pulumi_cloud: FakeCloud) -> None:
    github = {"repository": "acme/infra", "deployCommits": True, "previewPullRequests": True}
    pulumi_cloud.settings("acme", "infra", "prod", {"gitHub": github})

    _, error = declare([entry(settings={"github": {"repository": "acme/infra", "deployCommits": False}})])

    assert error is None


def test_fields_the_resource_cannot_express_are_listed_and_only_replace_settings_goes_on(
    pulumi_cloud: FakeCloud,
) -> None:
    pulumi_cloud.settings("acme", "infra", "prod", recorded("unmodelled_settings"))
    source = {"source": {"repoUrl": "https://github.com/acme/infra.git", "branch": "main"}}

    _, error = declare([entry(**source)])

    assert error is not None
    [issue] = error.issues
    assert "would be erased" not in issue.message
    assert issue.message.splitlines()[1:6] == [
        "    cannot be kept, as no config expresses them:",
        "      operationContext.options.remediateIfDriftDetected: the resource has no input for it; it is true",
        "      operationContext.options.shell: the provider never sends it (it reads the key Shell); it is /bin/zsh",
        # A value is shown cut to 80 characters, as the loader's messages cut theirs.
        "      operationContext.role: the deployment's Pulumi Cloud role: the resource has no input for it; it is "
        "{defaultIdentifier: stack-deployer, id: 4c1b1c0e-8f6a-4d43-9f1e-0c3b6f0c2a11, n…",
        "      tag: the resource has no input for it; it is nightly",
    ]
    assert "deployments[0].replaceSettings: true accepts losing the rest" in issue.message

    recording, accepted = declare([entry(**source, replaceSettings=True)])

    assert accepted is None
    assert recording.of_type(DEPLOYMENT_SETTINGS)
    # Accepted once, the deployment role is still erased on every later write: a warning says so each time.
    [warning] = [w for w in recording.warnings if "operationContext.role" in w]
    assert warning.startswith("acme/infra/prod: its deployment settings run deployments with the deployment role ")
    assert "pulumi/pulumi-pulumiservice#823" in warning


def test_every_entry_that_would_lose_something_is_reported_at_once(pulumi_cloud: FakeCloud) -> None:
    pulumi_cloud.settings("acme", "infra", "prod", {"agentPoolID": "pool-1"})
    pulumi_cloud.settings("acme", "infra", "staging", {"agentPoolID": "pool-2"})

    _, error = declare([entry(), entry(stack="staging"), entry(stack="dev")])

    assert error is not None
    assert [issue.path for issue in error.issues] == ["deployments[0]", "deployments[1]"]


# --- environments ------------------------------------------------------------------------------


def test_an_environment_that_exists_fails_with_the_import_that_adopts_it(pulumi_cloud: FakeCloud) -> None:
    pulumi_cloud.environment("acme", "aws", "dev")

    recording, error = declare(environments=[{"project": "aws", "name": "dev"}])

    assert error is not None
    assert recording.resources == []
    [issue] = error.issues
    assert issue.path == "environments[0]"
    assert "the ESC environment acme/aws/dev exists already and this stack did not create it" in issue.message
    assert (
        "pulumi import pulumiservice:index:Environment pulumi-cloud-env-aws/dev acme/aws/dev --parent "
        "'pulumi-cloud=urn:pulumi:dev::pulumi-aws-oidc::pulumi-aws-oidc:index:PulumiCloudOidc$"
        "pulumi-aws-oidc:index:OidcRole::pulumi-cloud'\n" in issue.message
    )


def test_the_import_names_the_role_component_of_the_entry_in_form_b(pulumi_cloud: FakeCloud) -> None:
    pulumi_cloud.environment("acme", "aws", "dev")
    roles = {"esc": {"environments": [{"project": "aws", "name": "dev"}]}}

    loaded = load_settings({"organization": "acme", "roles": roles})
    with pytest.raises(ConfigError) as raised:
        run_component(loaded)

    [issue] = raised.value.issues
    assert issue.path == "roles.esc.environments[0]"
    assert "pulumi-cloud-env-aws/dev acme/aws/dev --parent 'pulumi-cloud-esc=urn:pulumi:" in issue.message
    assert "pulumi-aws-oidc:index:OidcRole::pulumi-cloud-esc" in issue.message


def test_without_a_readable_last_update_existing_environments_are_not_checked_and_a_warning_says_so(
    pulumi_cloud: FakeCloud,
) -> None:
    # An admin stack kept on another backend: its last update is not in this Pulumi Cloud (403 or 404).
    pulumi_cloud.environment("acme", "aws", "dev")
    pulumi_cloud.routes[STATE_PATH] = (403, {"code": 403, "message": "Forbidden"})
    del pulumi_cloud.routes[ADMIN_PATH]

    recording, error = declare(environments=[{"project": "aws", "name": "dev"}])

    assert error is None
    assert "/api/esc/environments/acme/aws/dev" not in pulumi_cloud.paths()
    [warning] = [w for w in recording.warnings if "last update" in w]
    assert warning.startswith("not guarded: this admin stack's last update (acme/pulumi-aws-oidc/dev) cannot be read")


def test_a_stack_whose_settings_this_stack_wrote_and_no_longer_declares_gets_a_warning_that_they_are_deleted(
    pulumi_cloud: FakeCloud,
) -> None:
    pulumi_cloud.state("acme", "pulumi-aws-oidc", "dev", recorded("admin_state"))

    recording, error = declare([entry(stack="staging", manageSettings=False)])

    assert error is None
    [warning] = [w for w in recording.warnings if "no longer declares" in w]
    assert warning.startswith("acme/infra/prod: this stack no longer declares the stack's deployment settings")
    assert "removes all of the stack's settings, console fields included" in warning


def test_an_environment_this_stack_created_is_no_conflict(pulumi_cloud: FakeCloud) -> None:
    pulumi_cloud.environment("acme", "aws", "dev")
    pulumi_cloud.state("acme", "pulumi-aws-oidc", "dev", recorded("admin_state"))

    recording, error = declare(environments=[{"project": "aws", "name": "dev"}])

    assert error is None
    assert recording.of_type("pulumiservice:index:Environment")
    assert "/api/esc/environments/acme/aws/dev" not in pulumi_cloud.paths()


# --- failures of the API -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "path", "expected"),
    [
        (401, STATE_PATH, "Pulumi Cloud refused the token from PULUMI_ACCESS_TOKEN (401 Unauthorized)"),
        # A 403 for the admin stack means another backend keeps it; for a stack's settings, a refusal.
        (403, SETTINGS_PATH, "Pulumi Cloud refused the token from PULUMI_ACCESS_TOKEN (403 Forbidden)"),
        (
            500,
            STATE_PATH,
            "Pulumi Cloud failed (500 Internal Server Error) on each of 3 attempts. Nothing was changed; try again",
        ),
        (503, STATE_PATH, "Pulumi Cloud failed (503 Service Unavailable) on each of 3 attempts"),
    ],
)
def test_a_refused_token_or_a_failing_service_is_a_clear_error_and_nothing_is_declared(
    pulumi_cloud: FakeCloud, status: int, path: str, expected: str
) -> None:
    pulumi_cloud.status = status

    recording, error = declare()

    # Reported as Pulumi Cloud's failure, not as invalid config.
    assert isinstance(error, CloudError)
    assert recording.resources == []
    assert str(error).startswith(f"pulumi cloud: GET {pulumi_cloud.url}{path}: ")
    assert expected in str(error)
    assert str(error).endswith("; nothing was declared")
    assert pulumi_cloud.paths().count(path) == (cloud.ATTEMPTS if status >= 500 else 1)


def test_an_unreachable_api_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    url = closed_port_url()
    monkeypatch.setenv("PULUMI_ACCESS_TOKEN", TOKEN)
    monkeypatch.setenv("PULUMI_BACKEND_URL", url)

    recording, error = declare()

    assert isinstance(error, CloudError)
    assert recording.resources == []
    assert str(error).startswith(f"pulumi cloud: GET {url}{STATE_PATH}: cannot reach Pulumi Cloud (")
    assert "on each of 3 attempts" in str(error)
    assert "PULUMI_BACKEND_URL" in str(error)


def test_a_body_of_another_shape_is_a_clear_error(pulumi_cloud: FakeCloud) -> None:
    pulumi_cloud.state("acme", "pulumi-aws-oidc", "dev", ["not", "a", "state"])

    _, error = declare()

    assert isinstance(error, CloudError)
    assert "the answer is not of the documented shape" in str(error)


# --- where the token comes from ----------------------------------------------------------------


def test_the_token_and_url_of_pulumiservice_config_are_used_as_the_provider_uses_them() -> None:
    with serving() as server:
        config = {
            "pulumi-aws-oidc:organization": "acme",
            "pulumi-aws-oidc:deployments": [entry()],
            "pulumiservice:accessToken": "pul-from-config",
            "pulumiservice:apiUrl": server.url,
        }

        def program() -> None:
            from oidc.settings import read_pulumi_config, read_secret_keys  # noqa: PLC0415

            PulumiCloudOidc("pulumi-cloud", load_settings(read_pulumi_config(), secret_keys=read_secret_keys()))

        server.stack("acme", "infra", "prod")
        offline.run_program(program, config, secret_keys=["pulumiservice:accessToken"])

    assert server.paths() == [STATE_PATH, ADMIN_PATH, SETTINGS_PATH, STACK_PATH]
    assert {request.authorization for request in server.requests} == {"token pul-from-config"}


@pytest.mark.parametrize(
    ("config", "environ", "expected"),
    [
        ({}, {}, None),
        (None, {"PULUMI_ACCESS_TOKEN": "b"}, ("b", "PULUMI_ACCESS_TOKEN")),
        ({"pulumiservice:accessToken": "a"}, {"PULUMI_ACCESS_TOKEN": "b"}, ("a", "pulumiservice:accessToken")),
        ({}, {"PULUMI_ACCESS_TOKEN": "b"}, ("b", "PULUMI_ACCESS_TOKEN")),
    ],
)
def test_credentials_are_found_in_the_providers_order(
    config: dict[str, str] | None, environ: dict[str, str], expected: tuple[str, str] | None, tmp_path: Path
) -> None:
    found = cloud.find_credentials(config, {**environ, "PULUMI_HOME": str(tmp_path)})

    if expected is None:
        assert found == cloud.NoToken(
            "no Pulumi Cloud token was found",
            "log in (pulumi login), or set PULUMI_ACCESS_TOKEN or pulumiservice:accessToken",
        )
    else:
        assert isinstance(found, cloud.Credentials)
        assert (found.token, found.source) == expected


def test_the_clis_stored_login_is_the_last_source_and_the_url_defaults_to_pulumi_cloud(tmp_path: Path) -> None:
    stored = {"current": "https://api.pulumi.com", "accessTokens": {"https://api.pulumi.com": "pul-stored"}}
    (tmp_path / "credentials.json").write_text(json.dumps(stored))

    found = cloud.find_credentials({}, {"PULUMI_HOME": str(tmp_path)})

    assert found == cloud.Credentials(
        "pul-stored", str(tmp_path / "credentials.json"), "https://api.pulumi.com", "the default"
    )
    assert "pul-stored" not in repr(found)


@pytest.mark.parametrize(
    ("config", "environ", "url"),
    [
        (
            {"pulumiservice:apiUrl": "https://a.example/"},
            {"PULUMI_BACKEND_URL": "https://b.example"},
            "https://a.example",
        ),
        ({}, {"PULUMI_BACKEND_URL": "https://b.example", "PULUMI_API": "https://c.example"}, "https://b.example"),
        ({}, {"PULUMI_API": "https://c.example"}, "https://c.example"),
        ({}, {}, "https://api.pulumi.com"),
    ],
)
def test_the_api_url_is_found_in_the_providers_order(config: dict[str, str], environ: dict[str, str], url: str) -> None:
    found = cloud.find_credentials(config, {**environ, "PULUMI_ACCESS_TOKEN": "t"})

    assert isinstance(found, cloud.Credentials)
    assert found.api_url == url


def test_a_login_to_a_backend_without_token_is_no_credentials(tmp_path: Path) -> None:
    (tmp_path / "credentials.json").write_text(json.dumps({"current": "s3://state", "accessTokens": {}}))

    found = cloud.find_credentials({}, {"PULUMI_HOME": str(tmp_path)})

    assert isinstance(found, cloud.NoToken)
    assert found.reason == "no Pulumi Cloud token was found"


# --- plan never reads Pulumi Cloud -----------------------------------------------------------------


def test_plan_reads_nothing_from_pulumi_cloud_even_with_a_token_and_says_it_did_not_guard(
    pulumi_cloud: FakeCloud, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["plan", "--stack", "dev"])

    out = capsys.readouterr().out
    assert code == 0
    assert pulumi_cloud.requests == []
    assert "not guarded: plan runs offline, without Pulumi Cloud" in out


# --- settings pull ---------------------------------------------------------------------------------


def pull(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(["settings", "pull", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_settings_pull_prints_the_entry_the_secret_commands_and_what_cannot_be_kept(
    pulumi_cloud: FakeCloud, capsys: pytest.CaptureFixture[str]
) -> None:
    body = recorded("console_settings")
    body["operationContext"]["role"] = {"id": "4c1b", "name": "stack-deployer"}
    pulumi_cloud.settings("acme", "infra", "prod", body)

    code, out, err = pull(capsys, "acme/infra/prod", "--at", "roles.deploy.deployments[2]")

    assert (code, err) == (0, "")
    [pulled] = yaml.safe_load(out)
    assert pulled["project"] == "infra"
    assert pulled["sessionName"] == "infra-prod"
    assert pulled["duration"] == "1h"
    assert pulled["settings"]["operationContext"]["environmentVariables"] == {"AWS_REGION": "eu-west-1"}
    assert (
        "#   pulumi config set --secret --path "
        "'roles.deploy.deployments[2].settings.operationContext.environmentVariables.DATADOG_API_KEY' <value>" in out
    )
    assert "#   operationContext.role: the deployment's Pulumi Cloud role: the resource has no input for it" in out
    assert list(pulled) == ["project", "stack", "sessionName", "duration", "settings"]


def test_settings_pull_round_trips_into_a_config_the_guard_accepts(
    pulumi_cloud: FakeCloud, capsys: pytest.CaptureFixture[str]
) -> None:
    pulumi_cloud.settings("acme", "infra", "prod", recorded("console_settings"))
    _, out, _ = pull(capsys, "acme/infra/prod")
    [pulled] = yaml.safe_load(out)
    # What the printed command does: the secret lands in the entry, and its key becomes secret.
    pulled["settings"]["operationContext"]["environmentVariables"]["DATADOG_API_KEY"] = "dd-key-0000"

    recording, error = declare([pulled], secret=True)

    assert error is None
    [written] = recording.of_type(DEPLOYMENT_SETTINGS)
    # The key is secret now, so the session name is sent as a secret: read it where it was loaded.
    assert written.inputs["operationContext"]["oidc"]["aws"]["sessionName"] == offline.SECRET
    values = {"organization": "acme", "deployments": [pulled]}
    [deployment] = load_settings(values, secret_keys={"deployments"}).roles[0].deployments
    assert deployment.session is not None
    assert deployment.session.session_name == "infra-prod"
    assert (
        guard.lost(guard.current_settings(recorded("console_settings")), guard.config_leaves(pulled["settings"]), None)
        == {}
    )


def test_settings_pull_of_a_stack_without_settings_prints_the_bare_entry(
    pulumi_cloud: FakeCloud, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = pull(capsys, "acme/infra/prod")

    assert code == 0
    assert yaml.safe_load(out) == [{"project": "infra", "stack": "prod"}]
    assert out.startswith("# acme/infra/prod has no deployment settings")


@pytest.mark.parametrize("args", [["acme/infra"], ["acme/infra/prod/x"], ["acme/infra/prod", "--at", "role"]])
def test_settings_pull_refuses_bad_usage(capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    code, out, err = pull(capsys, *args)

    assert (code, out) == (2, "")
    assert err.startswith("error: ")


def test_settings_pull_without_token_or_with_a_failing_api_says_so(
    pulumi_cloud: FakeCloud, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pulumi_cloud.status = 500
    code, out, err = pull(capsys, "acme/infra/prod")
    assert (code, out) == (1, "")
    assert err.startswith(f"error: pulumi cloud: GET {pulumi_cloud.url}{SETTINGS_PATH}: ")
    assert "Pulumi Cloud failed (500 Internal Server Error)" in err

    monkeypatch.delenv("PULUMI_ACCESS_TOKEN")
    code, _, err = pull(capsys, "acme/infra/prod")
    assert code == 1
    assert err.startswith("error: no Pulumi Cloud token")


# --- sorting the service's fields ------------------------------------------------------------------


def test_bookkeeping_and_the_programs_own_oidc_are_never_a_loss() -> None:
    body = {"version": 9, "source": "provider", "operationContext": {"oidc": {"aws": {"roleArn": "arn:x"}}}}

    assert guard.current_settings(body) == guard.CurrentSettings({}, {}, {})


def test_the_services_default_image_is_nothing_to_keep() -> None:
    body = {"executorContext": {"executorImage": {"reference": "pulumi/pulumi:latest", "isDefault": True}}}

    assert guard.current_settings(body).kept == {}


def test_an_unknown_field_cannot_be_kept_and_a_secret_one_is_not_shown() -> None:
    body = {
        "futureField": {"mode": "fast"},
        "sourceContext": {"git": {"branch": "main", "gitAuth": {"accessToken": {"ciphertext": "AAAB"}}}},
    }

    current = guard.current_settings(body)

    assert current.kept == {"sourceContext.git.branch": "main"}
    assert current.unkept == {
        "futureField.mode": "the resource has no input for it; it is fast",
        "sourceContext.git.gitAuth.accessToken": "a personal access token: the resource takes basicAuth or sshAuth",
    }


def test_secret_values_of_the_api_are_kept_as_secrets_to_set_again() -> None:
    body = {"executorContext": {"executorImage": {"reference": "r", "credentials": {"username": "u", "password": {}}}}}
    body["executorContext"]["executorImage"]["credentials"]["password"] = {"secret": "[secret]"}

    kept = guard.current_settings(body).kept

    assert kept == {
        "executorContext.executorImage": "r",
        "executorContext.credentials.username": "u",
        "executorContext.credentials.password": Secret(""),
    }


@pytest.mark.parametrize(
    "body",
    [
        {"operationContext": ["not", "an", "object"]},
        {"operationContext": {"oidc": None, "environmentVariables": None}},
        {"gitHub": None, "sourceContext": {"git": "main"}},
    ],
)
def test_a_body_of_odd_shapes_is_sorted_without_error(body: dict[str, Any]) -> None:
    current = guard.current_settings(body)

    assert current.session == {}


# --- client IDs this stack added (oidcProvider.addAudiences) -----------------------------------------

REUSED_ARN = "arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/oidc"
CLIENT_ID_URN = (
    "urn:pulumi:dev::pulumi-aws-oidc::pulumi-aws-oidc:index:PulumiCloudOidc$pulumi-aws-oidc:index:OidcProvider$"
    "pulumi-python:dynamic/iam:OpenIdConnectProviderClientId::pulumi-cloud-client-id-aws:acme"
)


def state_with_an_added_client_id() -> dict[str, Any]:
    outputs = {"providerArn": REUSED_ARN, "clientId": "aws:acme", "added": True, "present": True}
    resource = {"urn": CLIENT_ID_URN, "type": "pulumi-python:dynamic/iam:OpenIdConnectProviderClientId"}
    resource |= {"custom": True, "delete": False, "dependencies": [], "outputs": outputs}
    return {"region": "", "version": 3, "resources": [{"resource": resource}]}


@pytest.mark.parametrize("added", [True, False])
@pytest.mark.parametrize("add_audiences", [True, False])
def test_turning_add_audiences_off_while_the_roles_need_what_it_holds_is_refused_with_the_hand_over(
    pulumi_cloud: FakeCloud, add_audiences: bool, added: bool
) -> None:
    # Found present (added false), the client ID is still this stack's to remove once the stack that added it
    # has left: its delete removes it as the last claimant.
    state = state_with_an_added_client_id()
    state["resources"][0]["resource"]["outputs"]["added"] = added
    pulumi_cloud.state("acme", "pulumi-aws-oidc", "dev", state)
    config = {
        "organization": "acme",
        "oidcProvider": {"arn": REUSED_ARN, "addAudiences": add_audiences},
        "environments": [{"project": "aws", "name": "dev"}],
    }
    loaded = load_settings(config)

    if add_audiences:
        run_component(loaded, existing_client_ids=["acme", "aws:acme"])
        return
    with pytest.raises(ConfigError) as raised:
        run_component(loaded, existing_client_ids=["acme", "aws:acme"])

    [issue] = raised.value.issues
    assert issue.path == "oidcProvider.addAudiences"
    assert issue.message.startswith(f"is off, so pulumi up deletes this stack's client-ID resources of {REUSED_ARN}")
    assert f"pulumi state delete '{CLIENT_ID_URN}'" in issue.message
