"""What plan and explain print for a CI: --strict on warnings, and errors as JSON under --json."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from oidc import cli
from tests.conftest import PROJECT_DIR

WARNED = """
config:
  pulumi-aws-oidc:organization: acme
  pulumi-aws-oidc:role:
    policyArns: [arn:aws:iam::aws:policy/AdministratorAccess]
  pulumi-aws-oidc:deployments:
    - project: "*"
      stack: prod
    - project: security-baseline
      stack: prod
      operations: [preview, update, refresh]
"""

QUIET = """
config:
  pulumi-aws-oidc:organization: acme
  pulumi-aws-oidc:deployments:
    - {project: infra, stack: prod}
  pulumi-aws-oidc:environments:
    - {project: aws, name: dev, teams: {platform: open}}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for name in ("Pulumi.yaml", "__main__.py", "Pulumi.dev.yaml"):
        shutil.copy(PROJECT_DIR / name, tmp_path / name)
    (tmp_path / "Pulumi.warned.yaml").write_text(WARNED)
    (tmp_path / "Pulumi.quiet.yaml").write_text(QUIET)
    (tmp_path / "Pulumi.broken.yaml").write_text(
        "config:\n  pulumi-aws-oidc:organization: acme\n  pulumi-aws-oidc:deployments:\n"
        "    - {project: infra, stack: prod, duration: 99h}\n    - {project: 'in fra', stack: prod}\n"
    )
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_plan_strict_fails_on_warnings_and_says_so(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    code, out, err = run(capsys, "plan", "--stack", "warned", "--strict", "--cwd", str(project))

    assert code == 1
    assert "\nWarnings\n" in out
    assert err == "--strict: 3 warnings, so exit 1\n"


def test_plan_strict_passes_when_there_are_only_notes(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    code, out, _ = run(capsys, "plan", "--stack", "quiet", "--strict", "--cwd", str(project), "--json")

    report = json.loads(out)
    assert code == 0
    assert report["warnings"] == []
    assert any(note.startswith("not guarded: plan runs offline") for note in report["notes"])


def test_plan_json_prints_every_config_error_as_json_on_stdout(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    code, out, err = run(capsys, "plan", "--stack", "broken", "--json", "--cwd", str(project))

    document = json.loads(out)
    assert (code, err) == (1, "")
    assert [error["path"] for error in document["errors"]] == ["deployments[0].duration", "deployments[1].project"]
    assert document["errors"][0]["message"].startswith('got "99h"; expected a duration')
    assert document["warnings"] == []


def test_plan_json_prints_a_usage_error_as_json_with_exit_2(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    code, out, err = run(capsys, "plan", "--stack", "a/b/c/d", "--json", "--cwd", str(project))

    document = json.loads(out)
    assert (code, err) == (2, "")
    [error] = document["errors"]
    assert error["path"] == "--stack"


def test_plan_json_prints_a_missing_stack_file_as_json(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    code, out, _ = run(capsys, "plan", "--stack", "nowhere", "--json", "--cwd", str(project))

    [error] = json.loads(out)["errors"]
    assert code == 1
    assert "Pulumi.nowhere.yaml does not exist" in error["message"]


def test_explain_json_prints_its_errors_as_json(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    code, out, err = run(
        capsys, "explain", "--stack", "broken", "--json", "--cwd", str(project), "--aud", "acme", "--sub", "x"
    )

    assert (code, err) == (2, "")
    assert [error["path"] for error in json.loads(out)["errors"]] == [
        "deployments[0].duration",
        "deployments[1].project",
    ]


def test_explain_strict_fails_on_the_warnings_of_the_stack(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    sub = "pulumi:deploy:org:acme:project:security-baseline:stack:prod:operation:destroy:scope:write"

    code, out, err = run(
        capsys,
        "explain",
        "--stack",
        "warned",
        "--strict",
        "--json",
        "--cwd",
        str(project),
        "--aud",
        "acme",
        "--sub",
        sub,
    )

    report = json.loads(out)
    assert report["decision"] == "ALLOW"
    assert len(report["warnings"]) == 3
    assert code == 1
    assert err.startswith("--strict:")


def test_plan_names_the_organization_given_with_stack(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    code, out, _ = run(capsys, "plan", "--stack", "other-org/dev", "--cwd", str(project))

    assert code == 0
    assert out.startswith("Offline plan of stack other-org/pulumi-aws-oidc/dev (project pulumi-aws-oidc)\n")


def test_plan_of_a_bare_stack_name_names_no_organization(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    code, out, _ = run(capsys, "plan", "--stack", "dev", "--cwd", str(project), "--json")

    assert code == 0
    assert json.loads(out)["organization"] is None


def test_plan_blames_bad_component_arguments_on_the_component_not_the_stack_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: mine\nruntime: python\n")
    (tmp_path / "__main__.py").write_text(
        "from oidc.package import PulumiCloudOidc\n"
        "PulumiCloudOidc('access', {'organization': 'acme', "
        "'role': {'max_session_duration': '13h'}, 'deployments': [{'project': 'infra', 'stack': 'prod'}]})\n"
    )
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  aws:region: us-west-2\n")

    code, out, err = run(capsys, "plan", "--cwd", str(tmp_path))

    assert (code, out) == (1, "")
    assert err.startswith("error: invalid arguments of PulumiCloudOidc 'access' (1 problem):\n")
    assert '  - role.max_session_duration: got "13h"' in err
    assert "Pulumi.dev.yaml" not in err
