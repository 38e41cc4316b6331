"""Upgrading a deployed form-A stack replaces nothing.

``tests/data/form_a_tree.json`` holds the resources release 0.1.0 declares for the full form-A
config in ``tests/data/form_a_config.json`` (every kind of child), by URN and with their inputs.
Every one of them must still be declared: under the same URN, or under a new one that lists the
old URN as an alias, and with the same inputs, so that the engine neither replaces nor deletes it.
"""

from __future__ import annotations

import json
from typing import Any

from oidc.cli import offline
from tests import certs
from tests.conftest import PROJECT_DIR, project_config

DATA = PROJECT_DIR / "tests" / "data"


def _release_tree() -> dict[str, Any]:
    resources: dict[str, Any] = json.loads((DATA / "form_a_tree.json").read_text(encoding="utf-8"))["resources"]
    return resources


def _run() -> offline.Recording:
    values = json.loads((DATA / "form_a_config.json").read_text(encoding="utf-8"))
    config = offline.StackConfig("pulumi-aws-oidc", "prod", PROJECT_DIR, project_config(values), ())
    return offline.run_stack(config, preview=False, certificates=certs.wire_certificates(certs.chain(1).leaf_first()))


def _by_old_urn(recording: offline.Recording) -> dict[str, offline.RecordedResource]:
    found: dict[str, offline.RecordedResource] = {}
    for resource in recording.resources:
        for urn in (resource.urn, *resource.aliases):
            found[urn] = resource
    return found


def test_every_resource_of_the_release_is_kept_or_aliased() -> None:
    declared = _by_old_urn(_run())

    missing = sorted(set(_release_tree()) - set(declared))
    assert missing == []


def test_every_kept_resource_has_the_inputs_it_had() -> None:
    declared = _by_old_urn(_run())

    for urn, inputs in _release_tree().items():
        resource = declared[urn]
        if resource.type.startswith("pulumi-aws-oidc:"):
            continue  # a component: its inputs are not sent to any provider
        assert offline.plain(resource.inputs) == inputs, urn


def test_the_recorded_release_tree_holds_every_kind_of_child() -> None:
    types = {urn.rpartition("::")[0].rpartition("$")[2] for urn in _release_tree()}

    assert types == {
        "pulumi-aws-oidc:index:PulumiCloudOidc",
        "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
        "aws:iam/role:Role",
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        "pulumiservice:index:DeploymentSettings",
        "pulumiservice:index:Environment",
    }


def _form_b_of_the_release_config() -> dict[str, Any]:
    """The same config in form B: its role under the key ``default``, its provider still top-level."""
    values: dict[str, Any] = json.loads((DATA / "form_a_config.json").read_text(encoding="utf-8"))
    role = {**values.pop("role"), "deployments": values.pop("deployments"), "environments": values.pop("environments")}
    return {**values, "roles": {"default": role}}


def test_turning_the_release_stack_into_roles_under_the_key_default_keeps_everything() -> None:
    config = offline.StackConfig(
        "pulumi-aws-oidc", "prod", PROJECT_DIR, project_config(_form_b_of_the_release_config()), ()
    )
    recording = offline.run_stack(
        config, preview=False, certificates=certs.wire_certificates(certs.chain(1).leaf_first())
    )
    declared = _by_old_urn(recording)

    assert sorted(set(_release_tree()) - set(declared)) == []
    for urn, inputs in _release_tree().items():
        if not declared[urn].type.startswith("pulumi-aws-oidc:"):
            assert offline.plain(declared[urn].inputs) == inputs, urn


# --- who may open a created environment: new resources on the next up, nothing replaced --------------------

ACCESS_TYPES = {
    "pulumiservice:index:TeamEnvironmentPermission",
    "pulumiservice:api/esc:EnvironmentSettings",
    "pulumiservice:api:Gate",
}


def _release_environments() -> list[dict[str, Any]]:
    values: dict[str, Any] = json.loads((DATA / "form_a_config.json").read_text(encoding="utf-8"))
    return [e for e in values["environments"] if "*" not in e["name"] and "?" not in e["name"]]


def test_the_release_stack_gets_the_settings_of_each_created_environment_as_new_resources() -> None:
    recording = _run()
    release = set(_release_tree())

    # Components are no resources of a provider; of those, only the environments' settings are new.
    added = [
        r
        for r in recording.resources
        if r.urn not in release and not set(r.aliases) & release and not r.type.startswith("pulumi-aws-oidc:")
    ]
    assert {r.type for r in added} == {"pulumiservice:api/esc:EnvironmentSettings"}
    assert sorted(r.urn for r in added) == sorted(
        "pulumi-aws-oidc:index:PulumiCloudOidc$pulumi-aws-oidc:index:OidcRole$"
        f"pulumiservice:api/esc:EnvironmentSettings::pulumi-cloud-env-settings-{e['project']}/{e['name']}"
        for e in _release_environments()
    )
    assert all(r.inputs["deletionProtected"] is True for r in added)


def test_teams_and_approvals_on_the_release_stack_add_resources_and_keep_the_release_tree() -> None:
    values = json.loads((DATA / "form_a_config.json").read_text(encoding="utf-8"))
    first = next(e for e in values["environments"] if "*" not in e["name"])
    first["teams"] = {"platform": "open"}
    first["approvals"] = {"open": {}}
    config = offline.StackConfig("pulumi-aws-oidc", "prod", PROJECT_DIR, project_config(values), ())
    recording = offline.run_stack(
        config, preview=False, certificates=certs.wire_certificates(certs.chain(1).leaf_first())
    )
    declared = _by_old_urn(recording)

    assert sorted(set(_release_tree()) - set(declared)) == []
    for urn, inputs in _release_tree().items():
        if not declared[urn].type.startswith("pulumi-aws-oidc:"):
            assert offline.plain(declared[urn].inputs) == inputs, urn
    identity = f"{first['project']}/{first['name']}"
    names = {(r.type, r.name) for r in recording.resources if r.type in ACCESS_TYPES}
    assert ("pulumiservice:index:TeamEnvironmentPermission", f"pulumi-cloud-env-team-{identity}/platform") in names
    assert ("pulumiservice:api:Gate", f"pulumi-cloud-env-gate-{identity}/open") in names
