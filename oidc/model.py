"""The domain: frozen types every layer shares, and the limits of the services they stand for.

The loader (:mod:`oidc.settings`) builds these from config; the builders (:mod:`oidc.trust`, :mod:`oidc.esc`,
:mod:`oidc.review`, :mod:`oidc.explain`), the components and the tools take them, never the loader's own
models. Pure: no Pulumi imports.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from oidc import claims

DEFAULT_ESC_SESSION_NAME = "pulumi-environments-session"
DEFAULT_DURATION = "1h"
DEFAULT_ROLE_MAX_SESSION = 3600
"""A role's ``maxSessionDuration`` when none is given (IAM's default, 1h)."""
DEFAULT_TRUST_POLICY_MAX_CHARS = 2048
MAX_TRUST_POLICY_CHARS = 4096
"""The highest value IAM's "Role trust policy length" quota can be raised to."""

MAX_THUMBPRINTS = 5
MAX_CLIENT_IDS = 100
MAX_SESSION_POLICIES = 10
MAX_ROLE_POLICIES = 20
MAX_ROLE_TAGS = 50

FORM_A_KEY = "default"
"""The key of the one account and the one role of form A (no ``roles``), in plan sections and explain."""


def _only_wildcards(value: str) -> bool:
    return set(value) <= claims.WILDCARDS


@dataclass(frozen=True)
class OidcProviderSettings:
    """``oidcProvider``: create the issuer's IAM OIDC provider, or reuse one by ARN."""

    arn: str | None = None
    thumbprints: Literal["auto"] | tuple[str, ...] = "auto"
    audiences: tuple[str, ...] = ()
    protect: bool = True
    add_audiences: bool = False
    """With ``arn``: add the client IDs the roles need that the provider lacks."""


@dataclass(frozen=True)
class AssumeRole:
    """``accounts.<key>.assumeRole``: the role the admin stack's AWS provider assumes to reach the account."""

    role_arn: str
    session_name: str | None = None
    external_id: str | None = None

    @property
    def account_id(self) -> str:
        return self.role_arn.split(":")[4]


@dataclass(frozen=True)
class AccountSettings:
    """An AWS account the admin stack reaches, and the issuer's OIDC provider in it."""

    key: str = FORM_A_KEY
    id: str | None = None
    """The account ID the credentials must reach: given, or implied by ``assume_role`` or a reused provider."""
    assume_role: AssumeRole | None = None
    profile: str | None = None
    region: str | None = None
    oidc_provider: OidcProviderSettings = OidcProviderSettings()
    trust_policy_max_chars: int = 2048
    config_path: str = ""
    """Prefix of this account's keys in the config: ``""`` (form A, top level) or ``accounts.<key>.``."""

    @property
    def uses_default_provider(self) -> bool:
        """Whether the account is reached with the stack's default AWS provider (no assumeRole, no profile)."""
        return self.assume_role is None and self.profile is None


@dataclass(frozen=True)
class GitSource:
    """``deployments[].source``: the git source passed to the stack's deployment settings."""

    repo_url: str
    branch: str
    repo_dir: str | None = None


@dataclass(frozen=True)
class Secret:
    """A config value that must stay secret: sent as a Pulumi secret, never shown."""

    value: str = field(repr=False)

    def __str__(self) -> str:
        return "[secret]"


@dataclass(frozen=True)
class AwsSession:
    """What Pulumi Cloud asks STS for when it assumes the role."""

    session_name: str
    duration: str
    """Canonical ``XhYmZs`` text, already checked against STS and the role's maximum."""
    policy_arns: tuple[str, ...] = ()


@dataclass(frozen=True)
class DeploymentStack:
    """``deployments[]``: a Pulumi Deployments stack (or pattern of stacks) the role trusts."""

    project: str
    stack: str
    operations: tuple[str, ...] | None = None
    """``None`` trusts every operation with one pattern."""
    session: AwsSession | None = None
    """The stack's deployment settings, or ``None`` when this program does not manage them."""
    source: GitSource | None = None
    path: str = ""
    """The entry's key path in the config (``roles.deploy.deployments[0]``), for messages."""
    settings: Mapping[str, Any] = field(default_factory=dict)
    """``settings``: the other inputs of the stack's ``DeploymentSettings``, as the config names them
    (camelCase); values that must stay secret are :class:`Secret`."""
    replace_settings: bool = False
    """``replaceSettings``: write the settings even where that erases what the stack has now."""

    @property
    def source_context(self) -> Mapping[str, Any] | None:
        """``settings.sourceContext``, or ``source`` in that shape."""
        if self.source is not None:
            git = {"repoUrl": self.source.repo_url, "branch": self.source.branch}
            if self.source.repo_dir is not None:
                git["repoDir"] = self.source.repo_dir
            return {"git": git}
        context: Mapping[str, Any] | None = self.settings.get("sourceContext")
        return context

    def declared_settings(self) -> dict[str, Any]:
        """Every input of the stack's settings this entry declares besides ``operationContext.oidc``."""
        declared = dict(self.settings)
        context = self.source_context
        if context is not None:
            declared["sourceContext"] = context
        return declared

    @property
    def is_pattern(self) -> bool:
        return claims.is_pattern(self.project) or claims.is_pattern(self.stack)

    @property
    def identity(self) -> str:
        return f"{self.project}/{self.stack}"

    @property
    def org_wide(self) -> bool:
        """Whether it trusts every stack of the organization (project and stack both only wildcards)."""
        return _only_wildcards(self.project) and _only_wildcards(self.stack)


@dataclass(frozen=True)
class EscEnvironment:
    """``environments[]``: an ESC environment (or pattern of environments) the role trusts."""

    project: str
    name: str
    session: AwsSession | None = None
    """The environment's ``aws-login`` settings, or ``None`` for a pattern, which creates none."""
    region: str | None = None
    path: str = ""
    """The entry's key path in the config (``environments[1]``), for messages."""
    teams: Mapping[str, TeamAccess] = field(default_factory=dict)
    """``teams`` (merged with the role's ``environmentTeams``): each team's permission on the created environment."""
    deletion_protected: bool = True
    """``deletionProtected``: the created environment cannot be deleted until this is turned off."""
    approvals: Mapping[str, ApprovalRule] = field(default_factory=dict)
    """``approvals``: by gated action (``update``, ``open``), who must approve it."""

    @property
    def is_pattern(self) -> bool:
        return claims.is_pattern(self.name)

    @property
    def identity(self) -> str:
        return f"{self.project}/{self.name}"

    @property
    def org_wide(self) -> bool:
        """Whether it trusts every environment of the organization.

        A ``default``-project name of only wildcards: its subject ``...currentEnvironment.name:*``
        matches the subject of every environment, in every project.
        """
        return self.project == claims.LEGACY_ESC_PROJECT and _only_wildcards(self.name)


ENVIRONMENT_PERMISSIONS = ("none", "read", "open", "write", "admin")
"""A team's permission on an ESC environment (pulumiservice ``EnvironmentPermission``): ``read`` sees the definition
only; ``open`` also opens it, which resolves its ``fn::open::aws-login`` and so gets the role's credentials."""
OPENING_PERMISSIONS = frozenset({"open", "write", "admin"})
"""The permissions that open an environment."""
GATED_ACTIONS = ("update", "open")
"""The actions a change gate can hold on an environment (Pulumi Cloud's ``ChangeGateTargetActionType``)."""


@dataclass(frozen=True)
class TeamAccess:
    """A team's permission on an ESC environment this program creates (``TeamEnvironmentPermission``)."""

    permission: str
    """One of :data:`ENVIRONMENT_PERMISSIONS`."""
    max_open_duration: str | None = None
    """The longest a member of the team may keep the environment open (``XhYmZs``), or the service's default."""

    @property
    def opens(self) -> bool:
        return self.permission in OPENING_PERMISSIONS


@dataclass(frozen=True)
class ApprovalRule:
    """``approvals.<action>``: an ``approval_required`` change gate on one action of a created environment."""

    num_approvals_required: int = 1
    allow_self_approval: bool = False
    require_reapproval_on_change: bool = True
    teams: tuple[str, ...] = ()
    users: tuple[str, ...] = ()
    permissions: tuple[str, ...] = ()
    """The eligible approvers: members of ``teams``, the ``users`` by login, and whoever holds one of ``permissions``
    on the environment."""


@dataclass(frozen=True)
class RoleSettings:
    """An IAM role Pulumi Cloud assumes, and the stacks and environments it trusts."""

    key: str = FORM_A_KEY
    account: str = FORM_A_KEY
    """The key of the account the role is in."""
    name: str | None = None
    path: str = "/"
    description: str | None = None
    policy_arns: tuple[str, ...] | None = None
    """``None`` means the partition's ``ReadOnlyAccess``, resolved when the partition is known."""
    permissions_boundary: str | None = None
    max_session_duration: int = DEFAULT_ROLE_MAX_SESSION
    tags: Mapping[str, str] = field(default_factory=dict)
    deployments: tuple[DeploymentStack, ...] = ()
    environments: tuple[EscEnvironment, ...] = ()
    config_path: str = "role"
    """Where the role's own keys are in the config: ``role`` (form A) or ``roles.<key>``."""

    @property
    def managed_stacks(self) -> tuple[DeploymentStack, ...]:
        """The stacks whose deployment settings this role's component declares."""
        return tuple(d for d in self.deployments if d.session is not None)

    @property
    def defined_environments(self) -> tuple[EscEnvironment, ...]:
        """The ESC environments this role's component creates."""
        return tuple(e for e in self.environments if e.session is not None)


@dataclass(frozen=True)
class Settings:
    """Everything the program needs, validated: the organization's accounts and roles."""

    organization: str
    issuer: str = claims.DEFAULT_ISSUER
    accounts: tuple[AccountSettings, ...] = (AccountSettings(),)
    roles: tuple[RoleSettings, ...] = ()
    by_roles: bool = False
    """Form B (``roles`` given): outputs and logical names are per role and account."""
    secret_keys: frozenset[str] = frozenset()
    """The top-level keys Pulumi marks secret: every value read from one is sent as a secret, except what
    :data:`PLAIN_BY_DESIGN` names."""
    warnings: tuple[ConfigIssue, ...] = ()
    """What is valid but likely wrong (a region botocore does not know), at its key path."""

    def secret(self, path: str) -> bool:
        """Whether the value at the config key path ``path`` (``roles.deploy.tags``) comes from a secret key."""
        return top_key(path) in self.secret_keys

    @property
    def condition_prefix(self) -> str:
        return claims.condition_prefix(self.issuer)

    def account(self, key: str) -> AccountSettings:
        return next(account for account in self.accounts if account.key == key)

    def roles_of(self, account_key: str) -> tuple[RoleSettings, ...]:
        return tuple(role for role in self.roles if role.account == account_key)


@dataclass(frozen=True)
class ConfigIssue:
    """One problem in the config: where, what was received, what is allowed."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class ConfigError(Exception):
    """The config is invalid; ``issues`` lists every problem found.

    ``where`` says what was read: ``config`` (a stack's config), or the arguments of a component declared
    in a program (``arguments of PulumiCloudOidc 'name'``), whose problems no stack file holds.
    """

    def __init__(self, issues: Sequence[ConfigIssue], *, where: str = "config") -> None:
        self.issues = tuple(issues)
        self.where = where
        lines = "\n".join(f"  - {issue}" for issue in self.issues)
        count = len(self.issues)
        super().__init__(f"invalid {where} ({count} problem{'s' if count != 1 else ''}):\n{lines}")


def top_key(path: str) -> str:
    """The top-level config key of a key path: ``roles`` of ``roles.deploy.deployments[0]``."""
    return re.split(r"[.\[]", path, maxsplit=1)[0]


PLAIN_BY_DESIGN = (
    "organization, account keys and IDs, role names and paths, the ARNs of attached policies and OIDC providers, "
    "project, stack and environment names, and the trust policy built from them: they name resources (in URNs "
    "and logical names) or are what a reviewer must read"
)
"""What stays plain although it comes from a secret key, and why."""


PLAIN_FIELD = re.compile(
    r"(?:^organization|\.project|\.stack|\.name|\.path|\.account|\.id|\.arn|\.roleArn|\.policyArns(?:\[\d+\])?|"
    r"\.permissionsBoundary)$"
)
"""Key paths of the values :data:`PLAIN_BY_DESIGN` keeps plain, which a ``secure:`` value must not hold."""


def secret_note(key: str) -> str:
    """What ``plan`` and ``pulumi preview`` say once for each secret top-level ``key``."""
    return (
        f"{key} holds a secure value, so Pulumi marks the whole key secret: every value read from it is sent as a "
        f"secret, except {PLAIN_BY_DESIGN}"
    )


def provider_client_ids(
    organization: str, account: AccountSettings, roles: Sequence[RoleSettings], by_roles: bool
) -> list[str]:
    """The client IDs the provider this program creates in ``account`` registers.

    Form A registers ``<org>`` and ``aws:<org>`` whatever is listed;
    form B the audiences the account's roles need. Both add ``oidcProvider.audiences``.
    """
    extra = account.oidc_provider.audiences
    if not by_roles:
        return claims.provider_client_ids(organization, extra)
    needed = {claims.deployments_audience(organization) for role in roles if role.deployments}
    needed |= {claims.esc_audience(organization, e.project) for role in roles for e in role.environments}
    return sorted(needed | set(extra))


@dataclass(frozen=True)
class Finding:
    """Where the live state differs from what the config renders (``python -m oidc doctor``), and what to do.

    ``kind`` names the check (``trust-policy``, ``policy-detached``, ...), ``subject`` what was checked (a role,
    a provider, a stack, an environment), ``details`` what ``--json`` adds (the documents compared). No field
    holds a credential.
    """

    kind: str
    subject: str
    message: str
    fix: str
    details: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"[{self.kind}] {self.subject}: {self.message}"
