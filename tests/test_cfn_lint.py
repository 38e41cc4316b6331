"""The IAM inputs the program declares, checked by cfn-lint against AWS's CloudFormation schemas.

Only errors (rule IDs starting with ``E``) fail a test; warnings and informational findings
are shown in the assertion message.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

import cfnlint.version
import pytest

from oidc.cli import offline
from oidc.model import ConfigError, Settings
from tests import certs
from tests import cloudformation as cf
from tests.conftest import PROJECT_DIR, run_component, settings

CERTIFICATES = certs.wire_certificates(certs.chain(1).leaf_first())
EXISTING_ARN = "arn:aws:iam::210987654321:oidc-provider/api.pulumi.com/oidc"


def settings_or_error(**values: Any) -> Settings | ConfigError:
    try:
        return settings(**values)
    except ConfigError as error:
        return error


def dev_stack() -> offline.Recording:
    return offline.run_stack(offline.read_stack_config(PROJECT_DIR, "dev"), preview=False, certificates=CERTIFICATES)


def errors(findings: list[cf.Finding]) -> list[cf.Finding]:
    return [finding for finding in findings if finding.is_error]


def report(findings: list[cf.Finding]) -> str:
    return "cfn-lint findings:\n" + "\n".join(f"  {finding}" for finding in findings)


def test_logical_ids_are_alphanumeric_camel_case_of_the_pulumi_names() -> None:
    assert cf.logical_id("pulumi-cloud-role") == "PulumiCloudRole"
    assert cf.logical_id("pulumi-cloud-provider") == "PulumiCloudProvider"
    assert cf.logical_id("pulumi-cloud-policy-aws/ReadOnlyAccess") == "PulumiCloudPolicyAwsReadOnlyAccess"
    assert cf.logical_id("1st_role") == "R1stRole"


def test_dev_stack_template_holds_the_provider_and_the_role_with_its_attached_policies() -> None:
    recording = dev_stack()
    role = recording.of_type(cf.ROLE)[0]

    document = cf.template(recording.resources)

    assert document == {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "PulumiCloudProvider": {
                "Type": "AWS::IAM::OIDCProvider",
                "Properties": {
                    "Url": "https://api.pulumi.com/oidc",
                    "ClientIdList": ["acme", "aws:acme"],
                    "ThumbprintList": [certs.sha1_fingerprint(certs.chain(1).top)],
                },
            },
            "PulumiCloudRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": json.loads(role.inputs["assumeRolePolicy"]),
                    "Path": "/",
                    "Description": "Assumed by Pulumi Cloud for acme through OIDC",
                    "MaxSessionDuration": 3600,
                    "ManagedPolicyArns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
                },
                "DependsOn": ["PulumiCloudProvider"],
            },
        },
    }


def test_role_with_every_setting_maps_each_to_its_cloudformation_property() -> None:
    recording = run_component(
        settings(
            role={
                "name": "pulumi-cloud",
                "path": "/ci/",
                "description": "Pulumi Cloud",
                "permissionsBoundary": "arn:aws:iam::123456789012:policy/boundary",
                "maxSessionDuration": "12h",
                "tags": {"team": "platform", "cost-center": "42"},
                "policyArns": [
                    "arn:aws:iam::aws:policy/ReadOnlyAccess",
                    "arn:aws:iam::123456789012:policy/team/Deploy",
                ],
            }
        ),
        certificates=CERTIFICATES,
    )

    properties = cf.template(recording.resources)["Resources"]["PulumiCloudRole"]["Properties"]

    assert {key: value for key, value in properties.items() if key != "AssumeRolePolicyDocument"} == {
        "RoleName": "pulumi-cloud",
        "Path": "/ci/",
        "Description": "Pulumi Cloud",
        "PermissionsBoundary": "arn:aws:iam::123456789012:policy/boundary",
        "MaxSessionDuration": 43200,
        "Tags": [{"Key": "cost-center", "Value": "42"}, {"Key": "team", "Value": "platform"}],
        "ManagedPolicyArns": ["arn:aws:iam::123456789012:policy/team/Deploy", "arn:aws:iam::aws:policy/ReadOnlyAccess"],
    }


def test_dev_stack_iam_inputs_have_no_cfn_lint_errors() -> None:
    findings = cf.lint(cf.template(dev_stack().resources))

    assert errors(findings) == [], report(findings)


VALID = {
    "role-with-every-setting": {
        "role": {
            "name": "pulumi-cloud",
            "path": "/ci/pulumi/",
            "description": "Assumed by Pulumi Cloud (acme) - deployments & ESC",
            "permissionsBoundary": "arn:aws:iam::123456789012:policy/boundary",
            "maxSessionDuration": "12h",
            "tags": {"team": "platform", "Owner": "jane.doe@example.com", "path": "a b/c:d=e+f-g_h@i.j"},
            "policyArns": ["arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::123456789012:policy/team/Deploy"],
        },
        "deployments": [{"project": "infra", "stack": "prod", "duration": "12h"}],
    },
    "patterns": {
        "deployments": [
            {"project": "infra", "stack": "review-*"},
            {"project": "app-?", "stack": "*", "operations": ["preview", "update"]},
        ],
        "environments": [{"project": "aws", "name": "team-*"}],
    },
    "default-project-environments": {
        "deployments": [],
        "environments": [{"project": "default", "name": "legacy"}, {"project": "default", "name": "old-?"}],
    },
    "explicit-thumbprints": {
        "oidcProvider": {"thumbprints": ["9E99A48A9960B14926BB7F3B02E22DA2B0AB7280", "a" * 40]},
    },
    "no-thumbprints": {"oidcProvider": {"thumbprints": []}},
    "extra-audiences-and-unprotected": {
        "oidcProvider": {"audiences": ["other-org", "aws:other-org"], "protect": False}
    },
    "custom-issuer": {"issuer": "https://pulumi.example.com/oidc"},
    "every-operation-listed": {
        "deployments": [
            {"project": "infra", "stack": "prod", "operations": ["preview", "update", "refresh", "destroy"]}
        ],
        "environments": [{"project": "aws", "name": "dev"}, {"project": "aws", "name": "prod"}],
        "trustPolicyMaxChars": 4096,
    },
    "roles-in-two-accounts": {
        "accounts": {
            "prod": {"trustPolicyMaxChars": 4096},
            "stage": {"assumeRole": {"roleArn": "arn:aws:iam::210987654321:role/OrganizationAccountAccessRole"}},
        },
        "roles": {
            "deploy": {"account": "prod", "name": "pulumi-deploy", "deployments": [{"project": "infra", "stack": "*"}]},
            "read": {
                "account": "prod",
                "name": "pulumi-read",
                "maxSessionDuration": "4h",
                "environments": [{"project": "aws", "name": "dev"}],
            },
            "stage": {"account": "stage", "deployments": [{"project": "infra", "stack": "stage"}]},
        },
    },
}


@pytest.mark.parametrize("values", VALID.values(), ids=VALID.keys())
def test_valid_config_iam_inputs_have_no_cfn_lint_errors(values: dict[str, Any]) -> None:
    recording = run_component(settings(**values), certificates=CERTIFICATES)

    findings = cf.lint(cf.template(recording.resources))

    assert errors(findings) == [], report(findings)


def test_reused_provider_leaves_only_the_role_and_it_has_no_cfn_lint_errors() -> None:
    recording = run_component(
        settings(oidcProvider={"arn": EXISTING_ARN}),
        account_id=EXISTING_ARN.split(":")[4],
        existing_client_ids=["acme", "aws:acme"],
    )
    document = cf.template(recording.resources)

    findings = cf.lint(document)

    assert [entry["Type"] for entry in document["Resources"].values()] == ["AWS::IAM::Role"]
    assert errors(findings) == [], report(findings)


def test_preview_leaves_the_unknown_thumbprint_out_and_has_no_cfn_lint_errors() -> None:
    recording = offline.run_stack(offline.read_stack_config(PROJECT_DIR, "dev"), preview=True)
    document = cf.template(recording.resources)

    findings = cf.lint(document)

    assert "ThumbprintList" not in document["Resources"]["PulumiCloudProvider"]["Properties"]
    assert errors(findings) == [], report(findings)


def with_inputs(
    recording: offline.Recording, type_: str, change: Callable[[dict[str, Any]], dict[str, Any]]
) -> list[offline.RecordedResource]:
    return [
        dataclasses.replace(r, inputs=change(dict(r.inputs))) if r.type == type_ else r for r in recording.resources
    ]


def policy_change(change: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def apply(inputs: dict[str, Any]) -> dict[str, Any]:
        document = json.loads(inputs["assumeRolePolicy"])
        change(document)
        return {**inputs, "assumeRolePolicy": json.dumps(document)}

    return apply


BROKEN = {
    "max-session-duration-over-12h": (
        cf.ROLE,
        lambda inputs: {**inputs, "maxSessionDuration": 99999},
        {("E3034", "Resources/PulumiCloudRole/Properties/MaxSessionDuration")},
    ),
    "max-session-duration-under-1h": (
        cf.ROLE,
        lambda inputs: {**inputs, "maxSessionDuration": 900},
        {("E3034", "Resources/PulumiCloudRole/Properties/MaxSessionDuration")},
    ),
    "thumbprint-not-sha1-hex": (
        cf.PROVIDER,
        lambda inputs: {**inputs, "thumbprintLists": ["zz"]},
        {
            ("E3031", "Resources/PulumiCloudProvider/Properties/ThumbprintList/0"),
            ("E3033", "Resources/PulumiCloudProvider/Properties/ThumbprintList/0"),
        },
    ),
    "six-thumbprints": (
        cf.PROVIDER,
        lambda inputs: {**inputs, "thumbprintLists": [f"{digit}" * 40 for digit in "012345"]},
        {("E3032", "Resources/PulumiCloudProvider/Properties/ThumbprintList")},
    ),
    "client-id-too-long": (
        cf.PROVIDER,
        lambda inputs: {**inputs, "clientIdLists": ["x" * 256]},
        {("E3033", "Resources/PulumiCloudProvider/Properties/ClientIdList/0")},
    ),
    "trust-policy-version": (
        cf.ROLE,
        policy_change(lambda document: document.update(Version="2011-10-17")),
        {("E3530", "Resources/PulumiCloudRole/Properties/AssumeRolePolicyDocument/Version")},
    ),
    "trust-policy-effect": (
        cf.ROLE,
        policy_change(lambda document: document["Statement"][0].update(Effect="Permit")),
        {("E3530", "Resources/PulumiCloudRole/Properties/AssumeRolePolicyDocument/Statement/0/Effect")},
    ),
    "role-path-without-slashes": (
        cf.ROLE,
        lambda inputs: {**inputs, "path": "ci"},
        {("E3031", "Resources/PulumiCloudRole/Properties/Path")},
    ),
    "role-name-too-long": (
        cf.ROLE,
        lambda inputs: {**inputs, "name": "r" * 65},
        {("E3033", "Resources/PulumiCloudRole/Properties/RoleName")},
    ),
    "tag-value-with-ampersand": (
        cf.ROLE,
        lambda inputs: {**inputs, "tags": {"cost-center": "R&D"}},
        {("E3031", "Resources/PulumiCloudRole/Properties/Tags/0/Value")},
    ),
}


@pytest.mark.parametrize(("type_", "change", "expected"), BROKEN.values(), ids=BROKEN.keys())
def test_broken_iam_input_gives_the_expected_cfn_lint_errors(
    type_: str, change: Callable[[dict[str, Any]], dict[str, Any]], expected: set[tuple[str, str]]
) -> None:
    for rule in sorted({rule for rule, _ in expected if not cf.has_rule(rule)}):
        pytest.skip(f"cfn-lint {cfnlint.version.__version__} has no rule {rule}")
    findings = cf.lint(cf.template(with_inputs(dev_stack(), type_, change)))

    found = {(finding.rule, "/".join(str(part) for part in finding.path)) for finding in errors(findings)}
    assert found == expected, report(findings)


@pytest.mark.parametrize("tags", [{"cost-center": "R&D"}, {"team!": "platform"}], ids=["value", "key"])
def test_role_tags_that_settings_accept_pass_iams_tag_schema(tags: dict[str, str]) -> None:
    loaded = settings_or_error(role={"tags": tags})

    if isinstance(loaded, ConfigError):
        assert [issue.path for issue in loaded.issues] == [f"role.tags.{next(iter(tags))}"]
    else:
        findings = cf.lint(cf.template(run_component(loaded, certificates=CERTIFICATES).resources))
        assert errors(findings) == [], report(findings)
