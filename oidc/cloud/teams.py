"""Who may open an environment: the teams of an organization, their environment permissions, and the default.

Reads of the Pulumi Cloud REST API, by the operation ids of its OpenAPI (``provider/pkg/cloud/spec.json`` of
pulumi/pulumi-pulumiservice at dc76a01), over :class:`oidc.cloud.PulumiCloud` and its bounds:

- ``ListTeams``: ``GET /api/orgs/{orgName}/teams``, a ``ListTeamsResponse`` (``teams``: a list of ``Team``,
  each with its ``name``). The spec pages it not (no continuation token), so one answer holds every team.
- ``GetTeam``: ``GET /api/orgs/{orgName}/teams/{teamName}``, a ``Team`` whose ``environments`` lists its
  ``TeamEnvironmentSettings`` (``projectName``, ``envName``, ``permission``: ``none``, ``read``, ``open``,
  ``write`` or ``admin``, and optionally ``maxOpenDuration``, a Go duration). The provider's
  ``TeamEnvironmentPermission`` reads its permission there too (``GetTeamEnvironmentSettings``,
  ``provider/pkg/pulumiapi/teams.go``); ``ListTeams`` describes its teams as a summary, so a team's
  environments are read from ``GetTeam``. A team listed and gone by the time it is read (404) has none.
- ``GetOrganizationMetadata``: ``GET /api/orgs/{orgName}/metadata``, an ``OrganizationMetadata`` with
  ``defaultEnvironmentPermission`` (the permission every member gets on every environment; ``write`` unless
  changed, per Pulumi's ESC access-control docs) and ``defaultDeploymentRoleId`` (the role a deployment runs
  with when its stack's settings name none).

Team permissions are a feature of the Enterprise and Business Critical editions; what an organization without
it answers to ``ListTeams`` is not documented, so any answer but a list of teams is a :class:`CloudError`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from oidc.cloud import PulumiCloud, api_path

PERMISSIONS = ("none", "read", "open", "write", "admin")
"""The environment permissions of the spec's ``EnvironmentPermission``, from least to most."""
OPENS = frozenset({"open", "write", "admin"})
"""The permissions that open an environment, and so get the credentials it resolves."""
MAX_TEAM_BYTES = 4 * 1024 * 1024
"""The largest body of ``ListTeams`` or ``GetTeam``: a team of 1,000 members with 10,000 stack and 10,000
environment permissions is 2.1 MB of JSON, a list of 1,000 teams 0.15 MB (measured on bodies of the spec's
shapes)."""
MAX_TEAMS = 2000
"""The most teams read: each is one ``GetTeam``; a list longer than this is not taken for an answer."""


@dataclass(frozen=True)
class EnvironmentGrant:
    """A team's permission on one environment (a ``TeamEnvironmentSettings``)."""

    permission: str
    max_open_duration: str | None = None
    """The longest a member of the team may keep the environment open, as the service returns it."""


@dataclass(frozen=True)
class Team:
    """A team and its environment permissions, by (project, environment)."""

    name: str
    environments: Mapping[tuple[str, str], EnvironmentGrant] = field(default_factory=dict)


@dataclass(frozen=True)
class OrganizationAccess:
    """What every member of the organization gets (``OrganizationMetadata``)."""

    default_environment_permission: str | None
    """``defaultEnvironmentPermission``; ``None`` if the answer leaves it out (the spec requires it)."""
    default_deployment_role_id: str | None = None
    """``defaultDeploymentRoleId``: the role a deployment runs with when its stack's settings name none."""


def rank(permission: str | None) -> int | None:
    """The place of ``permission`` in :data:`PERMISSIONS` (``None`` for no entry or a value the spec does not
    list): which of two permissions is more."""
    return PERMISSIONS.index(permission) if permission in PERMISSIONS else None


def team_names(cloud: PulumiCloud, org: str) -> list[str]:
    """``ListTeams``: the names of the organization's teams, in the order of the answer.

    A 404 is a :class:`oidc.cloud.CloudError` (an organization this Pulumi Cloud does not hold, or an API URL
    that is not one), as is a list of more than :data:`MAX_TEAMS` teams.
    """
    path = f"/api/orgs/{api_path(org)}/teams"
    found = cloud.get_json(path, limit=MAX_TEAM_BYTES)
    if found is None:
        raise cloud.error(
            f"GET {cloud.shown_url}{path}: 404 Not Found: the organization {org} has no teams in this Pulumi Cloud "
            f"(teams are a feature of the Enterprise and Business Critical editions), or {cloud.shown_url} "
            f"(from {cloud.credentials.url_source}) is not the API of your Pulumi Cloud. Check the organization's "
            f"name and {cloud.credentials.url_keys}; team permissions need the organization to have teams"
        )
    body, text = found
    teams = body.get("teams") if isinstance(body, dict) else None
    if not isinstance(teams, list) or not all(
        isinstance(team, dict) and isinstance(team.get("name"), str) and team["name"] for team in teams
    ):
        raise cloud.shape_error(path, text)
    if len(teams) > MAX_TEAMS:
        raise cloud.error(
            f"GET {cloud.shown_url}{path}: the answer lists {len(teams)} teams, more than the {MAX_TEAMS} this "
            f"program reads one by one; is {cloud.credentials.url_keys} the API of your Pulumi Cloud?"
        )
    return list(dict.fromkeys(team["name"] for team in teams))


def read_team(cloud: PulumiCloud, org: str, name: str) -> Team | None:
    """``GetTeam``: the team and its environment permissions; ``None`` if it does not exist (404)."""
    path = f"/api/orgs/{api_path(org, 'teams', name)}"
    found = cloud.get_json(path, limit=MAX_TEAM_BYTES)
    if found is None:
        return None
    body, text = found
    if not isinstance(body, dict):
        raise cloud.shape_error(path, text)
    items = body.get("environments")
    if items is None:
        return Team(name)
    grants = _grants(items)
    if grants is None:
        raise cloud.shape_error(path, text)
    return Team(name, grants)


def _grants(items: Any) -> dict[tuple[str, str], EnvironmentGrant] | None:
    """The ``TeamEnvironmentSettings`` of a team, or ``None`` when they are not of that shape."""
    if not isinstance(items, list):
        return None
    grants: dict[tuple[str, str], EnvironmentGrant] = {}
    for item in items:
        if not isinstance(item, dict):
            return None
        project, name, permission = item.get("projectName"), item.get("envName"), item.get("permission")
        duration = item.get("maxOpenDuration")
        if not (isinstance(project, str) and isinstance(name, str) and isinstance(permission, str) and permission):
            return None
        if duration is not None and not isinstance(duration, str):
            return None
        grants[(project or "default", name)] = EnvironmentGrant(permission, duration or None)
    return grants


def read_teams(cloud: PulumiCloud, org: str) -> list[Team]:
    """Every team of the organization with its environment permissions: ``ListTeams``, then ``GetTeam`` for each,
    :data:`oidc.cloud.PARALLEL_REQUESTS` at a time. A team deleted between the two reads is left out."""
    names = team_names(cloud, org)
    return [team for team in cloud.each(lambda name: read_team(cloud, org, name), names) if team is not None]


def environment_permissions(teams: Sequence[Team], project: str, environment: str) -> dict[str, EnvironmentGrant]:
    """Team name -> its permission on ``project/environment``, for each team that has one."""
    key = (project or "default", environment)
    return {team.name: team.environments[key] for team in teams if key in team.environments}


def organization_access(cloud: PulumiCloud, org: str) -> OrganizationAccess:
    """``GetOrganizationMetadata``: the organization's default environment permission and deployment role.

    A 404 is a :class:`oidc.cloud.CloudError`: an organization this Pulumi Cloud does not hold, or an API URL
    that is not one.
    """
    path = f"/api/orgs/{api_path(org)}/metadata"
    found = cloud.get_json(path, limit=MAX_TEAM_BYTES)
    if found is None:
        raise cloud.error(
            f"GET {cloud.shown_url}{path}: 404 Not Found: the organization {org} does not exist in this Pulumi "
            f"Cloud, or {cloud.shown_url} (from {cloud.credentials.url_source}) is not the API of your Pulumi "
            f"Cloud. Check the organization's name and {cloud.credentials.url_keys}"
        )
    body, text = found
    if not isinstance(body, dict):
        raise cloud.shape_error(path, text)
    default, role = body.get("defaultEnvironmentPermission"), body.get("defaultDeploymentRoleId")
    if not (default is None or (isinstance(default, str) and default)) or not (role is None or isinstance(role, str)):
        raise cloud.shape_error(path, text)
    return OrganizationAccess(default, role or None)
