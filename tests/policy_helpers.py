"""The policy pack run over recorded resources, as the policy engine would run it: shared by the tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from oidc.cli import offline
from policy import policies

BY_NAME = {policy.name: policy for policy in policies.POLICIES}
RESOURCE_POLICIES = [p for p in policies.POLICIES if isinstance(p, ResourceValidationPolicy)]
STACK_POLICY = BY_NAME["pulumi-oidc-session-duration"]


def policy_options() -> PolicyResourceOptions:
    return PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])


def resource_violations(
    name: str, type_: str, props: Mapping[str, Any], config: Mapping[str, Any] | None = None
) -> list[str]:
    """The messages of the resource policy ``name`` for one resource of ``type_`` with ``props``."""
    policy = BY_NAME[name]
    assert isinstance(policy, ResourceValidationPolicy)
    args = ResourceValidationArgs(type_, props, f"urn:{type_}", "r", policy_options(), None, dict(config or {}))
    found: list[str] = []
    policy.validate(args, lambda message, urn: found.append(message))
    return found


def stack_violations(resources: Sequence[PolicyResource]) -> list[str]:
    """The messages of the stack policy for ``resources``."""
    assert isinstance(STACK_POLICY, StackValidationPolicy)
    found: list[str] = []
    STACK_POLICY.validate(StackValidationArgs(list(resources)), lambda message, urn: found.append(message))
    return found


def policy_resources(recording: offline.Recording) -> list[PolicyResource]:
    """The recorded resources as the policy engine hands them to a stack policy.

    Components of a form-A stack share a name, so parents are found by URN. Dependencies are
    recorded by name; the stack policy follows only those on IAM roles, whose names are unique.
    """
    by_urn: dict[str, PolicyResource] = {}
    by_name: dict[str, PolicyResource] = {}
    made: list[PolicyResource] = []
    for recorded in recording.resources:
        resource = PolicyResource(
            recorded.type,
            recorded.inputs,
            f"urn:{recorded.urn or recorded.name}",
            recorded.name,
            policy_options(),
            None,
            by_urn.get(recorded.parent_urn or ""),
            [by_name[name] for name in recorded.dependencies if name in by_name],
            {},
        )
        by_urn[recorded.urn or recorded.name] = resource
        by_name[recorded.name] = resource
        made.append(resource)
    return made


def all_violations(recording: offline.Recording, config: Mapping[str, Any] | None = None) -> list[str]:
    """Every message of every policy of the pack, for everything ``recording`` declared."""
    found = [
        message
        for resource in recording.resources
        for policy in RESOURCE_POLICIES
        for message in resource_violations(policy.name, resource.type, resource.inputs, config)
    ]
    return found + stack_violations(policy_resources(recording))
