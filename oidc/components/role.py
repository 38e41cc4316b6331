"""One IAM role Pulumi Cloud assumes: the role, its policy attachments, and the ``pulumiservice.DeploymentSettings``
and ``pulumiservice.Environment`` resources that point at it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_pulumiservice as pulumiservice

from oidc import access, esc, review
from oidc.components.provider import OidcProvider, moved, secret_if
from oidc.model import (
    DeploymentStack,
    EscEnvironment,
    RoleSettings,
    Secret,
    top_key,
)

ROLE_TYPE = "pulumi-aws-oidc:index:OidcRole"


def policy_identity(policy_arn: str) -> str:
    """A managed policy's identity in logical names: its account and path, without partition.

    ``arn:aws:iam::aws:policy/ReadOnlyAccess`` -> ``aws/ReadOnlyAccess``;
    ``arn:aws:iam::123456789012:policy/team/Deploy`` -> ``123456789012/team/Deploy``.
    Project, stack and environment names cannot hold ``/``, so ``project/name`` identities
    (and these) never collide the way names joined with ``-`` would.
    """
    account, _, path = policy_arn.split(":", 4)[4].partition(":policy/")
    return f"{account}/{path}"


def environment_name(prefix: str, environment: EscEnvironment) -> str:
    """The logical name of an environment's ``pulumiservice.Environment``: its place in ESC, not its role's."""
    return f"{prefix}-env-{environment.identity}"


class OidcRole(pulumi.ComponentResource):
    """One IAM role Pulumi Cloud assumes, its attachments, and the settings and environments that use it."""

    arn: pulumi.Output[str]
    role_name: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        organization: str,
        issuer: str,
        role: RoleSettings,
        trust_policy: str,
        trust_policy_max_chars: int,
        quota_key: str,
        policy_arns: Sequence[str],
        provider: OidcProvider,
        settings_prefix: str | None = None,
        moved_from: pulumi.Resource | None = None,
        secret_keys: frozenset[str] = frozenset(),
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """Declare ``role`` with ``trust_policy`` (checked against ``trust_policy_max_chars``, the config key
        ``quota_key``) and ``policy_arns`` attached.

        Deployment settings and environments are named ``<settings_prefix>-deploy-<project>/<stack>``
        and ``<settings_prefix>-env-<project>/<name>`` (``settings_prefix`` defaults to ``name``):
        give every role of an organization the same prefix, so that moving a stack from one role to
        another updates its settings instead of deleting and recreating them.

        Values read from a top-level config key in ``secret_keys`` are sent as secrets, but for what names
        resources (:data:`oidc.settings.PLAIN_BY_DESIGN`).
        """
        props = {"organization": organization, "issuer": issuer, "trustPolicy": trust_policy}
        super().__init__(ROLE_TYPE, name, props, opts)
        # What the tools read back (plan, explain): kept on the object, not sent as the component's inputs.
        self.role, self.organization, self.issuer = role, organization, issuer
        self.trust_policy_max_chars, self.quota_key = trust_policy_max_chars, quota_key
        prefix = settings_prefix or name
        self.secret_keys = secret_keys
        own = self._secret(role.config_path)
        self.resource = aws.iam.Role(
            f"{name}-role",
            name=role.name,
            path=role.path,
            description=secret_if(own, role.description or f"Assumed by Pulumi Cloud for {organization} through OIDC"),
            assume_role_policy=trust_policy,
            max_session_duration=secret_if(own, role.max_session_duration),
            permissions_boundary=secret_if(own, role.permissions_boundary),
            tags=secret_if(own, dict(role.tags) or None),
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[provider.resource] if provider.resource else None,
                aliases=moved(moved_from),
            ),
        )
        child = pulumi.ResourceOptions(parent=self, aliases=moved(moved_from))
        for policy_arn in policy_arns:
            aws.iam.RolePolicyAttachment(
                f"{name}-policy-{policy_identity(policy_arn)}",
                role=self.resource.name,
                policy_arn=policy_arn,
                opts=child,
            )
        for deployment in role.managed_stacks:
            self._deployment_settings(f"{prefix}-deploy-{deployment.identity}", organization, deployment, child)
        for environment in role.defined_environments:
            created = self._environment(environment_name(prefix, environment), organization, environment, child)
            self._access(prefix, organization, environment, created)
        for warning in review.review(role.config_path, organization, role.deployments, role.environments, policy_arns):
            pulumi.log.warn(warning, resource=self.resource)
        for warning in access.access_warnings(
            role.config_path, organization, role.deployments, role.environments, policy_arns
        ):
            pulumi.log.warn(warning, resource=self.resource)
        self.arn = self.resource.arn
        self.role_name = self.resource.name
        self.register_outputs({"arn": self.arn, "name": self.role_name})

    def _secret(self, path: str) -> bool:
        """Whether the value at config key path ``path`` comes from a secret key."""
        return top_key(path) in self.secret_keys

    def _deployment_settings(
        self, name: str, org: str, deployment: DeploymentStack, opts: pulumi.ResourceOptions
    ) -> pulumiservice.DeploymentSettings:
        assert deployment.session is not None
        session = deployment.session
        secret = self._secret(deployment.path)
        declared = _inputs(deployment.declared_settings(), secret=secret)
        context = declared.pop("operation_context", {})
        resource = pulumiservice.DeploymentSettings(
            name,
            organization=org,
            project=deployment.project,
            stack=deployment.stack,
            operation_context=pulumiservice.DeploymentSettingsOperationContextArgs(
                oidc=pulumiservice.OperationContextOIDCArgs(
                    aws=pulumiservice.AWSOIDCConfigurationArgs(
                        role_arn=self.resource.arn,
                        session_name=secret_if(secret, session.session_name),
                        duration=secret_if(secret, session.duration),
                        policy_arns=secret_if(secret, list(session.policy_arns) or None),
                    )
                ),
                environment_variables=context.get("environment_variables"),
                options=context.get("options"),
                pre_run_commands=context.get("pre_run_commands"),
            ),
            source_context=declared.get("source_context"),
            agent_pool_id=declared.get("agent_pool_id"),
            # As the resource's own classes, which send its defaults (deployCommits and previewPullRequests true).
            cache_options=_args(pulumiservice.DeploymentSettingsCacheOptionsArgs, declared.get("cache_options")),
            executor_context=declared.get("executor_context"),
            github=_args(pulumiservice.DeploymentSettingsGithubArgs, declared.get("github")),
            vcs=_args(pulumiservice.DeploymentSettingsVcsArgs, declared.get("vcs")),
            opts=opts,
        )
        if "shell" in deployment.settings.get("operationContext", {}).get("options", {}):
            pulumi.log.warn(
                f"{deployment.path}.settings.operationContext.options.shell is not sent: pulumiservice's "
                "DeploymentSettings reads it under the key Shell, so the stack keeps the service's default shell. "
                "Run the commands through that shell, or set the shell in the console after each update",
                resource=resource,
            )
        return resource

    def _environment(
        self, name: str, org: str, environment: EscEnvironment, opts: pulumi.ResourceOptions
    ) -> pulumiservice.Environment:
        definition: pulumi.Output[pulumi.Asset] = self.resource.arn.apply(
            lambda arn: pulumi.StringAsset(esc.render(esc.definition(environment, arn)))
        )
        return pulumiservice.Environment(
            name,
            organization=org,
            project=environment.project,
            name=environment.name,
            yaml=secret_if(self._secret(environment.path), definition),
            opts=opts,
        )

    def _access(self, prefix: str, org: str, environment: EscEnvironment, created: pulumiservice.Environment) -> None:
        """Who may open the environment (a ``TeamEnvironmentPermission`` per team), its deletion protection (an
        ``api.esc.EnvironmentSettings``) and its change gates (an ``api.Gate`` per gated action).

        Every environment has a settings object in Pulumi Cloud, and ``api.esc.EnvironmentSettings`` is
        ``requireImport`` (``provider/pkg/cloud/metadata.json``): its create reads the settings first and fails with
        "resource already exists; use the import resource option" when they exist, which is always once the
        environment does. So in an update the resource adopts them with the ``import`` option (the engine reads
        them, then updates ``deletionProtected`` to the value declared: Pulumi's import of 2025, pulumi/pulumi#19339;
        an older engine refuses an import whose inputs differ). The import is left out of a preview, where the
        environment may not exist yet and a create is not sent. Once the resource is in the stack's state, the engine
        ignores the option. It has no delete operation: removing it leaves the setting as it is.
        """
        secret = self._secret(environment.path)
        opts = pulumi.ResourceOptions(parent=self, depends_on=[created])
        identity = environment.identity
        for team, grant in environment.teams.items():
            pulumiservice.TeamEnvironmentPermission(
                f"{prefix}-env-team-{identity}/{team}",
                organization=org,
                team=team,
                project=environment.project,
                environment=environment.name,
                permission=secret_if(secret, pulumiservice.EnvironmentPermission(grant.permission)),
                max_open_duration=secret_if(secret, grant.max_open_duration),
                opts=opts,
            )
        adopt = None if pulumi.runtime.is_dry_run() else f"{org}/{environment.project}/{environment.name}"
        pulumiservice.api.esc.EnvironmentSettings(
            f"{prefix}-env-settings-{identity}",
            org_name=created.organization,
            project_name=created.project.apply(lambda project: project or environment.project),
            env_name=created.name,
            deletion_protected=secret_if(secret, environment.deletion_protected),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[created], import_=adopt),
        )
        for action, rule in environment.approvals.items():
            pulumiservice.api.Gate(
                f"{prefix}-env-gate-{identity}/{action}",
                org_name=org,
                name=access.gate_name(environment, action),
                enabled=True,
                rule=secret_if(secret, access.gate_rule(rule)),
                target=access.gate_target(environment, action),
                opts=opts,
            )


def _args(kind: Any, inputs: Mapping[str, Any] | None) -> Any:
    return None if inputs is None else kind(**inputs)


def _snake(key: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", lambda m: "_" + m.group(1).lower(), key)


def _inputs(value: Any, *, keep_keys: bool = False, secret: bool = False) -> Any:
    """Declared settings as the resource's inputs: snake_case keys (but of environment variables), secrets
    as Pulumi secrets; with ``secret`` (the entry's config key is secret), every value."""
    if isinstance(value, Secret):
        return pulumi.Output.secret(value.value)
    if isinstance(value, Mapping):
        return {
            (key if keep_keys else _snake(key)): _inputs(item, keep_keys=key == "environmentVariables", secret=secret)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return secret_if(secret, [_inputs(item) for item in value])
    return secret_if(secret, value)
