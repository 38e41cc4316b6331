"""The Pulumi SDK's private names are used in one module, ``oidc/sdk.py``, each with its reason.

A name is private when it starts with ``_`` (``_sync_await``, ``rpc._special_sig_key``), lives in a submodule of
``pulumi.runtime`` that ``pulumi.runtime`` does not export (``settings``, ``proto``, ``mocks``, ``resource``,
``config``: their names reached through ``pulumi.runtime`` itself are public), or is the mock monitor
(``MockMonitor``), which ``pulumi.runtime`` does not export either.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pulumi
import pulumi.runtime
import pulumi_aws as aws
import pytest

from oidc import sdk
from oidc.cli import offline
from oidc.components import provider, role
from tests.conftest import PROJECT_DIR, run_component, settings
from tests.source_names import attribute_chains

OIDC = PROJECT_DIR / "oidc"
PUBLIC_RUNTIME = frozenset(pulumi.runtime.__all__)
"""What ``pulumi.runtime`` exports: its public functions and classes, and the ``rpc`` submodule."""


def _private(path: str) -> bool:
    """Whether the dotted name ``path`` (``pulumi.runtime.settings.get_monitor``) is one of the SDK's private names."""
    parts = path.split(".")
    if parts[0] != "pulumi":
        return False
    if any(part.startswith("_") for part in parts) or "MockMonitor" in parts:
        return True
    return parts[:2] == ["pulumi", "runtime"] and len(parts) > 2 and parts[2] not in PUBLIC_RUNTIME


def private_names(source: str) -> list[str]:
    """Every private SDK name ``source`` imports or reaches through an imported module, in order."""
    tree = ast.parse(source)
    bound: dict[str, str] = {}
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found += [alias.name] if _private(alias.name) else []
                top = alias.name.partition(".")[0]
                bound[alias.asname or top] = alias.name if alias.asname else top
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                path = f"{node.module}.{alias.name}"
                found += [path] if _private(path) else []
                bound[alias.asname or alias.name] = path
    for name, chain in attribute_chains(tree):
        if name in bound:
            path = ".".join([bound[name], *chain])
            found += [path] if _private(path) else []
    return found


def _modules() -> list[Path]:
    return sorted(OIDC.rglob("*.py"))


def test_no_module_of_oidc_but_oidc_sdk_uses_a_private_name_of_the_pulumi_sdk() -> None:
    found = {
        str(path.relative_to(PROJECT_DIR)): names
        for path in _modules()
        if path != OIDC / "sdk.py" and (names := private_names(path.read_text(encoding="utf-8")))
    }

    assert found == {}


def test_the_check_finds_each_kind_of_private_name() -> None:
    source = """
import pulumi
import pulumi.runtime.settings
from pulumi.runtime import settings as runtime_settings, rpc, set_mocks
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.sync_await import _sync_await
from pulumi_aws import iam

runtime_settings.get_monitor()
rpc._special_sig_key
pulumi.runtime.config.CONFIG.get()
pulumi.runtime.get_config("aws:region")
rpc.is_rpc_secret(None)
iam._private_of_another_package
"""

    assert sorted(set(private_names(source))) == [
        "pulumi.runtime.config.CONFIG.get",
        "pulumi.runtime.mocks.MockMonitor",
        "pulumi.runtime.proto.resource_pb2",
        "pulumi.runtime.rpc._special_sig_key",
        "pulumi.runtime.settings",
        "pulumi.runtime.settings.get_monitor",
        "pulumi.runtime.sync_await._sync_await",
    ]


def test_oidc_sdk_is_where_the_private_names_are() -> None:
    names = set(private_names((OIDC / "sdk.py").read_text(encoding="utf-8")))

    assert {"pulumi.runtime.mocks.MockMonitor", "pulumi.runtime.rpc._special_sig_key"} <= names


@pytest.mark.parametrize(
    "name",
    [
        name
        for name, value in vars(sdk).items()
        if not name.startswith("_") and getattr(value, "__module__", "") == sdk.__name__
    ],
)
def test_each_use_of_a_private_name_says_why_no_public_hook_does_it(name: str) -> None:
    assert "Private: " in (inspect.getdoc(getattr(sdk, name)) or "")


def test_the_role_component_s_inputs_are_what_its_resources_need() -> None:
    recording = run_component(settings(roles={"deploy": {"deployments": [{"project": "infra", "stack": "prod"}]}}))

    [component] = recording.of_type(role.ROLE_TYPE)
    assert set(component.inputs) == {"organization", "issuer", "trustPolicy"}
    assert component.inputs["trustPolicy"] == recording.named(f"{component.name}-role").inputs["assumeRolePolicy"]
    [oidc_provider] = recording.of_type(provider.PROVIDER_TYPE)
    assert "account" not in oidc_provider.inputs


def test_the_recording_keeps_the_object_each_resource_is() -> None:
    recording = run_component(settings(roles={"deploy": {"deployments": [{"project": "infra", "stack": "prod"}]}}))

    [component] = recording.of_type(role.ROLE_TYPE)
    assert isinstance(component.declared, role.OidcRole)
    assert (component.declared.role.key, component.declared.quota_key) == ("deploy", "trustPolicyMaxChars")
    assert all(isinstance(r.declared, offline.pulumi.Resource) for r in recording.resources)


def test_a_dependency_is_recorded_through_a_nested_input_type_and_depends_on() -> None:
    def program() -> None:
        first = aws.iam.Role("first", assume_role_policy="{}")
        second = aws.iam.Role("second", assume_role_policy="{}")
        aws.iam.Role(
            "third",
            assume_role_policy="{}",
            inline_policies=[aws.iam.RoleInlinePolicyArgs(name="p", policy=second.arn)],
            opts=pulumi.ResourceOptions(depends_on=[first]),
        )

    recording = offline.run_program(program, {})

    assert recording.named("third").dependencies == ("first", "second")
    assert recording.named("second").dependencies == ()
