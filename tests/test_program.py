from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest

from oidc import trust
from oidc.cli import offline
from tests import certs
from tests.conftest import PROJECT_DIR, project_config

OUTPUTS = ("roleArn", "roleName", "oidcProviderArn", "audiences", "trustPolicy", "deploymentStacks", "environments")


def dev_stack() -> offline.StackConfig:
    return offline.read_stack_config(PROJECT_DIR, "dev")


def run_with(values: dict[str, Any], recording: offline.Recording | None = None) -> offline.Recording:
    config = offline.StackConfig("pulumi-aws-oidc", "test", PROJECT_DIR, project_config(values), ())
    return offline.run_stack(config, preview=False, recording=recording)


def test_shipped_dev_stack_declares_the_whole_job() -> None:
    recording = offline.run_stack(
        dev_stack(), preview=False, certificates=certs.wire_certificates(certs.chain(1).leaf_first())
    )

    types = sorted(r.type for r in recording.resources)
    assert types == [
        "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
        "aws:iam/role:Role",
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        "pulumi-aws-oidc:index:OidcProvider",
        "pulumi-aws-oidc:index:OidcRole",
        "pulumi-aws-oidc:index:PulumiCloudOidc",
        "pulumiservice:api/esc:EnvironmentSettings",
        "pulumiservice:index:DeploymentSettings",
        "pulumiservice:index:Environment",
    ]
    assert recording.named("pulumi-cloud-provider").inputs["thumbprintLists"] == [
        certs.sha1_fingerprint(certs.chain(1).top)
    ]
    assert tuple(recording.outputs) == OUTPUTS
    assert recording.outputs["deploymentStacks"] == ["acme/infra/prod"]
    assert recording.outputs["environments"] == ["acme/aws/dev"]
    assert recording.outputs["audiences"] == ["acme", "aws:acme"]
    assert recording.outputs["roleArn"] == recording.named("pulumi-cloud-role").outputs["arn"]
    assert recording.outputs["trustPolicy"] == recording.named("pulumi-cloud-role").inputs["assumeRolePolicy"]


def test_shipped_dev_stack_trusts_exactly_its_listed_stack_and_environment() -> None:
    recording = offline.run_stack(dev_stack())
    policy = json.loads(recording.outputs["trustPolicy"])
    issuer = "https://api.pulumi.com/oidc"

    def allowed(aud: str, sub: str) -> bool:
        return trust.evaluate(policy, {"iss": issuer, "aud": aud, "sub": sub}).allowed

    deploy = "pulumi:deploy:org:acme:project:infra:stack:prod:operation:{}:scope:write"
    env = "pulumi:environments:pulumi.organization.login:acme:currentEnvironment.name:aws/dev"
    assert allowed("acme", deploy.format("update"))
    assert not allowed("acme", deploy.format("destroy"))
    assert allowed("aws:acme", env)
    assert not allowed("acme", env)


def test_config_is_read_from_the_projects_namespace_whatever_its_name() -> None:
    values = project_config({"organization": "acme", "environments": [{"project": "aws", "name": "dev"}]}, "my-fork")
    config = offline.StackConfig("my-fork", "dev", PROJECT_DIR, values, ())

    recording = offline.run_stack(config)

    assert recording.outputs["environments"] == ["acme/aws/dev"]


def test_invalid_config_declares_nothing_and_lists_every_problem() -> None:
    recording = offline.Recording()
    bad = {
        "organization": "acme",
        "deployments": [{"project": "infra", "stak": "prod"}],
        "environments": [{"project": "aws", "name": "dev", "duration": "2h"}],
        "rol": {},
    }

    with pytest.raises(pulumi.RunError) as raised:
        run_with(bad, recording)

    message = str(raised.value)
    for path in ("deployments[0].stak", "deployments[0].stack", "environments[0].duration", "rol:"):
        assert path in message
    assert '"2h"' in message
    assert recording.resources == []


def _declared(recording: offline.Recording) -> dict[str, tuple[str, Any]]:
    """Each resource's inputs by URN (components of one form-A stack share their name, not their URN)."""
    declared = {r.urn: (r.type, offline.plain(r.inputs)) for r in recording.resources}
    assert len(declared) == len(recording.resources)
    return declared


CONFIG: dict[str, Any] = {
    "organization": "acme",
    "role": {
        "policyArns": ["arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::aws:policy/AWSLambda_ReadOnlyAccess"]
    },
    "deployments": [
        {"project": "infra", "stack": "prod", "operations": ["update", "preview"]},
        {"project": "infra", "stack": "staging"},
        {"project": "apps", "stack": "review-*"},
    ],
    "environments": [
        {"project": "aws", "name": "dev"},
        {"project": "aws", "name": "prod"},
        {"project": "aws", "name": "team-*"},
    ],
}


def test_reordering_list_config_changes_no_logical_name_and_no_input() -> None:
    reordered = {
        **CONFIG,
        "role": {"policyArns": list(reversed(CONFIG["role"]["policyArns"]))},
        "deployments": [
            CONFIG["deployments"][2],
            CONFIG["deployments"][0] | {"operations": ["preview", "update"]},
            CONFIG["deployments"][1],
        ],
        "environments": list(reversed(CONFIG["environments"])),
    }

    assert _declared(run_with(reordered)) == _declared(run_with(CONFIG))


def test_a_second_run_with_the_same_config_declares_the_same_inputs() -> None:
    first = run_with(CONFIG)
    second = run_with(CONFIG)

    assert _declared(first) == _declared(second)
    assert first.outputs == second.outputs


STAGE_ADMIN = "arn:aws:iam::210987654321:role/OrganizationAccountAccessRole"
FORM_B: dict[str, Any] = {
    "organization": "acme",
    "accounts": {"prod": {}, "stage": {"assumeRole": {"roleArn": STAGE_ADMIN}}},
    "roles": {
        "deploy": {
            "account": "prod",
            "policyArns": ["arn:aws:iam::aws:policy/PowerUserAccess", "arn:aws:iam::aws:policy/ReadOnlyAccess"],
            "deployments": [{"project": "infra", "stack": "prod"}, {"project": "infra", "stack": "staging"}],
        },
        "esc": {
            "account": "stage",
            "deployments": [{"project": "infra", "stack": "prod", "manageSettings": False}],
            "environments": [{"project": "aws", "name": "dev"}, {"project": "aws", "name": "team-*"}],
        },
    },
}


def test_roles_config_exports_each_role_provider_stack_and_environment() -> None:
    recording = run_with(FORM_B)

    outputs = recording.outputs
    assert tuple(outputs) == ("roles", "oidcProviders", "deploymentStacks", "environments")
    assert outputs["oidcProviders"] == {
        "prod": "arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/oidc",
        "stage": "arn:aws:iam::210987654321:oidc-provider/api.pulumi.com/oidc",
    }
    assert outputs["deploymentStacks"] == {"acme/infra/prod": "deploy", "acme/infra/staging": "deploy"}
    assert outputs["environments"] == {"acme/aws/dev": "esc"}
    for key, account in (("deploy", "prod"), ("esc", "stage")):
        role = recording.named(f"pulumi-cloud-{key}-role")
        assert outputs["roles"][key] == {
            "arn": role.outputs["arn"],
            "name": role.outputs["name"],
            "account": account,
            "trustPolicy": role.inputs["assumeRolePolicy"],
        }
    assert outputs["roles"]["esc"]["arn"].startswith("arn:aws:iam::210987654321:role/")


def test_reordering_roles_accounts_and_lists_changes_no_logical_name_and_no_input() -> None:
    deploy, esc = FORM_B["roles"]["deploy"], FORM_B["roles"]["esc"]
    reordered = {
        **FORM_B,
        "accounts": dict(reversed(FORM_B["accounts"].items())),
        "roles": {
            "esc": {**esc, "environments": list(reversed(esc["environments"]))},
            "deploy": {
                **deploy,
                "policyArns": list(reversed(deploy["policyArns"])),
                "deployments": list(reversed(deploy["deployments"])),
            },
        },
    }

    assert _declared(run_with(reordered)) == _declared(run_with(FORM_B))


def test_invalid_roles_config_declares_nothing() -> None:
    recording = offline.Recording()
    bad = {
        **FORM_B,
        "roles": {**FORM_B["roles"], "ops": {"account": "prod", "environments": [{"project": "aws", "name": "dev"}]}},
    }

    with pytest.raises(pulumi.RunError) as raised:
        run_with(bad, recording)

    assert "roles.ops.environments[0]: creates the ESC environment aws/dev, as roles.esc.environments[0] does" in str(
        raised.value
    )
    assert recording.resources == []


def test_the_aws_provider_of_an_account_takes_its_region_or_the_stacks_aws_region() -> None:
    values = {
        "organization": "acme",
        "accounts": {
            "prod": {"assumeRole": {"roleArn": "arn:aws:iam::111111111111:role/Admin"}},
            "eu": {"profile": "eu", "region": "eu-west-1"},
        },
        "roles": {
            "deploy": {"account": "prod", "deployments": [{"project": "infra", "stack": "prod"}]},
            "eu": {"account": "eu", "environments": [{"project": "aws", "name": "eu"}]},
        },
    }
    config = offline.StackConfig(
        "pulumi-aws-oidc", "test", PROJECT_DIR, {"aws:region": "us-east-2", **project_config(values)}, ()
    )

    recording = offline.run_stack(config)

    regions = {r.name: r.inputs.get("region") for r in recording.of_type("pulumi:providers:aws")}
    assert regions == {"pulumi-cloud-aws-prod": "us-east-2", "pulumi-cloud-aws-eu": "eu-west-1"}
