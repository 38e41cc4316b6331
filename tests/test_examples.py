from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import pulumi
import pytest
import yaml
from pulumi.provider.experimental.component import ComponentProvider

from oidc import cli, package, trust
from oidc.cli import offline
from oidc.components import organization
from oidc.components.provider import PROVIDER_TYPE
from tests.conftest import PROJECT_DIR
from tests.policy_helpers import all_violations

EXAMPLES = PROJECT_DIR / "examples"
PROVIDER_ARN = "arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/oidc"
ISSUER = "https://api.pulumi.com/oidc"
PROVIDER = "aws:iam/openIdConnectProvider:OpenIdConnectProvider"
ROLE = "aws:iam/role:Role"
LOOKUP = "aws:iam/getOpenIdConnectProvider:getOpenIdConnectProvider"
DEPLOY, PREVIEW = "pulumi-cloud-deploy", "pulumi-cloud-preview"
"""The role components of the examples' one PulumiCloudOidc, ``pulumi-cloud``."""


@cache
def two_roles() -> offline.Recording:
    """The Python example, run as `pulumi up` would run it with its dev stack."""
    return offline.run_stack(offline.read_stack_config(EXAMPLES / "two-roles", "dev"), preview=False)


def policy_of(recording: offline.Recording, role: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(recording.named(role).inputs["assumeRolePolicy"])
    return document


def admits(policy: dict[str, Any], project: str, stack: str, operation: str, org: str = "acme") -> bool:
    sub = f"pulumi:deploy:org:{org}:project:{project}:stack:{stack}:operation:{operation}:scope:write"
    return trust.evaluate(policy, {"iss": ISSUER, "aud": org, "sub": sub}).allowed


def attachments(recording: offline.Recording, parent: str) -> list[str]:
    return sorted(
        r.inputs["policyArn"]
        for r in recording.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if r.parent == parent
    )


def shape(recording: offline.Recording) -> list[tuple[Any, ...]]:
    """Every resource a recording declared, comparable across runs."""
    return sorted(
        (r.urn, r.parent_urn, r.protect, offline.plain(dict(r.inputs)), r.dependencies, r.aliases)
        for r in recording.resources
    )


def test_two_roles_is_one_component_with_one_provider_and_two_roles_with_distinct_names() -> None:
    recording = two_roles()

    [top] = [r for r in recording.resources if r.parent_urn is None]
    assert (top.type, top.name) == (organization.TYPE, "pulumi-cloud")
    assert sorted(r.name for r in recording.children(top)) == sorted(["pulumi-cloud", DEPLOY, PREVIEW])
    assert [r.name for r in recording.of_type(PROVIDER_TYPE)] == ["pulumi-cloud"]
    [provider] = recording.of_type(PROVIDER)
    assert provider.outputs["arn"] == PROVIDER_ARN
    roles = {r.name: r.inputs["name"] for r in recording.of_type(ROLE)}
    assert roles == {f"{DEPLOY}-role": "pulumi-deploy-infra-prod", f"{PREVIEW}-role": "pulumi-preview-infra"}
    urns = [r.urn for r in recording.resources]
    assert len(urns) == len(set(urns))
    assert recording.of_type("pulumi:providers:aws") == []


def test_two_roles_both_trust_the_one_provider_and_wait_for_it() -> None:
    recording = two_roles()

    [provider] = recording.of_type(PROVIDER)
    for role in (f"{DEPLOY}-role", f"{PREVIEW}-role"):
        statements = policy_of(recording, role)["Statement"]
        assert {s["Principal"]["Federated"] for s in statements} == {PROVIDER_ARN}, role
        assert provider.name in recording.named(role).dependencies, role
    assert LOOKUP not in [token for token, _ in recording.calls]
    assert recording.outputs["oidcProviders"] == {"default": PROVIDER_ARN}


def test_two_roles_deploy_role_admits_every_operation_of_infra_prod_only() -> None:
    policy = policy_of(two_roles(), f"{DEPLOY}-role")

    assert admits(policy, "infra", "prod", "update")
    assert admits(policy, "infra", "prod", "destroy")
    assert admits(policy, "infra", "prod", "preview")
    assert not admits(policy, "infra", "staging", "update")
    assert not admits(policy, "web", "prod", "update")
    assert not admits(policy, "infra", "prod", "update", org="contoso")


def test_two_roles_preview_role_admits_previews_of_infra_stacks_only() -> None:
    policy = policy_of(two_roles(), f"{PREVIEW}-role")

    assert admits(policy, "infra", "staging", "preview")
    assert admits(policy, "infra", "prod", "preview")
    assert not admits(policy, "infra", "staging", "update")
    assert not admits(policy, "infra", "prod", "destroy")
    assert not admits(policy, "web", "dev", "preview")
    assert not admits(policy, "infra", "dev", "preview", org="acme-malicious")


def test_two_roles_permissions_are_power_user_for_deploy_and_read_only_for_preview() -> None:
    recording = two_roles()

    assert attachments(recording, DEPLOY) == ["arn:aws:iam::aws:policy/PowerUserAccess"]
    assert attachments(recording, PREVIEW) == ["arn:aws:iam::aws:policy/ReadOnlyAccess"]


def test_two_roles_manages_only_infra_prod_settings_with_the_deploy_role() -> None:
    recording = two_roles()

    [settings] = recording.of_type("pulumiservice:index:DeploymentSettings")
    assert settings.name == "pulumi-cloud-deploy-infra/prod"
    assert settings.parent == DEPLOY
    assert (settings.inputs["project"], settings.inputs["stack"]) == ("infra", "prod")
    roles = recording.outputs["roles"]
    assert settings.inputs["operationContext"]["oidc"]["aws"]["roleARN"] == roles["deploy"]["arn"]
    assert settings.inputs["sourceContext"]["git"]["repoUrl"] == "https://github.com/acme/infra.git"
    assert roles["preview"]["arn"] == recording.named(f"{PREVIEW}-role").outputs["arn"]
    assert recording.outputs["deploymentStacks"] == {"acme/infra/prod": "deploy"}
    # Under mocks the guard reads nothing, and says so in a note; the one warning is that the deploy role, with
    # PowerUserAccess, goes to whoever may run a deployment of infra/prod.
    [warning] = recording.warnings
    assert warning.startswith("roles.deploy: anyone who may run a deployment of a stack it trusts (infra/prod)")
    assert [note.partition(":")[0] for note in recording.notes] == ["not guarded"]


def test_two_roles_passes_the_policy_pack() -> None:
    assert all_violations(two_roles(), {"allowedOrganizations": ["acme"]}) == []


# --- the same in Pulumi YAML, through the package -------------------------------------------


def yaml_example() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((EXAMPLES / "two-roles-yaml" / "Pulumi.yaml").read_text("utf-8"))
    return document


def test_yaml_two_roles_uses_the_package_from_this_repository_as_one_component() -> None:
    document = yaml_example()

    assert document["packages"] == {"pulumi-aws-oidc": "../../provider"}
    assert (EXAMPLES / "two-roles-yaml" / document["packages"]["pulumi-aws-oidc"] / "PulumiPlugin.yaml").is_file()
    [(name, resource)] = document["resources"].items()
    assert (name, resource["type"]) == ("pulumi-cloud", organization.TYPE)
    assert sorted(resource["properties"]["roles"]) == ["deploy", "preview"]
    assert "options" not in resource
    assert "${" not in json.dumps(resource["properties"])


def test_yaml_two_roles_outputs_name_outputs_of_the_package() -> None:
    document = yaml_example()
    provider = ComponentProvider([package.PulumiCloudOidc], package.PACKAGE_NAME, version=package.PACKAGE_VERSION)
    assert provider.schema is not None
    outputs = json.loads(provider.schema)["resources"][organization.TYPE]["properties"]

    for key, expression in document["outputs"].items():
        match = re.fullmatch(r"\$\{([\w-]+)\.(\w+)\}", expression)
        assert match, key
        assert match[1] in document["resources"], key
        assert match[2] in outputs, key


def test_yaml_two_roles_declares_what_the_python_example_declares() -> None:
    document = yaml_example()
    provider = ComponentProvider([package.PulumiCloudOidc], package.PACKAGE_NAME)

    def program() -> None:
        for name, resource in document["resources"].items():
            provider.construct(name, resource["type"], resource["properties"], pulumi.ResourceOptions())

    recording = offline.run_program(program, {})

    assert shape(recording) == shape(two_roles())


def test_the_python_example_can_be_planned_with_a_section_per_role(capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["plan", "--cwd", str(EXAMPLES / "two-roles")])
    out = capsys.readouterr().out

    assert code == cli.EXIT_OK
    assert [line.partition(":")[0] for line in out.splitlines() if line.startswith("  Role ")] == [
        "  Role deploy",
        "  Role preview",
    ]
    assert out.count("characters (trustPolicyMaxChars)") == 2
