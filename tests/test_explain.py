from __future__ import annotations

import io
import json
import re
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
import yaml

from oidc import cli, trust
from oidc import explain as oidc_explain
from oidc.cli.explain import InputError, decode_token
from oidc.settings import load_settings
from tests.conftest import PROJECT_DIR, project_config
from tests.tokens import ALLOWED, DENIED, ISSUER, MATRIX_CONFIG, PROVIDER, deploy, esc

STACK = yaml.safe_dump({"config": project_config(MATRIX_CONFIG)})
PROD_UPDATE = "pulumi:deploy:org:contoso:project:infra:stack:prod:operation:update:scope:write"
AWS_DEV = "pulumi:environments:pulumi.organization.login:contoso:currentEnvironment.name:aws/dev"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(PROJECT_DIR / name, tmp_path / name)
    (tmp_path / "Pulumi.matrix.yaml").write_text(STACK)
    return tmp_path


def encode(claims: dict[str, Any], expires_in: int = 3600) -> str:
    now = int(time.time())
    return jwt.encode({"iat": now, "exp": now + expires_in, **claims}, "test-signing-key-of-32-bytes-min!", "HS256")


def explain(project: Path, *args: str, capsys: pytest.CaptureFixture[str], stdin: str = "") -> tuple[int, str, str]:
    code = cli.main(["explain", "--stack", "matrix", "--cwd", str(project), *args], stdin=io.StringIO(stdin))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def explain_token(
    project: Path, claims: dict[str, Any], capsys: pytest.CaptureFixture[str], expires_in: int = 3600
) -> tuple[int, dict[str, Any]]:
    path = project / "token.jwt"
    path.write_text(encode(claims, expires_in))
    code, out, _ = explain(project, "--token", str(path), "--json", capsys=capsys)
    return code, json.loads(out)


def only_role(report: dict[str, Any]) -> dict[str, Any]:
    """The answer of the one role of the form-A matrix stack."""
    [answer] = report["roles"]
    assert (answer["role"], answer["account"]) == ("default", "default")
    return answer


@pytest.mark.parametrize(("claims", "sid"), ALLOWED.values(), ids=ALLOWED.keys())
def test_matrix_allowed_tokens_exit_0_naming_the_statement(
    project: Path, capsys: pytest.CaptureFixture[str], claims: dict[str, str], sid: str
) -> None:
    code, report = explain_token(project, claims, capsys)

    assert code == 0
    assert report["decision"] == "ALLOW"
    assert report["admittedBy"] == [{"role": "default", "account": "default", "component": "pulumi-cloud"}]
    answer = only_role(report)
    assert answer["decision"] == "ALLOW"
    assert answer["matchedStatement"] == sid


@pytest.mark.parametrize(("claims", "sid", "failure"), DENIED.values(), ids=DENIED.keys())
def test_matrix_denied_tokens_exit_1_naming_the_failing_condition(
    project: Path, capsys: pytest.CaptureFixture[str], claims: dict[str, str], sid: str, failure: tuple[Any, ...]
) -> None:
    code, report = explain_token(project, claims, capsys)

    assert code == 1
    assert report["decision"] == "DENY"
    assert report["admittedBy"] == []
    answer = only_role(report)
    assert answer["decision"] == "DENY"
    assert answer["matchedStatement"] is None
    [statement] = [s for s in answer["statements"] if s["sid"] == sid]
    operator, key, expected, actual = failure
    shown = expected[0] if len(expected) == 1 else list(expected)
    assert f"{operator} {key}: expected {json.dumps(shown)}, got {json.dumps(actual)}" in statement["failures"]


def hints_for(project: Path, capsys: pytest.CaptureFixture[str], aud: str, sub: str, *extra: str) -> list[str]:
    code, out, _ = explain(project, "--aud", aud, "--sub", sub, "--json", *extra, capsys=capsys)
    assert code == 1
    hints: list[str] = only_role(json.loads(out))["hints"]
    return hints


def test_hint_esc_token_of_a_named_project_carries_the_prefixed_audience(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    [hint] = hints_for(project, capsys, "contoso", AWS_DEV)

    assert hint.startswith("audience: this ESC (project 'aws') token should carry aud 'aws:contoso', not 'contoso'")


def test_hint_deployments_token_carries_the_bare_organization(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    [hint] = hints_for(project, capsys, "aws:contoso", PROD_UPDATE)

    assert hint.startswith("audience: this Deployments token should carry aud 'contoso', not 'aws:contoso'")


def test_hint_default_project_environment_carries_the_bare_organization(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    legacy = "pulumi:environments:pulumi.organization.login:contoso:currentEnvironment.name:legacy"

    [hint] = hints_for(project, capsys, "aws:contoso", legacy)

    assert "('default' project) token should carry aud 'contoso', not 'aws:contoso'" in hint


def test_hint_yaml_subject_means_subject_attributes_are_missing(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    [hint] = hints_for(project, capsys, "aws:contoso", "pulumi:environments:org:contoso:env:<yaml>")

    assert "imported into a stack's config" in hint
    assert "subjectAttributes: [currentEnvironment.name]" in hint


def test_hint_environment_opened_without_subject_attributes(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    [hint] = hints_for(project, capsys, "aws:contoso", "pulumi:environments:org:contoso:env:aws/dev")

    assert hint.startswith("subject: 'pulumi:environments:org:contoso:env:aws/dev' is the default subject of an")
    assert "without subjectAttributes" in hint


def test_hint_environment_with_other_subject_attributes(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    [hint] = hints_for(project, capsys, "aws:contoso", AWS_DEV + ":pulumi.user.login:bob")

    assert hint.startswith(
        "subject: the environment sets subjectAttributes ['currentEnvironment.name', 'pulumi.user.login'], but the "
        "trusted subjects name exactly [currentEnvironment.name]"
    )


def test_hint_subject_of_no_pulumi_form(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hints = hints_for(project, capsys, "contoso", "repo:contoso/infra:ref:refs/heads/main")

    assert hints == [
        "subject: 'repo:contoso/infra:ref:refs/heads/main' is neither a Pulumi Deployments subject "
        "(pulumi:deploy:org:...) nor an ESC subject (pulumi:environments:...)"
    ]


def test_hint_token_of_another_issuer(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hints = hints_for(project, capsys, "contoso", PROD_UPDATE, "--iss", "https://api.pulumi.com/oidc/v2")
    unlisted = hints_for(
        project, capsys, "contoso", PROD_UPDATE.replace("prod", "staging"), "--iss", "https://api.pulumi.com/oidc/v2"
    )

    assert hints == [
        "issuer: the token was issued by 'https://api.pulumi.com/oidc/v2'; this config trusts issuer "
        "'https://api.pulumi.com/oidc' (config key issuer), and its OIDC providers are registered for that issuer "
        "only: set issuer to the token's issuer if this config is meant for it (a self-hosted Pulumi Cloud has its "
        "own)"
    ]
    assert unlisted == hints  # not "not listed": no entry would let a token of another issuer in


def test_hint_organization_in_the_wrong_case(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hints = hints_for(project, capsys, "Contoso", PROD_UPDATE.replace("contoso", "Contoso"))

    assert hints == [
        "organization: the token names 'Contoso', which differs from 'contoso' only in case; Pulumi sends the "
        "lowercase login and IAM compares case-sensitively"
    ]


def test_hint_another_organization(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hints = hints_for(project, capsys, "contoso-malicious", PROD_UPDATE.replace("contoso", "contoso-malicious"))

    assert hints == ["organization: the token comes from 'contoso-malicious'; this config trusts only 'contoso'"]


def test_hint_stack_not_listed_gives_the_entry_to_add(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hints = hints_for(project, capsys, "contoso", PROD_UPDATE.replace("stack:prod", "stack:staging"))

    assert hints == [
        "not listed: stack infra/staging is in no entry; add to deployments: - {project: infra, stack: staging}"
    ]


def test_hint_operation_not_listed_names_the_entry_and_its_operations(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hints = hints_for(project, capsys, "contoso", PROD_UPDATE.replace("update", "destroy"))

    assert hints == [
        "operation: deployments[0] trusts infra/prod for operations ['update', 'preview'], not 'destroy'; add "
        "'destroy' to its operations, or omit operations to trust every operation"
    ]


def test_hint_environment_not_listed_gives_the_entry_to_add(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hints = hints_for(project, capsys, "aws:contoso", AWS_DEV.replace("aws/dev", "aws/prod"))

    assert hints == [
        "not listed: environment aws/prod is in no entry; add to environments: - {project: aws, name: prod}"
    ]


def policy(deployments: list[dict[str, Any]], environments: list[dict[str, Any]]) -> dict[str, Any]:
    """The trust policy of the one role of a form-A config of contoso."""
    loaded = load_settings({"organization": "contoso", "deployments": deployments, "environments": environments})
    [role] = loaded.roles
    return trust.trust_policy(ISSUER, PROVIDER, trust.admissions("contoso", role.deployments, role.environments))


def test_hint_operations_are_those_the_policy_trusts_for_the_stack() -> None:
    document = policy(
        [
            {"project": "infra", "stack": "prod", "operations": ["update", "preview"]},
            {"project": "infra", "stack": "*", "operations": ["preview", "refresh"]},
        ],
        [],
    )

    result = oidc_explain.explain("contoso", ISSUER, document, deploy(operation="destroy"))

    assert not result.allowed
    assert result.hints == (
        "operation: infra/prod is trusted for operations ['preview', 'refresh', 'update'], not 'destroy'; add it to "
        "the entry's operations, or omit operations to trust every operation",
    )
    assert oidc_explain.explain("contoso", ISSUER, document, deploy(stack="dev", operation="refresh")).allowed


def test_hint_a_stack_a_pattern_trusts_for_every_operation_needs_no_listing() -> None:
    document = policy([{"project": "infra", "stack": "*"}, {"project": "infra", "stack": "prod"}], [])

    assert oidc_explain.explain("contoso", ISSUER, document, deploy(operation="destroy")).allowed
    assert oidc_explain.hints("contoso", ISSUER, document, deploy(project="net")) == [
        "not listed: stack net/prod is in no entry; add to deployments: - {project: net, stack: prod}"
    ]


def test_hint_a_default_project_pattern_does_not_list_a_named_project_environment() -> None:
    document = policy([], [{"project": "default", "name": "*"}])

    assert oidc_explain.explain("contoso", ISSUER, document, esc("legacy")).allowed
    assert oidc_explain.hints("contoso", ISSUER, document, esc("aws/prod")) == [
        "not listed: environment aws/prod is in no entry; add to environments: - {project: aws, name: prod}"
    ]


@pytest.mark.parametrize(
    ("claims", "hint"),
    [
        pytest.param(
            deploy(stack="staging"),
            "not listed: stack infra/staging is in no entry; add to roles.deploy.deployments: - "
            "{project: infra, stack: staging}",
            id="stack",
        ),
        pytest.param(
            esc("aws/prod"),
            "not listed: environment aws/prod is in no entry; add to roles.deploy.environments: - "
            "{project: aws, name: prod}",
            id="environment",
        ),
    ],
)
def test_hint_names_the_key_path_of_the_role_entries(claims: dict[str, str], hint: str) -> None:
    document = policy(MATRIX_CONFIG["deployments"], MATRIX_CONFIG["environments"])

    assert oidc_explain.hints("contoso", ISSUER, document, claims, "roles.deploy.") == [hint]


def test_deny_shows_the_nearest_trusted_subject(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = explain(project, "--aud", "aws:contoso", "--sub", AWS_DEV.replace("dev", "dve"), capsys=capsys)

    assert code == 1
    assert f"\n  Nearest trusted subject: {AWS_DEV}\n" in out


def test_token_from_standard_input(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    token = encode({"iss": ISSUER, "aud": "contoso", "sub": PROD_UPDATE})

    code, out, _ = explain(project, "--token", "-", capsys=capsys, stdin=token + "\n")

    assert code == 0
    assert "Token from standard input (decoded without verifying its signature)" in out
    assert (
        "ALLOW: statement Deployments of the trust policy of role default (account default) of stack matrix admits "
        "this token." in out
    )
    assert "Admitted by" not in out


def test_token_from_the_deployments_environment_variable(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PULUMI_OIDC_TOKEN", encode({"iss": ISSUER, "aud": "aws:contoso", "sub": AWS_DEV}))

    code, out, _ = explain(project, capsys=capsys)

    assert code == 0
    assert "Token from $PULUMI_OIDC_TOKEN" in out


def test_expired_token_is_reported_and_still_evaluated(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, report = explain_token(project, {"iss": ISSUER, "aud": "contoso", "sub": PROD_UPDATE}, capsys, -60)

    assert code == 0
    assert report["token"]["expired"] is True
    assert report["token"]["signatureVerified"] is False


def test_exp_that_is_no_time_is_shown_as_such(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = project / "token.jwt"
    path.write_text(jwt.encode({"iss": ISSUER, "aud": "contoso", "sub": PROD_UPDATE, "exp": 1e20}, "k" * 32, "HS256"))

    code, out, err = explain(project, "--token", str(path), "--json", capsys=capsys)

    assert code == 0
    assert json.loads(out)["token"]["exp"] == "1e+20 (not a time)"
    assert err == ""


def test_text_deny_lists_each_statement_with_expected_and_actual(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = explain(project, "--aud", "contoso", "--sub", AWS_DEV, capsys=capsys)

    assert code == 1
    assert (
        "DENY: no statement of the trust policy of role default (account default) of stack matrix admits this "
        "token." in out
    )
    assert '  Environments\n    - StringEquals api.pulumi.com/oidc:aud: expected "aws:contoso", got "contoso"' in out
    assert "  Hints\n    - audience:" in out
    assert "Admitted by" not in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["--token", "/nonexistent/token"], "cannot read the token file /nonexistent/token", id="missing"),
        pytest.param(["--aud", "contoso"], "--aud and --sub go together", id="aud-alone"),
        pytest.param(["--token", "x", "--aud", "a", "--sub", "b"], "either --token or --aud and --sub", id="both"),
        pytest.param([], "no token: pass --token FILE", id="no-token"),
        pytest.param(["--token", "-", "--iss", "https://x"], "--iss goes with --aud and --sub", id="iss-with-token"),
        pytest.param(["--token", ""], "--token needs a file name", id="empty-token-flag"),
    ],
)
def test_usage_and_input_errors_exit_2(
    project: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    message: str,
) -> None:
    monkeypatch.delenv("PULUMI_OIDC_TOKEN", raising=False)

    code, out, err = explain(project, *args, capsys=capsys)

    assert code == 2
    assert out == ""
    assert message in err
    assert "Traceback" not in err


def test_token_that_is_not_text_exits_2(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = project / "binary.jwt"
    path.write_bytes(b"\xff\xfe\x00")

    code, _, err = explain(project, "--token", str(path), capsys=capsys)

    assert code == 2
    assert f"the token from {path} is not text" in err


def test_malformed_token_exits_2(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = explain(project, "--token", "-", capsys=capsys, stdin="not-a-jwt")

    assert code == 2
    assert "error: not a JWT:" in err


def test_invalid_config_exits_2_with_the_key_path(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "Pulumi.matrix.yaml").write_text("config:\n  pulumi-aws-oidc:organization: Contoso\n")

    code, _, err = explain(project, "--aud", "contoso", "--sub", PROD_UPDATE, capsys=capsys)

    assert code == 2
    assert 'organization: got "Contoso"' in err


TEAMS = """
config:
  pulumi-aws-oidc:organization: contoso
  pulumi-aws-oidc:roles:
    deploy:
      deployments:
        - {project: infra, stack: prod, operations: [update]}
    read:
      deployments:
        - {project: infra, stack: "*", operations: [preview, update]}
      environments:
        - {project: aws, name: dev}
"""


@pytest.fixture
def teams(project: Path) -> Path:
    (project / "Pulumi.matrix.yaml").write_text(TEAMS)
    return project


def test_a_managed_stack_is_answered_for_its_role_and_other_admitting_roles_are_named_after(
    teams: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report = explain_token(teams, deploy(), capsys)
    text_code, out, _ = explain(teams, "--aud", "contoso", "--sub", PROD_UPDATE, capsys=capsys)

    assert (code, text_code) == (0, 0)
    assert report["why"] == "managedBy"
    assert report["answeredFor"]["role"] == "deploy"
    assert report["admittedBy"] == [
        {"role": "deploy", "account": "default", "component": "pulumi-cloud"},
        {"role": "read", "account": "default", "component": "pulumi-cloud"},
    ]
    assert report["alsoAdmittedBy"] == [{"role": "read", "account": "default", "component": "pulumi-cloud"}]
    assert [(a["role"], a["matchedStatement"]) for a in report["roles"]] == [
        ("deploy", "Deployments"),
        ("read", "DeploymentsPatterns"),
    ]
    assert "ALLOW by roles.deploy (account default), statement Deployments.\n" in out
    assert (
        "Would also be admitted by roles.read (account default), statement DeploymentsPatterns (informational: if "
        "the stack's settings named its ARN).\n" in out
    )


def test_a_role_is_not_told_to_list_an_environment_another_role_creates(
    teams: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report = explain_token(teams, esc("aws/dev"), capsys)

    assert code == 0
    assert report["decision"] == "ALLOW"
    assert (report["why"], report["createdBy"]["role"]) == ("createdBy", "read")
    assert report["admittedBy"] == [{"role": "read", "account": "default", "component": "pulumi-cloud"}]
    [deploy_role] = [a for a in report["roles"] if a["role"] == "deploy"]
    assert deploy_role["decision"] == "DENY"
    assert deploy_role["hints"] == [
        "held: environment aws/dev is created by roles.read, and its fn::open::aws-login names that role's ARN; "
        "listing it in this role too would not change that (one role creates an environment)"
    ]


def test_deny_by_every_role_says_to_add_the_entry_to_the_role_its_settings_name(
    teams: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = explain(teams, "--aud", "contoso", "--sub", PROD_UPDATE.replace("infra", "net"), capsys=capsys)

    assert code == 1
    assert "DENY: none of the 2 roles of this config admits this token.\n" in out
    assert (
        "  Hint: not listed: stack net/prod is in no entry of any role; add - {project: net, stack: prod} to the "
        "deployments of the role whose ARN its settings name (one of roles.deploy, roles.read)\n" in out
    )


def test_role_option_evaluates_only_that_role(teams: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = explain(teams, "--aud", "contoso", "--sub", PROD_UPDATE, "--role", "read", "--json", capsys=capsys)

    assert code == 0
    report = json.loads(out)
    assert [(a["role"], a["decision"]) for a in report["roles"]] == [("read", "ALLOW")]
    assert report["admittedBy"] == [{"role": "read", "account": "default", "component": "pulumi-cloud"}]


def test_unknown_role_exits_2_naming_the_roles(teams: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = explain(teams, "--aud", "contoso", "--sub", PROD_UPDATE, "--role", "ops", capsys=capsys)

    assert code == 2
    assert out == ""
    assert "--role ops: no such role; the stack's roles are deploy, read" in err


def test_without_pyjwt_a_token_needs_the_cli_extra_and_aud_sub_still_work(
    monkeypatch: pytest.MonkeyPatch, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "jwt", None)  # as in an install without the cli extra

    with pytest.raises(InputError, match=re.escape("pip install 'pulumi-aws-oidc[cli]' (or give --aud and --sub)")):
        decode_token("a.b.c")
    code = cli.main(["explain", "--stack", "matrix", "--cwd", str(project), "--aud", "contoso", "--sub", "x"])
    assert code == cli.EXIT_DENY
    assert "DENY" in capsys.readouterr().out
