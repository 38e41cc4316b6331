"""The IAM resources of an offline run, as a CloudFormation template that cfn-lint can check.

cfn-lint validates resource properties against AWS's own CloudFormation schemas, offline. The
recorded inputs of the provider and the role (camelCase, as the mocks receive them) are mapped
to the properties of ``AWS::IAM::OIDCProvider`` and ``AWS::IAM::Role``; each role's managed
policies come from the recorded ``RolePolicyAttachment`` resources that name it. Pulumi Cloud
resources and the component have no CloudFormation counterpart and are left out.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import cfnlint.api

from oidc.cli import offline

PROVIDER = "aws:iam/openIdConnectProvider:OpenIdConnectProvider"
ROLE = "aws:iam/role:Role"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
REGIONS = ["us-east-1"]


def logical_id(name: str) -> str:
    """An alphanumeric logical ID from a Pulumi name: ``pulumi-cloud-role`` -> ``PulumiCloudRole``."""
    parts = re.split(r"[^A-Za-z0-9]+", name)
    joined = "".join(part[:1].upper() + part[1:] for part in parts)
    if not joined:
        raise ValueError(f"{name!r} has no letters or digits to make a logical ID of")
    return joined if joined[0].isalpha() else f"R{joined}"


def _tags(value: Any) -> list[dict[str, str]] | None:
    if not value:
        return None
    return [{"Key": key, "Value": tag} for key, tag in sorted(value.items())]


def _properties(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """The properties whose value is known: ``None`` (absent or unknown) is left out."""
    return {key: value for key, value in mapping.items() if value is not None}


def provider_properties(inputs: Mapping[str, Any]) -> dict[str, Any]:
    values = offline.plain(dict(inputs))
    return _properties(
        {
            "Url": values.get("url"),
            "ClientIdList": values.get("clientIdLists"),
            "ThumbprintList": values.get("thumbprintLists"),
            "Tags": _tags(values.get("tags")),
        }
    )


def role_properties(inputs: Mapping[str, Any], policy_arns: Iterable[str]) -> dict[str, Any]:
    values = offline.plain(dict(inputs))
    policy = values.get("assumeRolePolicy")
    return _properties(
        {
            "AssumeRolePolicyDocument": json.loads(policy) if isinstance(policy, str) else policy,
            "RoleName": values.get("name"),
            "Path": values.get("path"),
            "Description": values.get("description"),
            "MaxSessionDuration": values.get("maxSessionDuration"),
            "PermissionsBoundary": values.get("permissionsBoundary"),
            "Tags": _tags(values.get("tags")),
            "ManagedPolicyArns": sorted(policy_arns) or None,
        }
    )


def template(resources: Iterable[offline.RecordedResource]) -> dict[str, Any]:
    """A CloudFormation template of the recorded OIDC providers and roles."""
    recorded = list(resources)
    attachments = [r for r in recorded if r.type == ATTACHMENT]
    ids = {r.name: logical_id(r.name) for r in recorded if r.type in (PROVIDER, ROLE)}
    if len(set(ids.values())) != len(ids):
        raise ValueError(f"two Pulumi names give the same logical ID: {sorted(ids)}")
    body: dict[str, Any] = {}
    for resource in recorded:
        if resource.type == PROVIDER:
            entry: dict[str, Any] = {
                "Type": "AWS::IAM::OIDCProvider",
                "Properties": provider_properties(resource.inputs),
            }
        elif resource.type == ROLE:
            role_name = resource.outputs.get("name")
            policy_arns = [str(a.inputs["policyArn"]) for a in attachments if a.inputs.get("role") == role_name]
            entry = {"Type": "AWS::IAM::Role", "Properties": role_properties(resource.inputs, policy_arns)}
        else:
            continue
        depends_on = [ids[name] for name in resource.dependencies if name in ids]
        if depends_on:
            entry["DependsOn"] = depends_on
        body[ids[resource.name]] = entry
    return {"AWSTemplateFormatVersion": "2010-09-09", "Resources": body}


@dataclass(frozen=True)
class Finding:
    """One cfn-lint match: rule ID, message and where in the template."""

    rule: str
    message: str
    path: tuple[str | int, ...]

    @property
    def is_error(self) -> bool:
        return self.rule.startswith("E")

    def __str__(self) -> str:
        return f"{self.rule} {'/'.join(str(p) for p in self.path)}: {self.message}"


@functools.cache
def _runner() -> cfnlint.api.Runner:
    """cfn-lint's runner with its rules loaded, which takes most of a run: built once."""
    return cfnlint.api.Runner(cfnlint.api.ConfigMixIn(regions=REGIONS, include_checks=["I"]))


def has_rule(rule_id: str) -> bool:
    """Whether this cfn-lint has the rule ``rule_id``: older ones lack some (the trust-policy rule E3530 came in
    2026; ``make test-min`` installs an older cfn-lint, as newer ones need a newer PyYAML than the lowest allowed)."""
    return any(rule.id == rule_id for rule in _runner().rules.values())


def lint(document: Mapping[str, Any]) -> list[Finding]:
    """cfn-lint's findings on ``document``: errors, warnings and informational ones."""
    template, matches = cfnlint.api.decode_str(json.dumps(document, indent=2))
    if not matches and template is not None:
        matches = list(_runner().validate_template(template))
    return [Finding(m.rule.id, m.message, tuple(getattr(m, "path", None) or ())) for m in matches]
