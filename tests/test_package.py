from __future__ import annotations

import json
import re
import select
import subprocess
import sys
from typing import Any

import grpc
import pulumi
import pytest
import yaml
from google.protobuf import empty_pb2
from packaging.version import Version
from pulumi.provider.experimental.component import ComponentProvider
from pulumi.provider.server import ComponentInitError
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from oidc import claims, package, settings
from oidc.cli import docs, offline
from oidc.components import organization
from oidc.model import ConfigError, Secret
from oidc.settings import load_settings, models
from tests import certs
from tests.conftest import PROJECT_DIR

TOKEN = "pulumi-aws-oidc:index:PulumiCloudOidc"
OUTPUTS = ["roles", "oidcProviders", "deploymentStackRoles", "environmentRoles"]
"""The package's outputs, in both forms (form A's stack outputs stay those of docs.OUTPUTS)."""
OUTPUT_ATTRIBUTES = ("roles", "oidc_providers", "deployment_stack_roles", "environment_roles")
EXISTING_ACCOUNT = "210987654321"
EXISTING_ARN = f"arn:aws:iam::{EXISTING_ACCOUNT}:oidc-provider/api.pulumi.com/oidc"
LOOKUP = "aws:iam/getOpenIdConnectProvider:getOpenIdConnectProvider"
ISSUER = "https://api.pulumi.com/oidc"
PROD_ACCOUNT = "111111111111"

ARGS: package.PulumiCloudOidcArgs = {
    "organization": "acme",
    "oidc_provider": {"audiences": ["other-org"], "protect": False},
    "role": {
        "name": "pulumi-cloud",
        "path": "/ci/",
        "policy_arns": ["arn:aws:iam::aws:policy/PowerUserAccess"],
        "max_session_duration": "2h",
        "tags": {"cost_center": "platform", "Team": "infra"},
    },
    "deployments": [
        {
            "project": "infra",
            "stack": "prod",
            "operations": ["preview", "update"],
            "session_name": "deploy-prod",
            "duration": "90m",
            "source": {"repo_url": "https://github.com/acme/infra.git", "branch": "main", "repo_dir": "stacks"},
        },
        {"project": "infra", "stack": "*", "operations": ["preview"]},
        {"project": "web", "stack": "dev", "manage_settings": False},
    ],
    "environments": [
        {
            "project": "aws",
            "name": "dev",
            "region": "eu-west-1",
            "policy_arns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
        },
        {"project": "default", "name": "legacy"},
    ],
    "trust_policy_max_chars": 4096,
}
"""Every argument, in snake_case."""

CONFIG: dict[str, Any] = {
    "organization": "acme",
    "oidcProvider": {"audiences": ["other-org"], "protect": False},
    "role": {
        "name": "pulumi-cloud",
        "path": "/ci/",
        "policyArns": ["arn:aws:iam::aws:policy/PowerUserAccess"],
        "maxSessionDuration": "2h",
        "tags": {"cost_center": "platform", "Team": "infra"},
    },
    "deployments": [
        {
            "project": "infra",
            "stack": "prod",
            "operations": ["preview", "update"],
            "sessionName": "deploy-prod",
            "duration": "90m",
            "source": {"repoUrl": "https://github.com/acme/infra.git", "branch": "main", "repoDir": "stacks"},
        },
        {"project": "infra", "stack": "*", "operations": ["preview"]},
        {"project": "web", "stack": "dev", "manageSettings": False},
    ],
    "environments": [
        {
            "project": "aws",
            "name": "dev",
            "region": "eu-west-1",
            "policyArns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
        },
        {"project": "default", "name": "legacy"},
    ],
    "trustPolicyMaxChars": 4096,
}
"""The same, as the admin stack's config (and as another Pulumi language sends it)."""

ARGS_B: package.PulumiCloudOidcArgs = {
    "organization": "acme",
    "accounts": {
        "prod": {
            "id": PROD_ACCOUNT,
            "assume_role": {
                "role_arn": f"arn:aws:iam::{PROD_ACCOUNT}:role/OrganizationAccountAccessRole",
                "session_name": "pulumi-admin",
                "external_id": "acme-admin",
            },
            "region": "eu-west-1",
            "oidc_provider": {"audiences": ["other-org"], "protect": False},
            "trust_policy_max_chars": 4096,
        },
        "tools": {"oidc_provider": {"arn": EXISTING_ARN}},
    },
    "roles": {
        "deploy": {
            "account": "prod",
            "name": "pulumi-deploy",
            "policy_arns": ["arn:aws:iam::aws:policy/PowerUserAccess"],
            "max_session_duration": "2h",
            "tags": {"cost_center": "platform", "Team": "infra"},
            "deployments": [
                {
                    "project": "infra",
                    "stack": "prod",
                    "session_name": "deploy-prod",
                    "duration": "90m",
                    "source": {"repo_url": "https://github.com/acme/infra.git", "branch": "main"},
                }
            ],
        },
        "preview": {
            "account": "prod",
            "deployments": [{"project": "infra", "stack": "*", "operations": ["preview"]}],
            "environments": [{"project": "aws", "name": "dev", "region": "eu-west-1"}],
        },
        "legacy": {"account": "tools", "environments": [{"project": "default", "name": "legacy"}]},
    },
}
"""Form B: every argument of accounts and roles, in snake_case."""

CONFIG_B: dict[str, Any] = {
    "organization": "acme",
    "accounts": {
        "prod": {
            "id": PROD_ACCOUNT,
            "assumeRole": {
                "roleArn": f"arn:aws:iam::{PROD_ACCOUNT}:role/OrganizationAccountAccessRole",
                "sessionName": "pulumi-admin",
                "externalId": "acme-admin",
            },
            "region": "eu-west-1",
            "oidcProvider": {"audiences": ["other-org"], "protect": False},
            "trustPolicyMaxChars": 4096,
        },
        "tools": {"oidcProvider": {"arn": EXISTING_ARN}},
    },
    "roles": {
        "deploy": {
            "account": "prod",
            "name": "pulumi-deploy",
            "policyArns": ["arn:aws:iam::aws:policy/PowerUserAccess"],
            "maxSessionDuration": "2h",
            "tags": {"cost_center": "platform", "Team": "infra"},
            "deployments": [
                {
                    "project": "infra",
                    "stack": "prod",
                    "sessionName": "deploy-prod",
                    "duration": "90m",
                    "source": {"repoUrl": "https://github.com/acme/infra.git", "branch": "main"},
                }
            ],
        },
        "preview": {
            "account": "prod",
            "deployments": [{"project": "infra", "stack": "*", "operations": ["preview"]}],
            "environments": [{"project": "aws", "name": "dev", "region": "eu-west-1"}],
        },
        "legacy": {"account": "tools", "environments": [{"project": "default", "name": "legacy"}]},
    },
}
"""Form B, as the admin stack's config."""

FORMS = [pytest.param(ARGS, CONFIG, id="form-a"), pytest.param(ARGS_B, CONFIG_B, id="form-b")]
MOCKS: dict[str, Any] = {"account_id": EXISTING_ACCOUNT, "existing_client_ids": ["acme", "aws:acme"]}
"""Mock options under which both forms run: form B's tools account uses the default provider, whose
account holds EXISTING_ARN; form A's provider is created there."""


def schema() -> dict[str, Any]:
    provider = ComponentProvider([package.PulumiCloudOidc], package.PACKAGE_NAME, version=package.PACKAGE_VERSION)
    assert provider.schema is not None
    parsed: dict[str, Any] = json.loads(provider.schema)
    return parsed


def shape(recording: offline.Recording) -> list[tuple[Any, ...]]:
    """What a recording declared, comparable across runs (resources register in no fixed order)."""
    return sorted(
        (r.name, r.type, r.parent, r.protect, offline.plain(dict(r.inputs)), r.dependencies)
        for r in recording.resources
    )


def run_typed(args: Any, **mock_options: Any) -> offline.Recording:
    return offline.run_program(lambda: package.PulumiCloudOidc("pulumi-cloud", args), {}, **mock_options)


def run_settings(config: dict[str, Any], **mock_options: Any) -> offline.Recording:
    loaded = load_settings(config)
    return offline.run_program(lambda: organization.PulumiCloudOidc("pulumi-cloud", loaded), {}, **mock_options)


# --- the inferred schema --------------------------------------------------------------------


def test_schema_has_the_component_under_the_existing_type_token() -> None:
    inferred = schema()

    assert inferred["name"] == "pulumi-aws-oidc"
    assert list(inferred["resources"]) == [TOKEN]
    assert organization.TYPE == TOKEN
    resource = inferred["resources"][TOKEN]
    assert resource["isComponent"] is True
    assert resource["description"].startswith("Lets Pulumi Deployments and Pulumi ESC assume AWS roles")


def test_schema_inputs_are_the_config_keys_described_and_plain() -> None:
    resource = schema()["resources"][TOKEN]

    inputs = resource["inputProperties"]
    assert list(inputs) == list(settings.KEYS)
    assert resource["requiredInputs"] == ["organization"]
    for name, prop in inputs.items():
        assert prop.get("description"), name
        assert prop["plain"] is True, name


def test_the_schemas_types_are_the_models_each_with_its_keys_required_ones_and_descriptions() -> None:
    inferred = schema()
    resource = inferred["resources"][TOKEN]
    used = {key.inner for key in docs.declared_keys() if key.inner is not None}

    assert sorted(inferred["types"]) == sorted(f"pulumi-aws-oidc:index:{docs.package_name(m)}" for m in used)
    for model in [models.Program, *used]:
        assert model is not None
        if model is models.Program:
            properties, required = resource["inputProperties"], resource.get("requiredInputs", [])
        else:
            spec = inferred["types"][f"pulumi-aws-oidc:index:{docs.package_name(model)}"]
            properties, required = spec["properties"], spec.get("required", [])
            assert spec["description"] == (model.__doc__ or "").strip(), model.__name__
        assert list(properties) == [str(info.alias) for info in model.model_fields.values()], model.__name__
        assert sorted(required) == sorted(str(i.alias) for i in model.model_fields.values() if i.is_required())
        for name, prop in properties.items():
            assert prop.get("description"), f"{model.__name__}.{name}"


def test_schema_marks_the_keys_config_requires_as_required() -> None:
    types = schema()["types"]

    def required(name: str) -> list[str]:
        found: list[str] = types[f"pulumi-aws-oidc:index:{name}"].get("required", [])
        return found

    assert required("OidcProvider") == []
    assert required("Role") == []
    assert required("Deployment") == ["project", "stack"]
    assert required("Environment") == ["name", "project"]
    assert required("GitSource") == ["branch", "repoUrl"]
    assert required("Account") == []
    assert required("AssumeRole") == ["roleArn"]
    assert required("AccountRole") == []


def test_schema_outputs_are_the_packages_outputs_described() -> None:
    resource = schema()["resources"][TOKEN]

    assert list(resource["properties"]) == OUTPUTS
    assert sorted(resource["required"]) == sorted(OUTPUTS)
    for name, prop in resource["properties"].items():
        assert prop.get("description"), name


def test_provider_entry_point_serves_the_schema_over_grpc() -> None:
    process = subprocess.Popen(
        [sys.executable, str(PROJECT_DIR / "provider"), "127.0.0.1:1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd="/",
    )
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 60)
        line = process.stdout.readline() if ready else b""
        assert line.strip().isdigit(), f"the provider printed no port: {line!r}"
        port = int(line)
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = provider_pb2_grpc.ResourceProviderStub(channel)
            served = json.loads(stub.GetSchema(provider_pb2.GetSchemaRequest(version=0), timeout=30).schema)
            info = stub.GetPluginInfo(empty_pb2.Empty(), timeout=30)
    finally:
        process.terminate()
        process.communicate(timeout=30)

    assert served == schema()
    assert info.version == package.PACKAGE_VERSION


def test_plugin_manifest_runs_the_provider_in_the_repositorys_virtualenv() -> None:
    manifest = yaml.safe_load((PROJECT_DIR / "provider" / "PulumiPlugin.yaml").read_text(encoding="utf-8"))

    assert manifest["runtime"] == {"name": "python", "options": {"toolchain": "pip", "virtualenv": "../.venv"}}
    assert (PROJECT_DIR / "provider" / "__main__.py").is_file()
    requirements = (PROJECT_DIR / "provider" / "requirements.txt").read_text(encoding="utf-8").splitlines()
    assert "-r ../requirements.txt" in requirements


def test_provider_facing_module_keeps_its_annotations_as_types() -> None:
    annotated = [
        package.PulumiCloudOidc,
        package.PulumiCloudOidcArgs,
        package.OidcProvider,
        package.Role,
        package.Deployment,
        package.GitSource,
        package.Environment,
        package.Account,
        package.AssumeRole,
        package.AccountRole,
    ]

    for cls in annotated:
        strings = [name for name, value in cls.__annotations__.items() if isinstance(value, str)]
        assert strings == [], cls.__name__
    assert package.PulumiCloudOidc.__init__.__annotations__["args"] is package.PulumiCloudOidcArgs


# --- typed arguments from Python -------------------------------------------------------------


@pytest.mark.parametrize(("args", "config"), FORMS)
def test_typed_args_declare_what_the_component_declares_for_the_same_config(
    args: package.PulumiCloudOidcArgs, config: dict[str, Any]
) -> None:
    chain = certs.wire_certificates(certs.chain(1).leaf_first())
    typed = run_typed(args, certificates=chain, **MOCKS)
    direct = run_settings(config, certificates=chain, **MOCKS)

    assert shape(typed) == shape(direct)
    assert [r.type for r in typed.resources].count("pulumiservice:index:Environment") == 2


@pytest.mark.parametrize(("args", "config"), FORMS)
def test_typed_args_become_the_settings_the_config_loader_makes(
    args: package.PulumiCloudOidcArgs, config: dict[str, Any]
) -> None:
    assert package.to_settings(args) == load_settings(config)


def test_form_b_args_reach_the_accounts_provider_and_the_roles() -> None:
    recording = run_typed(ARGS_B, **MOCKS)

    [provider] = recording.of_type("pulumi:providers:aws")
    assert provider.name == "pulumi-cloud-aws-prod"
    assert json.loads(provider.inputs["assumeRoles"]) == [
        {
            "roleArn": f"arn:aws:iam::{PROD_ACCOUNT}:role/OrganizationAccountAccessRole",
            "sessionName": "pulumi-admin",
            "externalId": "acme-admin",
        }
    ]
    assert provider.inputs["region"] == "eu-west-1"
    roles = {r.name: r.outputs["arn"] for r in recording.of_type("aws:iam/role:Role")}
    assert roles["pulumi-cloud-deploy-role"] == f"arn:aws:iam::{PROD_ACCOUNT}:role/pulumi-deploy"
    assert roles["pulumi-cloud-legacy-role"].split(":")[4] == EXISTING_ACCOUNT
    [created] = recording.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    assert created.name == "pulumi-cloud-prod-provider"
    assert created.inputs["clientIdLists"] == ["acme", "aws:acme", "other-org"]
    assert created.protect is False


@pytest.mark.parametrize(
    ("args", "role"),
    [
        pytest.param(ARGS, "pulumi-cloud-role", id="form-a"),
        pytest.param(ARGS_B, "pulumi-cloud-deploy-role", id="form-b"),
    ],
)
def test_role_tag_keys_are_kept_as_given(args: package.PulumiCloudOidcArgs, role: str) -> None:
    recording = run_typed(args, **MOCKS)

    assert recording.named(role).inputs["tags"] == {"cost_center": "platform", "Team": "infra"}


def test_account_and_role_keys_are_kept_as_given() -> None:
    loaded = package.to_settings(
        {
            "organization": "acme",
            "accounts": {"prod-eu": {"profile": "prod_eu"}},
            "roles": {"deploy-eu": {"account": "prod-eu", "deployments": [{"project": "infra", "stack": "prod"}]}},
        }
    )

    assert [a.key for a in loaded.accounts] == ["prod-eu"]
    assert [(r.key, r.account) for r in loaded.roles] == [("deploy-eu", "prod-eu")]
    assert loaded.accounts[0].profile == "prod_eu"


def test_a_role_keyed_tags_has_its_argument_names_turned_into_config_keys() -> None:
    loaded = package.to_settings(
        {
            "organization": "acme",
            "roles": {
                "tags": {
                    "policy_arns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
                    "tags": {"cost_center": "platform"},
                    "deployments": [{"project": "infra", "stack": "prod"}],
                }
            },
        }
    )

    [role] = loaded.roles
    assert (role.key, role.policy_arns, dict(role.tags)) == (
        "tags",
        ("arn:aws:iam::aws:policy/ReadOnlyAccess",),
        {"cost_center": "platform"},
    )


def _output_values(args: package.PulumiCloudOidcArgs, **mock_options: Any) -> tuple[dict[str, Any], offline.Recording]:
    seen: dict[str, Any] = {}

    def program() -> None:
        access = package.PulumiCloudOidc("pulumi-cloud", args)
        for name in OUTPUT_ATTRIBUTES:
            seen[name] = getattr(access, name)
        pulumi.export("values", pulumi.Output.all(**seen))

    recording = offline.run_program(program, {}, **mock_options)

    assert all(isinstance(value, pulumi.Output) for value in seen.values())
    values: dict[str, Any] = recording.outputs["values"]
    return values, recording


def test_form_a_outputs_are_outputs_with_the_declared_values() -> None:
    values, recording = _output_values(ARGS)

    assert values["roles"] == {
        "default": {
            "arn": "arn:aws:iam::123456789012:role/ci/pulumi-cloud",
            "name": "pulumi-cloud",
            "account": "default",
            "trustPolicy": recording.named("pulumi-cloud-role").inputs["assumeRolePolicy"],
        }
    }
    assert values["oidc_providers"] == {"default": "arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/oidc"}
    assert values["deployment_stack_roles"] == {"acme/infra/prod": "default"}
    assert values["environment_roles"] == {"acme/aws/dev": "default", "acme/default/legacy": "default"}


def test_form_b_outputs_are_outputs_with_the_declared_values() -> None:
    values, recording = _output_values(ARGS_B, **MOCKS)

    assert sorted(values["roles"]) == ["deploy", "legacy", "preview"]
    assert values["roles"]["deploy"] == {
        "arn": f"arn:aws:iam::{PROD_ACCOUNT}:role/pulumi-deploy",
        "name": "pulumi-deploy",
        "account": "prod",
        "trustPolicy": recording.named("pulumi-cloud-deploy-role").inputs["assumeRolePolicy"],
    }
    assert values["roles"]["legacy"]["account"] == "tools"
    assert values["oidc_providers"] == {
        "prod": claims.provider_arn("aws", PROD_ACCOUNT, ISSUER),
        "tools": EXISTING_ARN,
    }
    assert values["deployment_stack_roles"] == {"acme/infra/prod": "deploy"}
    assert values["environment_roles"] == {"acme/aws/dev": "preview", "acme/default/legacy": "legacy"}


def test_oidc_providers_output_is_the_arn_the_created_provider_gets() -> None:
    values, recording = _output_values(
        {"organization": "acme", "deployments": [{"project": "infra", "stack": "prod"}]},
        partition="aws-us-gov",
        account_id="111122223333",
    )

    expected = "arn:aws-us-gov:iam::111122223333:oidc-provider/api.pulumi.com/oidc"
    assert values["oidc_providers"] == {"default": expected}
    assert recording.named("pulumi-cloud-provider").outputs["arn"] == expected


def test_bad_args_raise_config_error_with_key_paths_and_declare_nothing() -> None:
    bad: Any = {
        "organization": "Acme",
        "role": {"max_session_duration": "13h", "polcy_arns": []},
        "deployments": [{"project": "infra", "stack": "prod", "duration": "1d", "source": {"branch": "main"}}],
    }
    recording = offline.Recording()

    with pytest.raises(ConfigError) as raised:
        offline.run_program(lambda: package.PulumiCloudOidc("pulumi-cloud", bad), {}, recording=recording)

    # Each at the path of the argument as the program wrote it, and blamed on the component, not a stack file.
    paths = [issue.path for issue in raised.value.issues]
    assert paths == [
        "organization",
        "role.max_session_duration",
        "role.polcy_arns",
        "deployments[0].duration",
        "deployments[0].source.repo_url",
    ]
    assert str(raised.value).startswith("invalid arguments of PulumiCloudOidc 'pulumi-cloud' (5 problems):")
    assert isinstance(raised.value, pulumi.RunError)  # printed by Pulumi without a traceback
    assert recording.resources == []
    assert recording.calls == []


def test_bad_args_get_the_config_loaders_own_messages() -> None:
    bad_args: Any = {"organization": "acme", "deployments": [{"project": "infra", "stack": "prod", "duration": "1d"}]}
    bad_config = {"organization": "acme", "deployments": [{"project": "infra", "stack": "prod", "duration": "1d"}]}

    with pytest.raises(ConfigError) as from_args:
        package.to_settings(bad_args)
    with pytest.raises(ConfigError) as from_config:
        load_settings(bad_config)

    assert from_args.value.issues == from_config.value.issues
    assert str(from_args.value) == str(from_config.value)


def test_args_that_are_not_a_dict_are_an_error() -> None:
    with pytest.raises(ConfigError) as raised:
        package.to_settings("acme")  # type: ignore[arg-type]

    assert [issue.path for issue in raised.value.issues] == ["args"]


def test_an_output_argument_is_an_error_at_its_key_path_and_only_there() -> None:
    recording = offline.Recording()

    def program() -> None:
        arn = pulumi.Output.from_input(EXISTING_ARN)
        package.PulumiCloudOidc(
            "pulumi-cloud",
            {
                "organization": "acme",
                "oidc_provider": {"arn": arn},  # type: ignore[typeddict-item]
                "deployments": [{"project": "infra", "stack": pulumi.Output.from_input("prod")}],  # type: ignore[typeddict-item]
            },
        )

    with pytest.raises(ConfigError) as raised:
        offline.run_program(program, {}, recording=recording)

    issues = raised.value.issues
    assert [issue.path for issue in issues] == ["oidc_provider.arn", "deployments[0].stack"]
    assert "got an Output" in issues[0].message
    assert "oidc_provider_arn" not in issues[0].message
    assert recording.resources == []


def test_reused_provider_is_looked_up() -> None:
    args: package.PulumiCloudOidcArgs = {
        "organization": "acme",
        "oidc_provider": {"arn": EXISTING_ARN},
        "deployments": [{"project": "infra", "stack": "prod"}],
    }

    recording = run_typed(args, **MOCKS)

    assert (LOOKUP, {"arn": EXISTING_ARN}) in recording.calls
    assert recording.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider") == []


@pytest.mark.parametrize(
    ("args", "path"),
    [
        pytest.param(
            {"oidc_provider": {"arn": EXISTING_ARN, "lookup": False}, "deployments": [{"project": "infra"}]},
            "oidcProvider.lookup",
            id="form-a",
        ),
        pytest.param(
            {
                "accounts": {"prod": {"profile": "prod", "oidc_provider": {"arn": EXISTING_ARN, "lookup": False}}},
                "roles": {"deploy": {"account": "prod", "deployments": [{"project": "infra"}]}},
            },
            "accounts.prod.oidcProvider.lookup",
            id="form-b",
        ),
    ],
)
def test_lookup_is_no_longer_an_argument(args: dict[str, Any], path: str) -> None:
    with pytest.raises(ConfigError) as raised:
        package.to_settings({"organization": "acme", **args})  # type: ignore[typeddict-item]

    issues = {issue.path: issue.message for issue in raised.value.issues}
    assert path in issues
    assert "unknown key" in issues[path]
    assert not hasattr(package, "oidc_provider_arn")
    assert "oidc_provider_arn" not in package.__all__


def test_bad_form_b_args_raise_config_error_with_camel_case_key_paths() -> None:
    bad: Any = {
        "organization": "acme",
        "accounts": {"prod": {"assume_role": {"role_arn": "nope"}, "trust_policy_max_chars": 9999}},
        "roles": {
            "deploy": {
                "account": "prod",
                "max_session_duration": "1h",
                "deployments": [{"project": "infra", "stack": "prod", "duration": "2h"}],
            }
        },
    }

    with pytest.raises(ConfigError) as raised:
        package.to_settings(bad)

    issues = {issue.path: issue.message for issue in raised.value.issues}
    assert set(issues) == {
        "accounts.prod.assumeRole.roleArn",
        "accounts.prod.trustPolicyMaxChars",
        "roles.deploy.deployments[0].duration",
    }
    assert "roles.deploy.maxSessionDuration" in issues["roles.deploy.deployments[0].duration"]


# --- the component as another Pulumi language constructs it ---------------------------------


def construct(inputs: dict[str, Any], **mock_options: Any) -> offline.Recording:
    provider = ComponentProvider([package.PulumiCloudOidc], package.PACKAGE_NAME, version=package.PACKAGE_VERSION)
    return offline.run_program(
        lambda: provider.construct("pulumi-cloud", TOKEN, inputs, pulumi.ResourceOptions()), {}, **mock_options
    )


@pytest.mark.parametrize("config", [CONFIG, CONFIG_B], ids=["form-a", "form-b"])
def test_component_provider_constructs_from_camel_case_inputs_what_the_component_declares(
    config: dict[str, Any],
) -> None:
    chain = certs.wire_certificates(certs.chain(1).leaf_first())
    remote = construct(config, certificates=chain, **MOCKS)
    direct = run_settings(config, certificates=chain, **MOCKS)

    assert shape(remote) == shape(direct)


def test_component_provider_reports_bad_inputs_with_key_paths_and_declares_nothing() -> None:
    recording = offline.Recording()
    provider = ComponentProvider([package.PulumiCloudOidc], package.PACKAGE_NAME, version=package.PACKAGE_VERSION)
    bad = {"organization": "acme", "deployments": [{"project": "infra", "stack": "prod", "duration": "13h"}]}

    with pytest.raises(ComponentInitError) as raised:
        offline.run_program(
            lambda: provider.construct("pulumi-cloud", TOKEN, bad, pulumi.ResourceOptions()), {}, recording=recording
        )

    assert isinstance(raised.value.inner, ConfigError)
    assert [issue.path for issue in raised.value.inner.issues] == ["deployments[0].duration"]
    assert recording.resources == []


def test_the_package_reports_the_next_release_while_the_changelog_lists_unreleased_changes() -> None:
    changelog = (PROJECT_DIR / "CHANGELOG.md").read_text(encoding="utf-8")
    sections = re.split(r"^## \[", changelog, flags=re.MULTILINE)[1:]
    releases = {section.split("]", 1)[0]: section for section in sections}
    latest = Version(next(name for name in releases if name != "Unreleased"))
    unreleased = re.search(r"^- ", releases.get("Unreleased", ""), flags=re.MULTILINE) is not None

    version = Version(package.PACKAGE_VERSION)
    if unreleased:
        # 0.x: a minor release holds the breaking changes; until it is cut, the package is its pre-release.
        assert (version.major, version.minor, version.micro) == (latest.major, latest.minor + 1, 0)
        assert version.is_prerelease
    else:
        assert version == latest


def test_deployment_settings_arguments_keep_variable_names_and_send_credentials_as_secrets() -> None:
    loaded = package.to_settings(
        {
            "organization": "acme",
            "deployments": [
                {
                    "project": "infra",
                    "stack": "prod",
                    "settings": {
                        "agent_pool_id": "pool-1",
                        "operation_context": {"environment_variables": {"MY_VAR": "x", "lower_case": "y"}},
                        "source_context": {
                            "git": {"branch": "main", "git_auth": {"ssh_auth": {"ssh_private_key": "KEY"}}}
                        },
                    },
                }
            ],
        }
    )

    [deployment] = loaded.roles[0].deployments
    assert deployment.settings["agentPoolId"] == "pool-1"
    assert deployment.settings["operationContext"]["environmentVariables"] == {
        "MY_VAR": Secret("x"),
        "lower_case": Secret("y"),
    }
    assert deployment.settings["sourceContext"]["git"]["gitAuth"] == {"sshAuth": {"sshPrivateKey": Secret("KEY")}}
