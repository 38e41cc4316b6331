"""Pulumi mocks for a program that declares the component: the mocks this project's own tests use.

Declare :class:`~oidc.package.PulumiCloudOidc` (or :class:`~oidc.components.organization.PulumiCloudOidc`) in a
unit test with::

    import pulumi
    from oidc.testing import OidcMocks

    pulumi.runtime.set_mocks(OidcMocks(account_id="111111111111"), preview=False)

The mocks answer every look-up the component makes, with realistic values, so the component declares what a
real run would. Under any mocks, the component makes no network call: the guard reads Pulumi Cloud only in a
real ``pulumi preview`` or ``pulumi up`` (:func:`reading_pulumi_cloud` lets a test point it at a local server).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import pulumi

from oidc import claims, cloud

PLACEHOLDER_ACCOUNT = "123456789012"
"""The account the default AWS provider reaches, unless told another."""
CERTIFICATE_TOKEN = "tls:index/getCertificate:getCertificate"

CERTIFICATES: list[dict[str, Any]] = [
    {
        "certPem": "-----BEGIN CERTIFICATE-----\n"
        "MIICDjCCAbOgAwIBAgIQcib1DeY1kzgETML9034TEjAKBggqhkjOPQQDAjBRMQsw\n"
        "CQYDVQQGEwJVUzEfMB0GA1UECgwWRXhhbXBsZSBUcnVzdCBTZXJ2aWNlczEhMB8G\n"
        "A1UEAwwYRXhhbXBsZSBUcnVzdCBSb290IENBIFIxMB4XDTI1MDEwMTAwMDAwMFoX\n"
        "DTQ1MDEwMTAwMDAwMFowWDELMAkGA1UEBhMCVVMxHzAdBgNVBAoMFkV4YW1wbGUg\n"
        "VHJ1c3QgU2VydmljZXMxKDAmBgNVBAMMH0V4YW1wbGUgVHJ1c3QgVExTIElzc3Vp\n"
        "bmcgQ0EgRTEwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAASWVd5jzJrFo5H6ZXLd\n"
        "vk61MuGVhOpzIn9nxCKoUuKB9F7/2nBT3ZG+6r2rW8TUWHuyHicDl8GHGypejP2f\n"
        "yS4po2YwZDASBgNVHRMBAf8ECDAGAQH/AgEAMB0GA1UdDgQWBBQxjqKJMvMsE95V\n"
        "Xs5iMgY1HxAbzzAfBgNVHSMEGDAWgBStHedIPweMLO9DrmeRmTzzwTesRjAOBgNV\n"
        "HQ8BAf8EBAMCAYYwCgYIKoZIzj0EAwIDSQAwRgIhAKPhOc45Kl72cNw1jXpbC692\n"
        "RDEMsLvi3RN5D2rWzrQOAiEAnPbg28sO9wr3k9N/oycoiEtNv1OYLByNNL53ADCh\n"
        "b20=\n"
        "-----END CERTIFICATE-----\n",
        "isCa": True,
        "issuer": "CN=Example Trust Root CA R1,O=Example Trust Services,C=US",
        "maxPathLength": 0,
        "notAfter": "2045-01-01T00:00:00Z",
        "notBefore": "2025-01-01T00:00:00Z",
        "publicKeyAlgorithm": "ECDSA",
        "serialNumber": "151734269091670060854157847513458938642",
        "sha1Fingerprint": "058756bd2221a3f17f6ab76675ceeab8d2031f65",
        "signatureAlgorithm": "ECDSA-SHA256",
        "subject": "CN=Example Trust TLS Issuing CA E1,O=Example Trust Services,C=US",
        "version": 3,
    },
    {
        "certPem": "-----BEGIN CERTIFICATE-----\n"
        "MIIB8DCCAZagAwIBAgIQeGe/HyEhv3OplBNATBFKWzAKBggqhkjOPQQDAjBYMQsw\n"
        "CQYDVQQGEwJVUzEfMB0GA1UECgwWRXhhbXBsZSBUcnVzdCBTZXJ2aWNlczEoMCYG\n"
        "A1UEAwwfRXhhbXBsZSBUcnVzdCBUTFMgSXNzdWluZyBDQSBFMTAeFw0yNTAxMDEw\n"
        "MDAwMDBaFw0zNTAxMDEwMDAwMDBaMBkxFzAVBgNVBAMMDmFwaS5wdWx1bWkuY29t\n"
        "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAETWfn+8SKCO5A6Mk5zBIVH/SWbeYR\n"
        "ZY82KU95OwuwZdmWLamz0RLTD6QqnEVYrcBccLe71LQbjE3j5X+RtS0kU6OBgDB+\n"
        "MAwGA1UdEwEB/wQCMAAwHQYDVR0OBBYEFN63zyt8NqrpxlVEfI1dulRywJu+MB8G\n"
        "A1UdIwQYMBaAFDGOooky8ywT3lVezmIyBjUfEBvPMBkGA1UdEQQSMBCCDmFwaS5w\n"
        "dWx1bWkuY29tMBMGA1UdJQQMMAoGCCsGAQUFBwMBMAoGCCqGSM49BAMCA0gAMEUC\n"
        "ICISRQmY2KksPFdFEovUOLosQR1SV0QXzWXGG274U1TdAiEA2yB1wZoIo8r+CkCL\n"
        "azVAROS0MJPqLU9eOx2pHxeC+hk=\n"
        "-----END CERTIFICATE-----\n",
        "isCa": False,
        "issuer": "CN=Example Trust TLS Issuing CA E1,O=Example Trust Services,C=US",
        "maxPathLength": -1,
        "notAfter": "2035-01-01T00:00:00Z",
        "notBefore": "2025-01-01T00:00:00Z",
        "publicKeyAlgorithm": "ECDSA",
        "serialNumber": "160046042477180131387185807145764473435",
        "sha1Fingerprint": "030b914955809c6f1f2b2c3722923415af4280f5",
        "signatureAlgorithm": "ECDSA-SHA256",
        "subject": "CN=api.pulumi.com",
        "version": 3,
    },
]
"""A chain for ``api.pulumi.com`` as pulumi-tls returns it (the server's chain reversed: the issuing CA, then the
leaf), of made-up certificates under "Example Trust Root CA R1": realistic in shape, valid for no server."""


class OidcMocks(pulumi.runtime.Mocks):
    """Answers what the component looks up, and fills in the outputs its resources' providers compute.

    - ``aws:index/getPartition`` and ``aws:index/getCallerIdentity``: ``partition``, and ``account_id`` for the
      default AWS provider (an explicit one answers for its allowed account, its assumed role's account, or a
      placeholder of its own);
    - ``aws:iam/getOpenIdConnectProvider`` (a reused provider): its ARN, and ``existing_client_ids`` when given
      (when not, the client IDs are left out, so nothing is checked against them);
    - ``tls:index/getCertificate`` (the issuer's chain, for the thumbprint): ``certificates``, by default
      :data:`CERTIFICATES`; ``None`` answers nothing (the offline runner then makes the look-up unknown);
    - resources: the ARN of a role and an OIDC provider, a role's generated name, and the IDs the Pulumi Cloud
      resources get; everything else echoes its inputs.

    Every look-up is appended to ``calls`` as ``(token, args)``.
    """

    def __init__(
        self,
        partition: str = "aws",
        account_id: str = PLACEHOLDER_ACCOUNT,
        certificates: Sequence[Mapping[str, Any]] | None = CERTIFICATES,
        existing_client_ids: Sequence[str] | None = None,
    ) -> None:
        self.calls: list[tuple[str, Mapping[str, Any]]] = []
        self.partition = partition
        self.account_id = account_id
        self.certificates = certificates
        self.existing_client_ids = existing_client_ids
        self.inputs: dict[tuple[str, str], dict[str, Any]] = {}
        self.provider_accounts: dict[str, str] = {}
        """ID of each explicit AWS provider -> the account it answers for."""

    def account_of(self, provider: str) -> str:
        """The account a look-up through ``provider`` (``urn::id``, or empty for the default) reaches."""
        if not provider:
            return self.account_id
        return self.provider_accounts.get(provider.rpartition("::")[2], self.account_id)

    def _aws_provider_account(self, name: str, inputs: Mapping[str, Any]) -> str:
        """The account an AWS provider reaches: its allowed account, its assumed role's, or one of its own.

        Provider inputs arrive as JSON text. Without either, the account is a placeholder derived
        from the provider's name, so that two such providers differ.
        """
        allowed = _json_input(inputs.get("allowedAccountIds")) or []
        if allowed:
            return str(allowed[0])
        for assumed in _json_input(inputs.get("assumeRoles")) or []:
            arn = str(assumed.get("roleArn", ""))
            if re.fullmatch(r"arn:[^:]+:iam::\d{12}:role/.+", arn):
                return arn.split(":")[4]
        return str(100000000000 + int(hashlib.sha256(name.encode()).hexdigest(), 16) % 900000000000)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        self.calls.append((args.token, dict(args.args)))
        if args.token == "aws:index/getPartition:getPartition":
            dns = "amazonaws.com.cn" if self.partition == "aws-cn" else "amazonaws.com"
            return {
                "id": self.partition,
                "partition": self.partition,
                "dnsSuffix": dns,
                "reverseDnsPrefix": "com.amazonaws",
            }, []
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            account = self.account_of(args.provider or "")
            arn = f"arn:{self.partition}:iam::{account}:user/offline"
            return {"id": account, "accountId": account, "arn": arn, "userId": "AIDAOFFLINE"}, []
        if args.token == "aws:iam/getOpenIdConnectProvider:getOpenIdConnectProvider":
            arn = str(args.args.get("arn", ""))
            result: dict[str, Any] = {"id": arn, "arn": arn, "url": arn.partition(":oidc-provider/")[2], "tags": {}}
            if self.existing_client_ids is not None:
                result["clientIdLists"] = list(self.existing_client_ids)
            return result, []
        if args.token == CERTIFICATE_TOKEN and self.certificates is not None:
            url = str(args.args.get("url", ""))
            return {"id": "chain", "url": url, "certificates": [dict(c) for c in self.certificates]}, []
        raise NotImplementedError(f"oidc.testing.OidcMocks has no answer for {args.token}")

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        inputs = dict(args.inputs)
        self.inputs[(args.typ, args.name)] = inputs
        if args.typ == "pulumi:providers:aws":
            self.provider_accounts[f"{args.name}-id"] = self._aws_provider_account(args.name, inputs)
            return f"{args.name}-id", inputs
        account = self.account_of(args.provider or "")
        if args.typ == "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
            arn = claims.provider_arn(self.partition, account, str(inputs["url"]))
            return arn, {**inputs, "arn": arn, "tagsAll": inputs.get("tags") or {}}
        if args.typ == "aws:iam/role:Role":
            suffix = hashlib.sha256(args.name.encode()).hexdigest()[:7]
            name = inputs.get("name") or f"{args.name}-{suffix}"
            arn = f"arn:{self.partition}:iam::{account}:role{inputs.get('path', '/')}{name}"
            return name, {**inputs, "name": name, "arn": arn, "uniqueId": f"AROA{suffix.upper()}"}
        if args.typ == "aws:iam/rolePolicyAttachment:RolePolicyAttachment":
            return f"{inputs['role']}-{args.name}", inputs
        if args.typ == "pulumiservice:index:DeploymentSettings":
            return f"{inputs['organization']}/{inputs['project']}/{inputs['stack']}", inputs
        if args.typ == "pulumiservice:index:Environment":
            return f"{inputs['organization']}/{inputs['project']}/{inputs['name']}", inputs
        return f"{args.name}-id", inputs


def _json_input(value: Any) -> Any:
    """A provider's nested input, which the SDK sends as JSON text."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return None
    return value


@contextmanager
def reading_pulumi_cloud() -> Iterator[None]:
    """Within it, the component's guard reads Pulumi Cloud under mocks too (with a token and URL configured, e.g. a
    local test server): by default it reads only in a real ``pulumi preview`` or ``pulumi up``."""
    with cloud.under_mocks():
        yield
