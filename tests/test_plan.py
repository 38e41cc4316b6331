from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from oidc import cli, testing
from oidc.cli.evaluate import StackName
from tests.conftest import PROJECT_DIR, project_config

ORG: dict[str, Any] = {
    "organization": "acme",
    "accounts": {
        "prod": {
            "assumeRole": {
                "roleArn": "arn:aws:iam::111111111111:role/OrganizationAccountAccessRole",
                "sessionName": "pulumi-admin",
            }
        },
        "dev": {"assumeRole": {"roleArn": "arn:aws:iam::222222222222:role/OrganizationAccountAccessRole"}},
        "audit": {"id": "333333333333", "profile": "acme-audit", "region": "us-east-1"},
        "shared": {"id": "444444444444"},
    },
    "roles": {
        "deploy": {
            "account": "prod",
            "name": "pulumi-deploy",
            "policyArns": ["arn:aws:iam::aws:policy/PowerUserAccess", "arn:aws:iam::aws:policy/IAMFullAccess"],
            "tags": {"team": "platform", "cost": "shared"},
            "deployments": [
                {
                    "project": "infra",
                    "stack": "prod",
                    "source": {"repoUrl": "https://github.com/acme/infra.git", "branch": "main"},
                },
                {"project": "apps", "stack": "prod", "operations": ["update", "preview", "refresh"]},
            ],
        },
        "readonly": {
            "account": "audit",
            "deployments": [{"project": "infra", "stack": "*", "operations": ["preview", "refresh"]}],
            "environments": [{"project": "security", "name": "audit"}, {"project": "security", "name": "logs"}],
        },
        "dev": {
            "account": "dev",
            "deployments": [{"project": "apps", "stack": "dev-*"}, {"project": "apps", "stack": "dev-main"}],
            "environments": [{"project": "aws", "name": "dev"}, {"project": "aws", "name": "dev-*"}],
        },
        "ci": {
            "account": "shared",
            "environments": [{"project": "ci", "name": "runners"}, {"project": "default", "name": "legacy"}],
        },
    },
}
"""A form-B stack: four accounts (assumeRole, assumeRole, profile with id, the default provider with id), four roles."""
ACCOUNT_IDS = {"audit": "333333333333", "dev": "222222222222", "prod": "111111111111", "shared": "444444444444"}
ROLE_ACCOUNTS = {"ci": "shared", "deploy": "prod", "dev": "dev", "readonly": "audit"}
PREVIEW_INFRA_PROD = "pulumi:deploy:org:acme:project:infra:stack:prod:operation:preview:scope:write"


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


def org_project(directory: Path, config: dict[str, Any]) -> Path:
    """A project folder with this repository's Pulumi.yaml and program, and ``config`` as its stack ``org``."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(PROJECT_DIR / name, directory / name)
    write_stack(
        directory,
        "org",
        yaml.safe_dump({"config": {"aws:region": "us-west-2", **project_config(config)}}, sort_keys=False),
    )
    return directory


def reordered(value: Any, *, lists: bool) -> Any:
    """``value`` with the keys of every map in reverse order, and (with ``lists``) every list's items too."""
    if isinstance(value, dict):
        return {key: reordered(value[key], lists=lists) for key in reversed(list(value))}
    if isinstance(value, list):
        items = [reordered(item, lists=lists) for item in value]
        return items[::-1] if lists else items
    return value


def plan_bytes(directory: Path, *args: str, seed: str = "0") -> bytes:
    """``python -m oidc plan`` of stack ``org`` in ``directory``, run with this repository's oidc package."""
    result = subprocess.run(
        [sys.executable, "-m", "oidc", "plan", "--stack", "org", "--cwd", str(directory), *args],
        cwd=PROJECT_DIR,
        capture_output=True,
        check=False,
        env={**os.environ, "PYTHONHASHSEED": seed},
    )
    assert (result.returncode, result.stderr) == (0, b"")
    return result.stdout


def explain(capsys: pytest.CaptureFixture[str], directory: Path, *args: str) -> tuple[int, str, str]:
    code = cli.main(["explain", "--stack", "org", "--cwd", str(directory), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def org(tmp_path: Path) -> Path:
    return org_project(tmp_path / "org", ORG)


def test_json_plan_of_the_dev_stack_shows_the_documents(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = plan(capsys, "--json", "--cwd", str(PROJECT_DIR))

    report = json.loads(out)
    assert code == 0
    assert report["stack"] == "dev"
    assert {r["name"] for r in report["resources"]} >= {"pulumi-cloud", "pulumi-cloud-provider", "pulumi-cloud-role"}
    [account] = report["accounts"]
    assert (account["key"], account["accountId"]) == ("default", "123456789012")
    assert account["oidcProvider"]["thumbprints"] == "(computed at deploy time)"
    assert account["oidcProvider"]["clientIds"] == ["acme", "aws:acme"]
    assert account["oidcProvider"]["arn"] == report["outputs"]["oidcProviderArn"]
    [role] = account["roles"]
    assert role["key"] == "default"
    assert role["arn"] == report["outputs"]["roleArn"]
    trust = role["trustPolicy"]
    assert (trust["maxChars"], trust["quotaKey"]) == (2048, "trustPolicyMaxChars")
    assert trust["chars"] == len(report["outputs"]["trustPolicy"])
    assert json.loads(report["outputs"]["trustPolicy"]) == trust["document"]
    [settings] = role["deploymentSettings"]
    assert settings["stack"] == "acme/infra/prod"
    assert settings["oidc"]["roleARN"] == report["outputs"]["roleArn"]
    [environment] = role["environments"]
    assert "fn::open::aws-login" in environment["yaml"]
    assert "currentEnvironment.name" in environment["yaml"]


def test_text_plan_shows_resources_trust_size_and_definitions(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = plan(capsys, "--cwd", str(PROJECT_DIR))

    assert code == 0
    assert "Account default (123456789012)" in out
    assert re.search(r"^  Role default: pulumi-cloud-role-[0-9a-f]{7} \(pulumi-cloud-role\)$", out, re.M)
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


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("config: [a, b]\n", "'config' must map key names to values", id="config-list"),
        pytest.param("config:\n  1: x\n", "'config' must map key names to values", id="number-key"),
        pytest.param("- a\n", "is not a mapping", id="file-list"),
        pytest.param("config:\n  pulumi-aws-oidc:organization:\n", "organization has no value", id="null"),
        pytest.param("config: {a: [b\n", "not valid YAML at line 2, column 1: ", id="yaml"),
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


def test_a_secure_value_nested_in_the_programs_config_is_planned_as_a_secret(
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

    code, out, _ = plan(capsys, "--stack", "tags", "--cwd", str(project), "--json")

    report = json.loads(out)
    assert code == 0
    assert report["config"]["pulumi-aws-oidc:role"] == {"tags": {"owner": "[secret]"}}
    assert [note.split(" ", 1)[0] for note in report["notes"] if "holds a secure value" in note] == ["role"]


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
    assert "declares no pulumi-aws-oidc:index:OidcRole" in err
    assert "that declare pulumi-aws-oidc:index:PulumiCloudOidc components" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("command", "exit_code"),
    [
        pytest.param(["plan"], cli.EXIT_OK, id="plan"),
        pytest.param(["explain", "--aud", "acme", "--sub", PREVIEW_INFRA_PROD], cli.EXIT_OK, id="explain-allow"),
        pytest.param(["explain", "--aud", "acme", "--sub", "x"], cli.EXIT_DENY, id="explain-deny"),
    ],
)
def test_commands_leave_stderr_empty(command: list[str], exit_code: int) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "oidc", *command], cwd=PROJECT_DIR, capture_output=True, text=True, check=False
    )

    assert (cli.EXIT_OK, cli.EXIT_DENY) == (0, 1)
    assert result.returncode == exit_code
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
    assert "  - organization: a secure value; it cannot be decrypted offline" in err


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
    assert report["accounts"][0]["roles"][0]["trustPolicy"]["maxChars"] == 4096
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


# --- form B: accounts and roles ------------------------------------------------------------


PLANS_IN_ONE_PROCESS = """
import contextlib, io, json, sys
from oidc.cli import main
outputs = []
for args in json.loads(sys.argv[1]):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(args)
    outputs.append([code, out.getvalue()])
print(json.dumps(outputs))
"""


def plans_with_hash_seed(seed: str, *runs: list[str]) -> list[list[Any]]:
    """``[exit code, output]`` of each ``python -m oidc`` command line of ``runs``, in one process of this hash seed."""
    result = subprocess.run(
        [sys.executable, "-c", PLANS_IN_ONE_PROCESS, json.dumps(runs)],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONHASHSEED": seed},
    )
    assert (result.returncode, result.stderr) == (0, "")
    found: list[list[Any]] = json.loads(result.stdout)
    return found


def test_plans_of_form_a_and_form_b_are_byte_identical_over_runs_with_other_hash_seeds(org: Path) -> None:
    runs = [
        ["plan", "--cwd", str(PROJECT_DIR)],
        ["plan", "--json", "--cwd", str(PROJECT_DIR)],
        ["plan", "--stack", "org", "--cwd", str(org)],
        ["plan", "--stack", "org", "--json", "--cwd", str(org)],
    ]

    seeded = [plans_with_hash_seed(seed, *runs) for seed in ("1", "2", "3")]

    assert [code for code, _ in seeded[0]] == [0, 0, 0, 0]
    assert all(output for _, output in seeded[0])
    assert seeded[1] == seeded[0]
    assert seeded[2] == seeded[0]


def org_plan(capsys: pytest.CaptureFixture[str], directory: Path) -> str:
    """``plan`` of stack ``org`` in ``directory``, in this process (hash seeds are the subprocess tests' concern)."""
    code, out, err = plan(capsys, "--stack", "org", "--cwd", str(directory))
    assert (code, err) == (cli.EXIT_OK, "")
    return out


def test_form_b_plan_is_byte_identical_when_map_keys_are_reordered(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    shuffled = reordered(ORG, lists=False)
    assert list(shuffled["roles"]) != list(ORG["roles"])

    given = org_plan(capsys, org_project(tmp_path / "given", ORG))
    reordered_plan = org_plan(capsys, org_project(tmp_path / "shuffled", shuffled))

    assert reordered_plan == given


def test_form_b_plan_does_not_depend_on_the_order_of_accounts_roles_and_entries(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    shuffled = reordered(ORG, lists=True)
    assert list(shuffled["accounts"]) != list(ORG["accounts"])
    assert shuffled["roles"]["dev"]["deployments"] != ORG["roles"]["dev"]["deployments"]

    given = org_plan(capsys, org_project(tmp_path / "given", ORG))
    reordered_plan = org_plan(capsys, org_project(tmp_path / "shuffled", shuffled))

    # The Config section echoes the stack file, and notes and warnings name entries by their place in it;
    # everything the program declares, from the resources to the outputs, is byte-identical.
    def declared(text: str) -> str:
        return text[text.index("\nResources (") : text.index("\nNotes\n")]

    def said(text: str) -> str:
        return re.sub(r"\[\d+\]", "[i]", text[text.index("\nNotes\n") :])

    assert declared(reordered_plan) == declared(given)
    assert said(reordered_plan) == said(given)
    assert "not guarded: plan runs offline" in said(given)


def test_form_b_plan_has_one_section_per_account_and_role_with_their_account_ids(
    capsys: pytest.CaptureFixture[str], org: Path
) -> None:
    code, out, _ = plan(capsys, "--stack", "org", "--json", "--cwd", str(org))

    report = json.loads(out)
    assert code == 0
    assert [account["key"] for account in report["accounts"]] == sorted(ACCOUNT_IDS)
    assert {account["key"]: account["accountId"] for account in report["accounts"]} == ACCOUNT_IDS
    assert len(set(ACCOUNT_IDS.values())) == len(ACCOUNT_IDS)
    for account in report["accounts"]:
        account_id = account["accountId"]
        assert account["oidcProvider"]["arn"] == f"arn:aws:iam::{account_id}:oidc-provider/api.pulumi.com/oidc"
        assert [role["key"] for role in account["roles"]] == [
            key for key, owner in sorted(ROLE_ACCOUNTS.items()) if owner == account["key"]
        ]
        for role in account["roles"]:
            assert role["arn"].startswith(f"arn:aws:iam::{account_id}:role/")
            assert role["trustPolicy"]["quotaKey"] == f"accounts.{account['key']}.trustPolicyMaxChars"
            federated = {s["Principal"]["Federated"] for s in role["trustPolicy"]["document"]["Statement"]}
            assert federated == {account["oidcProvider"]["arn"]}
            for settings in role["deploymentSettings"]:
                assert settings["oidc"]["roleARN"] == role["arn"]
    outputs = report["outputs"]
    assert {key: role["account"] for key, role in outputs["roles"].items()} == ROLE_ACCOUNTS
    assert outputs["oidcProviders"] == {a["key"]: a["oidcProvider"]["arn"] for a in report["accounts"]}
    assert outputs["deploymentStacks"] == {
        "acme/apps/dev-main": "dev",
        "acme/apps/prod": "deploy",
        "acme/infra/prod": "deploy",
    }
    assert outputs["environments"] == {
        "acme/ci/runners": "ci",
        "acme/default/legacy": "ci",
        "acme/aws/dev": "dev",
        "acme/security/audit": "readonly",
        "acme/security/logs": "readonly",
    }


def test_form_b_text_plan_shows_each_account_and_role_once_in_order(
    capsys: pytest.CaptureFixture[str], org: Path
) -> None:
    code, out, _ = plan(capsys, "--stack", "org", "--cwd", str(org))

    assert code == 0
    headings = [line for line in out.splitlines() if line.startswith(("Account ", "  Role "))]
    expected = []
    for account in sorted(ACCOUNT_IDS):
        expected.append(f"Account {account} ({ACCOUNT_IDS[account]})")
        expected += [f"  Role {key}:" for key, owner in sorted(ROLE_ACCOUNTS.items()) if owner == account]
    assert [line if line.startswith("Account") else line.partition(":")[0] + ":" for line in headings] == expected
    for account, account_id in ACCOUNT_IDS.items():
        assert f"of 2048 characters (accounts.{account}.trustPolicyMaxChars)" in out
        assert f"arn:aws:iam::{account_id}:role/" in out


def test_explain_role_evaluates_only_that_role(capsys: pytest.CaptureFixture[str], org: Path) -> None:
    code, out, _ = explain(capsys, org, "--role", "deploy", "--aud", "acme", "--sub", PREVIEW_INFRA_PROD)

    assert code == cli.EXIT_OK
    verdicts = [line for line in out.splitlines() if line.startswith(("ALLOW", "DENY"))]
    assert verdicts == [
        "ALLOW: statement DeploymentsPatterns of the trust policy of role deploy (account prod) of stack org admits "
        "this token."
    ]
    assert "Admitted by" not in out


def test_explain_role_that_denies_says_why_for_that_role(capsys: pytest.CaptureFixture[str], org: Path) -> None:
    code, out, _ = explain(capsys, org, "--role", "dev", "--aud", "acme", "--sub", PREVIEW_INFRA_PROD)

    assert code == cli.EXIT_DENY
    assert out.count("DENY: ") == 1
    assert "DENY: no statement of the trust policy of role dev (account dev) of stack org admits this token." in out
    # infra/prod's settings are deploy's: listing the stack in dev too would break the one-owner rule.
    assert "held: the deployment settings of infra/prod are managed by roles.deploy" in out
    assert "add to roles.dev" not in out
    assert "role deploy" not in out
    assert "Admitted by" not in out


def test_explain_role_json_holds_only_that_role(capsys: pytest.CaptureFixture[str], org: Path) -> None:
    code, out, _ = explain(capsys, org, "--json", "--role", "readonly", "--aud", "acme", "--sub", PREVIEW_INFRA_PROD)

    report = json.loads(out)
    assert code == cli.EXIT_OK
    assert [(r["role"], r["account"], r["decision"]) for r in report["roles"]] == [("readonly", "audit", "ALLOW")]
    assert report["admittedBy"] == [{"role": "readonly", "account": "audit", "component": "pulumi-cloud"}]


def test_explain_unknown_role_is_a_usage_error_naming_the_roles(capsys: pytest.CaptureFixture[str], org: Path) -> None:
    code, out, err = explain(capsys, org, "--role", "nope", "--aud", "acme", "--sub", PREVIEW_INFRA_PROD)

    assert code == cli.EXIT_USAGE
    assert out == ""
    assert err == "error: --role nope: no such role; the stack's roles are ci, deploy, dev, readonly\n"


@pytest.mark.parametrize(
    ("sub", "answer", "also", "exit_code"),
    [
        pytest.param(
            PREVIEW_INFRA_PROD,
            "ALLOW by roles.deploy (account prod), statement DeploymentsPatterns.",
            ["readonly (account audit)"],
            cli.EXIT_OK,
            id="two-roles",
        ),
        pytest.param(
            PREVIEW_INFRA_PROD.replace(":preview:", ":destroy:"),
            "ALLOW by roles.deploy (account prod), statement DeploymentsPatterns.",
            [],
            cli.EXIT_OK,
            id="one-role",
        ),
        pytest.param(
            PREVIEW_INFRA_PROD.replace("infra", "other"),
            "DENY: none of the 4 roles of this config admits this token.",
            [],
            cli.EXIT_DENY,
            id="no-role",
        ),
    ],
)
def test_explain_of_every_role_answers_for_the_managing_role_and_names_the_others(
    capsys: pytest.CaptureFixture[str], org: Path, *, sub: str, answer: str, also: list[str], exit_code: int
) -> None:
    code, out, _ = explain(capsys, org, "--aud", "acme", "--sub", sub)

    assert code == exit_code
    verdicts = [line for line in out.splitlines() if line.startswith(("ALLOW", "DENY"))]
    assert verdicts == [answer]
    assert [line.split(", statement")[0] for line in out.splitlines() if line.startswith("Would also")] == [
        f"Would also be admitted by roles.{role}" for role in also
    ]

    code, out, _ = explain(capsys, org, "--json", "--aud", "acme", "--sub", sub)

    report = json.loads(out)
    assert code == exit_code
    assert report["decision"] == ("ALLOW" if exit_code == cli.EXIT_OK else "DENY")
    assert [f"{a['role']} (account {a['account']})" for a in report["alsoAdmittedBy"]] == also
    assert report["why"] == ("managedBy" if exit_code == cli.EXIT_OK else "anyRole")


COMPOSED_PROGRAM = """
from oidc.package import PulumiCloudOidc
from oidc import testing

PulumiCloudOidc("team-a", {"organization": "acme", "deployments": [{"project": "a", "stack": "*"}]})
PulumiCloudOidc(
    "team-b",
    {
        "organization": "acme",
        "oidc_provider": {"arn": "arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/oidc"},
        "deployments": [{"project": "b", "stack": "*"}],
    },
)
"""


@pytest.fixture
def composed(tmp_path: Path) -> Path:
    """Two PulumiCloudOidc components in one account: the first creates the provider, the second reuses it."""
    directory = tmp_path / "composed"
    directory.mkdir()
    (directory / "Pulumi.yaml").write_text("name: composed\nruntime: python\n", encoding="utf-8")
    (directory / "__main__.py").write_text(COMPOSED_PROGRAM, encoding="utf-8")
    write_stack(directory, "dev", "config:\n  aws:region: us-west-2\n")
    return directory


def test_plan_of_a_composed_program_names_each_accounts_component(
    capsys: pytest.CaptureFixture[str], composed: Path
) -> None:
    code, out, _ = plan(capsys, "--cwd", str(composed))

    assert code == cli.EXIT_OK
    assert [line for line in out.splitlines() if line.startswith("Account ")] == [
        f"Account default ({testing.PLACEHOLDER_ACCOUNT}) of team-a",
        f"Account default ({testing.PLACEHOLDER_ACCOUNT}) of team-b",
    ]


def test_explain_of_a_composed_program_names_the_component_of_each_role(
    capsys: pytest.CaptureFixture[str], composed: Path
) -> None:
    sub = "pulumi:deploy:org:acme:project:a:stack:prod:operation:update:scope:write"

    code = cli.main(["explain", "--cwd", str(composed), "--aud", "acme", "--sub", sub])
    out = capsys.readouterr().out

    assert code == cli.EXIT_OK
    assert "ALLOW by role default (account default) of team-a, statement DeploymentsPatterns.\n" in out
    assert "of team-b" not in out

    code = cli.main(["explain", "--cwd", str(composed), "--role", "default", "--aud", "acme", "--sub", sub])
    captured = capsys.readouterr()
    assert code == cli.EXIT_USAGE
    assert "name it COMPONENT/KEY; the stack's roles are team-a/default, team-b/default" in captured.err

    code = cli.main(["explain", "--cwd", str(composed), "--role", "team-b/default", "--aud", "acme", "--sub", sub])
    assert code == cli.EXIT_DENY
    assert "role default (account default) of team-b of stack dev" in capsys.readouterr().out


@pytest.mark.parametrize("stack", ["dev", "acme/dev", "acme/pulumi-aws-oidc/dev"])
def test_stack_is_named_as_pulumi_names_it_and_its_file_is_pulumi_name_yaml(
    capsys: pytest.CaptureFixture[str], stack: str
) -> None:
    code, out, err = plan(capsys, "--stack", stack, "--json", "--cwd", str(PROJECT_DIR))

    assert (code, err) == (0, "")
    report = json.loads(out)
    assert (report["stack"], report["project"]) == ("dev", "pulumi-aws-oidc")
    assert report["organization"] == (stack.split("/", maxsplit=1)[0] if "/" in stack else None)
    bare = json.loads(plan(capsys, "--json", "--cwd", str(PROJECT_DIR))[1])
    assert {**report, "organization": None} == bare


def test_a_qualified_stack_of_the_project_reads_pulumi_name_yaml(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    code, _, err = plan(capsys, "--stack", "acme/pulumi-aws-oidc/nope", "--cwd", str(project))

    assert code == 1
    assert "Pulumi.nope.yaml does not exist" in err


@pytest.mark.parametrize("command", ["plan", "explain"])
def test_a_stack_of_another_project_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], project: Path, command: str
) -> None:
    extra = ["--aud", "acme", "--sub", "x"] if command == "explain" else []

    code = cli.main([command, "--stack", "acme/infra/dev", "--cwd", str(project), *extra])
    captured = capsys.readouterr()

    assert code == cli.EXIT_USAGE == 2
    assert captured.out == ""
    assert captured.err == (
        f"error: --stack acme/infra/dev: names a stack of project infra, but {project / 'Pulumi.yaml'} is project "
        "pulumi-aws-oidc; give --stack acme/pulumi-aws-oidc/dev, or --cwd the folder of project infra\n"
    )


@pytest.mark.parametrize("stack", ["acme/pulumi-aws-oidc/dev/x", "acme//dev", "/dev", "dev/", "", "../dev", "a b"])
@pytest.mark.parametrize("command", ["plan", "explain"])
def test_a_stack_name_pulumi_would_refuse_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], stack: str, command: str
) -> None:
    extra = ["--aud", "acme", "--sub", "x"] if command == "explain" else []

    code = cli.main([command, "--stack", stack, "--cwd", str(PROJECT_DIR), *extra])
    captured = capsys.readouterr()

    assert code == 2
    assert captured.err == (
        f"error: --stack {stack}: expected NAME, ORG/NAME or ORG/PROJECT/NAME, each of letters, digits, '-', '_' "
        "and '.'\n"
    )


def test_stack_name_parts() -> None:
    assert StackName.parse("dev") == StackName("dev")
    assert StackName.parse("acme/dev") == StackName("dev", organization="acme")
    assert StackName.parse("acme/infra.v2/dev_1") == StackName("dev_1", organization="acme", project="infra.v2")
