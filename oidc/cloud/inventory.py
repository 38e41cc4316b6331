"""What an organization holds in Pulumi Cloud: its stacks, its ESC environments, and each stack's deployment settings.

The reads ``python -m oidc discover`` makes, through :class:`oidc.cloud.PulumiCloud` (its token rules, deadline,
size limits and retries hold for every page). Endpoints and shapes are those of the service's OpenAPI
(``provider/pkg/cloud/spec.json`` of pulumi/pulumi-pulumiservice at dc76a01):

- ``GET /api/user/stacks?organization=<org>`` (``ListUserStacks``): ``{"stacks": [AppStackSummary],
  "continuationToken"}``, each summary with ``orgName``, ``projectName`` and ``stackName``; the next page is asked with
  ``continuationToken=<token>``, and an absent or empty token ends the list;
- ``GET /api/esc/environments/<org>`` (``ListOrgEnvironments_esc``): ``{"environments": [OrgEnvironment],
  "nextToken"}``, each with ``project`` and ``name`` (``deletedAt`` set on a soft-deleted one, which is skipped);
  the next page is asked with ``continuationToken=<nextToken>``;
- each stack's ``GET /api/stacks/<org>/<project>/<stack>/deployments/settings``, :data:`oidc.cloud.PARALLEL_REQUESTS`
  at a time (:meth:`PulumiCloud.each`).

A list that never ends (a token seen before, or more than :data:`MAX_PAGES` pages) and an answer of another shape
are a :class:`CloudError`, as is an organization Pulumi Cloud does not know (404 on its environments).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from oidc.cloud import CloudError, PulumiCloud

MAX_PAGES = 10_000
"""The most pages one list is read over: far more than any organization has (a page holds tens to hundreds)."""


@dataclass(frozen=True, order=True)
class Stack:
    """A stack of the organization: ``project/stack``."""

    project: str
    stack: str

    @property
    def identity(self) -> str:
        return f"{self.project}/{self.stack}"


@dataclass(frozen=True, order=True)
class Environment:
    """An ESC environment of the organization: ``project/name`` (``default`` for the legacy project)."""

    project: str
    name: str

    @property
    def identity(self) -> str:
        return f"{self.project}/{self.name}"


@dataclass(frozen=True)
class Inventory:
    """The organization's stacks and environments, and each stack's deployment settings (``None``: none set)."""

    organization: str
    stacks: tuple[Stack, ...]
    environments: tuple[Environment, ...]
    settings: Mapping[Stack, Mapping[str, Any] | None] = field(default_factory=dict)


def _pages(
    cloud: PulumiCloud,
    path: str,
    query: Mapping[str, str],
    *,
    token_field: str,
    items_field: str,
    missing: Callable[[], CloudError],
) -> Iterator[tuple[dict[str, Any], str]]:
    """Every item of a paginated list, with the text of its page (for messages)."""
    seen: set[str] = set()
    token: str | None = None
    for _ in range(MAX_PAGES):
        asked = {**query, "continuationToken": token} if token else dict(query)
        found = cloud.get_json(path, asked)
        if found is None:
            raise missing()
        body, text = found
        items = body.get(items_field) if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise cloud.shape_error(path, text, f"the answer has no list {items_field!r}")
        for item in items:
            if not isinstance(item, dict):
                raise cloud.shape_error(path, text, f"an item of {items_field!r} is not an object")
            yield item, text
        following = body.get(token_field)
        if following in (None, ""):
            return
        if not isinstance(following, str) or following in seen:
            raise cloud.shape_error(
                path, text, f"{token_field!r} repeats a token already followed (a list that never ends)"
            )
        seen.add(following)
        token = following
    raise CloudError(f"GET {path}: more than {MAX_PAGES} pages; the list does not end")


def _text(item: Mapping[str, Any], key: str, cloud: PulumiCloud, path: str, text: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value:
        raise cloud.shape_error(path, text, f"an item has no text {key!r}")
    return value


def list_stacks(cloud: PulumiCloud, org: str) -> list[Stack]:
    """Every stack of ``org`` the token sees (``GET /api/user/stacks?organization=<org>``), sorted."""
    path = "/api/user/stacks"
    found: set[Stack] = set()
    for item, text in _pages(
        cloud,
        path,
        {"organization": org},
        token_field="continuationToken",
        items_field="stacks",
        missing=lambda: _unknown(cloud, org, path),
    ):
        if _text(item, "orgName", cloud, path, text) != org:
            continue  # the filter is the service's; a stack of another organization is not this one's
        found.add(Stack(_text(item, "projectName", cloud, path, text), _text(item, "stackName", cloud, path, text)))
    return sorted(found)


def list_environments(cloud: PulumiCloud, org: str) -> list[Environment]:
    """Every ESC environment of ``org`` the token sees (``GET /api/esc/environments/<org>``), sorted."""
    path = f"/api/esc/environments/{quote(org, safe='')}"
    found: set[Environment] = set()
    for item, text in _pages(
        cloud, path, {}, token_field="nextToken", items_field="environments", missing=lambda: _unknown(cloud, org, path)
    ):
        if item.get("deletedAt"):
            continue
        project = item.get("project") or "default"
        if not isinstance(project, str):
            raise cloud.shape_error(path, text, "an item's 'project' is not text")
        found.add(Environment(project, _text(item, "name", cloud, path, text)))
    return sorted(found)


def _unknown(cloud: PulumiCloud, org: str, path: str) -> CloudError:
    return CloudError(
        f"GET {cloud.credentials.api_url}{path}: 404 Not Found: Pulumi Cloud does not know the organization {org!r}, "
        f"or {cloud.credentials.api_url} (from {cloud.credentials.url_source}) is not the API of your Pulumi Cloud. "
        "Check --org (the lowercase login in app.pulumi.com/<org>) and PULUMI_BACKEND_URL"
    )


def read_inventory(cloud: PulumiCloud, org: str, *, settings_of: Callable[[Stack], bool] | None = None) -> Inventory:
    """``org``'s stacks and environments, and the deployment settings of every stack (or of those
    ``settings_of`` selects), read :data:`oidc.cloud.PARALLEL_REQUESTS` at a time."""
    environments = list_environments(cloud, org)  # first: a 404 here says the organization is unknown
    stacks = list_stacks(cloud, org)
    wanted = [stack for stack in stacks if settings_of is None or settings_of(stack)]
    bodies = cloud.each(lambda stack: cloud.deployment_settings(org, stack.project, stack.stack), wanted)
    return Inventory(org, tuple(stacks), tuple(environments), dict(zip(wanted, bodies, strict=True)))


def role_arn(settings: Mapping[str, Any] | None) -> str | None:
    """The role ARN a stack's deployment settings name for AWS OIDC (``operationContext.oidc.aws.roleArn``)."""
    value: Any = settings
    for part in ("operationContext", "oidc", "aws"):
        value = value.get(part) if isinstance(value, Mapping) else None
    if not isinstance(value, Mapping):
        return None
    arn = value.get("roleArn") or value.get("roleARN")
    return arn if isinstance(arn, str) and arn else None
