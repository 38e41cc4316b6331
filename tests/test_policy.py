from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pytest
from pulumi_policy import EnforcementLevel, PolicyResource, StackValidationArgs

from oidc import esc
from oidc.cli import offline
from policy import policies
from tests import certs
from tests.conftest import PROJECT_DIR, run_component, settings
from tests.policy_helpers import (
    all_violations,
    policy_options,
    policy_resources,
    resource_violations,
    stack_violations,
)

PROVIDER_ARN = "arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/oidc"
STAGE_ADMIN_ROLE = "arn:aws:iam::210987654321:role/OrganizationAccountAccessRole"


VALID_CONFIGS = {
    "default": {},
    "patterns": {
        "deployments": [{"project": "infra", "stack": "review-*"}, {"project": "apps", "stack": "prod"}],
        "environments": [{"project": "aws", "name": "team-*"}, {"project": "default", "name": "legacy"}],
    },
    "long-sessions": {
        "role": {"maxSessionDuration": "4h", "policyArns": ["arn:aws:iam::aws:policy/PowerUserAccess"]},
        "deployments": [{"project": "infra", "stack": "prod", "duration": "4h", "operations": ["update"]}],
        "environments": [{"project": "aws", "name": "dev", "duration": "2h", "policyArns": []}],
    },
    "reused-provider": {"oidcProvider": {"arn": PROVIDER_ARN}, "environments": [{"project": "aws", "name": "dev"}]},
    "roles-in-two-accounts": {
        "accounts": {"prod": {}, "stage": {"assumeRole": {"roleArn": STAGE_ADMIN_ROLE}}},
        "roles": {
            "deploy": {
                "account": "prod",
                "maxSessionDuration": "2h",
                "deployments": [{"project": "infra", "stack": "prod", "duration": "2h"}],
            },
            "read": {
                "account": "stage",
                "deployments": [{"project": "infra", "stack": "*"}],
                "environments": [{"project": "aws", "name": "dev", "duration": "1h"}],
            },
        },
    },
}


def test_the_shipped_dev_stack_passes_every_policy() -> None:
    chain = certs.wire_certificates(certs.chain(1).leaf_first())
    recording = offline.run_stack(offline.read_stack_config(PROJECT_DIR, "dev"), preview=False, certificates=chain)

    assert all_violations(recording, {"allowedOrganizations": ["acme"]}) == []


@pytest.mark.parametrize("values", VALID_CONFIGS.values(), ids=VALID_CONFIGS.keys())
def test_what_the_program_declares_passes_every_policy(values: dict[str, Any]) -> None:
    chain = certs.wire_certificates(certs.chain(1).leaf_first())
    recording = run_component(settings(**values), existing_client_ids=["acme", "aws:acme"], certificates=chain)

    assert all_violations(recording) == []


def role(statement_changes: Mapping[str, Any], drop: Sequence[str] = ()) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Sid": "Deployments",
        "Effect": "Allow",
        "Principal": {"Federated": PROVIDER_ARN},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {
            "StringEquals": {"api.pulumi.com/oidc:aud": "acme"},
            "StringLike": {"api.pulumi.com/oidc:sub": "pulumi:deploy:org:acme:project:infra:stack:prod:*"},
        },
        **statement_changes,
    }
    for key in drop:
        del statement[key]
    return {"assumeRolePolicy": json.dumps({"Version": "2012-10-17", "Statement": [statement]})}


def role_violations(props: dict[str, Any], config: Mapping[str, Any] | None = None) -> list[str]:
    return resource_violations("pulumi-oidc-role-trust", policies.ROLE, props, config)


def test_a_narrow_role_passes() -> None:
    assert role_violations(role({})) == []


def test_string_like_on_aud_is_a_violation() -> None:
    condition = {
        "StringLike": {
            "api.pulumi.com/oidc:aud": "acme*",
            "api.pulumi.com/oidc:sub": "pulumi:deploy:org:acme:project:infra:stack:prod:*",
        }
    }

    assert role_violations(role({"Condition": condition})) == [
        "Deployments: api.pulumi.com/oidc:aud is not pinned with StringEquals",
        "Deployments: api.pulumi.com/oidc:aud is matched with StringLike; use StringEquals, as Pulumi sends one "
        "exact audience",
    ]


def test_no_sub_is_a_violation() -> None:
    condition = {"StringEquals": {"api.pulumi.com/oidc:aud": "acme"}}

    [violation] = role_violations(role({"Condition": condition}))

    assert "no api.pulumi.com/oidc:sub condition" in violation


@pytest.mark.parametrize(
    "subject",
    [
        "*",
        "pulumi:deploy:org:acme:*",
        "pulumi:deploy:org:acme:project:*",
        "pulumi:environments:pulumi.organization.login:acme:currentEnvironment.name:*",
        "pulumi:environments:org:acme:env:*",
        "pulumi:deploy:org:*:project:infra:stack:prod:*",
        "pulumi:deploy:org:acme:project:?*",
        "pulumi:deploy:org:acme:project:*:stack:*:operation:*:scope:write",
        "pulumi:environments:pulumi.organization.login:acme:currentEnvironment.name:*/*",
    ],
)
def test_wildcard_subjects_are_violations(subject: str) -> None:
    condition = {
        "StringEquals": {"api.pulumi.com/oidc:aud": "acme"},
        "StringLike": {"api.pulumi.com/oidc:sub": subject},
    }

    [violation] = role_violations(role({"Condition": condition}))

    assert subject in violation


def test_the_literal_yaml_subject_is_org_wide_even_when_exact() -> None:
    condition = {
        "StringEquals": {
            "api.pulumi.com/oidc:aud": "aws:acme",
            "api.pulumi.com/oidc:sub": "pulumi:environments:org:acme:env:<yaml>",
        }
    }

    [violation] = role_violations(role({"Condition": condition}))

    assert "trusts every stack or environment of 'acme'" in violation


def test_a_project_pattern_with_a_named_stack_passes() -> None:
    condition = {
        "StringEquals": {"api.pulumi.com/oidc:aud": "acme"},
        "StringLike": {
            "api.pulumi.com/oidc:sub": "pulumi:deploy:org:acme:project:*:stack:prod:operation:*:scope:write"
        },
    }

    assert role_violations(role({"Condition": condition})) == []


def test_without_allowed_organizations_sub_must_name_the_organization_aud_pins() -> None:
    condition = {
        "StringEquals": {"api.pulumi.com/oidc:aud": "acme"},
        "StringLike": {"api.pulumi.com/oidc:sub": "pulumi:deploy:org:evil:project:infra:stack:prod:*"},
    }

    [violation] = role_violations(role({"Condition": condition}))

    assert "trusts organization 'evil', which is not allowed (allowed: acme)" in violation


@pytest.mark.parametrize("principal", ["*", {"Federated": "*"}, {"Federated": ["*", PROVIDER_ARN]}])
def test_a_principal_open_to_any_identity_provider_is_a_violation(principal: Any) -> None:
    assert role_violations(role({"Principal": principal})) == [
        "Deployments: Principal trusts any identity provider, Pulumi Cloud's among them"
    ]


@pytest.mark.parametrize("condition", ["x", {"StringEquals": ["x"]}])
def test_a_malformed_condition_is_a_violation_not_a_crash(condition: Any) -> None:
    [violation] = role_violations(role({"Condition": condition}))

    assert violation.startswith("Deployments: Condition is not a map of operators to keys")


def test_not_action_is_a_violation() -> None:
    [violation] = role_violations(role({"NotAction": "iam:*"}, drop=["Action"]))

    assert violation.startswith("Deployments: Action must be exactly sts:AssumeRoleWithWebIdentity, got null")


def test_org_wide_subjects_pass_when_the_pack_allows_them() -> None:
    condition = {
        "StringEquals": {"api.pulumi.com/oidc:aud": "acme"},
        "StringLike": {"api.pulumi.com/oidc:sub": "pulumi:deploy:org:acme:*"},
    }

    assert role_violations(role({"Condition": condition}), {"allowOrgWideSubjects": True}) == []


def test_a_foreign_organization_is_a_violation() -> None:
    violations = role_violations(role({}), {"allowedOrganizations": ["contoso"]})

    assert violations == [
        "Deployments: api.pulumi.com/oidc:aud value 'acme' is not <org> or aws:<org> of an allowed organization",
        "Deployments: sub 'pulumi:deploy:org:acme:project:infra:stack:prod:*' trusts organization 'acme', which is "
        "not allowed (allowed: contoso)",
    ]


def test_any_other_action_is_a_violation() -> None:
    [violation] = role_violations(role({"Action": ["sts:AssumeRoleWithWebIdentity", "sts:TagSession"]}))

    assert violation.startswith("Deployments: Action must be exactly sts:AssumeRoleWithWebIdentity")


def test_roles_that_do_not_trust_pulumi_cloud_are_not_judged() -> None:
    github = {"Federated": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"}

    assert role_violations(role({"Principal": github, "Condition": {}})) == []


def provider_violations(props: dict[str, Any], config: Mapping[str, Any] | None = None) -> list[str]:
    return resource_violations("pulumi-oidc-provider", policies.PROVIDER, props, config)


def test_provider_with_bad_thumbprint_and_audience_is_a_violation() -> None:
    props = {
        "url": "https://api.pulumi.com/oidc",
        "clientIdLists": ["acme", "Acme"],
        "thumbprintLists": ["zz"],
    }

    assert provider_violations(props) == [
        "thumbprint 'zz' is not a SHA-1 fingerprint (40 hex digits)",
        "client ID 'Acme' is not <org> or aws:<org> of an allowed organization",
    ]


def test_provider_of_an_allowed_org_passes() -> None:
    props = {"url": "https://api.pulumi.com/oidc", "clientIdLists": ["acme", "aws:acme"], "thumbprintLists": ["a" * 40]}

    assert provider_violations(props, {"allowedOrganizations": ["acme"]}) == []


def environment(oidc: dict[str, Any]) -> dict[str, Any]:
    definition = {"values": {"aws": {"login": {"fn::open::aws-login": {"oidc": oidc}}}}}
    return {"yaml": pulumi.StringAsset(esc.render(definition))}


def test_environment_without_subject_attributes_or_duration_is_a_violation() -> None:
    violations = resource_violations(
        "pulumi-esc-aws-login", policies.ENVIRONMENT, environment({"roleArn": "arn", "sessionName": "s"})
    )

    assert len(violations) == 2
    assert violations[0].startswith("values.aws.login: oidc sets no subjectAttributes")
    assert violations[1].startswith("values.aws.login: oidc sets no duration, so aws-login asks for 2h")


def test_session_longer_than_its_roles_maximum_is_a_violation() -> None:
    values = {
        "role": {"maxSessionDuration": "2h"},
        "deployments": [
            {"project": "infra", "stack": "prod", "duration": "2h", "source": {"repoUrl": "u", "branch": "b"}}
        ],
        "environments": [{"project": "aws", "name": "dev", "duration": "90m"}],
    }
    resources = policy_resources(run_component(settings(**values)))
    assert stack_violations(resources) == []

    [role_resource] = [r for r in resources if r.resource_type == policies.ROLE]
    role_resource.props = {**role_resource.props, "maxSessionDuration": 3600}

    assert sorted(stack_violations(resources)) == [
        "pulumi-cloud-deploy-infra/prod asks for a 2h session of role pulumi-cloud-role, whose maxSessionDuration "
        "is 3600 seconds: STS would refuse it",
        "pulumi-cloud-env-aws/dev asks for a 1h30m session of role pulumi-cloud-role, whose maxSessionDuration is "
        "3600 seconds: STS would refuse it",
    ]


def test_environment_without_duration_counts_as_two_hours() -> None:
    role_resource = PolicyResource(
        policies.ROLE, {"name": "ci"}, "urn:role", "ci", policy_options(), None, None, [], {}
    )
    env = environment({"roleArn": "arn:aws:iam::123456789012:role/ci", "sessionName": "s"})
    env_resource = PolicyResource(policies.ENVIRONMENT, env, "urn:env", "env", policy_options(), None, None, [], {})

    [violation] = stack_violations([role_resource, env_resource])

    assert violation.startswith("env asks for a 2h session of role ci")


def test_every_policy_is_exported_with_a_unique_name() -> None:
    names = [policy.name for policy in policies.POLICIES]

    assert len(names) == len(set(names)) == 5


# --- require-environment-teams -----------------------------------------------------------------


def teams_violations(recording: offline.Recording) -> list[str]:
    policy = policies_by_name()["require-environment-teams"]
    found: list[str] = []
    policy.validate(StackValidationArgs(policy_resources(recording)), lambda message, urn: found.append(message))
    return found


def policies_by_name() -> dict[str, Any]:
    return {policy.name: policy for policy in policies.POLICIES}


def test_require_environment_teams_is_off_by_default() -> None:
    assert policies_by_name()["require-environment-teams"].enforcement_level == EnforcementLevel.DISABLED


def test_a_credential_environment_without_teams_is_flagged_and_one_with_a_team_passes() -> None:
    environments = [
        {"project": "aws", "name": "bare"},
        {"project": "aws", "name": "granted", "teams": {"ops": "open"}},
        {"project": "aws", "name": "team-*"},
    ]
    recording = run_component(settings(environments=environments))

    [violation] = teams_violations(recording)
    assert violation.startswith("pulumi-cloud-env-aws/bare (acme/aws/bare) logs in to AWS but no team is granted it")


def test_an_environment_that_does_not_log_in_to_aws_is_not_judged() -> None:
    recording = offline.Recording()
    recording.resources.append(
        offline.RecordedResource(
            "pulumiservice:index:Environment",
            "plain",
            None,
            False,
            {"organization": "acme", "project": "app", "name": "config", "yaml": "values:\n  region: us-west-2\n"},
            {},
        )
    )

    assert teams_violations(recording) == []
