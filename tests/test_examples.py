from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import pulumi
import yaml
from pulumi.provider.experimental.component import ComponentProvider

from oidc import offline, package, trust
from tests.conftest import PROJECT_DIR
from tests.test_policy import all_violations

EXAMPLES = PROJECT_DIR / "examples"
PROVIDER_ARN = "arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/oidc"
ISSUER = "https://api.pulumi.com/oidc"
ROLE = "aws:iam/role:Role"
LOOKUP = "aws:iam/getOpenIdConnectProvider:getOpenIdConnectProvider"


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


def test_two_roles_creates_one_provider_and_two_roles_with_distinct_names() -> None:
    recording = two_roles()

    [provider] = recording.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    assert provider.name == "prod-provider"
    assert provider.outputs["arn"] == PROVIDER_ARN
    roles = {r.name: r.inputs["name"] for r in recording.of_type(ROLE)}
    assert roles == {"prod-role": "pulumi-deploy-infra-prod", "previews-role": "pulumi-preview-infra"}
    names = [r.name for r in recording.resources]
    assert len(names) == len(set(names))


def test_two_roles_previews_role_trusts_the_provider_prod_creates_once_it_exists() -> None:
    recording = two_roles()

    for role in ("prod-role", "previews-role"):
        statements = policy_of(recording, role)["Statement"]
        assert {s["Principal"]["Federated"] for s in statements} == {PROVIDER_ARN}, role
    assert LOOKUP not in [token for token, _ in recording.calls]
    assert "prod-provider" in recording.named("previews").dependencies
    assert recording.named("previews-role").parent == "previews"


def test_two_roles_deploy_role_admits_every_operation_of_infra_prod_only() -> None:
    policy = policy_of(two_roles(), "prod-role")

    assert admits(policy, "infra", "prod", "update")
    assert admits(policy, "infra", "prod", "destroy")
    assert admits(policy, "infra", "prod", "preview")
    assert not admits(policy, "infra", "staging", "update")
    assert not admits(policy, "web", "prod", "update")
    assert not admits(policy, "infra", "prod", "update", org="contoso")


def test_two_roles_previews_role_admits_previews_of_infra_stacks_only() -> None:
    policy = policy_of(two_roles(), "previews-role")

    assert admits(policy, "infra", "staging", "preview")
    assert admits(policy, "infra", "prod", "preview")
    assert not admits(policy, "infra", "staging", "update")
    assert not admits(policy, "infra", "prod", "destroy")
    assert not admits(policy, "web", "dev", "preview")
    assert not admits(policy, "infra", "dev", "preview", org="acme-malicious")


def test_two_roles_permissions_are_power_user_for_prod_and_read_only_for_previews() -> None:
    recording = two_roles()

    assert attachments(recording, "prod") == ["arn:aws:iam::aws:policy/PowerUserAccess"]
    assert attachments(recording, "previews") == ["arn:aws:iam::aws:policy/ReadOnlyAccess"]


def test_two_roles_manages_only_infra_prod_settings_with_the_deploy_role() -> None:
    recording = two_roles()

    [settings] = recording.of_type("pulumiservice:index:DeploymentSettings")
    assert (settings.inputs["project"], settings.inputs["stack"]) == ("infra", "prod")
    assert settings.inputs["operationContext"]["oidc"]["aws"]["roleARN"] == recording.outputs["deployRoleArn"]
    assert settings.inputs["sourceContext"]["git"]["repoUrl"] == "https://github.com/acme/infra.git"
    assert recording.outputs["previewRoleArn"] == recording.named("previews-role").outputs["arn"]


def test_two_roles_passes_the_policy_pack() -> None:
    assert all_violations(two_roles(), {"allowedOrganizations": ["acme"]}) == []


# --- the same in Pulumi YAML, through the package -------------------------------------------


def yaml_example() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((EXAMPLES / "two-roles-yaml" / "Pulumi.yaml").read_text("utf-8"))
    return document


def resolved(value: Any, variables: dict[str, str]) -> Any:
    """``value`` with the example's ``${variable.property}`` interpolations replaced, as Pulumi YAML would."""
    if isinstance(value, dict):
        return {key: resolved(item, variables) for key, item in value.items()}
    if isinstance(value, list):
        return [resolved(item, variables) for item in value]
    if isinstance(value, str):
        return re.sub(r"\$\{([^}]+)\}", lambda match: variables[match[1]], value)
    return value


def test_yaml_two_roles_uses_the_package_from_this_repository() -> None:
    document = yaml_example()

    assert document["packages"] == {"pulumi-aws-oidc": "../../provider"}
    assert (EXAMPLES / "two-roles-yaml" / document["packages"]["pulumi-aws-oidc"] / "PulumiPlugin.yaml").is_file()
    resources = document["resources"]
    assert {r["type"] for r in resources.values()} == {"pulumi-aws-oidc:index:PulumiCloudOidc"}
    assert resources["previews"]["options"]["dependsOn"] == ["${prod}"]


def test_yaml_two_roles_declares_what_the_python_example_declares() -> None:
    document = yaml_example()
    variables = {"partition.partition": "aws", "caller.accountId": "123456789012"}
    provider = ComponentProvider([package.PulumiCloudOidc], package.PACKAGE_NAME)

    def program() -> None:
        for name, resource in document["resources"].items():
            inputs = resolved(resource["properties"], variables)
            provider.construct(name, resource["type"], inputs, pulumi.ResourceOptions())

    recording = offline.run_program(program, {})

    python = two_roles()
    for role in ("prod-role", "previews-role"):
        assert recording.named(role).inputs == python.named(role).inputs, role
    for parent in ("prod", "previews"):
        assert attachments(recording, parent) == attachments(python, parent), parent
    assert len(recording.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider")) == 1
    assert LOOKUP not in [token for token, _ in recording.calls]
