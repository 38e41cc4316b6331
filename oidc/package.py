"""``PulumiCloudOidc`` with typed arguments: for Python programs, and for any language as a Pulumi package.

From Python, declare :class:`PulumiCloudOidc` with a :class:`PulumiCloudOidcArgs` dict; its keys are
the config keys of the admin stack in snake_case (``oidc_provider``, ``policy_arns``). From any other
Pulumi language, ``pulumi package add <path or git URL of this repository>/provider`` runs
``provider/__main__.py`` (:func:`main`), which serves this class with the schema Pulumi infers from the
annotations and docstrings below, and generates an SDK from it (keys are camelCase there, as in config).

The arguments become :class:`~oidc.settings.Settings` through :func:`oidc.settings.load_settings`,
so they are validated exactly like the admin stack's config: every problem at once, each with its
key path (``deployments[1].duration``), before anything is declared. The component is the same
``pulumi-aws-oidc:index:PulumiCloudOidc`` as :class:`oidc.component.PulumiCloudOidc`, with the
same children and logical names.

No ``from __future__ import annotations`` here: Pulumi's schema inference reads these annotations
at run time, and needs them as types, not strings.
"""

from collections.abc import Mapping
from typing import Any, NotRequired, TypedDict

import pulumi
from pulumi.provider.experimental import component_provider_host
from pulumi.provider.experimental.util import camel_case

from oidc import component
from oidc.settings import ConfigError, ConfigIssue, Settings, load_settings, raw_text

__all__ = [
    "PACKAGE_NAME",
    "Account",
    "AccountRole",
    "AssumeRole",
    "ConfigError",
    "Deployment",
    "Environment",
    "GitSource",
    "OidcProvider",
    "PulumiCloudOidc",
    "PulumiCloudOidcArgs",
    "Role",
    "main",
    "to_settings",
]

PACKAGE_VERSION = "0.1.0"
"""The version the package reports; the release in CHANGELOG.md."""
PACKAGE_NAME = "pulumi-aws-oidc"
"""The Pulumi package name: with the class name, it makes the type token ``pulumi-aws-oidc:index:PulumiCloudOidc``."""


class OidcProvider(TypedDict, total=False):
    """The issuer's IAM OIDC provider: created by the component, or an existing one reused by its ARN."""

    arn: str
    """ARN of an existing provider to reuse instead of creating one (IAM allows one per issuer and account)."""
    thumbprints: list[str]
    """Created provider: up to 5 hex SHA-1 thumbprints, or [] for none (default: the issuer's top intermediate CA)."""
    audiences: list[str]
    """Created provider: client IDs besides the audiences the roles need (e.g. other organizations)."""
    protect: bool
    """Created provider: protect it from `pulumi destroy` (default true), as the whole account may rely on it."""


class AssumeRole(TypedDict):
    """The role the admin stack's AWS provider assumes to reach an account."""

    role_arn: str
    """ARN of the role to assume, e.g. arn:aws:iam::<id>:role/OrganizationAccountAccessRole."""
    session_name: NotRequired[str]
    """STS session name of the admin stack's own session."""
    external_id: NotRequired[str]
    """External ID the role's trust policy asks for."""


class Account(TypedDict, total=False):
    """An AWS account the component reaches, and the issuer's OIDC provider in it."""

    id: str
    """12-digit account ID; the run fails unless the credentials reach it (default: the account of assume_role)."""
    assume_role: AssumeRole
    """Reach the account by assuming this role (not with profile)."""
    profile: str
    """Reach the account with this named AWS profile (not with assume_role)."""
    region: str
    """Region of the account's AWS provider (default: aws:region)."""
    oidc_provider: OidcProvider
    """The issuer's IAM OIDC provider in this account: created (default), or reused by its ARN."""
    trust_policy_max_chars: int
    """The account's IAM quota "Role trust policy length" (default 2048, adjustable up to 4096)."""


class Role(TypedDict, total=False):
    """The IAM role Pulumi Cloud assumes."""

    name: str
    """IAM role name, 1 to 64 of letters, digits and _+=,.@- (default: auto-named)."""
    path: str
    """IAM path (default /)."""
    description: str
    """Role description (default: Assumed by Pulumi Cloud for <org> through OIDC)."""
    policy_arns: list[str]
    """Managed policies attached to the role, at most 20 (default: the partition's ReadOnlyAccess)."""
    permissions_boundary: str
    """ARN of the role's permissions boundary."""
    max_session_duration: str
    """The role's maximum session, 1h to 12h as XhYmZs (default 1h); every session duration must fit in it."""
    tags: dict[str, str]
    """Role tags."""


class GitSource(TypedDict):
    """The git source of a stack's deployment settings."""

    repo_url: str
    """URL of the git repository."""
    branch: str
    """Branch to deploy, e.g. main."""
    repo_dir: NotRequired[str]
    """The project's folder in the repository."""


class Deployment(TypedDict):
    """A Pulumi Deployments stack, or a pattern of stacks, that the role trusts."""

    project: str
    """Project name; * and ? patterns are allowed (they trust, but manage no settings)."""
    stack: str
    """Stack name; * and ? patterns are allowed, as for project."""
    operations: NotRequired[list[str]]
    """Any of preview, update, refresh, destroy, detect-drift, remediate-drift (default: all, as one pattern)."""
    manage_settings: NotRequired[bool]
    """Declare the stack's DeploymentSettings, which own all its settings (default true for a concrete stack)."""
    session_name: NotRequired[str]
    """STS session name, 2 to 64 of letters, digits and _+=,.@- (default pulumi-deploy-<project>-<stack>)."""
    duration: NotRequired[str]
    """Session duration, 15m to 12h as XhYmZs and within role.maxSessionDuration (default 1h)."""
    policy_arns: NotRequired[list[str]]
    """Session policies, at most 10."""
    source: NotRequired[GitSource]
    """The git source of the stack's deployment settings, so that the settings keep it."""


class Environment(TypedDict):
    """A Pulumi ESC environment, or a pattern of environments, that the role trusts."""

    project: str
    """ESC project; no pattern, as the project decides the token's audience."""
    name: str
    """Environment name (letters, digits, -, _ and .); a * or ? pattern trusts, but creates no environment."""
    session_name: NotRequired[str]
    """STS session name (default pulumi-environments-session)."""
    duration: NotRequired[str]
    """Session duration, 15m to 12h as XhYmZs and within role.maxSessionDuration (default 1h)."""
    policy_arns: NotRequired[list[str]]
    """Session policies, at most 10."""
    region: NotRequired[str]
    """AWS region: adds AWS_REGION and pulumiConfig aws:region to the environment."""


class AccountRole(TypedDict, total=False):
    """An IAM role of roles: the fields of role, the account it is in, and what it trusts."""

    account: str
    """The key of its account in accounts (required when accounts is given, an error without it)."""
    name: str
    """IAM role name, 1 to 64 of letters, digits and _+=,.@- (default: auto-named); unique within its account."""
    path: str
    """IAM path (default /)."""
    description: str
    """Role description (default: Assumed by Pulumi Cloud for <org> through OIDC)."""
    policy_arns: list[str]
    """Managed policies attached to the role, at most 20 (default: the partition's ReadOnlyAccess)."""
    permissions_boundary: str
    """ARN of the role's permissions boundary."""
    max_session_duration: str
    """The role's maximum session, 1h to 12h as XhYmZs (default 1h); every session duration must fit in it."""
    tags: dict[str, str]
    """Role tags."""
    deployments: list[Deployment]
    """Pulumi Deployments stacks the role trusts; at most one role manages a stack's settings."""
    environments: list[Environment]
    """ESC environments the role trusts; at most one role creates an environment."""


class PulumiCloudOidcArgs(TypedDict):
    """The arguments of PulumiCloudOidc: the admin stack's config keys, in snake_case."""

    organization: str
    """Pulumi organization login, lowercase (the <org> in app.pulumi.com/<org>)."""
    issuer: NotRequired[str]
    """OIDC issuer (default https://api.pulumi.com/oidc); self-hosted Pulumi Cloud has its own."""
    oidc_provider: NotRequired[OidcProvider]
    """The issuer's IAM OIDC provider: created (default), or reused by its ARN (not with accounts)."""
    role: NotRequired[Role]
    """Form A: the one IAM role Pulumi Cloud assumes (not with roles)."""
    deployments: NotRequired[list[Deployment]]
    """Form A: Pulumi Deployments stacks the role trusts, one item each (not with roles)."""
    environments: NotRequired[list[Environment]]
    """Form A: ESC environments the role trusts, one item each (not with roles)."""
    trust_policy_max_chars: NotRequired[int]
    """The account's IAM quota "Role trust policy length" (default 2048, adjustable up to 4096; not with accounts)."""
    accounts: NotRequired[dict[str, Account]]
    """Form B: the AWS accounts, by key (1 to 32 of a-z, 0-9 and -); each holds at least one role."""
    roles: NotRequired[dict[str, AccountRole]]
    """Form B: the IAM roles, by key (1 to 32 of a-z, 0-9 and -), each with what it trusts."""


class PulumiCloudOidc(component.PulumiCloudOidc):
    """Lets Pulumi Deployments and Pulumi ESC assume AWS roles through OpenID Connect, with no stored keys."""

    roles: pulumi.Output[dict[str, dict[str, str]]]
    """Each role by key: its arn, name, account and trustPolicy (the compact JSON IAM stores)."""
    oidc_providers: pulumi.Output[dict[str, str]]
    """ARN of each account's OIDC provider, created or reused, by account key."""
    deployment_stack_roles: pulumi.Output[dict[str, str]]
    """org/project/stack of every stack whose deployment settings the component manages -> its role key."""
    environment_roles: pulumi.Output[dict[str, str]]
    """org/project/name of every ESC environment the component creates -> its role key."""

    def __init__(self, name: str, args: PulumiCloudOidcArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        """Validate ``args`` (:func:`to_settings`) and declare what they ask for, under a component named ``name``.

        Raises :class:`~oidc.settings.ConfigError`, listing every problem with its key path, before
        anything is declared. Several roles and accounts share one component: give ``roles`` (and
        ``accounts``) instead of ``role``, ``deployments`` and ``environments``.
        """
        super().__init__(name, to_settings(args), opts)


def _data_keys(path: str) -> bool:
    """Whether the keys of the object at ``path`` are data (tag names, account and role keys), not argument names."""
    return path in {"role.tags", "accounts", "roles"} or (path.startswith("roles.") and path.endswith(".tags"))


_PLAIN = (str, int, float, bool)

_OMITTED = object()
"""Stands for a value :func:`_config_value` reported and left out."""


def to_settings(args: PulumiCloudOidcArgs | Mapping[str, Any]) -> Settings:
    """Validate ``args`` as :func:`~oidc.settings.load_settings` validates config, and return the settings.

    Keys are turned into their camelCase config names and values into the raw text Pulumi keeps for
    config (JSON for anything but a string), so every check and message is the loader's own; key paths
    in errors are camelCase (``role.maxSessionDuration``). Values must be plain data: an ``Output``
    (a value another resource computes, or a secret) is an error at its key path, since the component
    validates its inputs and renders the trust policy before it declares anything.

    Raises :class:`~oidc.settings.ConfigError` listing every problem.
    """
    issues: list[ConfigIssue] = []
    config = _config_value(args, "", issues)
    if not isinstance(config, dict):
        raise ConfigError([ConfigIssue("args", f"got {type(args).__name__}; expected a dict of PulumiCloudOidcArgs")])
    raw = {key: raw_text(value) for key, value in config.items()}
    try:
        settings = load_settings(raw)
    except ConfigError as error:
        reported = [issue.path for issue in issues]
        issues.extend(issue for issue in error.issues if not any(_within(issue.path, path) for path in reported))
        raise ConfigError(issues) from None
    if issues:
        raise ConfigError(issues)
    return settings


def _config_value(value: Any, path: str, issues: list[ConfigIssue]) -> Any:
    """``value`` as config data: camelCase keys, lists for tuples; ``Output`` and other non-data left out, reported.

    Top-level keys whose value is ``None`` are left out, as unset config keys are.
    """
    if isinstance(value, Mapping):
        result: dict[Any, Any] = {}
        for key, item in value.items():
            name = key if _data_keys(path) or not isinstance(key, str) else camel_case(key)
            if item is None and not path:
                continue
            item_path = f"{path}.{name}" if path else str(name)
            converted = _config_value(item, item_path, issues)
            if converted is not _OMITTED:
                result[name] = converted
        return result
    if isinstance(value, list | tuple):
        items = [_config_value(item, f"{path}[{index}]", issues) for index, item in enumerate(value)]
        return [None if item is _OMITTED else item for item in items]
    if value is None or isinstance(value, _PLAIN):
        return value
    kind = "an Output (computed by a resource, or secret)" if isinstance(value, pulumi.Output) else type(value).__name__
    message = (
        f"got {kind}; expected a plain value, known before anything is declared: the component validates its "
        "arguments and renders the trust policy first"
    )
    issues.append(ConfigIssue(path, message))
    return _OMITTED


def _within(path: str, reported: str) -> bool:
    """Whether ``path`` is ``reported`` or a key path inside it."""
    return path == reported or path.startswith((f"{reported}.", f"{reported}["))


def main() -> None:
    """Serve :class:`PulumiCloudOidc` as the component provider of the ``pulumi-aws-oidc`` package."""
    component_provider_host([PulumiCloudOidc], name=PACKAGE_NAME, version=PACKAGE_VERSION)
