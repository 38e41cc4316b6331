"""Reads from the Pulumi Cloud REST API: a stack's deployment settings, an ESC environment, a stack's state.

The token and API URL are found as the pulumiservice provider finds them (its ``provider/pkg/config``):

- token: config ``pulumiservice:accessToken``, else ``PULUMI_ACCESS_TOKEN``, else the token the Pulumi CLI
  stored for its current backend (``$PULUMI_HOME/credentials.json``, by default ``~/.pulumi``);
- URL: config ``pulumiservice:apiUrl``, else ``PULUMI_BACKEND_URL``, else ``PULUMI_API``, else
  ``https://api.pulumi.com``.

Every failure (a refused token, an error of the service, no answer, a body that is not JSON) is a
:class:`CloudError` whose message says what was asked, what came back and what to do.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import httpx

from oidc.settings import read_pulumiservice_config

DEFAULT_API_URL = "https://api.pulumi.com"
TIMEOUT_SECONDS = 30.0
PARALLEL_REQUESTS = 8
"""How many reads run at once: hundreds of stacks are read in a few seconds, without flooding the API."""

_T = TypeVar("_T")
_R = TypeVar("_R")


class CloudError(Exception):
    """Pulumi Cloud could not be read; the message says why and what to do."""


@dataclass(frozen=True)
class Credentials:
    """A Pulumi Cloud token, where it came from, and the API it is for."""

    token: str = field(repr=False)
    source: str
    """``pulumiservice:accessToken``, ``PULUMI_ACCESS_TOKEN`` or the CLI's credentials file."""
    api_url: str = DEFAULT_API_URL


def find_credentials(config: Mapping[str, str], environ: Mapping[str, str]) -> Credentials | None:
    """The token and URL the pulumiservice provider would use, or ``None`` where it would find no token.

    ``config`` holds the stack's ``pulumiservice:*`` values (full keys); ``environ`` the process environment.
    """
    api_url = (
        config.get("pulumiservice:apiUrl")
        or environ.get("PULUMI_BACKEND_URL")
        or environ.get("PULUMI_API")
        or DEFAULT_API_URL
    ).rstrip("/")
    if config.get("pulumiservice:accessToken"):
        return Credentials(config["pulumiservice:accessToken"], "pulumiservice:accessToken", api_url)
    if environ.get("PULUMI_ACCESS_TOKEN"):
        return Credentials(environ["PULUMI_ACCESS_TOKEN"], "PULUMI_ACCESS_TOKEN", api_url)
    home = Path(environ["PULUMI_HOME"]) if environ.get("PULUMI_HOME") else Path.home() / ".pulumi"
    stored = home / "credentials.json"
    try:
        document = json.loads(stored.read_text(encoding="utf-8"))
        token = document["accessTokens"][document["current"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return Credentials(token, str(stored), api_url) if isinstance(token, str) and token else None


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


def read_credentials() -> Credentials | None:
    """:func:`find_credentials` for the running Pulumi program; ``None`` within :func:`offline`."""
    if is_offline():
        return None
    return find_credentials(read_pulumiservice_config(), os.environ)


def _segments(*names: str) -> str:
    return "/".join(quote(name, safe="") for name in names)


class PulumiCloud:
    """The few reads the guard and ``settings pull`` need, over one HTTP connection pool."""

    def __init__(self, credentials: Credentials, *, timeout: float = TIMEOUT_SECONDS) -> None:
        self.credentials = credentials
        self._client = httpx.Client(
            base_url=credentials.api_url,
            headers={
                "Authorization": f"token {credentials.token}",
                "Accept": "application/vnd.pulumi+8",
                "User-Agent": "pulumi-aws-oidc",
            },
            timeout=timeout,
            transport=httpx.HTTPTransport(retries=2),  # retries failed connections only, never a request
        )

    def __enter__(self) -> PulumiCloud:
        return self

    def __exit__(self, *_: object) -> None:
        self._client.close()

    def deployment_settings(self, org: str, project: str, stack: str) -> dict[str, Any] | None:
        """``GET /api/stacks/{org}/{project}/{stack}/deployments/settings``; ``None`` when there are none (404)."""
        body = self._get_json(f"/api/stacks/{_segments(org, project, stack)}/deployments/settings")
        if body is not None and not isinstance(body, dict):
            raise self._unexpected(f"/api/stacks/{_segments(org, project, stack)}/deployments/settings", body)
        return body

    def environment_exists(self, org: str, project: str, name: str) -> bool:
        """``GET /api/esc/environments/{org}/{project}/{name}``: 200 when it exists, 404 when not."""
        return self._get(f"/api/esc/environments/{_segments(org, project, name)}") is not None

    def stack_exists(self, org: str, project: str, stack: str) -> bool:
        """``GET /api/stacks/{org}/{project}/{stack}``: whether this Pulumi Cloud holds the stack, for this token."""
        return self._get(f"/api/stacks/{_segments(org, project, stack)}", absent=(403, 404)) is not None

    def stack_resources(self, org: str, project: str, stack: str) -> list[dict[str, Any]] | None:
        """The resources of a stack's last update (``GET .../resources/latest``); ``None`` if none can be read
        (no update yet, or a stack this token does not see here)."""
        path = f"/api/stacks/{_segments(org, project, stack)}/resources/latest"
        # 403 too: an admin stack of another backend is looked up in an organization the token may not see.
        body = self._get_json(path, absent=(403, 404))
        if body is None:
            return None
        resources = body.get("resources") if isinstance(body, dict) else None
        if not isinstance(resources, list):
            raise self._unexpected(path, body)
        return [
            item["resource"] for item in resources if isinstance(item, dict) and isinstance(item.get("resource"), dict)
        ]

    def each(self, function: Callable[[_T], _R], items: Iterable[_T]) -> list[_R]:
        """``function`` over ``items``, :data:`PARALLEL_REQUESTS` at a time, in order; the first error is raised."""
        with ThreadPoolExecutor(max_workers=PARALLEL_REQUESTS) as pool:
            return list(pool.map(function, items))

    def _get_json(self, path: str, absent: tuple[int, ...] = (404,)) -> Any:
        response = self._get(path, absent)
        if response is None:
            return None
        try:
            return response.json()
        except ValueError:
            raise self._unexpected(path, response.text[:200]) from None

    def _get(self, path: str, absent: tuple[int, ...] = (404,)) -> httpx.Response | None:
        where = f"GET {self.credentials.api_url}{path}"
        try:
            response = self._client.get(path)
        except httpx.TimeoutException:
            raise CloudError(
                f"{where}: no answer within {self._client.timeout.read:g} s; Pulumi Cloud may be slow or "
                "unreachable from here. Try again, or check pulumiservice:apiUrl / PULUMI_BACKEND_URL"
            ) from None
        except httpx.TransportError as error:
            raise CloudError(
                f"{where}: cannot reach Pulumi Cloud ({error or type(error).__name__}). Check the network, and "
                "pulumiservice:apiUrl / PULUMI_BACKEND_URL if this is not the API of your Pulumi Cloud"
            ) from None
        if response.status_code in absent:
            return None
        if response.status_code in {401, 403}:
            raise CloudError(
                f"{where}: Pulumi Cloud refused the token from {self.credentials.source} "
                f"({response.status_code} {response.reason_phrase}). Use a token of a member of the organization "
                "who may read its stacks' settings and environments: pulumi login, PULUMI_ACCESS_TOKEN, or "
                "pulumiservice:accessToken"
            )
        if response.is_server_error:
            raise CloudError(
                f"{where}: Pulumi Cloud failed ({response.status_code} {response.reason_phrase}). Nothing was "
                "changed; try again later"
            )
        if not response.is_success:
            raise CloudError(f"{where}: unexpected answer {response.status_code} {response.reason_phrase}")
        return response

    def _unexpected(self, path: str, body: Any) -> CloudError:
        shown = json.dumps(body)[:200] if not isinstance(body, str) else body
        return CloudError(
            f"GET {self.credentials.api_url}{path}: the answer is not of the documented shape ({shown}); is "
            "pulumiservice:apiUrl / PULUMI_BACKEND_URL the API of a Pulumi Cloud?"
        )
