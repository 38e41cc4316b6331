from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pytest
import yaml

from oidc import claims, esc, testing, trust
from oidc.cli import offline
from oidc.components import organization, provider, role
from oidc.model import ConfigError, Settings
from tests import certs
from tests.conftest import run_component, settings

PROVIDER = "aws:iam/openIdConnectProvider:OpenIdConnectProvider"
ROLE = "aws:iam/role:Role"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
DEPLOYMENT_SETTINGS = "pulumiservice:index:DeploymentSettings"
ENVIRONMENT = "pulumiservice:index:Environment"
AWS_PROVIDER = "pulumi:providers:aws"
EXISTING_ACCOUNT = "210987654321"
EXISTING_ARN = f"arn:aws:iam::{EXISTING_ACCOUNT}:oidc-provider/api.pulumi.com/oidc"
ISSUER = "https://api.pulumi.com/oidc"


def policy_for(configured: Settings, provider_arn: str) -> str:
    """The rendered trust policy of the first role of ``configured``, naming ``provider_arn``."""
    role = configured.roles[0]
    admitted = trust.admissions(configured.organization, role.deployments, role.environments)
    return trust.render(trust.trust_policy(configured.issuer, provider_arn, admitted))


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
    assert role.inputs["assumeRolePolicy"] == policy_for(settings(), arn)


def test_reused_provider_declares_no_provider_and_is_the_principal() -> None:
    recording = run_component(
        settings(oidcProvider={"arn": EXISTING_ARN}),
        account_id=EXISTING_ACCOUNT,
        existing_client_ids=["acme", "aws:acme"],
    )

    assert recording.of_type(PROVIDER) == []
    policy = json.loads(recording.of_type(ROLE)[0].inputs["assumeRolePolicy"])
    assert {s["Principal"]["Federated"] for s in policy["Statement"]} == {EXISTING_ARN}
    assert ("aws:iam/getOpenIdConnectProvider:getOpenIdConnectProvider", {"arn": EXISTING_ARN}) in recording.calls


def test_reused_provider_missing_an_audience_fails_before_anything_is_declared() -> None:
    recording = offline.Recording()
    with pytest.raises(ConfigError) as raised:
        run_component(
            settings(oidcProvider={"arn": EXISTING_ARN}, environments=[{"project": "aws", "name": "dev"}]),
            account_id=EXISTING_ACCOUNT,
            existing_client_ids=["acme"],
            recording=recording,
        )

    message = str(raised.value)
    assert "oidcProvider.arn" in message
    assert "['aws:acme']" in message
    assert "add-client-id-to-open-id-connect-provider" in message
    assert recording.resources == []


def test_reused_provider_of_another_account_fails_before_anything_is_declared() -> None:
    recording = offline.Recording()
    with pytest.raises(ConfigError) as raised:
        run_component(
            settings(oidcProvider={"arn": EXISTING_ARN}), existing_client_ids=["acme", "aws:acme"], recording=recording
        )

    [issue] = raised.value.issues
    assert issue.path == "oidcProvider.arn"
    assert f"a provider of account {EXISTING_ACCOUNT}; this account is {testing.PLACEHOLDER_ACCOUNT}" in issue.message
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

    urns = [r.urn for r in recording.resources]
    assert len(urns) == len(set(urns))
    names = {r.name for r in recording.resources}
    assert {"pulumi-cloud-deploy-a-b/c", "pulumi-cloud-deploy-a/b-c"} <= names
    assert {"pulumi-cloud-env-aws-prod/x", "pulumi-cloud-env-aws/prod-x"} <= names


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
    assert recording.warnings == []  # under mocks the guard reads nothing, and says so in a note
    assert [note.partition(":")[0] for note in recording.notes] == ["not guarded"]


def test_without_a_pulumi_cloud_token_the_writes_are_declared_with_a_warning_that_nothing_guarded_them() -> None:
    configured = settings(environments=[{"project": "aws", "name": "dev"}])

    with testing.reading_pulumi_cloud():  # as a real run: under plain mocks the guard reads nothing
        recording = run_component(configured)

    assert "sourceContext" not in recording.of_type(DEPLOYMENT_SETTINGS)[0].inputs
    [warning] = [w for w in recording.warnings if not w.startswith("acme/aws/dev (environments[0]) declares no teams")]
    assert warning.startswith("not guarded: no Pulumi Cloud token was found, so nothing checked that writing the ")
    assert "deployment settings of 1 stack and 1 ESC environment" in warning
    assert "PULUMI_ACCESS_TOKEN" in warning


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
    [configured] = settings(environments=[environment]).roles[0].environments
    assert yaml.safe_load(resource.inputs["yaml"].text) == esc.definition(configured, role_arn)


def test_pattern_environment_is_trusted_but_not_created() -> None:
    recording = run_component(settings(environments=[{"project": "aws", "name": "team-*"}]))

    assert recording.of_type(ENVIRONMENT) == []
    assert "currentEnvironment.name:aws/team-*" in recording.of_type(ROLE)[0].inputs["assumeRolePolicy"]


def test_form_a_holds_one_provider_and_one_role_component_whose_children_alias_the_old_parent() -> None:
    recording = run_component(settings(environments=[{"project": "aws", "name": "dev"}]))

    [top] = [r for r in recording.resources if r.parent_urn is None]
    assert (top.type, top.name) == (organization.TYPE, "pulumi-cloud")
    parts = {r.type: r for r in recording.children(top)}
    assert sorted(parts) == sorted([provider.PROVIDER_TYPE, role.ROLE_TYPE])
    assert {r.name for r in parts.values()} == {"pulumi-cloud"}
    assert [(r.type, r.name) for r in recording.children(parts[provider.PROVIDER_TYPE])] == [
        (PROVIDER, "pulumi-cloud-provider")
    ]
    assert {(r.type, r.name) for r in recording.children(parts[role.ROLE_TYPE])} == {
        (ROLE, "pulumi-cloud-role"),
        (ATTACHMENT, "pulumi-cloud-policy-aws/ReadOnlyAccess"),
        (DEPLOYMENT_SETTINGS, "pulumi-cloud-deploy-infra/prod"),
        (ENVIRONMENT, "pulumi-cloud-env-aws/dev"),
        ("pulumiservice:api/esc:EnvironmentSettings", "pulumi-cloud-env-settings-aws/dev"),
    }
    # Release 0.1.0's kinds of child keep their URNs through an alias; the environment's settings are new.
    leaves = [r for r in recording.resources if r.parent_urn not in {None, top.urn}]
    assert len(leaves) == 6
    for leaf in leaves:
        if leaf.type != "pulumiservice:api/esc:EnvironmentSettings":
            assert leaf.aliases == (f"{organization.TYPE}${leaf.type}::{leaf.name}",), leaf.name


def test_trust_policy_over_its_quota_fails_before_anything_is_declared() -> None:
    many = [{"project": "infra", "stack": f"stack-{n}", "manageSettings": False} for n in range(8)]
    oversized = settings(deployments=many, trustPolicyMaxChars=500)
    size = len(policy_for(oversized, "arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/oidc"))
    recording = offline.Recording()

    with pytest.raises(ConfigError) as raised:
        run_component(oversized, recording=recording)

    [issue] = raised.value.issues
    assert issue.path == "trustPolicyMaxChars"
    # Said before the account is read, so before its partition is known: aws gives the shortest policy.
    assert f"would be at least {size} characters, {size - 500} over trustPolicyMaxChars (500)" in issue.message
    assert recording.resources == []
    assert recording.calls == []


# --- form B: accounts and roles --------------------------------------------------------------

DEFAULT_PROVIDER = "(default provider)"
PROD_ACCOUNT = "111111111111"
STAGING_ACCOUNT = "222222222222"
PROD_ASSUME_ROLE = {"roleArn": f"arn:aws:iam::{PROD_ACCOUNT}:role/OrganizationAccountAccessRole"}
STAGING_PROVIDER_ARN = f"arn:aws:iam::{STAGING_ACCOUNT}:oidc-provider/api.pulumi.com/oidc"
INFRA_PROD = {"project": "infra", "stack": "prod"}


def by_roles(roles: dict[str, Any], accounts: dict[str, Any] | None = None) -> Settings:
    """Form-B settings of ``acme`` with ``roles``, and ``accounts`` when given."""
    return settings(roles=roles, **({} if accounts is None else {"accounts": accounts}))


@dataclass
class Routes:
    """The AWS provider each resource and each look-up went through, by provider name."""

    resources: dict[tuple[str, str], str] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)


def _provider_name(reference: str) -> str:
    """The logical name of the provider in ``urn::id``, or :data:`DEFAULT_PROVIDER` for none."""
    return reference.rpartition("::")[0].rpartition("::")[2] if reference else DEFAULT_PROVIDER


@pytest.fixture
def routes(monkeypatch: pytest.MonkeyPatch) -> Routes:
    """Records the provider reference of every resource and call the mocks receive."""
    seen = Routes()

    class RoutedMocks(offline.OfflineMocks):
        def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
            seen.calls.append((args.token, _provider_name(args.provider or "")))
            return super().call(args)

        def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
            seen.resources[(args.typ, args.name)] = _provider_name(args.provider or "")
            return super().new_resource(args)

    monkeypatch.setattr(offline, "OfflineMocks", RoutedMocks)
    return seen


def account_of(arn: str) -> str:
    return arn.split(":")[4]


def federated(role: offline.RecordedResource) -> set[str]:
    return {s["Principal"]["Federated"] for s in json.loads(role.inputs["assumeRolePolicy"])["Statement"]}


THREE_ACCOUNTS = {
    "accounts": {
        "prod": {"assumeRole": PROD_ASSUME_ROLE},
        "staging": {"profile": "staging", "id": STAGING_ACCOUNT, "oidcProvider": {"arn": STAGING_PROVIDER_ARN}},
        "tools": {},
    },
    "roles": {
        "deploy": {"account": "prod", "deployments": [INFRA_PROD]},
        "staging": {"account": "staging", "deployments": [{"project": "infra", "stack": "staging"}]},
        "tools": {"account": "tools", "environments": [{"project": "aws", "name": "tools"}]},
    },
}


def test_each_account_with_assume_role_or_profile_gets_a_top_level_aws_provider() -> None:
    recording = run_component(by_roles(**THREE_ACCOUNTS), existing_client_ids=["acme"])

    providers = {r.name: r for r in recording.of_type(AWS_PROVIDER)}
    assert sorted(providers) == ["pulumi-cloud-aws-prod", "pulumi-cloud-aws-staging"]
    assert {r.parent_urn for r in providers.values()} == {None}
    prod, staging = providers["pulumi-cloud-aws-prod"].inputs, providers["pulumi-cloud-aws-staging"].inputs
    assert json.loads(prod["assumeRoles"]) == [PROD_ASSUME_ROLE]
    assert json.loads(prod["allowedAccountIds"]) == [PROD_ACCOUNT]
    assert "profile" not in prod
    assert staging["profile"] == "staging"
    assert json.loads(staging["allowedAccountIds"]) == [STAGING_ACCOUNT]
    assert "assumeRoles" not in staging


def test_every_resource_and_look_up_of_an_account_goes_through_its_aws_provider(routes: Routes) -> None:
    recording = run_component(by_roles(**THREE_ACCOUNTS), existing_client_ids=["acme"])

    prod, staging = "pulumi-cloud-aws-prod", "pulumi-cloud-aws-staging"
    aws_resources = {name: via for (type_, name), via in routes.resources.items() if type_.startswith("aws:")}
    assert aws_resources == {
        "pulumi-cloud-prod-provider": prod,
        "pulumi-cloud-deploy-role": prod,
        "pulumi-cloud-deploy-policy-aws/ReadOnlyAccess": prod,
        "pulumi-cloud-staging-role": staging,
        "pulumi-cloud-staging-policy-aws/ReadOnlyAccess": staging,
        "pulumi-cloud-tools-provider": DEFAULT_PROVIDER,
        "pulumi-cloud-tools-role": DEFAULT_PROVIDER,
        "pulumi-cloud-tools-policy-aws/ReadOnlyAccess": DEFAULT_PROVIDER,
    }
    aws_calls = sorted(call for call in routes.calls if call[0].startswith("aws:"))
    partition, caller = "aws:index/getPartition:getPartition", "aws:index/getCallerIdentity:getCallerIdentity"
    assert aws_calls == sorted(
        [
            *((partition, via) for via in (prod, staging, DEFAULT_PROVIDER)),
            *((caller, via) for via in (prod, staging, DEFAULT_PROVIDER)),
            ("aws:iam/getOpenIdConnectProvider:getOpenIdConnectProvider", staging),
        ]
    )
    # The mocks derive each provider's account from its inputs: the ARNs show the account each resource is in.
    roles = {r.name: r for r in recording.of_type(ROLE)}
    assert {name: account_of(r.outputs["arn"]) for name, r in roles.items()} == {
        "pulumi-cloud-deploy-role": PROD_ACCOUNT,
        "pulumi-cloud-staging-role": STAGING_ACCOUNT,
        "pulumi-cloud-tools-role": testing.PLACEHOLDER_ACCOUNT,
    }
    created = {r.name: r.outputs["arn"] for r in recording.of_type(PROVIDER)}
    assert {name: account_of(arn) for name, arn in created.items()} == {
        "pulumi-cloud-prod-provider": PROD_ACCOUNT,
        "pulumi-cloud-tools-provider": testing.PLACEHOLDER_ACCOUNT,
    }
    assert federated(roles["pulumi-cloud-deploy-role"]) == {created["pulumi-cloud-prod-provider"]}
    assert federated(roles["pulumi-cloud-staging-role"]) == {STAGING_PROVIDER_ARN}
    assert federated(roles["pulumi-cloud-tools-role"]) == {created["pulumi-cloud-tools-provider"]}


TOOLS_WITH_ID = {
    "accounts": {"prod": {"assumeRole": PROD_ASSUME_ROLE}, "tools": {"id": "999999999999"}},
    "roles": {
        "deploy": {"account": "prod", "deployments": [INFRA_PROD]},
        "tools": {"account": "tools", "deployments": [{"project": "tools", "stack": "prod"}]},
    },
}
"""The tools account, on the default provider, must be 999999999999."""


def test_an_account_id_the_credentials_do_not_reach_fails_before_any_iam_or_cloud_resource() -> None:
    recording = offline.Recording()

    with pytest.raises(ConfigError) as raised:
        run_component(by_roles(**TOOLS_WITH_ID), recording=recording)

    [issue] = raised.value.issues
    assert issue.path == "accounts.tools.id"
    assert "'999999999999'" in issue.message
    assert f"reach account {testing.PLACEHOLDER_ACCOUNT}" in issue.message
    assert [r.type for r in recording.resources] == [AWS_PROVIDER]


def test_an_account_id_the_credentials_reach_holds_its_roles() -> None:
    recording = run_component(by_roles(**TOOLS_WITH_ID), account_id="999999999999")

    assert account_of(recording.named("pulumi-cloud-tools-role").outputs["arn"]) == "999999999999"
    assert account_of(recording.named("pulumi-cloud-deploy-role").outputs["arn"]) == PROD_ACCOUNT


def test_each_created_provider_registers_the_union_of_its_roles_audiences() -> None:
    configured = by_roles(
        accounts={
            "prod": {"assumeRole": PROD_ASSUME_ROLE, "oidcProvider": {"audiences": ["other-org"]}},
            "dev": {"profile": "dev"},
        },
        roles={
            "deploy": {"account": "prod", "deployments": [INFRA_PROD]},
            "esc": {"account": "prod", "environments": [{"project": "aws", "name": "prod"}]},
            "dev": {"account": "dev", "environments": [{"project": "aws", "name": "dev"}]},
        },
    )

    recording = run_component(configured)

    client_ids = {r.name: r.inputs["clientIdLists"] for r in recording.of_type(PROVIDER)}
    assert client_ids == {
        "pulumi-cloud-prod-provider": ["acme", "aws:acme", "other-org"],
        "pulumi-cloud-dev-provider": ["aws:acme"],
    }


def test_each_role_depends_on_its_own_accounts_provider_only() -> None:
    configured = by_roles(
        accounts={
            "prod": {"assumeRole": PROD_ASSUME_ROLE},
            "dev": {"profile": "dev"},
            "staging": {"profile": "staging", "id": STAGING_ACCOUNT, "oidcProvider": {"arn": STAGING_PROVIDER_ARN}},
        },
        roles={
            "deploy": {"account": "prod", "deployments": [INFRA_PROD]},
            "preview": {"account": "prod", "deployments": [{"project": "infra", "stack": "*"}]},
            "dev": {"account": "dev", "environments": [{"project": "aws", "name": "dev"}]},
            "staging": {"account": "staging", "deployments": [{"project": "infra", "stack": "staging"}]},
        },
    )

    recording = run_component(configured, existing_client_ids=["acme"])

    providers = {r.name for r in recording.of_type(PROVIDER)}
    waits_for = {r.name: sorted(set(r.dependencies) & providers) for r in recording.of_type(ROLE)}
    assert waits_for == {
        "pulumi-cloud-deploy-role": ["pulumi-cloud-prod-provider"],
        "pulumi-cloud-preview-role": ["pulumi-cloud-prod-provider"],
        "pulumi-cloud-dev-role": ["pulumi-cloud-dev-provider"],
        "pulumi-cloud-staging-role": [],
    }


def test_moving_a_stack_to_another_role_keeps_its_deployment_settings_logical_name() -> None:
    accounts = {"prod": {"assumeRole": PROD_ASSUME_ROLE}, "ops": {"profile": "ops"}}
    web = {"project": "web", "stack": "dev"}
    before = by_roles(
        accounts=accounts,
        roles={
            "deploy": {"account": "prod", "deployments": [INFRA_PROD]},
            "ops": {"account": "ops", "deployments": [web]},
        },
    )
    after = by_roles(
        accounts=accounts,
        roles={
            "deploy": {"account": "prod", "deployments": [{**INFRA_PROD, "manageSettings": False}]},
            "ops": {"account": "ops", "deployments": [web, INFRA_PROD]},
        },
    )

    settings_before = run_component(before).named("pulumi-cloud-deploy-infra/prod", DEPLOYMENT_SETTINGS)
    moved = run_component(after)
    settings_after = moved.named("pulumi-cloud-deploy-infra/prod", DEPLOYMENT_SETTINGS)

    assert settings_after.urn == settings_before.urn
    assert (settings_before.parent, settings_after.parent) == ("pulumi-cloud-deploy", "pulumi-cloud-ops")
    role_arn = settings_after.inputs["operationContext"]["oidc"]["aws"]["roleARN"]
    assert role_arn == moved.named("pulumi-cloud-ops-role").outputs["arn"]
    assert settings_before.inputs["operationContext"]["oidc"]["aws"]["roleARN"] != role_arn


@pytest.mark.parametrize(
    ("entries", "kinds", "paths"),
    [
        pytest.param(
            {"deployments": [{"project": "*", "stack": "*"}]}, "stack", ["roles.wide.deployments[0]"], id="stacks"
        ),
        pytest.param(
            {"environments": [{"project": "default", "name": "*"}]},
            "environment",
            ["roles.wide.environments[0]"],
            id="default-project-names",
        ),
        pytest.param(
            {
                "deployments": [INFRA_PROD, {"project": "**", "stack": "*", "operations": ["preview"]}],
                "environments": [{"project": "default", "name": "*"}],
            },
            "stack and environment",
            ["roles.wide.deployments[1]", "roles.wide.environments[0]"],
            id="both",
        ),
    ],
)
@pytest.mark.parametrize(
    ("policy_arns", "shown"),
    [
        pytest.param(None, ["arn:aws:iam::aws:policy/ReadOnlyAccess"], id="default-policy"),
        pytest.param(
            ["arn:aws:iam::aws:policy/PowerUserAccess", "arn:aws:iam::123456789012:policy/team/Deploy"],
            ["arn:aws:iam::aws:policy/PowerUserAccess", "arn:aws:iam::123456789012:policy/team/Deploy"],
            id="given-policies",
        ),
    ],
)
def test_org_wide_trust_warns_with_the_role_path_and_its_policies(
    entries: dict[str, Any], kinds: str, paths: list[str], policy_arns: list[str] | None, shown: list[str]
) -> None:
    wide: dict[str, Any] = {**entries, **({"policyArns": policy_arns} if policy_arns else {})}
    narrow = {
        "deployments": [{"project": "infra", "stack": "*", "manageSettings": False}],
        "environments": [{"project": "default", "name": "team-*"}, {"project": "aws", "name": "*"}],
    }

    recording = run_component(by_roles({"wide": wide, "narrow": narrow}))

    [warning] = [w for w in recording.warnings if "trusts every" in w]
    assert warning.startswith(f"roles.wide: the role trusts every {kinds} of acme ({', '.join(paths)})")
    assert f"with the permissions of {', '.join(shown)}:" in warning
    assert "roles.narrow" not in " ".join(recording.warnings)


def test_org_wide_trust_warns_in_form_a_under_the_role_key() -> None:
    recording = run_component(settings(deployments=[{"project": "*", "stack": "*"}]))

    [warning] = recording.warnings
    assert warning.startswith("role: the role trusts every stack of acme (deployments[0])")
    assert "arn:aws:iam::aws:policy/ReadOnlyAccess" in warning


def test_a_trust_policy_over_its_accounts_quota_fails_at_the_role_before_any_account_is_read() -> None:
    many = [{"project": "infra", "stack": f"stack-{n}", "manageSettings": False} for n in range(8)]
    configured = by_roles(
        accounts={"prod": {"assumeRole": PROD_ASSUME_ROLE, "trustPolicyMaxChars": 500}, "dev": {"profile": "dev"}},
        roles={
            "big": {"account": "prod", "deployments": many},
            "small": {"account": "prod", "deployments": [many[0]]},
            "dev": {"account": "dev", "deployments": many},
        },
    )
    big = next(r for r in configured.roles if r.key == "big")
    admitted = trust.admissions("acme", big.deployments, big.environments)
    size = len(trust.render(trust.trust_policy(ISSUER, claims.provider_arn("aws", PROD_ACCOUNT, ISSUER), admitted)))
    recording = offline.Recording()

    with pytest.raises(ConfigError) as raised:
        run_component(configured, recording=recording)

    [issue] = raised.value.issues
    assert issue.path == "roles.big"
    assert f"would be at least {size} characters, {size - 500} over accounts.prod.trustPolicyMaxChars (500)" in (
        issue.message
    )
    assert recording.resources == []
    assert recording.calls == []


def test_form_b_stack_outputs_map_roles_providers_stacks_and_environments() -> None:
    configured = by_roles(
        accounts={"prod": {"assumeRole": PROD_ASSUME_ROLE}, "tools": {}},
        roles={
            "deploy": {"account": "prod", "name": "deploy", "deployments": [INFRA_PROD]},
            "esc": {"account": "tools", "environments": [{"project": "aws", "name": "dev"}]},
        },
    )

    def program() -> None:
        for name, value in organization.PulumiCloudOidc("pulumi-cloud", configured).stack_outputs.items():
            pulumi.export(name, value)

    recording = offline.run_program(program, {})

    outputs = recording.outputs
    assert sorted(outputs) == ["deploymentStacks", "environments", "oidcProviders", "roles"]
    prod_provider = claims.provider_arn("aws", PROD_ACCOUNT, ISSUER)
    assert outputs["oidcProviders"] == {
        "prod": prod_provider,
        "tools": claims.provider_arn("aws", testing.PLACEHOLDER_ACCOUNT, ISSUER),
    }
    assert outputs["roles"]["deploy"] == {
        "arn": f"arn:aws:iam::{PROD_ACCOUNT}:role/deploy",
        "name": "deploy",
        "account": "prod",
        "trustPolicy": recording.named("pulumi-cloud-deploy-role").inputs["assumeRolePolicy"],
    }
    assert outputs["roles"]["esc"]["account"] == "tools"
    assert outputs["deploymentStacks"] == {"acme/infra/prod": "deploy"}
    assert outputs["environments"] == {"acme/aws/dev": "esc"}


def test_two_account_keys_whose_credentials_reach_one_account_fail_before_anything_is_declared() -> None:
    recording = offline.Recording()
    configured = by_roles(
        {
            "deploy": {"account": "main", "deployments": [{"project": "infra", "stack": "prod"}]},
            "ops": {"account": "prod", "environments": [{"project": "aws", "name": "prod"}]},
        },
        accounts={
            "main": {},
            "prod": {"assumeRole": {"roleArn": f"arn:aws:iam::{testing.PLACEHOLDER_ACCOUNT}:role/Admin"}},
        },
    )

    with pytest.raises(ConfigError) as raised:
        run_component(configured, recording=recording)

    [issue] = raised.value.issues
    assert issue.path == "accounts.prod"
    assert f"reaches account {testing.PLACEHOLDER_ACCOUNT}, as accounts.main does" in issue.message
    assert [r.type for r in recording.resources] == ["pulumi:providers:aws"]
