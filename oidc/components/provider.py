"""The issuer's IAM OIDC provider in one AWS account: created by the admin stack, or an existing one reused.

Its ARN is known before it exists (IAM names a provider after its issuer), so roles name it in their trust
policies before it is created. A reused provider with ``addAudiences`` gets one
:class:`oidc.aws.OpenIdConnectProviderClientId` per audience the roles need.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import pulumi
import pulumi_aws as aws
import pulumi_tls as tls

from oidc.aws.client_ids import Credentials, OpenIdConnectProviderClientId, logical_name
from oidc.thumbprint import Certificate, thumbprint

PROVIDER_TYPE = "pulumi-aws-oidc:index:OidcProvider"


def moved(old_parent: pulumi.Resource | None) -> list[pulumi.Input[str | pulumi.Alias]] | None:
    """Aliases that keep the URN a child had under ``old_parent`` (release 0.1.0's single component)."""
    return [pulumi.Alias(parent=old_parent)] if old_parent is not None else None


class OidcProvider(pulumi.ComponentResource):
    """The issuer's IAM OIDC provider in one AWS account: created by this stack, or an existing one reused."""

    arn: pulumi.Output[str]
    client_ids: pulumi.Output[list[str]]

    def __init__(
        self,
        name: str,
        *,
        account: str,
        issuer: str,
        arn: str,
        client_ids: Sequence[str],
        create: bool,
        thumbprints: Literal["auto"] | Sequence[str] = "auto",
        protect: bool = True,
        moved_from: pulumi.Resource | None = None,
        add_client_ids: Credentials | None = None,
        config_path: str = "oidcProvider",
        missing_client_ids: Sequence[str] = (),
        secret: bool = False,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """Declare the provider of ``issuer`` in ``account`` with ``client_ids``, or stand for the one at ``arn``.

        ``arn`` is the provider's ARN either way: for a created one, the ARN IAM will give it
        (:func:`oidc.claims.provider_arn`), so roles can name it before it exists. A reused provider
        given ``add_client_ids`` (the account's credentials) gets one
        :class:`oidc.OpenIdConnectProviderClientId` per client ID, which claims it for this
        admin stack and adds it unless the provider has it (``oidcProvider.addAudiences``, config key
        ``config_path``);
        ``missing_client_ids`` are those it lacked when read, which these resources add on create.
        ``secret``: the account's config key is secret, so its client IDs, thumbprints and credentials are sent
        as secrets (the provider's ARN and each client ID's logical name stay plain).
        """
        props = {
            "issuer": issuer,
            "arn": arn,
            "created": create,
            "thumbprints": thumbprints if thumbprints == "auto" else list(thumbprints),
        }
        super().__init__(PROVIDER_TYPE, name, props, opts)
        self.planned_arn = arn
        self.account, self.thumbprints = account, thumbprints  # what plan reads back: not the component's inputs
        self.resource: aws.iam.OpenIdConnectProvider | None = None
        if create:
            self.resource = aws.iam.OpenIdConnectProvider(
                f"{name}-provider",
                url=issuer,
                client_id_lists=secret_if(secret, list(client_ids)),
                thumbprint_lists=secret_if(secret and thumbprints != "auto", self._thumbprints(issuer, thumbprints)),
                opts=pulumi.ResourceOptions(parent=self, protect=protect, aliases=moved(moved_from)),
            )
        self.client_id_resources: dict[str, OpenIdConnectProviderClientId] = {}
        self.missing_client_ids = tuple(missing_client_ids)
        if not create and add_client_ids is not None:
            # The engine names the admin stack's organization; where it does not, its default name.
            admin_stack = f"{pulumi.get_organization() or 'organization'}/{pulumi.get_project()}/{pulumi.get_stack()}"
            for client_id in client_ids:
                self.client_id_resources[client_id] = OpenIdConnectProviderClientId(
                    logical_name(name, client_id),
                    provider_arn=arn,
                    client_id=client_id,
                    credentials=add_client_ids,
                    config_path=config_path,
                    admin_stack=admin_stack,
                    secret=secret,
                    opts=pulumi.ResourceOptions(parent=self),
                )
        self.arn = self.resource.arn if self.resource else pulumi.Output.from_input(arn)
        self.client_ids = pulumi.Output.from_input(secret_if(secret, list(client_ids)))
        self.register_outputs({"arn": self.arn, "clientIds": self.client_ids})

    def _thumbprints(self, issuer: str, configured: Literal["auto"] | Sequence[str]) -> pulumi.Input[list[str]] | None:
        if configured != "auto":
            return list(configured) or None
        chain = tls.get_certificate_output(url=issuer, opts=pulumi.InvokeOutputOptions(parent=self))
        return chain.certificates.apply(lambda certs: [_thumbprint(issuer, certs)])


def _thumbprint(issuer: str, certificates: Sequence[Any] | None) -> str:
    """The thumbprint of the issuer's chain as pulumi-tls reads it; a clear error for a look-up that gave none."""
    if not certificates:
        raise pulumi.RunError(
            f"tls:getCertificate gave no certificates for {issuer}, so the OIDC provider's thumbprint cannot be "
            "chosen. Under pulumi.runtime.set_mocks, answer tls:index/getCertificate:getCertificate (the mocks "
            "oidc.testing.OidcMocks do), or set oidcProvider.thumbprints to a list of SHA-1 values, or [] for none"
        )
    return thumbprint([Certificate.from_data(c) for c in certificates])


def secret_if(secret: bool, value: Any) -> Any:
    """``value`` as a Pulumi secret when ``secret`` (and it is set), else as it is."""
    return pulumi.Output.secret(value) if secret and value is not None else value
