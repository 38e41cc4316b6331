from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace

import pytest
from cryptography import x509

from oidc.thumbprint import Certificate, ThumbprintError, normalize, thumbprint, top_intermediate
from tests import certs


def as_chain(cert_list: Sequence[x509.Certificate]) -> list[Certificate]:
    return [Certificate.from_data(data) for data in certs.tls_certificates(cert_list)]


ONE = certs.chain(1)
TWO = certs.chain(2)
DIRECT = certs.chain(0)

CHAINS = {
    "root-first": (ONE.root_first(), ONE.top),
    "leaf-first": (ONE.leaf_first(), ONE.top),
    "root-first-without-root": (ONE.root_first(include_root=False), ONE.top),
    "leaf-first-without-root": (ONE.leaf_first(include_root=False), ONE.top),
    "two-intermediates-root-first": (TWO.root_first(), TWO.top),
    "two-intermediates-leaf-first": (TWO.leaf_first(), TWO.top),
    "two-intermediates-unsent-root": (TWO.root_first(include_root=False), TWO.top),
    "two-intermediates-unsent-root-leaf-first": (TWO.leaf_first(include_root=False), TWO.top),
    "two-intermediates-shuffled": ([TWO.intermediates[1], TWO.leaf, TWO.root, TWO.intermediates[0]], TWO.top),
    "leaf-signed-by-sent-root": (DIRECT.root_first(), DIRECT.root),
    "leaf-signed-by-sent-root-leaf-first": (DIRECT.leaf_first(), DIRECT.root),
    "pulumi-tls-actual-order": (certs.pulumi_tls_order(ONE), ONE.top),
    "unrelated-ca-first": ([certs.unrelated_ca(), *ONE.root_first()], ONE.top),
    "unrelated-ca-last": ([*ONE.leaf_first(include_root=False), certs.unrelated_ca()], ONE.top),
    "unrelated-ca-with-two-intermediates": ([*TWO.root_first(include_root=False), certs.unrelated_ca()], TWO.top),
}


@pytest.mark.parametrize(("cert_list", "expected"), CHAINS.values(), ids=CHAINS.keys())
def test_thumbprint_is_the_top_intermediate_whatever_the_order(
    cert_list: list[x509.Certificate], expected: x509.Certificate
) -> None:
    assert thumbprint(as_chain(cert_list)) == certs.sha1_fingerprint(expected)


def test_top_intermediate_of_two_is_the_one_the_unsent_root_issued() -> None:
    chosen = top_intermediate(as_chain(TWO.leaf_first(include_root=False)))
    assert chosen.issuer == TWO.root.subject.rfc4514_string()
    assert chosen.subject == TWO.intermediates[0].subject.rfc4514_string()
    assert chosen.subject != TWO.intermediates[1].subject.rfc4514_string()


@pytest.mark.parametrize("root_first", [True, False], ids=["self-signed-first", "cross-signed-first"])
def test_cross_signed_root_wins_over_its_self_signed_twin_in_any_order(root_first: bool) -> None:
    cross = certs.cross_signed_root()
    pair = [ONE.root, cross] if root_first else [cross, ONE.root]

    assert thumbprint(as_chain([ONE.leaf, *ONE.intermediates, *pair])) == certs.sha1_fingerprint(cross)


def test_cross_signed_root_sent_by_the_server_is_the_top_intermediate() -> None:
    cross = certs.cross_signed_root()
    cross.verify_directly_issued_by(certs.unrelated_ca())
    assert thumbprint(as_chain([ONE.leaf, *ONE.intermediates, cross])) == certs.sha1_fingerprint(cross)


def test_thumbprint_is_normalized_from_uppercase_colon_form() -> None:
    chain = [
        Certificate(
            c.subject, c.issuer, c.is_ca, ":".join(c.sha1_fingerprint[i : i + 2] for i in range(0, 40, 2)).upper()
        )
        for c in as_chain(ONE.root_first())
    ]
    assert thumbprint(chain) == certs.sha1_fingerprint(ONE.top)


@pytest.mark.parametrize(
    "cert_list",
    [
        [ONE.root, *ONE.intermediates],
        [ONE.root, ONE.leaf, *ONE.intermediates, DIRECT.leaf],
        [ONE.leaf, DIRECT.leaf],
        [],
    ],
    ids=["no-leaf", "two-leaves", "only-two-leaves", "empty"],
)
def test_chain_without_exactly_one_leaf_is_rejected(cert_list: list[x509.Certificate]) -> None:
    with pytest.raises(ThumbprintError, match="exactly one non-CA"):
        top_intermediate(as_chain(cert_list))


def test_leaf_without_its_issuer_is_rejected() -> None:
    with pytest.raises(ThumbprintError, match=r"oidcProvider\.thumbprints"):
        top_intermediate(as_chain([TWO.leaf, certs.unrelated_ca()]))


@pytest.mark.parametrize(
    ("fingerprint", "expected"),
    [
        ("AB" * 20, "ab" * 20),
        (":".join(["AB"] * 20), "ab" * 20),
        (":".join(["0f"] * 20), "0f" * 20),
        ("  " + "a1" * 20 + "\n", "a1" * 20),
        ("0123456789abcdef0123456789ABCDEF01234567", "0123456789abcdef0123456789abcdef01234567"),
    ],
)
def test_normalize_lowercases_and_strips_colons(fingerprint: str, expected: str) -> None:
    assert normalize(fingerprint) == expected


@pytest.mark.parametrize("fingerprint", ["", "ab" * 19, "ab" * 21, "g" * 40, "ab-" * 13 + "a", "sha1:" + "ab" * 20])
def test_normalize_rejects_anything_but_40_hex_digits(fingerprint: str) -> None:
    with pytest.raises(ThumbprintError, match="40 hex digits"):
        normalize(fingerprint)


def test_from_data_accepts_a_mapping() -> None:
    data = certs.tls_data(ONE.intermediates[0])
    assert Certificate.from_data(data) == Certificate(
        subject=ONE.intermediates[0].subject.rfc4514_string(),
        issuer=ONE.root.subject.rfc4514_string(),
        is_ca=True,
        sha1_fingerprint=certs.sha1_fingerprint(ONE.intermediates[0]),
    )


def test_from_data_accepts_an_attribute_object() -> None:
    data = certs.tls_data(ONE.leaf)
    from_object = Certificate.from_data(SimpleNamespace(**data))
    assert from_object == Certificate.from_data(data)
    assert from_object.is_ca is False
    assert not from_object.self_signed


def test_self_signed_follows_subject_and_issuer() -> None:
    assert Certificate.from_data(certs.tls_data(ONE.root)).self_signed
    assert not Certificate.from_data(certs.tls_data(ONE.intermediates[0])).self_signed


def test_tls_data_fingerprints_match_pulumi_tls_shape() -> None:
    data = certs.tls_data(ONE.leaf)
    assert data["sha1_fingerprint"] == certs.sha1_fingerprint(ONE.leaf)
    assert len(data["sha1_fingerprint"]) == 40
    assert data["subject"] == "CN=api.pulumi.com"
    assert data["cert_pem"].startswith("-----BEGIN CERTIFICATE-----")
    assert certs.wire_data(ONE.leaf)["sha1Fingerprint"] == data["sha1_fingerprint"]
    assert set(certs.wire_data(ONE.leaf)) == {
        "certPem",
        "isCa",
        "issuer",
        "maxPathLength",
        "notAfter",
        "notBefore",
        "publicKeyAlgorithm",
        "serialNumber",
        "sha1Fingerprint",
        "signatureAlgorithm",
        "subject",
        "version",
    }
