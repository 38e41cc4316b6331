"""Reads from the Pulumi Cloud REST API: a stack's deployment settings, an ESC environment, a stack's state.

The token and API URL are found as the pulumiservice provider finds them (its ``provider/pkg/config``), with
one rule stricter than the provider's:

- URL: config ``pulumiservice:apiUrl``, else ``PULUMI_BACKEND_URL``, else ``PULUMI_API``, else
  ``https://api.pulumi.com``;
- token: config ``pulumiservice:accessToken``, else ``PULUMI_ACCESS_TOKEN``, else the token the Pulumi CLI
  stored for that URL (``accessTokens`` of ``$PULUMI_HOME/credentials.json``, by default ``~/.pulumi``). The
  provider takes the token of the CLI's current login whatever the URL; here a stored token goes only to the
  API it was stored for, so a URL written in a stack file cannot collect an administrator's login.

Where the token goes: never over plain ``http`` except to a loopback address, never to a URL with credentials
in it, never after a redirect. What comes back is read within bounds: one deadline per request for the
connection, every attempt and the whole body (:data:`DEFAULT_TIMEOUT_SECONDS`, or ``PULUMI_AWS_OIDC_TIMEOUT``),
at most :data:`MAX_BODY_BYTES` of body (:data:`MAX_SETTINGS_BYTES` for a stack's settings), :data:`ATTEMPTS`
attempts on 429 and 5xx honouring ``Retry-After``, and JSON at most :data:`MAX_DEPTH` levels deep. Every
failure (a refused token, an error of the service, no answer in time, a body too large, not JSON or of another
shape) is a :class:`CloudError` whose message says what was asked, what came back and what to do; no message
holds the token, credentials of a URL, or more than :data:`EXCERPT_CHARS` characters of a body.
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlencode, urlsplit

import httpx

DEFAULT_API_URL = "https://api.pulumi.com"
TIMEOUT_VARIABLE = "PULUMI_AWS_OIDC_TIMEOUT"
DEFAULT_TIMEOUT_SECONDS = 30.0
"""The deadline of one request (connect, every attempt, the whole body), unless ``PULUMI_AWS_OIDC_TIMEOUT`` says."""
MAX_TIMEOUT_SECONDS = 3600.0
MAX_BODY_BYTES = 16 * 1024 * 1024
"""The largest body read: an admin stack's last update, the largest answer the program reads (a few KiB per
resource, so a few MiB for an organization of a thousand stacks). A body past its limit is not an answer of
the API, and is not read further (nor kept in memory, nor copied into a message)."""
MAX_SETTINGS_BYTES = 1024 * 1024
"""The largest body of a stack's deployment settings (a few KiB in practice). They are read
:data:`PARALLEL_REQUESTS` at a time, and 1 MiB of JSON can parse into about 22 MiB of Python objects."""
MAX_DEPTH = 64
"""The deepest nesting of JSON accepted. Answers of the API nest about 10 levels (a resource's inputs in a
stack's state); the limit keeps every later walk of the value (recursive in :mod:`oidc.cloud.guard`) safe."""
ATTEMPTS = 3
"""Attempts of one request answered 429 or 5xx (or refused a connection), within its deadline."""
BACKOFF_SECONDS = (0.5, 1.0)
"""The wait before the 2nd and 3rd attempts when the answer names no ``Retry-After``."""
EXCERPT_CHARS = 200
"""The most of a body a message quotes."""
PARALLEL_REQUESTS = 8
"""How many reads run at once: hundreds of stacks are read in a few seconds, without flooding the API."""

_DEFAULT_PORTS = {"http": 80, "https": 443}
_T = TypeVar("_T")
_R = TypeVar("_R")


class CloudError(Exception):
    """Pulumi Cloud could not be read; the message (``pulumi cloud: ...``) says why and what to do."""

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(f"pulumi cloud: {detail}")


# --- URLs ---------------------------------------------------------------------------------------


def redact_url(url: str) -> str:
    """``url`` as a message may show it: credentials in it (``https://user:pass@host``) replaced by ``***``."""
    scheme, separator, rest = url.partition("://")
    if not separator:
        return url
    end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    userinfo, at, _ = rest[:end].rpartition("@")
    return f"{scheme}://***@{rest[len(userinfo) + len(at) :]}" if at else url


def normalized_url(url: str) -> str:
    """``url`` compared as the same API: scheme and host lower-case, no default port, no trailing slash."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return url.strip().rstrip("/").lower()
    scheme = parts.scheme.lower()
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        netloc += f":{port}"
    return f"{scheme}://{netloc}{parts.path.rstrip('/')}"


def is_loopback(host: str) -> bool:
    """``localhost``, 127.0.0.0/8 or ::1 (also as an IPv4-mapped address): a server on this machine."""
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def check_api_url(
    url: str,
    source: str,
    url_keys: str = "pulumiservice:apiUrl / PULUMI_BACKEND_URL",
    token_keys: str = "PULUMI_ACCESS_TOKEN or pulumiservice:accessToken",
) -> None:
    """Refuse, before any request, an API URL the token must not be sent to (:class:`CloudError`); messages name
    ``url_keys`` and ``token_keys``, the keys the reader takes them from."""
    shown = redact_url(url)
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (an invalid port raises here)
    except ValueError:
        parts = None
    if parts is None or parts.scheme.lower() not in _DEFAULT_PORTS or not parts.hostname:
        raise CloudError(
            f"the API URL {shown} (from {source}) is not an http(s) URL of a Pulumi Cloud API; set "
            f"{url_keys} to the API of your Pulumi Cloud, e.g. {DEFAULT_API_URL}"
        )
    if parts.username is not None or parts.password is not None:
        raise CloudError(
            f"the API URL {shown} (from {source}) has credentials in it; they would end up in logs and messages. "
            "Remove them from the URL: the Pulumi Cloud token is sent in the Authorization header "
            f"({token_keys})"
        )
    if parts.query or parts.fragment:
        raise CloudError(
            f"the API URL {shown} (from {source}) has a query or fragment; give the API's address only, "
            f"e.g. {DEFAULT_API_URL}"
        )
    if parts.scheme.lower() == "http" and not is_loopback(parts.hostname):
        raise CloudError(
            f"the API URL {shown} (from {source}) is plain http: the Pulumi Cloud token would cross the network "
            "unencrypted, so it is sent over http only to this machine (localhost, 127.0.0.0/8, ::1). Use the "
            "https URL of the API"
        )


# --- where the token comes from ----------------------------------------------------------------


@dataclass(frozen=True)
class Credentials:
    """A Pulumi Cloud token, where it came from, and the API it is for."""

    token: str = field(repr=False)
    source: str
    """``pulumiservice:accessToken``, ``PULUMI_ACCESS_TOKEN`` or the CLI's credentials file."""
    api_url: str = DEFAULT_API_URL
    url_source: str = "the default"
    """``pulumiservice:apiUrl``, ``PULUMI_BACKEND_URL``, ``PULUMI_API`` or ``the default``."""
    url_keys: str = "pulumiservice:apiUrl / PULUMI_BACKEND_URL"
    """The keys that set the URL for this reader, which messages name: the program reads the stack's
    ``pulumiservice:apiUrl`` too, ``settings pull`` only the environment."""
    token_keys: str = "PULUMI_ACCESS_TOKEN or pulumiservice:accessToken"
    """The keys that set the token for this reader, likewise."""


@dataclass(frozen=True)
class NoToken:
    """No token for the API: why, and what to do (the program then runs unguarded, ``settings pull`` stops)."""

    reason: str
    fix: str


def find_credentials(config: Mapping[str, str] | None, environ: Mapping[str, str]) -> Credentials | NoToken:
    """The token and URL the pulumiservice provider would use, or why there is no token for that URL.

    ``config`` holds the stack's ``pulumiservice:*`` values (full keys), or is ``None`` where no stack's config
    is read (``settings pull``); ``environ`` is the process environment.
    """
    explicit = "PULUMI_ACCESS_TOKEN or pulumiservice:accessToken" if config is not None else "PULUMI_ACCESS_TOKEN"
    keys = {
        "url_keys": "pulumiservice:apiUrl / PULUMI_BACKEND_URL" if config is not None else "PULUMI_BACKEND_URL",
        "token_keys": explicit,
    }
    config = config or {}
    api_url, url_source = next(
        ((value.rstrip("/"), key) for key in ("pulumiservice:apiUrl",) if (value := config.get(key))),
        next(
            ((value.rstrip("/"), key) for key in ("PULUMI_BACKEND_URL", "PULUMI_API") if (value := environ.get(key))),
            (DEFAULT_API_URL, "the default"),
        ),
    )
    if config.get("pulumiservice:accessToken"):
        return Credentials(
            config["pulumiservice:accessToken"], "pulumiservice:accessToken", api_url, url_source, **keys
        )
    if environ.get("PULUMI_ACCESS_TOKEN"):
        return Credentials(environ["PULUMI_ACCESS_TOKEN"], "PULUMI_ACCESS_TOKEN", api_url, url_source, **keys)
    home = Path(environ["PULUMI_HOME"]) if environ.get("PULUMI_HOME") else Path.home() / ".pulumi"
    stored = home / "credentials.json"
    try:
        document = json.loads(stored.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        document = {}
    tokens = document.get("accessTokens") if isinstance(document, dict) else None
    usable = {
        url: token
        for url, token in (tokens.items() if isinstance(tokens, dict) else ())
        if isinstance(url, str) and isinstance(token, str) and token
    }
    wanted = normalized_url(api_url)
    for url, token in usable.items():
        if normalized_url(url) == wanted:
            return Credentials(token, str(stored), api_url, url_source, **keys)
    if not usable:
        return NoToken("no Pulumi Cloud token was found", f"log in (pulumi login), or set {explicit}")
    current = document.get("current")
    others = sorted(usable, key=lambda url: (url != current, url))
    shown = redact_url(api_url)
    return NoToken(
        f"the Pulumi CLI's stored token{' is' if len(others) == 1 else 's are'} for "
        f"{', '.join(redact_url(url) for url in others)}, not for {shown} ({url_source}), and a stored token "
        "goes only to the API it was stored for",
        f"if {shown} is the API of your Pulumi Cloud, set {explicit} to a token of it; if not, correct {url_source}",
    )


_OFFLINE: ContextVar[bool] = ContextVar("pulumi_cloud_offline", default=False)


@contextmanager
def offline() -> Iterator[None]:
    """Within it, the running program reads nothing from Pulumi Cloud (``python -m oidc plan``)."""
    token = _OFFLINE.set(True)
    try:
        yield
    finally:
        _OFFLINE.reset(token)


def is_offline() -> bool:
    return _OFFLINE.get()


OFFLINE = NoToken("plan runs offline, without Pulumi Cloud", "pulumi preview reads them first")
UNDER_MOCKS = NoToken(
    "the program runs under mocks (a unit test), where nothing reads Pulumi Cloud",
    "a real pulumi preview reads them first (a test can point the guard at a local server with "
    "oidc.testing.reading_pulumi_cloud())",
)

_READ_UNDER_MOCKS: ContextVar[bool] = ContextVar("pulumi_cloud_under_mocks", default=False)


@contextmanager
def under_mocks() -> Iterator[None]:
    """Within it, the running program reads Pulumi Cloud under mocks too (tests that serve it on 127.0.0.1)."""
    token = _READ_UNDER_MOCKS.set(True)
    try:
        yield
    finally:
        _READ_UNDER_MOCKS.reset(token)


def reads_under_mocks() -> bool:
    return _READ_UNDER_MOCKS.get()


def read_credentials(config: Mapping[str, str]) -> Credentials | NoToken:
    """:func:`find_credentials` for the running Pulumi program, whose ``pulumiservice:*`` config is ``config``;
    :data:`OFFLINE` within :func:`offline`."""
    if is_offline():
        return OFFLINE
    return find_credentials(config, os.environ)


# --- the deadline ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timeout:
    """The deadline of one request, and where the figure comes from (said in a message that it passed)."""

    seconds: float = DEFAULT_TIMEOUT_SECONDS
    origin: str = f"the default; {TIMEOUT_VARIABLE}=<seconds> sets another"

    def __str__(self) -> str:
        return f"{self.seconds:g} s ({self.origin})"


def parse_timeout(text: str, origin: str) -> Timeout:
    """A deadline in seconds, as given to ``origin``; ``ValueError`` with the message for anything else."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = float("nan")
    if not 0 < seconds <= MAX_TIMEOUT_SECONDS:  # also false for nan
        raise ValueError(
            f"{origin} is {text!r}: expected a number of seconds above 0 and at most {MAX_TIMEOUT_SECONDS:g}, e.g. 60"
        )
    return Timeout(seconds, origin)


def configured_timeout(environ: Mapping[str, str]) -> Timeout:
    """The deadline ``PULUMI_AWS_OIDC_TIMEOUT`` sets, or the default; :class:`CloudError` for a wrong value.

    The one place the variable is read.
    """
    text = environ.get(TIMEOUT_VARIABLE, "").strip()
    if not text:
        return Timeout()
    try:
        return parse_timeout(text, TIMEOUT_VARIABLE)
    except ValueError as error:
        raise CloudError(str(error)) from None


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait that a ``Retry-After`` header asks (delay-seconds or an HTTP date), ``None`` if none."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


# --- bodies -------------------------------------------------------------------------------------


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """At most ``limit`` characters of ``text`` a server sent, unprintable ones escaped (no terminal control)."""
    shown = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text[:limit])
    return shown if len(text) <= limit else f"{shown}… ({len(text)} characters)"


def deeper_than(value: Any, limit: int) -> bool:
    """Whether ``value`` nests lists and objects more than ``limit`` levels deep: walked a level at a time,
    without recursion (about 0.2 s for a 1 MiB body of empty objects)."""
    level = [value] if type(value) in (dict, list) else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return True
        below: list[Any] = []
        for item in level:
            children = item.values() if type(item) is dict else item
            below.extend(child for child in children if type(child) in (dict, list))
        level = below
    return False


def api_path(*names: str) -> str:
    """``names`` as segments of a path of the API, each quoted whole (a ``/`` in a name stays in its segment)."""
    return "/".join(quote(name, safe="") for name in names)


@dataclass
class _Request:
    where: str
    finished: bool = False
    """Set when the request ended: its watchdog, if it fires late, stops nothing."""


@dataclass(frozen=True)
class _Failure:
    """An attempt that may be made again: what happened, what to do, and the wait the server asked for."""

    what: str
    advice: str
    retry_after: float | None = None


@dataclass(frozen=True)
class Opened:
    """An environment opened through ESC's open endpoint: its ``properties`` (ESC values, credentials among them),
    or, not ``opened``, the ``diagnostics`` that say why not (an opened one may have warnings there)."""

    opened: bool = True
    properties: dict[str, Any] = field(default_factory=dict, repr=False)
    diagnostics: list[dict[str, Any]] = field(default_factory=list)


class PulumiCloud:
    """The few reads the guard and ``settings pull`` need, over one HTTP connection pool.

    A request that passes its deadline, or a failure among parallel reads (:meth:`each`), stops the whole
    client: the sockets of every read in flight are shut down, so none of them waits for its own deadline,
    and every later read fails with the first error.
    """

    def __init__(self, credentials: Credentials, *, timeout: Timeout | None = None) -> None:
        """:class:`CloudError` before any request for an API URL the token must not go to, or a wrong
        ``PULUMI_AWS_OIDC_TIMEOUT``; ``timeout`` (default: :func:`configured_timeout`) bounds each request."""
        check_api_url(credentials.api_url, credentials.url_source, credentials.url_keys, credentials.token_keys)
        self.credentials = credentials
        self.timeout = timeout or configured_timeout(os.environ)
        self._url = redact_url(credentials.api_url)
        self._client = httpx.Client(
            base_url=credentials.api_url,
            headers={
                "Authorization": f"token {credentials.token}",
                "Accept": "application/vnd.pulumi+8",
                "Accept-Encoding": "identity",  # a compressed body could expand far past MAX_BODY_BYTES
                "User-Agent": "pulumi-aws-oidc",
            },
            timeout=self.timeout.seconds,
            follow_redirects=False,  # the token goes to the configured API only
            # A proxy of the environment is for the network; the token sent over http to this machine stays here.
            trust_env=urlsplit(credentials.api_url).scheme.lower() == "https",
        )
        self._lock = threading.Lock()
        self._streams: weakref.WeakSet[Any] = weakref.WeakSet()
        self._stopped = threading.Event()
        self._reason: CloudError | None = None

    def __enter__(self) -> PulumiCloud:
        return self

    def __exit__(self, *_: object) -> None:
        self._client.close()

    # --- the reads --------------------------------------------------------------------------

    def deployment_settings(self, org: str, project: str, stack: str) -> dict[str, Any] | None:
        """``GET /api/stacks/{org}/{project}/{stack}/deployments/settings``; ``None`` when the stack has none.

        A 404 is "no settings" only for a stack this Pulumi Cloud holds (``GET /api/stacks/{org}/{project}/
        {stack}``): a stack it does not know is a :class:`CloudError`, since a wrong API URL answers 404 to all.
        """
        path = f"/api/stacks/{api_path(org, project, stack)}/deployments/settings"
        found = self._get_json(path, MAX_SETTINGS_BYTES)
        if found is None:
            stack_path = f"/api/stacks/{api_path(org, project, stack)}"
            if self._get(stack_path, None) is None:
                raise self._error(
                    f"GET {self._url}{stack_path}: 404 Not Found: the stack {org}/{project}/{stack} does not exist "
                    f"in this Pulumi Cloud, or {self._url} (from {self.credentials.url_source}) is not the API of "
                    "your Pulumi Cloud (an API URL that is not one answers 404 to everything). Check the stack's "
                    f"organization, project and name, and {self.credentials.url_keys}; a stack's "
                    "deployment settings are written only to a stack that exists (pulumi stack init)"
                )
            return None
        body, text = found
        if not isinstance(body, dict):
            raise self._unexpected(path, text)
        return body

    def environment_exists(self, org: str, project: str, name: str) -> bool:
        """``GET /api/esc/environments/{org}/{project}/{name}``: 200 when it exists, 404 when not."""
        return self._get(f"/api/esc/environments/{api_path(org, project, name)}", None) is not None

    def environment_definition(self, org: str, project: str, name: str) -> str | None:
        """``GET /api/esc/environments/{org}/{project}/{name}``: the environment's YAML definition, ``None`` if none."""
        path = f"/api/esc/environments/{api_path(org, project, name)}"
        raw = self._get(path, MAX_SETTINGS_BYTES)
        if raw is None:
            return None
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise self._error(
                f"GET {self._url}{path}: the definition is not UTF-8 text (byte {raw[error.start]:#04x} at offset "
                f"{error.start}); is {self.credentials.url_keys} the API of your Pulumi Cloud?"
            ) from None

    def open_environment(self, org: str, project: str, name: str) -> Opened:
        """Open the environment as ``esc env open`` does: ``POST .../open`` (``{id}``, or 400 with ``diagnostics``),
        then ``GET .../open/{id}`` (its ``properties``).

        The opened values hold credentials: no message quotes a byte of the second answer.
        """
        base = f"/api/esc/environments/{api_path(org, project, name)}/open"
        found = self._request("POST", base, MAX_SETTINGS_BYTES, absent=(), kept=(400,))
        assert found is not None  # nothing is absent
        status, raw = found
        value, text = self._json(f"POST {self._url}{base}", raw)
        diagnostics = value.get("diagnostics") if isinstance(value, dict) else None
        if status == 400:
            if not isinstance(diagnostics, list) or not diagnostics:
                raise self._error(f"POST {self._url}{base}: 400 Bad Request: {excerpt(text)}")
            return Opened(opened=False, diagnostics=[d for d in diagnostics if isinstance(d, dict)])
        session = value.get("id") if isinstance(value, dict) else None
        if not isinstance(session, str) or not session:
            raise self._unexpected(base, text)
        path = f"{base}/{quote(session, safe='')}"
        where = f"GET {self._url}{path}"
        body = self._get(path, MAX_SETTINGS_BYTES)
        if body is None:
            raise self._error(f"{where}: 404 Not Found: the session just opened is gone; try again")
        try:
            opened = json.loads(body.decode("utf-8"))
        except (ValueError, RecursionError):
            opened = None
        if not isinstance(opened, dict) or deeper_than(opened, MAX_DEPTH):
            raise self._error(
                f"{where}: the answer ({len(body)} bytes, not shown: it may hold credentials) is not the documented "
                "JSON object of an opened environment"
            )
        properties = opened.get("properties")
        warnings = [d for d in diagnostics or [] if isinstance(d, dict)]
        return Opened(properties=properties if isinstance(properties, dict) else {}, diagnostics=warnings)

    def stack_exists(self, org: str, project: str, stack: str) -> bool:
        """``GET /api/stacks/{org}/{project}/{stack}``: whether this Pulumi Cloud holds the stack, for this token."""
        return self._get(f"/api/stacks/{api_path(org, project, stack)}", None, absent=(403, 404)) is not None

    def stack_resources(self, org: str, project: str, stack: str) -> list[dict[str, Any]] | None:
        """The resources of a stack's last update (``GET .../resources/latest``); ``None`` if none can be read
        (no update yet, or a stack this token does not see here)."""
        path = f"/api/stacks/{api_path(org, project, stack)}/resources/latest"
        # 403 too: an admin stack of another backend is looked up in an organization the token may not see.
        found = self._get_json(path, MAX_BODY_BYTES, absent=(403, 404))
        if found is None:
            return None
        body, text = found
        resources = body.get("resources") if isinstance(body, dict) else None
        if not isinstance(resources, list):
            raise self._unexpected(path, text)
        return [
            item["resource"] for item in resources if isinstance(item, dict) and isinstance(item.get("resource"), dict)
        ]

    def get_json(
        self,
        path: str,
        query: Mapping[str, str] | None = None,
        *,
        limit: int = MAX_BODY_BYTES,
        absent: tuple[int, ...] = (404,),
    ) -> tuple[Any, str] | None:
        """``GET path?query`` (``path`` already quoted, e.g. with :func:`api_path`) read as JSON within the bounds of
        every read (one deadline, at most ``limit`` bytes, retries, :data:`MAX_DEPTH`): the value and its text, or
        ``None`` for a status in ``absent``. For the readers of the other modules of :mod:`oidc.cloud`."""
        full = f"{path}?{urlencode(dict(query))}" if query else path
        return self._get_json(full, limit, absent)

    def shape_error(self, path: str, text: str, what: str = "") -> CloudError:
        """The error for an answer of ``path`` that is not of the documented shape (``what`` says how)."""
        if what:
            return self._error(
                f"GET {self._url}{path}: {what} ({excerpt(text)}); is {self.credentials.url_keys} the "
                "API of a Pulumi Cloud?"
            )
        return self._unexpected(path, text)

    def error(self, detail: str) -> CloudError:
        """A :class:`CloudError` of ``detail``, without the token whatever ``detail`` quotes."""
        return self._error(detail)

    @property
    def shown_url(self) -> str:
        """The API URL as messages show it (credentials, if any, redacted)."""
        return self._url

    def each(self, function: Callable[[_T], _R], items: Iterable[_T]) -> list[_R]:
        """``function`` over ``items``, :data:`PARALLEL_REQUESTS` at a time, in order.

        The first failure stops the client (every read in flight ends at once, none still queued starts) and
        is raised without waiting for the others.
        """
        work = list(items)
        if not work:
            return []
        pool = ThreadPoolExecutor(max_workers=min(PARALLEL_REQUESTS, len(work)))
        try:
            futures = [pool.submit(function, item) for item in work]
            done, _ = wait(futures, return_when=FIRST_EXCEPTION)
            failure = next((f.exception() for f in futures if f in done and f.exception() is not None), None)
            if failure is None:
                return [future.result() for future in futures]
            if not isinstance(failure, CloudError):
                self._stop(self._error(f"stopped after an error of another read: {type(failure).__name__}"))
                raise failure
            self._stop(failure)
            raise self._reason or failure
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    # --- one request ---------------------------------------------------------------------------

    def _get_json(self, path: str, limit: int, absent: tuple[int, ...] = (404,)) -> tuple[Any, str] | None:
        """The JSON value of the body (at most ``limit`` bytes) and its text, or ``None`` for a status in ``absent``."""
        raw = self._get(path, limit, absent)
        return None if raw is None else self._json(f"GET {self._url}{path}", raw)

    def _json(self, where: str, raw: bytes) -> tuple[Any, str]:
        """The JSON value of the body ``raw`` of the request ``where``, and its text."""
        api = f"is {self.credentials.url_keys} the API of your Pulumi Cloud?"
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise self._error(
                f"{where}: the answer is not UTF-8 text (byte {raw[error.start]:#04x} at offset {error.start} of "
                f"{len(raw)}); {api}"
            ) from None
        nested = f"{where}: the answer nests deeper than {MAX_DEPTH} levels, which no answer of the API does; {api}"
        try:
            value = json.loads(text)
        except RecursionError:
            raise self._error(nested) from None
        except json.JSONDecodeError as error:
            raise self._error(
                f"{where}: the answer is not JSON ({error.msg}, line {error.lineno} column {error.colno}): "
                f"{excerpt(text)}; {api}"
            ) from None
        except ValueError as error:  # a number of more digits than Python converts
            message = f"{where}: the answer is not JSON Python reads ({excerpt(str(error), 80)}); {api}"
            raise self._error(message) from None
        if deeper_than(value, MAX_DEPTH):
            raise self._error(nested)
        return value, text

    def _get(self, path: str, limit: int | None, absent: tuple[int, ...] = (404,)) -> bytes | None:
        """The body of ``GET path`` (at most ``limit`` bytes; unread, ``b""``, for ``None``), or ``None`` for a
        status in ``absent``, within one deadline."""
        found = self._request("GET", path, limit, absent)
        return None if found is None else found[1]

    def _request(
        self, method: str, path: str, limit: int | None, absent: tuple[int, ...] = (404,), kept: tuple[int, ...] = ()
    ) -> tuple[int, bytes] | None:
        """The status and body of ``method path`` (at most ``limit`` bytes; unread, ``b""``, for ``None``), or
        ``None`` for a status in ``absent``, within one deadline. A status in ``kept`` (an error whose body the
        caller reads, as ESC's 400 with diagnostics) is returned with its body instead of raised."""
        request = _Request(f"{method} {self._url}{path}")
        deadline = time.monotonic() + self.timeout.seconds
        # The deadline bounds wall time: httpx's timeouts apply to each read, so a server sending a byte
        # now and then would hold a request for ever; at the deadline the watchdog shuts the sockets down.
        watchdog = threading.Timer(self.timeout.seconds, self._expire, (request,))
        watchdog.daemon = True
        watchdog.start()
        try:
            return self._attempts(request, method, path, limit, absent, kept, deadline)
        finally:
            with self._lock:
                request.finished = True
            watchdog.cancel()

    def _attempts(  # noqa: PLR0917
        self,
        request: _Request,
        method: str,
        path: str,
        limit: int | None,
        absent: tuple[int, ...],
        kept: tuple[int, ...],
        deadline: float,
    ) -> tuple[int, bytes] | None:
        where = request.where
        for attempt in range(1, ATTEMPTS + 1):
            self._raise_if_stopped()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self._late(where)
            try:
                with self._client.stream(method, path, timeout=remaining, extensions={"trace": self._trace}) as answer:
                    status, reason = answer.status_code, excerpt(answer.reason_phrase, 60)
                    if status in absent:
                        return None
                    if status != 429 and not answer.is_server_error:
                        if status not in kept:
                            self._judge(where, answer)
                        return status, self._body(where, answer, limit, deadline) if limit is not None else b""
                    failed = _Failure(
                        f"{where}: Pulumi Cloud answered {status} {reason}"
                        if status == 429
                        else f"{where}: Pulumi Cloud failed ({status} {reason})",
                        "Nothing was changed; try again later",
                        retry_after(answer.headers.get("Retry-After")),
                    )
            except httpx.ConnectError as error:  # refused, or no such host: another attempt may get through
                self._raise_if_stopped()
                failed = _Failure(*self._unreachable(where, error))
            except httpx.TimeoutException:
                self._raise_if_stopped()
                raise self._late(where) from None
            except httpx.TransportError as error:
                self._raise_if_stopped()
                raise self._error(". ".join(self._unreachable(where, error))) from None
            if attempt == ATTEMPTS:
                raise self._error(f"{failed.what} on each of {ATTEMPTS} attempts. {failed.advice}")
            delay = failed.retry_after if failed.retry_after is not None else BACKOFF_SECONDS[attempt - 1]
            left = deadline - time.monotonic()
            if failed.retry_after is not None and delay >= left:
                raise self._error(
                    f"{failed.what} and asks to retry after {delay:g} s, past the deadline of {self.timeout} "
                    f"({max(left, 0):.1f} s left). {failed.advice}"
                )
            if delay >= left:
                raise self._error(
                    f"{failed.what} (attempt {attempt} of {ATTEMPTS}; no time left to retry within the deadline of "
                    f"{self.timeout}). {failed.advice}"
                )
            if self._stopped.wait(delay):
                self._raise_if_stopped()
        raise AssertionError("unreachable")  # pragma: no cover

    def _judge(self, where: str, answer: httpx.Response) -> None:
        """Raise for an answer that is neither a success nor retried."""
        status, reason = answer.status_code, excerpt(answer.reason_phrase, 60)
        if status in {401, 403}:
            raise self._error(
                f"{where}: Pulumi Cloud refused the token from {self.credentials.source} ({status} {reason}). Use a "
                "token of a member of the organization who may read its stacks' settings and environments: "
                f"pulumi login, or {self.credentials.token_keys}"
            )
        if answer.is_redirect:
            location = excerpt(redact_url(answer.headers.get("Location", "")), 120)
            raise self._error(
                f"{where}: answered {status} {reason}, a redirect to {location}, which is not followed: the token "
                f"goes only to the API URL configured. Set {self.credentials.url_keys} to the API itself"
            )
        if not answer.is_success:
            raise self._error(f"{where}: unexpected answer {status} {reason}")

    def _body(self, where: str, answer: httpx.Response, limit: int, deadline: float) -> bytes:
        """The body of ``answer``, read up to ``limit`` bytes and within ``deadline``."""
        encoding = answer.headers.get("Content-Encoding", "identity").strip().lower()
        if encoding not in {"", "identity"}:
            raise self._error(
                f"{where}: the answer is compressed ({excerpt(encoding, 40)}) though none was asked for; is "
                f"{self.credentials.url_keys} the API of your Pulumi Cloud?"
            )
        declared = answer.headers.get("Content-Length", "").strip()
        if declared.isdigit() and int(declared) > limit:
            raise self._too_large(where, f"declares {int(declared)} bytes, more than", limit)
        chunks: list[bytes] = []
        size = 0
        for chunk in answer.iter_raw():
            size += len(chunk)
            if size > limit:
                raise self._too_large(where, "goes on past", limit)
            if time.monotonic() >= deadline:
                raise self._late(where, size)
            chunks.append(chunk)
        self._raise_if_stopped()  # a body without length ends when the watchdog shuts its socket
        return b"".join(chunks)

    # --- stopping ------------------------------------------------------------------------------

    def _trace(self, event: str, info: Mapping[str, Any]) -> None:
        """httpcore's trace hook: keep each connection's stream, so that its socket can be shut down."""
        if event.endswith((".connect_tcp.complete", ".start_tls.complete")) and info.get("return_value"):
            with self._lock:
                self._streams.add(info["return_value"])
            if self._stopped.is_set():
                self._shut(info["return_value"])

    def _expire(self, request: _Request) -> None:
        """The watchdog: ``request`` passed its deadline."""
        with self._lock:
            if request.finished:
                return
        self._stop(self._late(request.where))

    def _stop(self, reason: CloudError) -> None:
        """End every read: the first ``reason`` is what they all raise."""
        with self._lock:
            if self._reason is None:
                self._reason = reason
            self._stopped.set()
            streams = list(self._streams)
        for stream in streams:
            self._shut(stream)

    @staticmethod
    def _shut(stream: Any) -> None:
        """Shut the stream's socket down: a read blocked on it in another thread returns at once (a close
        would not wake it). The plain socket's shutdown, also under TLS, leaves the TLS object untouched."""
        sock = stream.get_extra_info("socket")
        if isinstance(sock, socket.socket) and sock.fileno() != -1:
            with suppress(OSError):  # closed meanwhile
                socket.socket.shutdown(sock, socket.SHUT_RDWR)

    def _raise_if_stopped(self) -> None:
        if self._stopped.is_set():
            raise self._reason or self._error("stopped")

    # --- messages ------------------------------------------------------------------------------

    def _error(self, detail: str) -> CloudError:
        """A :class:`CloudError` whose message cannot hold the token, whatever the server sent back."""
        token = self.credentials.token
        return CloudError(detail.replace(token, "[token]") if len(token) >= 8 else detail)

    def _late(self, where: str, received: int | None = None) -> CloudError:
        part = f", {received} bytes of the body so far" if received else ""
        return self._error(
            f"{where}: no complete answer within {self.timeout}{part}; Pulumi Cloud may be slow or unreachable from "
            f"here. Nothing was changed; try again, or check {self.credentials.url_keys}"
        )

    def _unreachable(self, where: str, error: Exception) -> tuple[str, str]:
        return (
            f"{where}: cannot reach Pulumi Cloud ({excerpt(str(error) or type(error).__name__, 120)})",
            f"Check the network, and {self.credentials.url_keys} if this is not the API of your Pulumi Cloud",
        )

    def _too_large(self, where: str, how: str, limit: int) -> CloudError:
        return self._error(
            f"{where}: the answer {how} {limit // (1024 * 1024)} MiB, the most this program reads there (no such "
            "answer of the API is that large), so it was not read further. Is "
            f"{self.credentials.url_keys} the API of your Pulumi Cloud?"
        )

    def _unexpected(self, path: str, text: str) -> CloudError:
        return self._error(
            f"GET {self._url}{path}: the answer is not of the documented shape ({excerpt(text)}); is "
            f"{self.credentials.url_keys} the API of a Pulumi Cloud?"
        )
