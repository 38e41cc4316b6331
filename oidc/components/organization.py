"""The whole admin stack for one Pulumi organization: the component that multiplies the others.

:class:`PulumiCloudOidc` declares an ``aws.Provider`` per account reached through ``assumeRole`` or ``profile``,
reads each account through its provider, runs every check that needs AWS (the account ID, a reused provider's
client IDs, each trust policy's size) and only then declares an :class:`~oidc.components.provider.OidcProvider`
per account and an :class:`~oidc.components.role.OidcRole` per role. A failed check declares no IAM or Pulumi
Cloud resource.

Form A (one role, no ``roles`` key) keeps the URNs of release 0.1.0, whose single component held every resource:
its children are declared inside the new components with aliases to the old parent.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import pulumi
import pulumi_aws as aws

from oidc import claims, cloud, sdk, trust
from oidc.aws import client_ids
from oidc.cloud import guard
from oidc.components.provider import OidcProvider, secret_if
from oidc.components.role import ROLE_TYPE, OidcRole, environment_name
from oidc.model import (
    FORM_A_KEY,
    MAX_CLIENT_IDS,
    AccountSettings,
    ConfigError,
    ConfigIssue,
    EscEnvironment,
    RoleSettings,
    Settings,
    provider_client_ids,
    secret_note,
)
from oidc.settings import read_pulumiservice_config

TYPE = "pulumi-aws-oidc:index:PulumiCloudOidc"


class ProgramError(pulumi.RunError):
    """A :class:`~oidc.settings.ConfigError` as a program raises it to Pulumi, which prints it without a
    traceback; ``error`` keeps its problems one by one."""

    def __init__(self, error: ConfigError) -> None:
        super().__init__(str(error))
        self.error = error


def aws_provider_of(opts: pulumi.ResourceOptions | None) -> pulumi.ProviderResource | None:
    """The AWS provider given in ``opts`` (``provider`` or ``providers``), if any."""
    if opts is None:
        return None
    candidates: list[pulumi.ProviderResource] = []
    if isinstance(opts.providers, Mapping):
        candidates.extend(opts.providers.values())
    elif opts.providers:
        candidates.extend(opts.providers)
    if isinstance(opts.provider, pulumi.ProviderResource):
        candidates.append(opts.provider)
    return next((p for p in candidates if p.package == "aws"), None)


def component_name(name: str, key: str) -> str:
    """The name of the OidcProvider of account ``key``, or of the OidcRole of role ``key``, in ``name``.

    The key ``default`` (form A's one account and role) keeps release 0.1.0's names, whose children
    were ``<name>-provider``, ``<name>-role``, ...: a form-A stack that becomes form B keeps its
    provider and role by keeping them under that key.
    """
    return name if key == FORM_A_KEY else f"{name}-{key}"


def _issue(path: str, message: str) -> ConfigIssue:
    return ConfigIssue(path, message)


@dataclass(frozen=True)
class _Account:
    """What the checks learned of one account, before anything of it is declared."""

    settings: AccountSettings
    partition: str
    account_id: str
    provider_arn: str
    client_ids: list[str]
    provider: pulumi.ProviderResource | None
    missing_client_ids: tuple[str, ...] = ()
    """Of a reused provider with ``addAudiences``: the client IDs it lacks, as read (empty when unknown)."""


@dataclass(frozen=True)
class _Role:
    settings: RoleSettings
    trust_policy: str
    policy_arns: tuple[str, ...]


class PulumiCloudOidc(pulumi.ComponentResource):
    """Lets Pulumi Deployments and Pulumi ESC assume AWS roles through OIDC, across accounts."""

    roles: pulumi.Output[dict[str, dict[str, str]]]
    oidc_providers: pulumi.Output[dict[str, str]]
    deployment_stack_roles: pulumi.Output[dict[str, str]]
    environment_roles: pulumi.Output[dict[str, str]]

    def __init__(self, name: str, settings: Settings, opts: pulumi.ResourceOptions | None = None) -> None:
        """Declare everything ``settings`` asks for, under a component named ``name``.

        Every account is read first, through its own AWS provider: its partition and account ID (an
        ``accounts.<key>.id`` the credentials do not reach fails), a reused provider's client IDs (one
        lacking an audience the roles need fails, with the command that adds it), and each role's trust
        policy is checked against its account's quota. A failure raises :class:`ConfigError` listing
        every problem, with nothing declared but the AWS providers those reads went through. Pulumi Cloud
        is read first (the guard); when it cannot be, :class:`oidc.cloud.CloudError` says so and nothing
        is declared.
        """
        self.settings = settings
        admitted = {role.key: _admissions(settings.organization, role) for role in settings.roles}
        # Before anything is read or declared: a policy too long with the shortest provider ARN is too long.
        too_long = [
            problem for role in settings.roles if (problem := _size_at_least(settings, role, admitted[role.key]))
        ]
        if too_long:
            raise ConfigError(too_long)
        held_here = self._guard(name, settings, opts)
        accounts, issues = self._read_accounts(name, settings, opts, held_here, admitted)
        roles: dict[str, _Role] = {}
        for role in settings.roles:
            account = accounts.get(role.account)
            if account is None:
                continue
            checked, problem = _checked_role(settings, account, role, admitted[role.key])
            if problem is not None:
                issues.append(problem)
            roles[role.key] = checked
        if not issues:
            issues = _claim(name, settings, accounts)
        if issues:
            raise ConfigError(issues)

        super().__init__(TYPE, name, None, opts)
        self.providers: dict[str, OidcProvider] = {}
        for key, account in accounts.items():
            oidc = account.settings.oidc_provider
            self.providers[key] = OidcProvider(
                component_name(name, key),
                account=key,
                issuer=settings.issuer,
                arn=account.provider_arn,
                client_ids=account.client_ids,
                create=oidc.arn is None,
                thumbprints=oidc.thumbprints,
                protect=oidc.protect,
                moved_from=self if key == FORM_A_KEY else None,
                add_client_ids=_credentials(account) if oidc.arn is not None and oidc.add_audiences else None,
                config_path=f"{account.settings.config_path}oidcProvider",
                missing_client_ids=account.missing_client_ids,
                secret=settings.secret(f"{account.settings.config_path}oidcProvider"),
                opts=self._child_options(account.provider),
            )
        self.role_components: dict[str, OidcRole] = {}
        for key, checked in roles.items():
            account = accounts[checked.settings.account]
            self.role_components[key] = OidcRole(
                component_name(name, key),
                organization=settings.organization,
                issuer=settings.issuer,
                role=checked.settings,
                trust_policy=checked.trust_policy,
                trust_policy_max_chars=account.settings.trust_policy_max_chars,
                quota_key=f"{account.settings.config_path}trustPolicyMaxChars",
                policy_arns=checked.policy_arns,
                provider=self.providers[account.settings.key],
                settings_prefix=name,
                moved_from=self if key == FORM_A_KEY else None,
                secret_keys=settings.secret_keys,
                opts=self._child_options(account.provider),
            )
        for key in sorted(settings.secret_keys):
            pulumi.log.info(secret_note(key))
        for warning in settings.warnings:
            pulumi.log.warn(str(warning))
        self._set_outputs(accounts, roles)

    @staticmethod
    def _guard(name: str, settings: Settings, opts: pulumi.ResourceOptions | None) -> Mapping[tuple[str, str], str]:
        """Read what exists in Pulumi Cloud, and raise :class:`ConfigError` if the writes would erase any of it,
        :class:`oidc.cloud.CloudError` (``pulumi cloud: ...``) if Pulumi Cloud cannot be read.

        Returns the client IDs this stack added to reused providers (none without a Pulumi Cloud token).
        """
        stacks = [f"{settings.organization}/{d.identity}" for r in settings.roles for d in r.managed_stacks]
        environments = [f"{settings.organization}/{e.identity}" for r in settings.roles for e in r.defined_environments]
        # Under mocks (a unit test, or plan): read nothing unless asked.
        mocked = sdk.under_mocks() and not cloud.reads_under_mocks()
        credentials = (
            cloud.UNDER_MOCKS
            if mocked and not cloud.is_offline()
            else cloud.read_credentials(read_pulumiservice_config())
        )
        if isinstance(credentials, cloud.NoToken):
            if stacks or environments:
                # Offline (plan) or in a unit test, nothing is ever guarded: a note. In a real run: a warning.
                say = pulumi.log.info if credentials in {cloud.OFFLINE, cloud.UNDER_MOCKS} else pulumi.log.warn
                say(guard.unguarded_warning(stacks, environments, credentials))
            return {}
        # With nothing to write, the guard still reads this stack's last update: settings it would delete.
        # The engine names the admin stack's organization; where it does not, it is the organization configured.
        admin_org = pulumi.get_organization() or settings.organization
        admin = guard.AdminStack(admin_org, pulumi.get_project(), pulumi.get_stack())
        nested = opts is not None and opts.parent is not None

        def adopt(role: RoleSettings, environment: EscEnvironment) -> str:
            parent = component_name(name, role.key)
            urn = None if nested else f"urn:pulumi:{admin.stack}::{admin.project}::{TYPE}${ROLE_TYPE}::{parent}"
            return guard.environment_import(
                environment, settings.organization, environment_name(name, environment), parent, urn
            )

        try:
            with cloud.PulumiCloud(credentials) as client:
                declared = [
                    guard.DeclaredTeams(
                        environment.project,
                        environment.name,
                        {team: access.permission for team, access in environment.teams.items()},
                        environment.path,
                    )
                    for role in settings.roles
                    for environment in role.defined_environments
                ]
                found = guard.guard(settings, client, admin, adopt, declared)
        except cloud.CloudError as error:
            # Not "invalid config": the config may be right, and Pulumi Cloud unreachable or the API URL wrong.
            raise cloud.CloudError(f"{error.detail}; nothing was declared") from None
        if found.issues:
            raise ConfigError(found.issues)
        for warning in found.warnings:
            pulumi.log.warn(warning)
        return found.client_id_resources

    def _child_options(self, provider: pulumi.ProviderResource | None) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, providers={"aws": provider} if provider else None)

    def _read_accounts(
        self,
        name: str,
        settings: Settings,
        opts: pulumi.ResourceOptions | None,
        held_here: Mapping[tuple[str, str], str],
        admitted: Mapping[str, list[trust.Admission]],
    ) -> tuple[dict[str, _Account], list[ConfigIssue]]:
        issues: list[ConfigIssue] = []
        accounts: dict[str, _Account] = {}
        for account in settings.accounts:
            provider = (
                aws_provider_of(opts)
                if account.uses_default_provider
                else _aws_provider(name, account, opts, settings_secret=settings.secret(account.config_path))
            )
            invoke = pulumi.InvokeOptions(provider=provider) if provider else None
            try:
                partition = aws.get_partition(opts=invoke).partition
                account_id = aws.get_caller_identity(opts=invoke).account_id
            except Exception as error:  # the AWS provider's own message says why (no credentials, denied)
                issues.append(_issue(account.config_path.rstrip(".") or "aws", _unreachable(error)))
                continue
            if account.id is not None and account_id != account.id:
                issues.append(
                    _issue(
                        f"{account.config_path}id",
                        f"got {account.id!r}, but the credentials of this account reach account {account_id}; fix "
                        "its assumeRole or profile, or the id",
                    )
                )
                continue
            roles = settings.roles_of(account.key)
            needed = sorted({a.audience for role in roles for a in admitted[role.key]})
            oidc = account.oidc_provider
            missing: tuple[str, ...] = ()
            if oidc.arn is not None:
                problem, missing = _check_reused_provider(
                    oidc.arn,
                    account_id,
                    needed,
                    invoke,
                    f"{account.config_path}oidcProvider.arn",
                    add_audiences=oidc.add_audiences,
                    held_here=held_here,
                )
                if problem is not None:
                    issues.append(problem)
                    continue
                provider_arn, client_ids = oidc.arn, needed
            else:
                provider_arn = claims.provider_arn(partition, account_id, settings.issuer)
                client_ids = provider_client_ids(settings.organization, account, roles, settings.by_roles)
            accounts[account.key] = _Account(
                account, partition, account_id, provider_arn, client_ids, provider, missing
            )
        issues.extend(_same_account_problems(settings, accounts))
        return accounts, issues

    def _set_outputs(self, accounts: Mapping[str, _Account], roles: Mapping[str, _Role]) -> None:
        org = self.settings.organization
        self.oidc_providers = pulumi.Output.all(**{k: p.arn for k, p in self.providers.items()})
        self.roles = pulumi.Output.all(
            **{
                key: pulumi.Output.all(
                    arn=role.arn,
                    name=role.role_name,
                    account=roles[key].settings.account,
                    trustPolicy=roles[key].trust_policy,
                )
                for key, role in self.role_components.items()
            }
        )
        self.deployment_stack_roles = pulumi.Output.from_input(
            dict(
                sorted(
                    (f"{org}/{d.identity}", r.settings.key) for r in roles.values() for d in r.settings.managed_stacks
                )
            )
        )
        self.environment_roles = pulumi.Output.from_input(
            dict(
                sorted(
                    (f"{org}/{e.identity}", r.settings.key)
                    for r in roles.values()
                    for e in r.settings.defined_environments
                )
            )
        )
        outputs: dict[str, pulumi.Output[Any]]
        if self.settings.by_roles:
            outputs = {
                "roles": self.roles,
                "oidcProviders": self.oidc_providers,
                "deploymentStacks": self.deployment_stack_roles,
                "environments": self.environment_roles,
            }
        else:
            [(key, only)] = roles.items()
            component, provider = self.role_components[key], self.providers[only.settings.account]
            outputs = {
                "roleArn": component.arn,
                "roleName": component.role_name,
                "oidcProviderArn": provider.arn,
                "audiences": provider.client_ids,
                "trustPolicy": pulumi.Output.from_input(only.trust_policy),
                "deploymentStacks": pulumi.Output.from_input(
                    [f"{org}/{d.identity}" for d in only.settings.managed_stacks]
                ),
                "environments": pulumi.Output.from_input(
                    [f"{org}/{e.identity}" for e in only.settings.defined_environments]
                ),
            }
        self.stack_outputs = outputs
        """The stack outputs of this form (A or B), by output name."""
        self.register_outputs(outputs)


_CLAIMED: weakref.WeakKeyDictionary[Any, dict[str, str]] = weakref.WeakKeyDictionary()
"""Per program run (keyed by its resource monitor): what each component declares that one only may (a stack's
settings, an environment, the provider of an issuer in an account) -> who declares it."""


def _claim(name: str, settings: Settings, accounts: Mapping[str, _Account]) -> list[ConfigIssue]:
    """Record what the component ``name`` declares that no other component of the program may; what another
    declares already, as problems naming both. Nothing is recorded when there is a problem."""
    org = settings.organization
    wanted: dict[str, tuple[str, str]] = {}
    for account in accounts.values():
        if account.settings.oidc_provider.arn is None:
            what = f"creates the OIDC provider of {settings.issuer} in account {account.account_id}"
            wanted[f"provider {account.account_id} {settings.issuer}"] = (
                account.settings.config_path.rstrip("."),
                what,
            )
    for role in settings.roles:
        for deployment in role.managed_stacks:
            what = f"manages the deployment settings of {org}/{deployment.identity}"
            wanted[f"settings {org}/{deployment.identity}"] = (deployment.path, what)
        for environment in role.defined_environments:
            wanted[f"environment {org}/{environment.identity}"] = (
                environment.path,
                f"creates the ESC environment {org}/{environment.identity}",
            )
    claimed = _CLAIMED.setdefault(sdk.current_run(), {})
    issues = [
        ConfigIssue(
            path or "oidcProvider",
            f"{what} in PulumiCloudOidc {name!r}, as {claimed[key]} does: IAM holds one provider per issuer and "
            "account, a stack's settings one role ARN, and an environment one definition. Declare both in one "
            "component (several roles share it), or reuse the provider with oidcProvider.arn",
        )
        for key, (path, what) in wanted.items()
        if key in claimed
    ]
    if not issues:
        claimed.update(
            {key: f"{path or 'oidcProvider'} of PulumiCloudOidc {name!r}" for key, (path, _) in wanted.items()}
        )
    return issues


def _same_account_problems(settings: Settings, accounts: Mapping[str, _Account]) -> list[ConfigIssue]:
    """Two account keys whose credentials reach the same AWS account, as only reading them can tell.

    IAM holds one provider per issuer in an account, and role names are unique in it.
    """
    problems = []
    first: dict[str, str] = {}
    for key in sorted(accounts):
        other = first.setdefault(accounts[key].account_id, key)
        if other != key:
            problems.append(
                _issue(
                    f"accounts.{key}",
                    f"reaches account {accounts[key].account_id}, as accounts.{other} does: IAM holds one provider "
                    f"per issuer and account, so list the account once and give its roles account: {other}",
                )
            )
    return problems


def _admissions(org: str, role: RoleSettings) -> list[trust.Admission]:
    return trust.admissions(org, role.deployments, role.environments)


def _checked_role(
    settings: Settings, account: _Account, role: RoleSettings, admitted: Sequence[trust.Admission]
) -> tuple[_Role, ConfigIssue | None]:
    """The role's trust policy (admitting ``admitted``) and attachments, and what is wrong with its size."""
    policy = trust.render(trust.trust_policy(settings.issuer, account.provider_arn, admitted))
    quota_key = f"{account.settings.config_path}trustPolicyMaxChars"
    problem = trust.size_problem(
        policy, account.settings.trust_policy_max_chars, quota_key, restricting=_restricting(role)
    )
    policy_arns = role.policy_arns
    if policy_arns is None:
        policy_arns = (f"arn:{account.partition}:iam::aws:policy/ReadOnlyAccess",)
    checked = _Role(role, policy, policy_arns)
    return checked, (_issue(_size_path(settings, role), problem) if problem else None)


def _restricting(role: RoleSettings) -> list[str]:
    """The key paths of the role's entries that list operations, each of which costs a subject per operation."""
    return [d.path for d in role.deployments if d.operations is not None]


def _size_path(settings: Settings, role: RoleSettings) -> str:
    """The key path a size problem of ``role``'s trust policy is reported at."""
    return role.config_path if settings.by_roles else "trustPolicyMaxChars"


SHORTEST_PARTITION = "aws"
"""The shortest AWS partition name: a provider ARN in it is as short as a provider ARN can be."""
PLACEHOLDER_ACCOUNT_ID = "000000000000"
"""Any 12 digits: every account ID has as many."""


def _size_at_least(settings: Settings, role: RoleSettings, admitted: Sequence[trust.Admission]) -> ConfigIssue | None:
    """What is wrong with the size of ``role``'s trust policy, known before any account is read.

    The policy differs from the one declared only in its provider ARN, which is known (a reused provider's)
    or IAM's name for the issuer's provider in the account: its length then depends only on the
    partition, which only reading the account tells. With the shortest partition the length is a lower
    bound, exact in ``aws``.
    """
    account = next((a for a in settings.accounts if a.key == role.account), None)
    if account is None:  # no such account: nothing is checked against it later either
        return None
    reused = account.oidc_provider.arn
    arn = reused or claims.provider_arn(SHORTEST_PARTITION, account.id or PLACEHOLDER_ACCOUNT_ID, settings.issuer)
    policy = trust.render(trust.trust_policy(settings.issuer, arn, admitted))
    quota_key = f"{account.config_path}trustPolicyMaxChars"
    problem = trust.size_problem(
        policy, account.trust_policy_max_chars, quota_key, at_least=reused is None, restricting=_restricting(role)
    )
    return _issue(_size_path(settings, role), problem) if problem else None


def _aws_provider(
    name: str, account: AccountSettings, opts: pulumi.ResourceOptions | None, *, settings_secret: bool
) -> aws.Provider:
    """The AWS provider that reaches ``account`` through its ``assumeRole`` or ``profile``; with
    ``settings_secret`` (the account's config key is secret), its session name, external ID, profile and region
    are secrets."""
    secret = settings_secret
    assume_roles = None
    if account.assume_role is not None:
        assume_roles = [
            aws.ProviderAssumeRoleArgs(
                role_arn=account.assume_role.role_arn,
                session_name=secret_if(secret, account.assume_role.session_name),
                external_id=secret_if(secret, account.assume_role.external_id),
            )
        ]
    return aws.Provider(
        f"{name}-aws-{account.key}",
        assume_roles=assume_roles,
        profile=secret_if(secret, account.profile),
        region=secret_if(secret, account.region),
        allowed_account_ids=[account.id] if account.id else None,
        opts=pulumi.ResourceOptions(parent=opts.parent if opts else None),
    )


def _unreachable(error: Exception) -> str:
    return f"AWS could not be read with this account's credentials: {error}"


def _credentials(account: _Account) -> client_ids.Credentials:
    """The credentials of ``account`` as its AWS provider gets them, for the client IDs added outside it."""
    assume = account.settings.assume_role
    return client_ids.Credentials(
        account_id=account.account_id,
        region=account.settings.region,
        profile=account.settings.profile,
        role_arn=assume.role_arn if assume else None,
        session_name=assume.session_name if assume else None,
        external_id=assume.external_id if assume else None,
    )


def _check_reused_provider(
    arn: str,
    account_id: str,
    audiences: list[str],
    opts: pulumi.InvokeOptions | None,
    path: str,
    *,
    add_audiences: bool = False,
    held_here: Mapping[tuple[str, str], str] | None = None,
) -> tuple[ConfigIssue | None, tuple[str, ...]]:
    """What keeps the reused provider at ``arn`` from admitting the roles' tokens, if anything, and the
    audiences it lacks.

    With ``add_audiences`` a lacking audience is no problem (this stack adds it), unless adding them
    would exceed IAM's limit of client IDs. A look-up that reports no client IDs (an offline plan)
    cannot be checked and passes.
    """
    if arn.split(":")[4] != account_id:
        issue = _issue(path, f"got {arn!r}, a provider of account {arn.split(':')[4]}; this account is {account_id}")
        return issue, ()
    try:
        existing = aws.iam.get_open_id_connect_provider(arn=arn, opts=opts)
    except Exception as error:  # the provider's own message says why (not found, denied)
        return _issue(path, f"got {arn!r}; AWS could not read it: {error}"), ()
    # Typed as always present, but an offline look-up leaves it out: nothing to check then.
    client_ids = cast("Sequence[str] | None", existing.client_id_lists)
    if client_ids is None:
        return None, ()
    going = {a: urn for (provider, a), urn in (held_here or {}).items() if provider == arn and a in audiences}
    if going and not add_audiences:
        return _issue(
            path.removesuffix("arn") + "addAudiences",
            f"is off, so pulumi up deletes this stack's client-ID resources of {arn} ({sorted(going)}), and a delete "
            "removes its client ID where this stack is its last claimant and this program added it, although the "
            "roles still need them: STS would then reject their tokens. Keep addAudiences: true, or hand them over "
            "first, so that the delete leaves them: "
            + "; ".join(f"pulumi state delete '{urn}'" for _, urn in sorted(going.items())),
        ), tuple(sorted(going))
    missing = [a for a in audiences if a not in client_ids]
    if not missing:
        return None, ()
    if add_audiences:
        total = len(client_ids) + len(missing)
        if total > MAX_CLIENT_IDS:
            return _issue(
                path.removesuffix("arn") + "addAudiences",
                f"{arn} holds {len(client_ids)} client IDs; adding {missing} would make {total}, and IAM allows at "
                f"most {MAX_CLIENT_IDS} per provider (not adjustable): remove client IDs it no longer needs",
            ), tuple(missing)
        return None, tuple(missing)
    commands = "; ".join(
        f"aws iam add-client-id-to-open-id-connect-provider --open-id-connect-provider-arn {arn} --client-id {a}"
        for a in missing
    )
    return _issue(
        path,
        f"got {arn!r}, whose client IDs {sorted(client_ids)} lack {missing}, so STS would reject those tokens; "
        f"add them: {commands} (or set {path.removesuffix('arn')}addAudiences: true to let this stack add them)",
    ), tuple(missing)
