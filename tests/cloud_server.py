"""A Pulumi Cloud REST API on 127.0.0.1 for the tests: a real HTTP server answering recorded bodies.

Emulated: the three reads the program makes (a stack's deployment settings, an ESC environment, a stack's
last resources), with their status codes (200, 404, 401, 500) and bodies of the shapes of the service's
OpenAPI (``provider/pkg/cloud/spec.json`` of pulumi/pulumi-pulumiservice). Untested without the service:
how it redacts a secret environment variable in a GET (the bodies here use the ``ciphertext`` form of its
``SecretValue``), which fields it adds on its own, and its rate limits.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

DATA = Path(__file__).resolve().parent / "data" / "cloud"


def recorded(name: str) -> Any:
    """A recorded response body of ``tests/data/cloud``."""
    return json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))


@dataclass
class Request:
    method: str
    path: str
    authorization: str | None
    accept: str | None


@dataclass
class FakeCloud:
    """Routes (decoded path -> status, body) and every request received."""

    url: str = ""
    routes: dict[str, tuple[int, Any]] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    status: int | None = None
    """When set, every request gets this status (a 401 or a 500 of the whole API)."""

    def settings(self, org: str, project: str, stack: str, body: Any, status: int = 200) -> None:
        self.routes[f"/api/stacks/{org}/{project}/{stack}/deployments/settings"] = (status, body)

    def environment(self, org: str, project: str, name: str, definition: str = "values: {}\n") -> None:
        self.routes[f"/api/esc/environments/{org}/{project}/{name}"] = (200, definition)

    def state(self, org: str, project: str, stack: str, body: Any) -> None:
        self.routes[f"/api/stacks/{org}/{project}/{stack}/resources/latest"] = (200, body)

    def stack(self, org: str, project: str, stack: str) -> None:
        """The stack exists (``GET /api/stacks/{org}/{project}/{stack}``), with no update yet unless ``state`` says."""
        self.routes[f"/api/stacks/{org}/{project}/{stack}"] = (200, {"orgName": org, "projectName": project})

    def paths(self) -> list[str]:
        return [request.path for request in self.requests]


def _handler(cloud: FakeCloud) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = unquote(self.path)
            cloud.requests.append(Request("GET", path, self.headers.get("Authorization"), self.headers.get("Accept")))
            if cloud.status is not None:
                status, body = cloud.status, {"code": cloud.status, "message": "recorded failure"}
            else:
                status, body = cloud.routes.get(path, (404, {"code": 404, "message": "Not Found"}))
            text = body if isinstance(body, str) else json.dumps(body)
            self.send_response(status)
            self.send_header("Content-Type", "application/x-yaml" if isinstance(body, str) else "application/json")
            self.send_header("Content-Length", str(len(text.encode())))
            self.end_headers()
            self.wfile.write(text.encode())

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the tests read ``cloud.requests``."""

    return Handler


@contextmanager
def serving() -> Iterator[FakeCloud]:
    """A :class:`FakeCloud` listening on a free port of 127.0.0.1 until the block ends."""
    cloud = FakeCloud()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(cloud))
    cloud.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield cloud
    finally:
        server.shutdown()
        server.server_close()


def closed_port_url() -> str:
    """The URL of a port of 127.0.0.1 where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
