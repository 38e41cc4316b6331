"""What a reviewer of one role must be told: trust that is wider than its config reads.

The trust policy admits exactly what the entries say, but entries can say more together than each
says alone. These checks find where intent is loosened without a word:

- a role that trusts every stack or environment of the organization;
- a pattern of the same role that admits operations an entry restricts (the entry's ``operations``
  then mean nothing: ``{project: "*", stack: prod}`` admits ``destroy`` of ``security-baseline/prod``
  whatever its own entry lists);
- a pattern over every project (``project: "*"``) on a role with privileged policies, which also
  admits the stacks of projects created later.

Each returns warnings as text, naming the key paths. Pure functions only: no Pulumi imports.
"""

from __future__ import annotations

from collections.abc import Sequence

from oidc import claims, trust
from oidc.model import DeploymentStack, EscEnvironment

PRIVILEGED_POLICIES = ("AdministratorAccess", "PowerUserAccess", "IAMFullAccess")
"""AWS managed policies that let a session take over the account (or create roles that can)."""


def _entry(deployment: DeploymentStack) -> str:
    return f'{{project: "{deployment.project}", stack: "{deployment.stack}"}}'


def _listed(values: Sequence[str]) -> str:
    return ", ".join(values[:-1]) + f" and {values[-1]}" if len(values) > 1 else values[0]


def org_wide(
    role_path: str,
    organization: str,
    deployments: Sequence[DeploymentStack],
    environments: Sequence[EscEnvironment],
    policy_arns: Sequence[str],
) -> list[str]:
    """A warning when the role trusts every stack or every environment of the organization."""
    wide_stacks = [d.path for d in deployments if d.org_wide]
    wide_environments = [e.path for e in environments if e.org_wide]
    if not wide_stacks and not wide_environments:
        return []
    kinds = " and ".join(k for k, wide in (("stack", wide_stacks), ("environment", wide_environments)) if wide)
    return [
        f"{role_path}: the role trusts every {kinds} of {organization} "
        f"({', '.join(wide_stacks + wide_environments)}), with the permissions of "
        f"{', '.join(policy_arns) or 'no attached policy'}: whoever can run a deployment or open an "
        "environment there gets them. Name the projects instead; the policy pack refuses this unless "
        "allowOrgWideSubjects is set"
    ]


def absorbed_operations(organization: str, deployments: Sequence[DeploymentStack]) -> list[str]:
    """A warning for each entry whose ``operations`` another entry of the same role makes meaningless.

    An entry of a concrete stack that lists operations restricts what its stack may run with this role;
    a pattern of the role that matches the stack admits the other operations anyway.
    """
    found = []
    for entry in deployments:
        if entry.operations is None or entry.is_pattern:
            continue
        for other in deployments:
            if other is entry:
                continue
            admitted = [
                operation
                for operation in claims.OPERATIONS
                if operation not in entry.operations
                and any(
                    trust.covers(
                        claims.deployments_subject(organization, other.project, other.stack, allowed),
                        claims.deployments_subject(organization, entry.project, entry.stack, operation),
                    )
                    for allowed in other.operations or ("*",)
                )
            ]
            if admitted:
                found.append(
                    f"{entry.path} trusts {entry.identity} for {_listed(list(entry.operations))} only, but "
                    f"{other.path} ({_entry(other)}) admits it for {_listed(admitted)} too: the role admits "
                    "what either entry allows, so the entry's operations do not narrow it. Trust the stack from "
                    "a role without that pattern, or narrow the pattern"
                )
    return found


def privileged(policy_arn: str) -> bool:
    """Whether ``policy_arn`` is one of :data:`PRIVILEGED_POLICIES` (AWS managed, any partition)."""
    account, _, name = policy_arn.split(":", 4)[-1].partition(":policy/")
    return account == "aws" and name in PRIVILEGED_POLICIES


def broad_patterns(deployments: Sequence[DeploymentStack], policy_arns: Sequence[str]) -> list[str]:
    """A warning for each pattern over every project on a role with privileged policies.

    ``{project: "*", stack: prod}`` admits the ``prod`` stack of a project created tomorrow: whoever may
    create a project and run its deployments gets the role. (A pattern over every stack of every project
    is :func:`org_wide`'s.)
    """
    strong = [arn for arn in policy_arns if privileged(arn)]
    if not strong:
        return []
    return [
        f"{d.path} ({_entry(d)}) trusts the {d.stack} stack{'s' if claims.is_pattern(d.stack) else ''} of every "
        f"project, including projects created later, with {_listed(strong)}: whoever can create a project and "
        "run its deployments gets these credentials. Name the projects instead"
        for d in deployments
        if set(d.project) <= claims.WILDCARDS and "*" in d.project and not d.org_wide
    ]


def review(
    role_path: str,
    organization: str,
    deployments: Sequence[DeploymentStack],
    environments: Sequence[EscEnvironment],
    policy_arns: Sequence[str],
) -> list[str]:
    """Every warning of one role."""
    return [
        *org_wide(role_path, organization, deployments, environments, policy_arns),
        *absorbed_operations(organization, deployments),
        *broad_patterns(deployments, policy_arns),
    ]
