"""A Pulumi Cloud REST API on 127.0.0.1 for the tests: a real HTTP server answering recorded bodies.

Emulated: the reads the program makes (a stack's deployment settings, the stack itself, an ESC environment,
a stack's last resources, an organization's teams (``ListTeams``), each team with its environment permissions
(``GetTeam``) and the organization's metadata (``GetOrganizationMetadata``)), with their status codes (200,
404, 401, 429, 500) and bodies of the shapes of the service's OpenAPI (``provider/pkg/cloud/spec.json`` of
pulumi/pulumi-pulumiservice; ``team.json`` and ``organization_metadata.json`` of ``tests/data/cloud`` are
built from its ``Team`` and ``OrganizationMetadata`` schemas, every required field set); and hostile servers
that trickle, hang, send huge, deeply nested or undecodable bodies, or ask to retry later (``Retry-After``).
Untested without the service: how it redacts a secret environment variable in a GET (the bodies here use the
``ciphertext`` form of its ``SecretValue``), which fields it adds on its own, and its real rate limits and
``Retry-After`` values; whether ``ListTeams`` lists a team's environments (the program reads them from
``GetTeam`` only), what it answers for an organization without teams (an edition without them), whether a
member who is not an admin sees every team, and whether granting a team a permission it already has on an
environment replaces it or fails.
Also emulated: an ESC environment's YAML definition and ESC's open endpoint (``POST .../open`` -> ``{id}`` or a
400 with ``diagnostics``, then ``GET .../open/{id}`` -> the opened ``properties``; shapes ``OpenEnvironmentResponse``,
``EnvironmentDiagnostic`` of the spec and pulumi/esc's ``EnvironmentErrorResponse``). The open endpoint answers
what a test sets: it neither resolves ``fn::open::aws-login`` nor asks STS, so whether the real service's token is
admitted by the role stays untested without the service, as does the wording of its diagnostics.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

DATA = Path(__file__).resolve().parent / "data" / "cloud"

HANG_SECONDS = 120.0
"""The longest a hanging handler waits (it ends at once when the server stops)."""


def recorded(name: str) -> Any:
    """A recorded response body of ``tests/data/cloud``."""
    return json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))


@dataclass
class Request:
    method: str
    path: str
    authorization: str | None
    accept: str | None
    at: float = 0.0
    """``time.monotonic()`` when it arrived."""
    sent: str = ""
    """The path as sent, before decoding (``%2F`` stays ``%2F``)."""


Behaviour = Callable[[BaseHTTPRequestHandler, "FakeCloud"], None]
"""A handler that writes the whole answer itself (a hostile server)."""
Answer = tuple[int, Any] | Behaviour


@dataclass
class FakeCloud:
    """Routes (decoded path -> status and body, or a behaviour) and every request received."""

    url: str = ""
    routes: dict[str, Answer] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    status: int | None = None
    """When set, every request gets this status (a 401 or a 500 of the whole API)."""
    otherwise: Answer | None = None
    """The answer to a path without route (default: 404 Not Found)."""
    queued: dict[str, list[Answer]] = field(default_factory=dict)
    """Answers given once each, in order, before the path's route (a 429, then the body)."""
    sent: dict[str, int] = field(default_factory=dict)
    """Bytes of body written by a behaviour, by path (what reached the socket before the client left)."""
    closing: threading.Event = field(default_factory=threading.Event)
    listed_stacks: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """Organization -> its stack summaries, served by ``GET /api/user/stacks``."""
    listed_environments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """``/api/esc/environments/<org>`` -> its environments."""
    page_sizes: dict[str, int] = field(default_factory=dict)

    def settings(self, org: str, project: str, stack: str, body: Any, status: int = 200) -> None:
        self.routes[f"/api/stacks/{org}/{project}/{stack}/deployments/settings"] = (status, body)

    def environment(self, org: str, project: str, name: str, definition: str = "values: {}\n") -> None:
        self.routes[f"/api/esc/environments/{org}/{project}/{name}"] = (200, definition)

    def opens(self, org: str, project: str, name: str, properties: dict[str, Any], session: str = "s-1") -> None:
        """``POST .../open`` answers ``{id}``, and ``GET .../open/{id}`` the opened ``properties`` (ESC values)."""
        base = f"/api/esc/environments/{org}/{project}/{name}/open"
        self.routes[base] = (200, {"id": session})
        self.routes[f"{base}/{session}"] = (200, {"properties": properties})

    def open_fails(self, org: str, project: str, name: str, diagnostics: list[dict[str, Any]]) -> None:
        """``POST .../open`` answers 400 with ``diagnostics``, as ESC does when a provider of the environment fails."""
        body = {"code": 400, "message": "failed to open environment", "diagnostics": diagnostics}
        self.routes[f"/api/esc/environments/{org}/{project}/{name}/open"] = (400, body)

    def state(self, org: str, project: str, stack: str, body: Any) -> None:
        self.routes[f"/api/stacks/{org}/{project}/{stack}/resources/latest"] = (200, body)

    def stack(self, org: str, project: str, stack: str) -> None:
        """The stack exists (``GET /api/stacks/{org}/{project}/{stack}``), with no update yet unless ``state`` says."""
        self.routes[f"/api/stacks/{org}/{project}/{stack}"] = (200, {"orgName": org, "projectName": project})

    def teams(self, org: str, teams: Mapping[str, list[dict[str, Any]]]) -> None:
        """The organization's teams (``ListTeams``) and each team (``GetTeam``) with these environment permissions
        (``TeamEnvironmentSettings``: ``projectName``, ``envName``, ``permission``, ``maxOpenDuration``)."""
        listing = []
        for name, environments in teams.items():
            team = {**recorded("team"), "name": name, "displayName": name.title(), "environments": environments}
            self.routes[f"/api/orgs/{org}/teams/{name}"] = (200, team)
            listing.append({key: team[key] for key in ("kind", "name", "displayName", "description")})
        self.routes[f"/api/orgs/{org}/teams"] = (200, {"teams": listing})

    def organization(self, org: str, default_environment_permission: str = "write", **fields: Any) -> None:
        """The organization's metadata (``GetOrganizationMetadata``), with this default environment permission."""
        body = {**recorded("organization_metadata"), "defaultEnvironmentPermission": default_environment_permission}
        self.routes[f"/api/orgs/{org}/metadata"] = (200, {**body, **fields})

    def stacks(self, org: str, names: list[tuple[str, str]], page_size: int = 100) -> None:
        """The organization's stacks, as ``GET /api/user/stacks?organization=<org>`` lists them (``ListUserStacks``:
        ``AppListStacksResponse`` of ``AppStackSummary``), ``page_size`` a page, ``continuationToken`` to the next."""
        summaries = [
            {
                "id": f"{org}-{project}-{stack}",
                "orgName": org,
                "projectName": project,
                "stackName": stack,
                "lastUpdate": 1764806400,
                "resourceCount": 3,
            }
            for project, stack in names
        ]
        self.listed_stacks[org] = summaries
        self.page_sizes["/api/user/stacks"] = page_size

    def environments(
        self, org: str, names: list[tuple[str, str]], page_size: int = 100, deleted: list[tuple[str, str]] | None = None
    ) -> None:
        """The organization's ESC environments, as ``GET /api/esc/environments/<org>`` lists them
        (``ListEnvironmentsResponse`` of ``OrgEnvironment``), ``page_size`` a page, ``nextToken`` to the next page
        (asked with ``continuationToken``); ``deleted`` ones carry ``deletedAt``."""
        items = [
            {
                "id": f"env-{index}",
                "organization": org,
                "project": project,
                "name": name,
                "created": "2026-01-01T00:00:00Z",
                "modified": "2026-01-02T00:00:00Z",
                "ownedBy": {"name": "Ada", "githubLogin": "ada", "avatarUrl": "https://example.com/a.png"},
                "referrerMetadata": {"environmentReferrerCount": 0, "stackReferrerCount": 0},
                "settings": {"deletionProtected": False},
                "tags": {},
                **({"deletedAt": "2026-02-01T00:00:00Z"} if (project, name) in (deleted or []) else {}),
            }
            for index, (project, name) in enumerate([*names, *(deleted or [])])
        ]
        path = f"/api/esc/environments/{org}"
        self.listed_environments[path] = items
        self.page_sizes[path] = page_size

    def _listing(self, path: str) -> Answer | None:
        """A page of a list endpoint, or ``None`` when ``path`` is not one."""
        parts = urlsplit(path)
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        start = int(query["continuationToken"].removeprefix("page-")) if "continuationToken" in query else 0
        if parts.path == "/api/user/stacks" and self.listed_stacks:
            org = query.get("organization")
            items = [s for o, listed in sorted(self.listed_stacks.items()) if org in (None, o) for s in listed]
            size = self.page_sizes[parts.path]
            page = items[start : start + size]
            following = {"continuationToken": f"page-{start + size}"} if start + size < len(items) else {}
            return 200, {"stacks": page, **following}
        if parts.path.startswith("/api/esc/environments/") and parts.path.count("/") == 4:
            if parts.path not in self.listed_environments:
                return 404, {"code": 404, "message": "Not Found: organization"}
            items = self.listed_environments[parts.path]
            size = self.page_sizes[parts.path]
            following = {"nextToken": f"page-{start + size}"} if start + size < len(items) else {}
            return 200, {"environments": items[start : start + size], **following}
        return None

    def paths(self) -> list[str]:
        return [request.path for request in self.requests]

    def answer(self, path: str) -> Answer:
        if self.status is not None:
            return self.status, {"code": self.status, "message": "recorded failure"}
        if self.queued.get(path):
            return self.queued[path].pop(0)
        if path in self.routes:
            return self.routes[path]
        listing = self._listing(path)
        return listing or self.otherwise or (404, {"code": 404, "message": "Not Found"})


def send(handler: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
    """Write a whole answer: status, headers (``Content-Length`` unless given) and body."""
    handler.send_response(status)
    for name, value in {"Content-Length": str(len(body)), **(headers or {})}.items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(body)


# --- hostile servers --------------------------------------------------------------------------


def raw(status: int, body: bytes, headers: dict[str, str] | None = None) -> Behaviour:
    """Exactly these bytes as the body (not JSON, not UTF-8, a reason phrase of its own...)."""
    return lambda handler, _: send(handler, status, body, {"Content-Type": "application/json", **(headers or {})})


def trickle(body: bytes, interval: float, *, headers_too: bool = False) -> Behaviour:
    """A server that answers one byte every ``interval`` seconds: the body, or the status line and headers too."""

    def behave(handler: BaseHTTPRequestHandler, cloud: FakeCloud) -> None:
        head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        slow = head + body if headers_too else body
        if not headers_too:
            handler.wfile.write(head)
        for index in range(len(slow)):
            if cloud.closing.wait(interval if index else 0):
                return
            handler.wfile.write(slow[index : index + 1])
            handler.wfile.flush()

    return _until_gone(behave)


def hang() -> Behaviour:
    """A server that reads the request and never answers (until the server stops)."""

    def behave(_: BaseHTTPRequestHandler, cloud: FakeCloud) -> None:
        cloud.closing.wait(HANG_SECONDS)

    return behave


def flood(size: int, *, declared: bool, chunk: int = 1 << 16) -> Behaviour:
    """A valid JSON string of ``size`` bytes, sent as fast as the client reads, with or without its length."""

    def behave(handler: BaseHTTPRequestHandler, cloud: FakeCloud) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        if declared:
            handler.send_header("Content-Length", str(size))
        else:
            handler.send_header("Connection", "close")  # the body ends when the connection does
        handler.end_headers()
        handler.close_connection = True
        path = unquote(handler.path)
        written = 0
        while written < size and not cloud.closing.is_set():
            piece = b'"' if written == 0 else b'"' if written == size - 1 else b"x" * min(chunk, size - 1 - written)
            handler.wfile.write(piece)
            written += len(piece)
            cloud.sent[path] = written

    return _until_gone(behave)


def nested(depth: int) -> Behaviour:
    """A JSON body of ``depth`` nested lists: ``[[[...]]]``."""
    return raw(200, b"[" * depth + b"]" * depth)


def too_many_requests(retry_after: str | None) -> Behaviour:
    """``429 Too Many Requests``, with this ``Retry-After`` (seconds or an HTTP date) if given."""
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return raw(429, b'{"code": 429, "message": "Too Many Requests"}', headers)


def _until_gone(behave: Behaviour) -> Behaviour:
    """``behave``, ending quietly when the client closes the connection (as a cut-off client does)."""

    def guarded(handler: BaseHTTPRequestHandler, cloud: FakeCloud) -> None:
        try:
            behave(handler, cloud)
        except (BrokenPipeError, ConnectionResetError):
            handler.close_connection = True

    return guarded


def _handler(cloud: FakeCloud) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the service: the client reuses its connections

        def handle(self) -> None:
            with suppress(ConnectionResetError, BrokenPipeError):  # the client left (cut off, or its pool closed)
                super().handle()

        def do_GET(self) -> None:
            self._answer("GET")

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self._answer("POST")

        def _answer(self, method: str) -> None:
            path = unquote(self.path)
            cloud.requests.append(
                Request(
                    method,
                    path,
                    self.headers.get("Authorization"),
                    self.headers.get("Accept"),
                    time.monotonic(),
                    self.path,
                )
            )
            answer = cloud.answer(path)
            if callable(answer):
                answer(self, cloud)
                return
            status, body = answer
            text = body if isinstance(body, str) else json.dumps(body)
            kind = "application/x-yaml" if isinstance(body, str) else "application/json"
            send(self, status, text.encode(), {"Content-Type": kind})

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
        cloud.closing.set()
        server.shutdown()
        server.server_close()


def closed_port_url() -> str:
    """The URL of a port of 127.0.0.1 where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
