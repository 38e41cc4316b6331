from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from oidc import cli
from tests.conftest import PROJECT_DIR


def plan(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(["plan", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the project's Pulumi.yaml and program, to hold stack files of the tests."""
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(PROJECT_DIR / name, tmp_path / name)
    return tmp_path


def write_stack(project: Path, name: str, text: str) -> None:
    (project / f"Pulumi.{name}.yaml").write_text(text)


def test_json_plan_of_the_dev_stack_shows_the_documents(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = plan(capsys, "--json", "--cwd", str(PROJECT_DIR))

    report = json.loads(out)
    assert code == 0
    assert report["stack"] == "dev"
    assert {r["name"] for r in report["resources"]} >= {"pulumi-cloud", "pulumi-cloud-provider", "pulumi-cloud-role"}
    assert report["oidcProvider"]["thumbprints"] == "(computed at deploy time)"
    assert report["oidcProvider"]["clientIds"] == ["acme", "aws:acme"]
    trust = report["trustPolicy"]
    assert trust["maxChars"] == 2048
    assert trust["chars"] == len(report["outputs"]["trustPolicy"])
    assert json.loads(report["outputs"]["trustPolicy"]) == trust["document"]
    [settings] = report["deploymentSettings"]
    assert settings["stack"] == "acme/infra/prod"
    assert settings["oidc"]["roleARN"] == report["outputs"]["roleArn"]
    [environment] = report["environments"]
    assert "fn::open::aws-login" in environment["yaml"]
    assert "currentEnvironment.name" in environment["yaml"]


def test_text_plan_shows_resources_trust_size_and_definitions(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = plan(capsys, "--cwd", str(PROJECT_DIR))

    assert code == 0
    assert "pulumi-cloud-provider" in out
    assert "protected" in out
    assert "of 2048 characters (trustPolicyMaxChars)" in out
    assert "Deployment settings (operationContext.oidc.aws)" in out
    assert "fn::open::aws-login:" in out
    assert "thumbprints  (computed at deploy time)" in out


def test_plan_is_the_same_on_every_run(capsys: pytest.CaptureFixture[str]) -> None:
    first = plan(capsys, "--cwd", str(PROJECT_DIR))
    second = plan(capsys, "--cwd", str(PROJECT_DIR))

    assert first == second


def test_plan_output_does_not_depend_on_hash_seeds() -> None:
    outputs = {
        subprocess.run(
            [sys.executable, "-m", "oidc", "plan", "--json"],
            cwd=PROJECT_DIR,
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2", "3")
    }

    assert len(outputs) == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("config: [a, b]\n", "'config' must map key names to values", id="config-list"),
        pytest.param("config:\n  1: x\n", "'config' must map key names to values", id="number-key"),
        pytest.param("- a\n", "is not a mapping", id="file-list"),
        pytest.param("config:\n  pulumi-aws-oidc:organization:\n", "organization has no value", id="null"),
        pytest.param("config: {a: [b\n", "is not valid YAML", id="yaml"),
    ],
)
def test_unreadable_stack_file_is_an_error_without_a_traceback(
    capsys: pytest.CaptureFixture[str], project: Path, text: str, message: str
) -> None:
    write_stack(project, "broken", text)

    code, out, err = plan(capsys, "--stack", "broken", "--cwd", str(project))

    assert code == 1
    assert out == ""
    assert message in err
    assert "Traceback" not in err


def test_a_secure_value_nested_in_the_programs_config_cannot_be_planned(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    write_stack(
        project,
        "tags",
        """
config:
  pulumi-aws-oidc:organization: acme
  pulumi-aws-oidc:environments: [{project: aws, name: dev}]
  pulumi-aws-oidc:role:
    tags:
      owner:
        secure: v1:c2VjcmV0
""",
    )

    code, out, err = plan(capsys, "--stack", "tags", "--cwd", str(project))

    assert code == 1
    assert out == ""
    assert "pulumi-aws-oidc:role: a secure value; it cannot be decrypted offline" in err


@pytest.mark.parametrize(
    ("value", "shown"),
    [("2024-01-01", "2024-01-01"), ("on", "on"), ("yes", "yes"), ("true", True)],
)
def test_stack_files_are_read_as_yaml_1_2(
    capsys: pytest.CaptureFixture[str], project: Path, value: str, shown: object
) -> None:
    write_stack(
        project,
        "yaml12",
        f"config:\n  aws:profile: {value}\n  pulumi-aws-oidc:organization: acme\n"
        "  pulumi-aws-oidc:environments: [{project: aws, name: dev}]\n",
    )

    code, out, _ = plan(capsys, "--stack", "yaml12", "--json", "--cwd", str(project))

    assert code == 0
    assert json.loads(out)["config"]["aws:profile"] == shown


def test_another_program_is_refused_without_a_traceback(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: other\nruntime: python\n")
    (tmp_path / "__main__.py").write_text("import pulumi\npulumi.export('x', 1)\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  other:organization: acme\n  other:environments: []\n")

    code, _, err = plan(capsys, "--cwd", str(tmp_path))

    assert code == 1
    assert "declares 0 pulumi-aws-oidc:index:PulumiCloudOidc components" in err


@pytest.mark.parametrize("command", [["plan"], ["explain", "--aud", "acme", "--sub", "x"]])
def test_commands_leave_stderr_empty(command: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "oidc", *command], cwd=PROJECT_DIR, capture_output=True, text=True, check=False
    )

    assert result.returncode in {0, 1}
    assert result.stdout
    assert result.stderr == ""


def test_broken_stack_lists_every_problem_without_a_traceback(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    write_stack(
        project,
        "broken",
        """
config:
  pulumi-aws-oidc:organization: Acme
  pulumi-aws-oidc:deployments:
    - project: infra
      stak: prod
  pulumi-aws-oidc:environments:
    - {project: aws, name: dev, duration: 2h}
""",
    )

    code, out, err = plan(capsys, "--stack", "broken", "--cwd", str(project))

    assert code == 1
    assert out == ""
    assert "Pulumi.broken.yaml: invalid config (4 problems)" in err
    for path in ("organization:", "deployments[0].stak:", "deployments[0].stack:", "environments[0].duration:"):
        assert path in err
    assert "Traceback" not in err


def test_missing_stack_file_is_an_error(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    code, _, err = plan(capsys, "--stack", "nope", "--cwd", str(project))

    assert code == 1
    assert "Pulumi.nope.yaml does not exist" in err


def test_secure_values_are_shown_as_secret(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    write_stack(
        project,
        "secret",
        """
config:
  aws:secretKey:
    secure: v1:c2VjcmV0
  pulumi-aws-oidc:organization: acme
  pulumi-aws-oidc:environments: [{project: aws, name: dev}]
""",
    )

    code, out, _ = plan(capsys, "--stack", "secret", "--json", "--cwd", str(project))

    assert code == 0
    assert json.loads(out)["config"]["aws:secretKey"] == "[secret]"
    assert "c2VjcmV0" not in out


def test_a_secure_value_the_program_reads_cannot_be_planned(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    write_stack(project, "secret", "config:\n  pulumi-aws-oidc:organization:\n    secure: v1:c2VjcmV0\n")

    code, _, err = plan(capsys, "--stack", "secret", "--cwd", str(project))

    assert code == 1
    assert "pulumi-aws-oidc:organization: a secure value; it cannot be decrypted offline" in err


def test_project_config_defaults_apply(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    declared = yaml.safe_load((project / "Pulumi.yaml").read_text())
    declared["config"]["trustPolicyMaxChars"]["default"] = 4096
    declared["config"]["aws:region"] = {"default": "eu-west-1"}
    (project / "Pulumi.yaml").write_text(yaml.safe_dump(declared, sort_keys=False))
    write_stack(
        project,
        "dev",
        "config:\n  pulumi-aws-oidc:organization: acme\n  pulumi-aws-oidc:environments: [{project: aws, name: dev}]\n",
    )

    code, out, _ = plan(capsys, "--json", "--cwd", str(project))

    report = json.loads(out)
    assert code == 0
    assert report["trustPolicy"]["maxChars"] == 4096
    assert "aws:region" not in report["config"]  # Pulumi applies defaults to the project's own keys only


def test_python_dash_m_oidc_plan_runs_the_project_in_the_current_folder() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "oidc", "plan", "--json"], cwd=PROJECT_DIR, capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["project"] == "pulumi-aws-oidc"


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        cli.main(["frobnicate"])

    assert raised.value.code == 2
