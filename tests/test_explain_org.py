"""``explain`` for a whole organization: the answer is the role the token's stack or environment uses.

The stack file is a form-B organization of three accounts and four roles, evaluated offline as ``explain``
always is. ``compliance/prod``'s deployment settings are managed by ``roles.readonly``, which trusts only
``preview``, ``refresh`` and ``detect-drift``, while ``roles.deploy`` trusts ``{project: "*", stack: prod}``;
``aws/prod`` is created by ``roles.deploy``. What Pulumi Deployments and ESC do with those settings (present
the managing role's ARN, open the environment with the role its ``fn::open::aws-login`` names) is taken from
their documentation, not exercised here.
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from oidc import cli
from oidc import explain as oidc_explain
from tests.conftest import PROJECT_DIR

ORGANIZATION = """
config:
  aws:region: us-west-2
  pulumi-aws-oidc:organization: acme
  pulumi-aws-oidc:accounts:
    prod:
      assumeRole: {roleArn: "arn:aws:iam::111111111111:role/OrganizationAccountAccessRole"}
    dev:
      assumeRole: {roleArn: "arn:aws:iam::222222222222:role/OrganizationAccountAccessRole"}
    audit:
      id: "333333333333"
      profile: acme-audit
  pulumi-aws-oidc:roles:
    deploy:
      account: prod
      name: pulumi-deploy
      deployments:
        - {project: "*", stack: prod}
        - {project: infra, stack: prod}
      environments:
        - {project: aws, name: prod}
    readonly:
      account: audit
      name: pulumi-readonly
      deployments:
        - {project: compliance, stack: "dev-*", operations: [preview]}
        - {project: compliance, stack: prod, operations: [preview, refresh, detect-drift]}
      environments:
        - {project: security, name: audit}
    dev:
      account: dev
      name: pulumi-dev
      deployments:
        - {project: apps, stack: "dev-*"}
        - {project: apps, stack: dev-main}
      environments:
        - {project: aws, name: dev}
        - {project: aws, name: "dev-*"}
    ci:
      account: prod
      name: pulumi-ci
      deployments:
        - {project: infra, stack: staging, operations: [preview, update]}
      environments:
        - {project: ci, name: build}
"""
ISSUER = "https://api.pulumi.com/oidc"
READONLY_ARN = "arn:aws:iam::333333333333:role/pulumi-readonly"


def deploy_sub(project: str, stack: str, operation: str, org: str = "acme") -> str:
    return f"pulumi:deploy:org:{org}:project:{project}:stack:{stack}:operation:{operation}:scope:write"


def esc_sub(path: str, org: str = "acme") -> str:
    return f"pulumi:environments:pulumi.organization.login:{org}:currentEnvironment.name:{path}"


@pytest.fixture
def organization(tmp_path: Path) -> Path:
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(PROJECT_DIR / name, tmp_path / name)
    (tmp_path / "Pulumi.acme.yaml").write_text(ORGANIZATION)
    return tmp_path


def explain(project: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = cli.main(["explain", "--stack", "acme", "--cwd", str(project), *args], stdin=io.StringIO(""))
    return code, capsys.readouterr().out


def explain_json(project: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code, out = explain(project, capsys, *args, "--json")
    return code, json.loads(out)


def identity(role: str, account: str) -> dict[str, str]:
    return {"role": role, "account": account, "component": "pulumi-cloud"}


# (a) A stack managed by a narrow role, under another role's pattern.


def test_update_of_a_stack_whose_settings_a_read_only_role_manages_is_denied_for_that_role(
    organization: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = explain(organization, capsys, "--aud", "acme", "--sub", deploy_sub("compliance", "prod", "update"))

    assert code == cli.EXIT_DENY
    lines = out.splitlines()
    assert "DENY by roles.readonly (account audit): no statement of its trust policy admits this token." in lines
    assert (
        "  Why this role: it manages the deployment settings of acme/compliance/prod, so Pulumi Deployments presents "
        f"its ARN, {READONLY_ARN}." in lines
    )
    [hint] = [line for line in lines if line.startswith("  Hint")]
    assert hint == (
        "  Hint: operation: roles.readonly.deployments[1] trusts compliance/prod for operations ['preview', "
        "'refresh', 'detect-drift'], not 'update'; add 'update' to its operations, or omit operations to trust "
        "every operation"
    )
    assert (
        "Would also be admitted by roles.deploy (account prod), statement DeploymentsPatterns (informational: if the "
        "stack's settings named its ARN)." in lines
    )
    assert not any(line.startswith("ALLOW") for line in lines)


def test_update_of_the_read_only_managed_stack_in_json_names_the_managing_role(
    organization: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report = explain_json(
        organization, capsys, "--aud", "acme", "--sub", deploy_sub("compliance", "prod", "update")
    )

    assert code == cli.EXIT_DENY
    assert report["decision"] == "DENY"
    assert report["why"] == "managedBy"
    assert report["target"] == {"kind": "stack", "name": "acme/compliance/prod"}
    holder = {**identity("readonly", "audit"), "path": "roles.readonly", "arn": READONLY_ARN}
    assert report["managedBy"] == report["answeredFor"] == holder
    assert report["createdBy"] is None
    assert report["alsoAdmittedBy"] == [identity("deploy", "prod")]
    assert report["hints"] == [
        "operation: roles.readonly.deployments[1] trusts compliance/prod for operations ['preview', 'refresh', "
        "'detect-drift'], not 'update'; add 'update' to its operations, or omit operations to trust every operation"
    ]


def test_preview_of_the_read_only_managed_stack_is_allowed_by_that_role(
    organization: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = explain(organization, capsys, "--aud", "acme", "--sub", deploy_sub("compliance", "prod", "preview"))

    assert code == cli.EXIT_OK
    lines = out.splitlines()
    assert "ALLOW by roles.readonly (account audit), statement Deployments." in lines
    assert (
        "Would also be admitted by roles.deploy (account prod), statement DeploymentsPatterns (informational: if the "
        "stack's settings named its ARN)." in lines
    )


def test_role_option_still_answers_for_the_named_role_and_notes_the_managing_one(
    organization: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = explain(
        organization, capsys, "--role", "deploy", "--aud", "acme", "--sub", deploy_sub("compliance", "prod", "update")
    )

    assert code == cli.EXIT_OK
    assert (
        "Note: roles.readonly manages the deployment settings of acme/compliance/prod, so Pulumi Deployments presents "
        "its ARN, not this role's; without --role, explain answers for roles.readonly." in out
    )
    assert "ALLOW: statement DeploymentsPatterns of the trust policy of role deploy (account prod)" in out


# (b) A hint that would collide with the one-owner rule.


def test_wrong_audience_of_an_environment_another_role_creates_never_says_to_list_it_elsewhere(
    organization: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = explain(organization, capsys, "--aud", "acme", "--sub", esc_sub("aws/prod"))

    assert code == cli.EXIT_DENY
    lines = out.splitlines()
    assert len(lines) <= 12, out
    assert "DENY by roles.deploy (account prod): no statement of its trust policy admits this token." in lines
    assert any(line.startswith("  Why this role: it creates the environment acme/aws/prod") for line in lines)
    assert '  Cause: statement Environments: StringEquals api.pulumi.com/oidc:aud: expected "aws:acme", got "acme"' in (
        lines
    )
    [hint] = [line for line in lines if line.startswith("  Hint")]
    assert hint.startswith("  Hint: audience: this ESC (project 'aws') token should carry aud 'aws:acme', not 'acme'")
    assert "add to roles" not in out
    assert "not listed" not in out

    code, verbose = explain(organization, capsys, "--verbose", "--aud", "acme", "--sub", esc_sub("aws/prod"))
    assert code == cli.EXIT_DENY
    assert "add to roles" not in verbose
    assert "held: environment aws/prod is created by roles.deploy" in verbose


# (c) Another issuer, (d) another organization: named as such.


def test_token_of_another_issuer_is_named_as_such_not_as_not_listed(
    organization: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = "https://pulumi.example.com/oidc"
    for sub in (deploy_sub("compliance", "prod", "preview"), deploy_sub("net", "staging", "update")):
        code, out = explain(organization, capsys, "--iss", other, "--aud", "acme", "--sub", sub)
        _, report = explain_json(organization, capsys, "--iss", other, "--aud", "acme", "--sub", sub)

        assert code == cli.EXIT_DENY
        [hint] = [line for line in out.splitlines() if line.startswith("  Hint")]
        assert hint == (
            f"  Hint: issuer: the token was issued by '{other}'; this config trusts issuer '{ISSUER}' (config key "
            "issuer), and its OIDC providers are registered for that issuer only: set issuer to the token's issuer if "
            "this config is meant for it (a self-hosted Pulumi Cloud has its own)"
        )
        assert "not listed" not in out
        assert not any("not listed" in h for answer in report["roles"] for h in answer["hints"])


def test_token_of_another_organization_is_named_as_such_once(
    organization: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sub = deploy_sub("compliance", "prod", "preview", org="acme-evil")

    code, out = explain(organization, capsys, "--aud", "acme-evil", "--sub", sub)
    _, report = explain_json(organization, capsys, "--aud", "acme-evil", "--sub", sub)

    assert code == cli.EXIT_DENY
    assert "DENY: none of the 4 roles of this config admits this token." in out
    assert (
        "  Why every role: the token is of organization acme-evil, of which this config holds nothing, so every role "
        "was asked." in out
    )
    assert "  Hint: organization: the token comes from 'acme-evil'; this config trusts only 'acme'" in out
    assert out.count("organization: the token comes from") == 1
    assert "not listed" not in out
    assert (report["why"], report["answeredFor"], report["managedBy"]) == ("anyRole", None, None)


# (e) Listed nowhere.


def test_stack_listed_nowhere_says_not_listed_and_where_to_add_it(
    organization: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = explain(organization, capsys, "--aud", "acme", "--sub", deploy_sub("net", "staging", "update"))

    assert code == cli.EXIT_DENY
    lines = out.splitlines()
    assert "DENY: none of the 4 roles of this config admits this token." in lines
    assert (
        "  Why every role: no role of this config manages the deployment settings of acme/net/staging: they are set "
        "elsewhere and may name any role's ARN, so every role was asked." in lines
    )
    [hint] = [line for line in lines if line.startswith("  Hint")]
    assert hint == (
        "  Hint: not listed: stack net/staging is in no entry of any role; add - {project: net, stack: staging} to "
        "the deployments of the role whose ARN its settings name (one of roles.readonly, roles.dev, roles.ci, "
        "roles.deploy)"
    )


def test_stack_trusted_only_by_a_pattern_is_allowed_by_any_role_that_admits_it(
    organization: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = explain(organization, capsys, "--aud", "acme", "--sub", deploy_sub("apps", "dev-feature", "update"))
    _, report = explain_json(
        organization, capsys, "--aud", "acme", "--sub", deploy_sub("apps", "dev-feature", "update")
    )

    assert code == cli.EXIT_OK
    assert "ALLOW by roles.dev (account dev), statement DeploymentsPatterns." in out
    assert (
        "  Why every role: no role of this config manages the deployment settings of acme/apps/dev-feature: they are "
        "set elsewhere, and must name the ARN of roles.dev (account dev), arn:aws:iam::222222222222:role/pulumi-dev."
        in out
    )
    assert (report["why"], report["answeredFor"], report["alsoAdmittedBy"]) == ("anyRole", None, [])
    assert report["admittedBy"] == [identity("dev", "dev")]


def test_operation_a_pattern_role_does_not_trust_names_its_entry_when_no_role_manages_the_stack(
    organization: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = explain(organization, capsys, "--aud", "acme", "--sub", deploy_sub("compliance", "dev-1", "update"))

    assert code == cli.EXIT_DENY
    assert (
        "  Hint: operation: roles.readonly.deployments[0] trusts compliance/dev-1 for operations ['preview'], not "
        "'update'; add 'update' to its operations, or omit operations to trust every operation" in out
    )


# (f) Every role's detail with --verbose, everything in --json.


def test_verbose_shows_every_roles_statements(organization: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sub = deploy_sub("compliance", "prod", "update")

    _, short = explain(organization, capsys, "--aud", "acme", "--sub", sub)
    code, out = explain(organization, capsys, "--verbose", "--aud", "acme", "--sub", sub)

    assert code == cli.EXIT_DENY
    for role, account in (("readonly", "audit"), ("dev", "dev"), ("ci", "prod")):
        assert f"DENY: no statement of the trust policy of role {role} (account {account}) of stack acme" in out
        assert f"of role {role} (account {account})" not in short
    assert "ALLOW: statement DeploymentsPatterns of the trust policy of role deploy (account prod) of stack acme" in out
    assert "  Nearest trusted subject: " in out
    assert "held: the deployment settings of compliance/prod are managed by roles.readonly" in out
    assert "    - StringEquals api.pulumi.com/oidc:sub: expected [" in out
    assert "Nearest trusted subject" not in short


def test_json_of_an_environment_names_the_creating_role_and_keeps_every_role(
    organization: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report = explain_json(organization, capsys, "--aud", "aws:acme", "--sub", esc_sub("aws/prod"))

    assert code == cli.EXIT_OK
    assert report["decision"] == "ALLOW"
    assert report["why"] == "createdBy"
    assert report["createdBy"]["path"] == "roles.deploy"
    assert report["managedBy"] is None
    assert [answer["role"] for answer in report["roles"]] == ["readonly", "dev", "ci", "deploy"]
    assert all(answer["statements"] for answer in report["roles"])


# The choice of the answering role, as a pure function of plain data.


def role(key: str, stacks: tuple[str, ...] = (), environments: tuple[str, ...] = ()) -> oidc_explain.Role:
    return oidc_explain.Role(
        id=key,
        organization="acme",
        issuer=ISSUER,
        document={"Statement": []},
        where=f"roles.{key}.",
        managed_stacks=frozenset(stacks),
        created_environments=frozenset(environments),
    )


@pytest.mark.parametrize(
    ("sub", "expected"),
    [
        pytest.param(deploy_sub("compliance", "prod", "update"), ("readonly", "managedBy"), id="managed-stack"),
        pytest.param(esc_sub("aws/prod"), ("deploy", "createdBy"), id="created-environment"),
        pytest.param(
            "pulumi:environments:org:acme:env:aws/prod", ("deploy", "createdBy"), id="environment-default-subject"
        ),
        pytest.param(deploy_sub("apps", "dev-1", "update"), (None, "anyRole"), id="pattern-only"),
        pytest.param(deploy_sub("compliance", "prod", "update", org="other"), (None, "anyRole"), id="other-org"),
        pytest.param("pulumi:environments:org:acme:env:<yaml>", (None, "anyRole"), id="yaml-subject"),
    ],
)
def test_answering_role_is_the_one_whose_arn_the_stack_or_environment_names(
    sub: str, expected: tuple[str | None, str]
) -> None:
    roles = [
        role("deploy", stacks=("acme/infra/prod",), environments=("acme/aws/prod",)),
        role("readonly", stacks=("acme/compliance/prod",)),
    ]

    choice = oidc_explain.answering_role(roles, {"iss": ISSUER, "aud": "acme", "sub": sub})

    assert (choice.role, choice.why) == expected
