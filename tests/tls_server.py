"""A TLS server on 127.0.0.1 that presents a chain of :mod:`tests.certs`: the issuer's server, as the doctor reads it.

It completes the handshake (sending the leaf and the intermediates, never the root, as public servers do) and
closes the connection. Emulated: the chain a server sends; not the real issuer's certificates, which change when
Pulumi renews them.
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from tests import certs


@contextmanager
def serving_chain(chain: certs.Chain, folder: Path) -> Iterator[int]:
    """The port of a TLS server on 127.0.0.1 presenting ``chain``'s leaf and intermediates, until the block ends."""
    pem = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in [chain.leaf, *reversed(chain.intermediates)])
    key = certs.private_key(certs.HOST).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (folder / "chain.pem").write_bytes(pem)
    (folder / "key.pem").write_bytes(key)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "chain.pem", folder / "key.pem")
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    stopping = threading.Event()

    def serve() -> None:
        while not stopping.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with suppress(OSError), connection:
                connection.settimeout(5)
                with context.wrap_socket(connection, server_side=True) as tls:
                    tls.unwrap()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stopping.set()
        thread.join(5)
        listener.close()
