from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from oidc import esc, offline, trust
from oidc.settings import ConfigError, Settings, load_settings
from tests import certs
from tests.conftest import raw_config, run_component

PROVIDER = "aws:iam/openIdConnectProvider:OpenIdConnectProvider"
ROLE = "aws:iam/role:Role"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
DEPLOYMENT_SETTINGS = "pulumiservice:index:DeploymentSettings"
ENVIRONMENT = "pulumiservice:index:Environment"
EXISTING_ARN = "arn:aws:iam::210987654321:oidc-provider/api.pulumi.com/oidc"


def settings(**values: Any) -> Settings:
    raw = {"organization": "acme", **values}
    raw.setdefault("deployments", [{"project": "infra", "stack": "prod"}])
    return load_settings(raw_config(raw))


def test_created_provider_registers_both_audiences_and_extras_and_is_protected() -> None:
    recording = run_component(settings(oidcProvider={"audiences": ["other-org"]}))

    [provider] = recording.of_type(PROVIDER)
    assert provider.inputs["url"] == "https://api.pulumi.com/oidc"
    assert provider.inputs["clientIdLists"] == ["acme", "aws:acme", "other-org"]
    assert provider.protect is True


def test_provider_protect_false_is_passed_on() -> None:
    recording = run_component(settings(oidcProvider={"protect": False}))

    assert recording.of_type(PROVIDER)[0].protect is False


@pytest.mark.parametrize(
    ("chain", "order"),
    [
        pytest.param(certs.chain(1), certs.chain(1).root_first(), id="root-first"),
        pytest.param(certs.chain(1), certs.chain(1).leaf_first(), id="leaf-first"),
        pytest.param(certs.chain(2), certs.pulumi_tls_order(certs.chain(2)), id="two-intermediates-no-root"),
    ],
)
def test_auto_thumbprint_is_the_top_intermediate_of_the_issuer_chain(chain: certs.Chain, order: list[Any]) -> None:
    recording = run_component(settings(), certificates=certs.wire_certificates(order))

    [provider] = recording.of_type(PROVIDER)
    assert provider.inputs["thumbprintLists"] == [certs.sha1_fingerprint(chain.top)]
    assert ("tls:index/getCertificate:getCertificate", {"url": "https://api.pulumi.com/oidc"}) in recording.calls


def test_explicit_thumbprints_skip_the_certificate_lookup() -> None:
    thumbprint = "a" * 40
    recording = run_component(settings(oidcProvider={"thumbprints": [thumbprint.upper()]}))

    assert recording.of_type(PROVIDER)[0].inputs["thumbprintLists"] == [thumbprint]
    assert not [token for token, _ in recording.calls if token.startswith("tls:")]


def test_empty_thumbprints_leave_the_list_to_aws() -> None:
    recording = run_component(settings(oidcProvider={"thumbprints": []}))

    assert "thumbprintLists" not in recording.of_type(PROVIDER)[0].inputs


def test_trust_policy_principal_is_the_created_providers_arn() -> None:
    recording = run_component(settings(), partition="aws-us-gov", account_id="111122223333")

    [role] = recording.of_type(ROLE)
    policy = json.loads(role.inputs["assumeRolePolicy"])
    arn = "arn:aws-us-gov:iam::111122223333:oidc-provider/api.pulumi.com/oidc"
    assert {s["Principal"]["Federated"] for s in policy["Statement"]} == {arn}
    assert role.inputs["assumeRolePolicy"] == trust.render(trust.trust_policy(settings(), arn))


def test_reused_provider_declares_no_provider_and_is_the_principal() -> None:
    recording = run_component(settings(oidcProvider={"arn": EXISTING_ARN}), existing_client_ids=["acme", "aws:acme"])

    assert recording.of_type(PROVIDER) == []
    policy = json.loads(recording.of_type(ROLE)[0].inputs["assumeRolePolicy"])
    assert {s["Principal"]["Federated"] for s in policy["Statement"]} == {EXISTING_ARN}
    assert ("aws:iam/getOpenIdConnectProvider:getOpenIdConnectProvider", {"arn": EXISTING_ARN}) in recording.calls


def test_reused_provider_missing_an_audience_fails_before_anything_is_declared() -> None:
    recording = offline.Recording()
    with pytest.raises(ConfigError) as raised:
        run_component(
            settings(oidcProvider={"arn": EXISTING_ARN}, environments=[{"project": "aws", "name": "dev"}]),
            existing_client_ids=["acme"],
            recording=recording,
        )

    message = str(raised.value)
    assert "oidcProvider.arn" in message
    assert "['aws:acme']" in message
    assert "add-client-id-to-open-id-connect-provider" in message
    assert recording.resources == []


def test_role_takes_every_role_setting() -> None:
    role_config = {
        "name": "pulumi-cloud",
        "path": "/ci/",
        "description": "Pulumi Cloud",
        "permissionsBoundary": "arn:aws:iam::123456789012:policy/boundary",
        "maxSessionDuration": "2h",
        "tags": {"team": "platform"},
    }
    recording = run_component(settings(role=role_config))

    inputs = recording.of_type(ROLE)[0].inputs
    assert inputs["name"] == "pulumi-cloud"
    assert inputs["path"] == "/ci/"
    assert inputs["description"] == "Pulumi Cloud"
    assert inputs["permissionsBoundary"] == "arn:aws:iam::123456789012:policy/boundary"
    assert inputs["maxSessionDuration"] == 7200
    assert inputs["tags"] == {"team": "platform"}


@pytest.mark.parametrize("partition", ["aws", "aws-us-gov", "aws-cn"])
def test_default_permissions_are_the_partitions_read_only_access(partition: str) -> None:
    recording = run_component(settings(), partition=partition)

    [attachment] = recording.of_type(ATTACHMENT)
    assert attachment.inputs["policyArn"] == f"arn:{partition}:iam::aws:policy/ReadOnlyAccess"
    assert attachment.name == "pulumi-cloud-policy-aws/ReadOnlyAccess"


def test_one_attachment_per_policy_named_after_the_policy() -> None:
    policies = ["arn:aws:iam::aws:policy/PowerUserAccess", "arn:aws:iam::123456789012:policy/team/Deploy"]
    recording = run_component(settings(role={"policyArns": policies}))

    attachments = {a.name: a.inputs["policyArn"] for a in recording.of_type(ATTACHMENT)}
    assert attachments == {
        "pulumi-cloud-policy-aws/PowerUserAccess": policies[0],
        "pulumi-cloud-policy-123456789012/team/Deploy": policies[1],
    }


def test_names_that_join_alike_with_dashes_stay_distinct() -> None:
    policies = ["arn:aws:iam::123456789012:policy/team/Deploy", "arn:aws:iam::123456789012:policy/team-Deploy"]
    recording = run_component(
        settings(
            role={"policyArns": policies},
            deployments=[{"project": "a-b", "stack": "c"}, {"project": "a", "stack": "b-c"}],
            environments=[{"project": "aws-prod", "name": "x"}, {"project": "aws", "name": "prod-x"}],
        )
    )

    names = [r.name for r in recording.resources]
    assert len(names) == len(set(names))
    assert {"pulumi-cloud-deploy-a-b/c", "pulumi-cloud-deploy-a/b-c"} <= set(names)
    assert {"pulumi-cloud-env-aws-prod/x", "pulumi-cloud-env-aws/prod-x"} <= set(names)


def test_role_waits_for_the_provider_its_trust_policy_names() -> None:
    recording = run_component(settings())

    assert "pulumi-cloud-provider" in recording.of_type(ROLE)[0].dependencies


def test_deployment_settings_carry_the_role_and_session() -> None:
    deployment = {
        "project": "infra",
        "stack": "prod",
        "sessionName": "deploy-prod",
        "duration": "45m",
        "policyArns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
        "source": {"repoUrl": "https://github.com/acme/infra.git", "branch": "main", "repoDir": "infra"},
    }
    recording = run_component(settings(deployments=[deployment]))

    [resource] = recording.of_type(DEPLOYMENT_SETTINGS)
    role_arn = recording.of_type(ROLE)[0].outputs["arn"]
    assert resource.name == "pulumi-cloud-deploy-infra/prod"
    assert (resource.inputs["organization"], resource.inputs["project"], resource.inputs["stack"]) == (
        "acme",
        "infra",
        "prod",
    )
    assert resource.inputs["operationContext"]["oidc"]["aws"] == {
        "roleARN": role_arn,
        "sessionName": "deploy-prod",
        "duration": "45m",
        "policyARNs": ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
    }
    assert resource.inputs["sourceContext"] == {
        "git": {"repoUrl": "https://github.com/acme/infra.git", "branch": "main", "repoDir": "infra"}
    }
    assert recording.warnings == []


def test_settings_without_source_warn_that_they_own_the_stacks_settings() -> None:
    recording = run_component(settings())

    assert "sourceContext" not in recording.of_type(DEPLOYMENT_SETTINGS)[0].inputs
    [warning] = recording.warnings
    assert "acme/infra/prod" in warning
    assert "owns all" in warning


def test_patterns_and_unmanaged_stacks_get_no_settings() -> None:
    deployments = [
        {"project": "infra", "stack": "review-*"},
        {"project": "infra", "stack": "staging", "manageSettings": False},
    ]
    recording = run_component(settings(deployments=deployments))

    assert recording.of_type(DEPLOYMENT_SETTINGS) == []
    policy = recording.of_type(ROLE)[0].inputs["assumeRolePolicy"]
    assert "stack:review-*:" in policy
    assert "stack:staging:" in policy


@pytest.mark.parametrize("project", ["aws", "default"])
def test_environment_gets_its_project_explicitly_and_the_login_definition(project: str) -> None:
    environment = {"project": project, "name": "dev", "region": "eu-west-1", "duration": "30m"}
    recording = run_component(settings(environments=[environment]))

    [resource] = recording.of_type(ENVIRONMENT)
    assert resource.inputs["project"] == project
    assert resource.inputs["organization"] == "acme"
    assert resource.inputs["name"] == "dev"
    role_arn = recording.of_type(ROLE)[0].outputs["arn"]
    [configured] = settings(environments=[environment]).environments
    assert yaml.safe_load(resource.inputs["yaml"].text) == esc.definition(configured, role_arn)


def test_pattern_environment_is_trusted_but_not_created() -> None:
    recording = run_component(settings(environments=[{"project": "aws", "name": "team-*"}]))

    assert recording.of_type(ENVIRONMENT) == []
    assert "currentEnvironment.name:aws/team-*" in recording.of_type(ROLE)[0].inputs["assumeRolePolicy"]


def test_every_child_is_parented_to_the_component() -> None:
    recording = run_component(settings(environments=[{"project": "aws", "name": "dev"}]))

    [component] = [r for r in recording.resources if r.parent is None]
    assert component.type == "pulumi-aws-oidc:index:PulumiCloudOidc"
    assert {r.parent for r in recording.resources if r is not component} == {"pulumi-cloud"}
    assert len(recording.resources) == 6


def test_trust_policy_over_its_quota_fails_before_anything_is_declared() -> None:
    many = [{"project": "infra", "stack": f"stack-{n}", "manageSettings": False} for n in range(8)]
    oversized = settings(deployments=many, trustPolicyMaxChars="500")
    size = len(
        trust.render(trust.trust_policy(oversized, "arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/oidc"))
    )
    recording = offline.Recording()

    with pytest.raises(ConfigError) as raised:
        run_component(oversized, recording=recording)

    [issue] = raised.value.issues
    assert issue.path == "trustPolicyMaxChars"
    assert f"would be {size} characters, {size - 500} over trustPolicyMaxChars (500)" in issue.message
    assert recording.resources == []
