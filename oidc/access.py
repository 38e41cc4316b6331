"""Who can get a role's credentials from Pulumi Cloud: the inputs of the resources that say so, and the warnings.

The trust policy admits exactly the listed stacks and environments; Pulumi Cloud decides who can make them issue a
token. Whoever may *open* an environment this program creates resolves its ``fn::open::aws-login`` and gets the
role's credentials; whoever may run a deployment of a trusted stack gets them too. This module builds, from the
domain alone:

- the ``rule`` and ``target`` of a change gate (``pulumiservice.api.Gate``), whose inputs the provider leaves
  untyped: their shapes are ``ChangeGateApprovalRuleInput`` and ``ChangeGateTargetInput`` of the Pulumi Cloud
  OpenAPI spec embedded in the pulumiservice provider (``provider/pkg/cloud/spec.json``);
- the warnings a reviewer must see: a created environment that no team permission names (so the organization's
  default environment permission decides, ``write`` unless changed), and a role with privileged policies that
  trusts Deployments stacks.

Pure functions only: no Pulumi imports.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from oidc import review
from oidc.model import ApprovalRule, DeploymentStack, EscEnvironment

DEFAULT_APPROVER_PERMISSION = "environment:write"
"""Who may approve when a rule names no approver: whoever may write the environment."""

ACCESS_DOC = "docs/access.md"

NO_TEAMS = (
    "every member with the organization's default environment permission (write unless changed) can open it and get "
    "these credentials"
)


def gate_name(environment: EscEnvironment, action: str) -> str:
    """The change gate's name in Pulumi Cloud: the environment and the action it holds."""
    return f"{environment.identity} {action} approval"


def gate_target(environment: EscEnvironment, action: str) -> dict[str, Any]:
    """``ChangeGateTargetInput``: the environment (``project/name``) and the one action (the service gates one per
    gate: "currently only supports single action")."""
    return {"entityType": "environment", "qualifiedName": environment.identity, "actionTypes": [action]}


def gate_rule(rule: ApprovalRule) -> dict[str, Any]:
    """``ChangeGateApprovalRuleInput`` (``ruleType: approval_required``), with each of its four required fields."""
    approvers: list[dict[str, str]] = [{"eligibilityType": "team_member", "teamName": team} for team in rule.teams]
    approvers += [{"eligibilityType": "specific_user", "userLogin": user} for user in rule.users]
    permissions = rule.permissions or (() if approvers else (DEFAULT_APPROVER_PERMISSION,))
    approvers += [{"eligibilityType": "has_permission_on_target", "permission": p} for p in permissions]
    return {
        "ruleType": "approval_required",
        "numApprovalsRequired": rule.num_approvals_required,
        "allowSelfApproval": rule.allow_self_approval,
        "requireReapprovalOnChange": rule.require_reapproval_on_change,
        "eligibleApprovers": approvers,
    }


def _role(role_path: str) -> str:
    """How a message names the role: its key path (``roles.deploy``), or "the role" in form A."""
    return "the role" if role_path == "role" else role_path


def _policies(policy_arns: Sequence[str]) -> str:
    return ", ".join(sorted(policy_arns)) or "no attached policy"


def unrestricted_environments(
    role_path: str, organization: str, environments: Sequence[EscEnvironment], policy_arns: Sequence[str]
) -> list[str]:
    """A warning for each environment the role creates that no team permission names."""
    return [
        f"{organization}/{e.identity} ({e.path}) declares no teams, so {NO_TEAMS}: {_role(role_path)}, with "
        f"{_policies(policy_arns)}. Set the organization's default environment permission to none or read and give "
        f"the environment teams (both need Pulumi Enterprise or Business Critical); see {ACCESS_DOC}"
        for e in environments
        if e.session is not None and not e.teams
    ]


def deployment_runners(role_path: str, deployments: Sequence[DeploymentStack], policy_arns: Sequence[str]) -> list[str]:
    """One warning for a role with privileged policies that trusts Deployments stacks: whoever may run one gets it."""
    strong = sorted(arn for arn in policy_arns if review.privileged(arn))
    if not strong or not deployments:
        return []
    stacks = ", ".join(sorted(d.identity for d in deployments))
    return [
        f"{_role(role_path)}: anyone who may run a deployment of a stack it trusts ({stacks}) gets this role, with "
        f"{', '.join(strong)}: a deployment started from the console or the REST API runs with the permissions of "
        "whoever started it, one started by a git push with the stack's. Limit who may write those stacks; see "
        f"{ACCESS_DOC}"
    ]


def access_warnings(
    role_path: str,
    organization: str,
    deployments: Sequence[DeploymentStack],
    environments: Sequence[EscEnvironment],
    policy_arns: Sequence[str],
) -> list[str]:
    """Every access warning of one role."""
    return [
        *unrestricted_environments(role_path, organization, environments, policy_arns),
        *deployment_runners(role_path, deployments, policy_arns),
    ]
