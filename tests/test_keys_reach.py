"""Every declared key reaches the resource it is for: a key that is validated and documented but never passed on fails.

Each key declares (``oidc.settings.models.key``) the resource type its value reaches (``to``) and an ``example``, a
valid value other than its default. For every key of every object, the program runs twice under the offline
mocks, once with the example and once without it (or, for a required key, with another value), all else equal;
the inputs of the resources of that type must differ. Removing the line that passes a key on makes its case fail.
A value sent as a secret shows as ``[secret]`` in what the engine records, so for a required credential the case
checks that the input is there, as a secret. Keys no resource takes are listed by name (:data:`READ_BY_CHECKS`).
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from oidc.cli import docs, offline
from oidc.components.organization import ProgramError
from oidc.model import top_key
from oidc.settings import models
from oidc.settings.loader import metadata
from tests.conftest import PROJECT_DIR, project_config

BASE_A: dict[str, Any] = {
    "organization": "acme",
    "deployments": [{"project": "infra", "stack": "prod"}],
    "environments": [{"project": "aws", "name": "dev"}],
}
BASE_B: dict[str, Any] = {
    "organization": "acme",
    "accounts": {
        "main": {"assumeRole": {"roleArn": "arn:aws:iam::222222222222:role/OrganizationAccountAccessRole"}},
        "other": {"assumeRole": {"roleArn": "arn:aws:iam::333333333333:role/OrganizationAccountAccessRole"}},
    },
    "roles": {
        "ops": {
            "account": "main",
            "deployments": [{"project": "infra", "stack": "prod"}],
            "environments": [{"project": "aws", "name": "dev"}],
        },
        "spare": {"account": "other", "deployments": [{"project": "spare", "stack": "*"}]},
        "keep": {"account": "main", "deployments": [{"project": "keep", "stack": "*"}]},
    },
}
MAP_ENTRIES = {"accounts": "main", "roles": "ops"}
READ_BY_CHECKS = {"trustPolicyMaxChars", "accounts.<key>.trustPolicyMaxChars", "deployments[].replaceSettings"}
"""Keys no resource takes: the quota the trust policy's size is checked against, and the guard's leave to replace."""


def cases() -> list[docs.Key]:
    """Each key of each object once, where first declared (``deployments[]``, not ``roles.<key>.deployments[]``)."""
    seen: set[tuple[type, str]] = set()
    found = []
    for key in docs.declared_keys():
        if key.inner is not None or (key.holder, key.alias) in seen:
            continue
        seen.add((key.holder, key.alias))
        found.append(key)
    return found


CASES = cases()


def example(key: docs.Key) -> Any:
    extra = metadata(key.field)
    assert "example" in extra, f"{key.path}: declare an example (and to=) for the test that it reaches its resource"
    return copy.deepcopy(extra["example"])


def required_of(model: type[models.Keys]) -> dict[str, Any]:
    """An object of ``model``: its own example (``{"branch": "main"}`` for a git source, which needs one of two),
    with each required key at its example, each required object made so too."""
    extra = model.model_config.get("json_schema_extra")
    found: dict[str, Any] = copy.deepcopy(extra.get("example", {})) if isinstance(extra, dict) else {}
    for info in model.model_fields.values():
        if not info.is_required():
            continue
        inner = docs._container(model, info)[0]
        found[str(info.alias)] = required_of(inner) if inner is not None else copy.deepcopy(metadata(info)["example"])
    return found


def config(key: docs.Key, value: Any) -> dict[str, Any]:
    """The base config with ``key`` at ``value`` (left out for ``None``), objects on the way made with their required
    keys, and the other keys its object needs (``also``)."""
    parts = key.path.split(".")
    data = copy.deepcopy(BASE_B if parts[0] in MAP_ENTRIES else BASE_A)
    node: Any = data
    model: type[models.Keys] = models.Program
    for index, part in enumerate(parts[:-1]):
        if part == "<key>":
            node = node[MAP_ENTRIES[parts[index - 1]]]
            continue
        name = part.removesuffix("[]")
        info = next(i for i in model.model_fields.values() if i.alias == name)
        inner, container = docs._container(model, info)
        assert inner is not None
        if container == "[]":
            node = node[name][0]
        elif container == ".<key>":
            node = node[name]
        else:
            node = node.setdefault(name, required_of(inner))
        model = inner
    for sibling, sibling_value in (metadata(key.field).get("also") or {}).items():
        if sibling_value is None:
            node.pop(sibling, None)
        else:
            node[sibling] = sibling_value
    if value is None:
        node.pop(parts[-1], None)
    else:
        node[parts[-1]] = value
    return data


def secret(key: docs.Key) -> bool:
    """Whether the case needs its key secret: a credential is on the way (the key's own, or a required one)."""
    return ".settings." in key.path and any(
        metadata(info).get("secret") == "always"
        for model in (key.holder,)
        for info in model.model_fields.values()
        if info.is_required() or info is key.field
    )


def run(values: dict[str, Any], secret_key: str | None) -> offline.Recording:
    stack = offline.StackConfig(
        "pulumi-aws-oidc",
        "keys",
        PROJECT_DIR,
        {"aws:region": "us-west-2", **project_config(values)},
        (f"pulumi-aws-oidc:{secret_key}",) if secret_key else (),
    )
    return offline.run_stack(stack, preview=True)


def of_type(recording: offline.Recording, type_: str) -> str:
    found = [
        {"name": r.name, "protect": r.protect, "inputs": r.inputs, "outputs": r.outputs}
        for r in recording.of_type(type_)
    ]
    return json.dumps(sorted(found, key=lambda r: str(r["name"])), sort_keys=True, default=str)


def base_value(key: docs.Key) -> Any:
    """The value the base config holds at ``key``'s path, if it holds one."""
    parts = key.path.split(".")
    node: Any = copy.deepcopy(BASE_B if parts[0] in MAP_ENTRIES else BASE_A)
    for index, part in enumerate(parts):
        if part == "<key>":
            node = node.get(MAP_ENTRIES[parts[index - 1]]) if isinstance(node, dict) else None
        elif part.endswith("[]"):
            node = node.get(part[:-2], [None])[0] if isinstance(node, dict) else None
        else:
            node = node.get(part) if isinstance(node, dict) else None
    return node


def other_value(key: docs.Key, given: Any) -> Any:
    """Another valid value of a key that cannot be left out: the base config's, or the example changed."""
    held = base_value(key)
    if held is not None and held != given:
        return held
    if isinstance(given, bool):
        return not given
    if key.alias == "provider":
        return "github"
    assert isinstance(given, str), key.path
    return given + "x" if given.startswith("arn:") else given[:-1] + ("x" if given[-1] != "x" else "y")


def hidden(recording: offline.Recording, key: docs.Key, target: str) -> bool:
    """Whether the value of a key of ``deployments[].settings`` reached the settings as a secret."""
    below = key.path.split(".settings.", 1)[1].split(".")
    for resource in recording.of_type(target):
        node: Any = resource.inputs
        for part in below:
            node = node.get(part) if isinstance(node, dict) else None
        if node == offline.SECRET:
            return True
    return False


@pytest.mark.parametrize("key", CASES, ids=[key.path for key in CASES])
def test_each_key_reaches_its_resource(key: docs.Key) -> None:
    target = metadata(key.field).get("to")
    if key.path in READ_BY_CHECKS:
        assert target == models.CHECK
        return
    value = example(key)
    assert value != key.field.get_default(call_default_factory=True, validated_data={}), (
        f"{key.path}: the example is its default"
    )
    secret_key = top_key(key.path) if secret(key) else None
    with_it = run(config(key, value), secret_key)
    if target == models.WARNING:
        assert any(warning.startswith(key.path.replace("[]", "[0]")) for warning in with_it.warnings), key.path
        return
    assert target is not None, f"{key.path}: declare to= (the resource type its value reaches)"
    if secret_key and metadata(key.field).get("secret"):
        # Sent as a secret, it shows as [secret] whatever it is: it must be there, at its place.
        assert hidden(with_it, key, target), f"{key.path} does not reach {target} as a secret"
        return
    try:
        without = run(config(key, None), secret_key)
    except ProgramError:  # it cannot be left out: another value of it
        without = run(config(key, other_value(key, value)), secret_key)

    assert of_type(with_it, target) != of_type(without, target), f"{key.path} does not reach {target}"


def test_every_key_of_every_object_is_a_case_or_read_by_the_checks() -> None:
    leaves = {(key.holder, key.alias) for key in docs.declared_keys() if key.inner is None}

    assert {(key.holder, key.alias) for key in CASES} == leaves
    assert {key.path for key in docs.declared_keys()} >= READ_BY_CHECKS


ACCESS_KEYS = {
    "environments[].teams": models.TEAM_PERMISSION,
    "roles.<key>.environmentTeams": models.TEAM_PERMISSION,
    "environments[].deletionProtected": models.ENVIRONMENT_SETTINGS,
    "environments[].approvals.update.numApprovalsRequired": models.GATE,
    "environments[].approvals.update.eligibleApprovers.teams": models.GATE,
    "environments[].approvals.update.eligibleApprovers.users": models.GATE,
    "environments[].approvals.update.eligibleApprovers.permissions": models.GATE,
    "environments[].approvals.update.allowSelfApproval": models.GATE,
    "environments[].approvals.update.requireReapprovalOnChange": models.GATE,
}
"""The keys of who may open a created environment, and the resource each reaches (each a case above)."""


def test_the_keys_of_who_may_open_an_environment_are_cases_with_their_resources() -> None:
    by_path = {key.path: metadata(key.field).get("to") for key in CASES}

    assert {path: by_path.get(path) for path in ACCESS_KEYS} == ACCESS_KEYS
