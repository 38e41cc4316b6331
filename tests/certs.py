"""Realistic X.509 chains for the Pulumi Cloud issuer, shaped like pulumi-tls certificate results.

Keys are derived from fixed labels and signatures are deterministic (RFC 6979), so every run
builds byte-identical certificates with the same fingerprints.

* :func:`chain` builds a root CA, zero to two intermediates and a leaf for ``api.pulumi.com``.
* :func:`tls_data` gives one certificate as pulumi-tls reports it (snake_case keys, as the
  Python SDK's result objects expose them); :func:`wire_data` gives the camelCase shape Pulumi
  mocks answer invokes with; :func:`get_certificate_result` gives a whole
  ``tls:index/getCertificate:getCertificate`` result on the wire.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

HOST = "api.pulumi.com"
ISSUER_URL = f"https://{HOST}/oidc"

NOT_BEFORE = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
CA_NOT_AFTER = dt.datetime(2045, 1, 1, tzinfo=dt.UTC)
LEAF_NOT_AFTER = dt.datetime(2035, 1, 1, tzinfo=dt.UTC)

_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551

ROOT_NAME = "Example Trust Root CA R1"
POLICY_CA_NAME = "Example Trust Policy CA P1"
ISSUING_CA_NAME = "Example Trust TLS Issuing CA E1"
UNRELATED_ROOT_NAME = "Unrelated Root CA X9"

_SNAKE_TO_CAMEL = {
    "cert_pem": "certPem",
    "is_ca": "isCa",
    "issuer": "issuer",
    "max_path_length": "maxPathLength",
    "not_after": "notAfter",
    "not_before": "notBefore",
    "public_key_algorithm": "publicKeyAlgorithm",
    "serial_number": "serialNumber",
    "sha1_fingerprint": "sha1Fingerprint",
    "signature_algorithm": "signatureAlgorithm",
    "subject": "subject",
    "version": "version",
}


@cache
def private_key(label: str) -> ec.EllipticCurvePrivateKey:
    """A P-256 key derived from ``label``: the same key for the same label, every run."""
    secret = int.from_bytes(hashlib.sha256(label.encode()).digest(), "big") % (_P256_ORDER - 1) + 1
    return ec.derive_private_key(secret, ec.SECP256R1())


def _name(common_name: str, organization: str | None) -> x509.Name:
    attributes = []
    if organization:
        attributes.append(x509.NameAttribute(NameOID.COUNTRY_NAME, "US"))
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


@dataclass(frozen=True)
class Issued:
    """A certificate and the key that signs the certificates it issues."""

    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey


def issue(
    common_name: str,
    issuer: Issued | None,
    *,
    ca: bool,
    path_length: int | None = None,
    organization: str | None = "Example Trust Services",
) -> Issued:
    """A certificate for ``common_name`` signed by ``issuer`` (self-signed when ``None``)."""
    key = private_key(common_name)
    subject = _name(common_name, organization)
    signer_key = issuer.key if issuer else key
    issuer_name = issuer.cert.subject if issuer else subject
    serial = int.from_bytes(hashlib.sha256(f"serial:{common_name}".encode()).digest()[:16], "big") >> 1
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(NOT_BEFORE)
        .not_valid_after(CA_NOT_AFTER if ca else LEAF_NOT_AFTER)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length if ca else None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer_key.public_key()),
            critical=False,
        )
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    else:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(common_name)]), critical=False
        ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    cert = builder.sign(signer_key, hashes.SHA256(), ecdsa_deterministic=True)
    return Issued(cert, key)


@dataclass(frozen=True)
class Chain:
    """A root CA, its intermediates (top first, i.e. the one the root issued) and a leaf."""

    root: x509.Certificate
    intermediates: tuple[x509.Certificate, ...]
    leaf: x509.Certificate

    @property
    def top(self) -> x509.Certificate:
        """The certificate whose thumbprint IAM wants: the top intermediate, else the root."""
        return self.intermediates[0] if self.intermediates else self.root

    def root_first(self, *, include_root: bool = True) -> list[x509.Certificate]:
        """Root (optionally), intermediates from the top down, then the leaf: pulumi-tls's documented order."""
        return [*([self.root] if include_root else []), *self.intermediates, self.leaf]

    def leaf_first(self, *, include_root: bool = True) -> list[x509.Certificate]:
        """The order a TLS server sends its chain in."""
        return list(reversed(self.root_first(include_root=include_root)))


@cache
def chain(intermediates: int = 1) -> Chain:
    """A chain for ``api.pulumi.com`` with 0, 1 or 2 intermediates (0: the root signs the leaf)."""
    if intermediates not in (0, 1, 2):
        raise ValueError(f"intermediates must be 0, 1 or 2, got {intermediates}")
    root = issue(ROOT_NAME, None, ca=True)
    names = (POLICY_CA_NAME, ISSUING_CA_NAME)[2 - intermediates :]
    parent = root
    cas: list[x509.Certificate] = []
    for index, common_name in enumerate(names):
        parent = issue(common_name, parent, ca=True, path_length=len(names) - index - 1)
        cas.append(parent.cert)
    leaf = issue(HOST, parent, ca=False, organization=None)
    return Chain(root=root.cert, intermediates=tuple(cas), leaf=leaf.cert)


@cache
def _unrelated_root() -> Issued:
    return issue(UNRELATED_ROOT_NAME, None, ca=True, organization="Unrelated Trust")


def unrelated_ca() -> x509.Certificate:
    """A self-signed CA that issued nothing in any :func:`chain`."""
    return _unrelated_root().cert


@cache
def cross_signed_root() -> x509.Certificate:
    """The chains' root CA (same subject and key) cross-signed by :func:`unrelated_ca`."""
    return issue(ROOT_NAME, _unrelated_root(), ca=True).cert


def sha1_fingerprint(cert: x509.Certificate) -> str:
    """Lowercase hex SHA-1 of the DER certificate, as pulumi-tls computes it."""
    return hashlib.sha1(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def _is_ca(cert: x509.Certificate) -> tuple[bool, int]:
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return False, 0
    return constraints.ca, -1 if constraints.path_length is None else constraints.path_length


def _time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def tls_data(cert: x509.Certificate) -> dict[str, Any]:
    """One certificate as pulumi-tls's ``get_certificate`` reports it, with snake_case keys."""
    is_ca, max_path_length = _is_ca(cert)
    public_key = cert.public_key()
    return {
        "cert_pem": cert.public_bytes(serialization.Encoding.PEM).decode(),
        "is_ca": is_ca,
        "issuer": cert.issuer.rfc4514_string(),
        "max_path_length": max_path_length,
        "not_after": _time(cert.not_valid_after_utc),
        "not_before": _time(cert.not_valid_before_utc),
        "public_key_algorithm": "ECDSA" if isinstance(public_key, ec.EllipticCurvePublicKey) else "RSA",
        "serial_number": str(cert.serial_number),
        "sha1_fingerprint": sha1_fingerprint(cert),
        "signature_algorithm": "ECDSA-SHA256",
        "subject": cert.subject.rfc4514_string(),
        "version": cert.version.value + 1,
    }


def wire_data(data: x509.Certificate | Mapping[str, Any]) -> dict[str, Any]:
    """The camelCase shape of a certificate, as the provider sends it (and mocks must answer)."""
    snake = tls_data(data) if isinstance(data, x509.Certificate) else data
    return {_SNAKE_TO_CAMEL[key]: value for key, value in snake.items()}


def tls_certificates(certs: Iterable[x509.Certificate]) -> list[dict[str, Any]]:
    """pulumi-tls certificate dicts (snake_case) for ``certs``, in the given order."""
    return [tls_data(cert) for cert in certs]


def wire_certificates(certs: Iterable[x509.Certificate]) -> list[dict[str, Any]]:
    """camelCase certificate dicts for ``certs``, in the given order."""
    return [wire_data(cert) for cert in certs]


def get_certificate_result(certs: Sequence[x509.Certificate], url: str = ISSUER_URL) -> dict[str, Any]:
    """A ``tls:index/getCertificate:getCertificate`` invoke result on the wire (camelCase)."""
    chain_id = hashlib.sha1("".join(sha1_fingerprint(cert) for cert in certs).encode()).hexdigest()
    return {"certificates": wire_certificates(certs), "id": chain_id, "url": url, "verifyChain": True}


def pulumi_tls_order(chain_: Chain) -> list[x509.Certificate]:
    """What pulumi-tls actually returns for a server that sends leaf and intermediates: that chain reversed."""
    return chain_.root_first(include_root=False)
