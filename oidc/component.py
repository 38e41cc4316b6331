"""The ``PulumiCloudOidc`` component: everything that lets Pulumi Cloud assume an AWS role.

It owns the IAM OIDC provider for the issuer (or reuses one), the role with its trust policy
and policy attachments, one ``pulumiservice.DeploymentSettings`` per managed Deployments
stack, and one ``pulumiservice.Environment`` per ESC environment. Every check that can fail
runs before the first child is declared, so invalid input creates nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import cast

import pulumi
import pulumi_aws as aws
import pulumi_pulumiservice as pulumiservice
import pulumi_tls as tls

from oidc import claims, esc, trust
from oidc.settings import ConfigError, ConfigIssue, DeploymentStack, EscEnvironment, Settings
from oidc.thumbprint import Certificate, thumbprint

TYPE = "pulumi-aws-oidc:index:PulumiCloudOidc"


def policy_identity(policy_arn: str) -> str:
    """A managed policy's identity in logical names: its account and path, without partition.

    ``arn:aws:iam::aws:policy/ReadOnlyAccess`` -> ``aws/ReadOnlyAccess``;
    ``arn:aws:iam::123456789012:policy/team/Deploy`` -> ``123456789012/team/Deploy``.
    Project, stack and environment names cannot hold ``/``, so ``project/name`` identities
    (and these) never collide the way names joined with ``-`` would.
    """
    account, _, path = policy_arn.split(":", 4)[4].partition(":policy/")
    return f"{account}/{path}"


def aws_invoke_options(opts: pulumi.ResourceOptions | None) -> pulumi.InvokeOptions | None:
    """Route the component's AWS look-ups through the AWS provider given in ``opts``, if any."""
    if opts is None:
        return None
    candidates: list[pulumi.ProviderResource] = []
    if isinstance(opts.providers, Mapping):
        candidates.extend(opts.providers.values())
    elif opts.providers:
        candidates.extend(opts.providers)
    if isinstance(opts.provider, pulumi.ProviderResource):
        candidates.append(opts.provider)
    provider = next((p for p in candidates if p.package == "aws"), None)
    return pulumi.InvokeOptions(provider=provider) if provider is not None else None


def created_provider_arn(issuer: str, invoke_opts: pulumi.InvokeOptions | None, partition: str | None = None) -> str:
    """The ARN IAM gives the provider of ``issuer`` in the account (and partition) the AWS provider reaches.

    IAM names a provider after its issuer, so the ARN is known before the provider exists.
    """
    if partition is None:
        partition = aws.get_partition(opts=invoke_opts).partition
    account_id = aws.get_caller_identity(opts=invoke_opts).account_id
    return claims.provider_arn(partition, account_id, issuer)


def _config_error(path: str, message: str) -> ConfigError:
    return ConfigError([ConfigIssue(path, message)])


class PulumiCloudOidc(pulumi.ComponentResource):
    """Lets Pulumi Deployments and Pulumi ESC assume one AWS role through OIDC."""

    role_arn: pulumi.Output[str]
    role_name: pulumi.Output[str]
    oidc_provider_arn: pulumi.Output[str]
    audiences: pulumi.Output[list[str]]
    trust_policy: pulumi.Output[str]
    deployment_stacks: pulumi.Output[list[str]]
    environments: pulumi.Output[list[str]]

    def __init__(
        self,
        name: str,
        settings: Settings,
        opts: pulumi.ResourceOptions | None = None,
        *,
        lookup_existing_provider: bool = True,
    ) -> None:
        """Declare everything ``settings`` asks for, under a component named ``name``.

        A reused provider (``oidcProvider.arn``) is read from AWS first, to check that it lists every
        audience the trust policy needs. ``lookup_existing_provider=False`` skips that read, for a
        provider that another component of the same program creates: it does not exist yet in a
        preview or the first update. Make this component depend on that one (``depends_on``), so
        that its role is created after the provider its trust policy names.
        """
        invoke_opts = aws_invoke_options(opts)
        partition = aws.get_partition(opts=invoke_opts).partition
        provider_settings = settings.oidc_provider
        required_audiences = sorted({a.audience for a in trust.admissions(settings)})
        if provider_settings.arn is not None:
            provider_arn = provider_settings.arn
            if lookup_existing_provider:
                _check_existing_provider(provider_arn, required_audiences, invoke_opts)
            client_ids = required_audiences
        else:
            provider_arn = created_provider_arn(settings.issuer, invoke_opts, partition)
            client_ids = claims.provider_client_ids(settings.organization, provider_settings.audiences)
        policy_json = trust.render(trust.trust_policy(settings, provider_arn))
        problem = trust.size_problem(policy_json, settings.trust_policy_max_chars)
        if problem is not None:
            raise _config_error("trustPolicyMaxChars", problem)

        super().__init__(TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        provider: aws.iam.OpenIdConnectProvider | None = None
        if provider_settings.arn is None:
            provider = aws.iam.OpenIdConnectProvider(
                f"{name}-provider",
                url=settings.issuer,
                client_id_lists=client_ids,
                thumbprint_lists=self._thumbprints(settings),
                opts=pulumi.ResourceOptions(parent=self, protect=provider_settings.protect),
            )

        role_settings = settings.role
        role = aws.iam.Role(
            f"{name}-role",
            name=role_settings.name,
            path=role_settings.path,
            description=role_settings.description
            or f"Assumed by Pulumi Cloud for {settings.organization} through OIDC",
            assume_role_policy=policy_json,
            max_session_duration=role_settings.max_session_duration,
            permissions_boundary=role_settings.permissions_boundary,
            tags=dict(role_settings.tags) or None,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[provider] if provider else None),
        )
        policy_arns = role_settings.policy_arns
        if policy_arns is None:
            policy_arns = (f"arn:{partition}:iam::aws:policy/ReadOnlyAccess",)
        for policy_arn in policy_arns:
            aws.iam.RolePolicyAttachment(
                f"{name}-policy-{policy_identity(policy_arn)}",
                role=role.name,
                policy_arn=policy_arn,
                opts=child,
            )

        managed_stacks = [d for d in settings.deployments if d.session is not None]
        for deployment in managed_stacks:
            self._deployment_settings(name, settings.organization, deployment, role.arn)
        defined_environments = [e for e in settings.environments if e.session is not None]
        for environment in defined_environments:
            self._environment(name, settings.organization, environment, role.arn)

        org = settings.organization
        self.role_arn = role.arn
        self.role_name = role.name
        self.oidc_provider_arn = provider.arn if provider else pulumi.Output.from_input(provider_arn)
        self.audiences = pulumi.Output.from_input(client_ids)
        self.trust_policy = pulumi.Output.from_input(policy_json)
        self.deployment_stacks = pulumi.Output.from_input([f"{org}/{d.identity}" for d in managed_stacks])
        self.environments = pulumi.Output.from_input([f"{org}/{e.identity}" for e in defined_environments])
        self.register_outputs(
            {
                "roleArn": self.role_arn,
                "roleName": self.role_name,
                "oidcProviderArn": self.oidc_provider_arn,
                "audiences": self.audiences,
                "trustPolicy": self.trust_policy,
                "deploymentStacks": self.deployment_stacks,
                "environments": self.environments,
            }
        )

    def _thumbprints(self, settings: Settings) -> pulumi.Input[list[str]] | None:
        configured = settings.oidc_provider.thumbprints
        if configured != "auto":
            return list(configured) or None
        chain = tls.get_certificate_output(url=settings.issuer, opts=pulumi.InvokeOutputOptions(parent=self))
        return chain.certificates.apply(lambda certs: [thumbprint([Certificate.from_data(c) for c in certs])])

    def _deployment_settings(
        self, name: str, org: str, deployment: DeploymentStack, role_arn: pulumi.Output[str]
    ) -> pulumiservice.DeploymentSettings:
        assert deployment.session is not None
        session = deployment.session
        source = None
        if deployment.source is not None:
            source = pulumiservice.DeploymentSettingsSourceContextArgs(
                git=pulumiservice.DeploymentSettingsGitSourceArgs(
                    repo_url=deployment.source.repo_url,
                    branch=deployment.source.branch,
                    repo_dir=deployment.source.repo_dir,
                )
            )
        resource = pulumiservice.DeploymentSettings(
            f"{name}-deploy-{deployment.identity}",
            organization=org,
            project=deployment.project,
            stack=deployment.stack,
            operation_context=pulumiservice.DeploymentSettingsOperationContextArgs(
                oidc=pulumiservice.OperationContextOIDCArgs(
                    aws=pulumiservice.AWSOIDCConfigurationArgs(
                        role_arn=role_arn,
                        session_name=session.session_name,
                        duration=session.duration,
                        policy_arns=list(session.policy_arns) or None,
                    )
                )
            ),
            source_context=source,
            opts=pulumi.ResourceOptions(parent=self),
        )
        if source is None:
            pulumi.log.warn(
                f"deployment settings of {org}/{deployment.identity} have no source: this resource owns all "
                "of the stack's deployment settings, so a source set elsewhere is removed. Set "
                "deployments[].source, or manageSettings: false to only trust the stack",
                resource=resource,
            )
        return resource

    def _environment(
        self, name: str, org: str, environment: EscEnvironment, role_arn: pulumi.Output[str]
    ) -> pulumiservice.Environment:
        return pulumiservice.Environment(
            f"{name}-env-{environment.identity}",
            organization=org,
            project=environment.project,
            name=environment.name,
            yaml=role_arn.apply(lambda arn: pulumi.StringAsset(esc.render(esc.definition(environment, arn)))),
            opts=pulumi.ResourceOptions(parent=self),
        )


def _check_existing_provider(arn: str, audiences: list[str], opts: pulumi.InvokeOptions | None) -> None:
    """Fail before declaring anything when the reused provider lacks a client ID the trust needs.

    A look-up that reports no client IDs (an offline plan) cannot be checked and passes.
    """
    try:
        existing = aws.iam.get_open_id_connect_provider(arn=arn, opts=opts)
    except Exception as error:  # the provider's own message says why (not found, denied)
        raise _config_error("oidcProvider.arn", f"got {arn!r}; AWS could not read it: {error}") from None
    # Typed as always present, but an offline look-up leaves it out: nothing to check then.
    client_ids = cast("Sequence[str] | None", existing.client_id_lists)
    if client_ids is None:
        return
    missing = [a for a in audiences if a not in client_ids]
    if missing:
        commands = "; ".join(
            f"aws iam add-client-id-to-open-id-connect-provider --open-id-connect-provider-arn {arn} --client-id {a}"
            for a in missing
        )
        raise _config_error(
            "oidcProvider.arn",
            f"got {arn!r}, whose client IDs {sorted(client_ids)} lack {missing}, "
            f"so STS would reject those tokens; add them: {commands}",
        )
