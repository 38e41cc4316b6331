"""Choosing the IAM OIDC provider thumbprint from the issuer's certificate chain.

IAM wants the SHA-1 fingerprint of the top intermediate CA: the last CA certificate in the
chain the server presents, below the root. pulumi-tls documents its list as root-first, but
returns the server's chain reversed; other tools return it leaf-first; a server may or may
not send its root. So the choice follows the certificates' CA flags and subject/issuer links
from the leaf upward, never a position in the list. Pure functions only: no Pulumi imports.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

_HEX40 = re.compile(r"^[0-9a-f]{40}$")


class ThumbprintError(ValueError):
    """The chain has no certificate that can serve as the provider's thumbprint."""


@dataclass(frozen=True)
class Certificate:
    """The fields of a certificate the choice needs (as pulumi-tls reports them)."""

    subject: str
    issuer: str
    is_ca: bool
    sha1_fingerprint: str

    @property
    def self_signed(self) -> bool:
        return self.subject == self.issuer

    @classmethod
    def from_data(cls, data: Mapping[str, Any] | Any) -> Certificate:
        """From a pulumi-tls certificate result (object or mapping, snake_case fields)."""

        def field(name: str) -> Any:
            return data[name] if isinstance(data, Mapping) else getattr(data, name)

        return cls(
            subject=str(field("subject")),
            issuer=str(field("issuer")),
            is_ca=bool(field("is_ca")),
            sha1_fingerprint=str(field("sha1_fingerprint")),
        )


def normalize(fingerprint: str) -> str:
    """Lowercase hex without separators; raises ``ThumbprintError`` unless 40 hex digits."""
    value = fingerprint.replace(":", "").strip().lower()
    if not _HEX40.fullmatch(value):
        raise ThumbprintError(f"{fingerprint!r} is not a SHA-1 fingerprint (40 hex digits)")
    return value


def top_intermediate(chain: Sequence[Certificate]) -> Certificate:
    """The certificate whose thumbprint IAM expects, whatever order ``chain`` is in.

    Walks from the leaf (the one certificate that is not a CA) up through issuer links and
    returns the highest CA that is not self-signed. When the leaf is signed directly by a
    root that the server sent, the root is the top of the chain and is returned.
    """
    leaves = [cert for cert in chain if not cert.is_ca]
    if len(leaves) != 1:
        subjects = ", ".join(cert.subject for cert in chain) or "no certificates"
        raise ThumbprintError(f"expected exactly one non-CA (leaf) certificate in the chain, got: {subjects}")
    current = leaves[0]
    visited = {id(current)}
    intermediate: Certificate | None = None
    root: Certificate | None = None
    while root is None:
        # A cross-signed copy of a root shares its subject: the server sent it to extend the
        # chain, so it ranks before the self-signed one. Any other tie is broken by fingerprint,
        # never by where a certificate stands in the list.
        parents = [c for c in chain if c.is_ca and c.subject == current.issuer and id(c) not in visited]
        parent = min(parents, key=lambda c: (c.self_signed, c.sha1_fingerprint), default=None)
        if parent is None:
            break
        visited.add(id(parent))
        if parent.self_signed:
            root = parent
        else:
            intermediate = current = parent
    top = intermediate or root
    if top is None:
        raise ThumbprintError(
            f"the chain has no CA certificate that issued {leaves[0].subject!r}; "
            "set oidcProvider.thumbprints to a list of thumbprints, or [] to rely on AWS's trusted CAs"
        )
    return top


def thumbprint(chain: Sequence[Certificate]) -> str:
    """The normalized SHA-1 thumbprint of the chain's top intermediate CA."""
    return normalize(top_intermediate(chain).sha1_fingerprint)
