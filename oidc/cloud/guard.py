"""Nothing lost: what writing a stack's deployment settings would erase, and the config that keeps it.

``pulumiservice.DeploymentSettings`` writes a stack's settings with a full replace (HTTP PUT), so every
field the stack has that the entry does not declare is erased. This module compares the settings the
REST API returns (``GET .../deployments/settings``, the service's field names) with what an entry
declares (the resource's names, as ``deployments[].settings`` takes them):

- a field the resource can express becomes a config key (:data:`KEPT`), which keeps it when declared;
- a field it cannot express is listed with the reason (:data:`UNKEPT`); only ``replaceSettings: true``
  lets the write go on;
- ``operationContext.oidc.aws`` is this program's own, and the service's bookkeeping (``version``,
  ``source``) is never written.

A field this stack wrote itself (it is in the inputs of the stack's ``DeploymentSettings`` in this admin
stack's state) and no longer declares is a removal the user asked for, not a loss.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from oidc.aws import client_ids
from oidc.cloud import OFFLINE, UNDER_MOCKS, NoToken, PulumiCloud, excerpt
from oidc.cloud import teams as cloud_teams
from oidc.durations import format_duration, parse_duration
from oidc.model import ConfigIssue, DeploymentStack, EscEnvironment, RoleSettings, Secret, Settings

SETTINGS_TYPE = "pulumiservice:index:DeploymentSettings"
ENVIRONMENT_TYPE = "pulumiservice:index:Environment"
TEAM_PERMISSION_TYPE = "pulumiservice:index:TeamEnvironmentPermission"

KEPT: Mapping[str, str] = {
    "agentPoolID": "agentPoolId",
    "cacheOptions.enable": "cacheOptions.enable",
    "executorContext.executorImage.reference": "executorContext.executorImage",
    "executorContext.executorImage.credentials.username": "executorContext.credentials.username",
    "executorContext.executorImage.credentials.password": "executorContext.credentials.password",
    **{f"gitHub.{key}": f"github.{key}" for key in ("repository", "deployCommits", "previewPullRequests")},
    **{f"gitHub.{key}": f"github.{key}" for key in ("pullRequestTemplate", "paths")},
    **{
        f"vcs.{key}": f"vcs.{key}"
        for key in (
            "provider",
            "repository",
            "deployCommits",
            "previewPullRequests",
            "pullRequestTemplate",
            "paths",
            "installationId",
            "deployPullRequest",
        )
    },
    "operationContext.preRunCommands": "operationContext.preRunCommands",
    "operationContext.environmentVariables.*": "operationContext.environmentVariables.*",
    **{
        f"operationContext.options.{key}": f"operationContext.options.{key}"
        for key in ("deleteAfterDestroy", "skipInstallDependencies", "skipIntermediateDeployments")
    },
    **{f"sourceContext.git.{key}": f"sourceContext.git.{key}" for key in ("repoUrl", "branch", "commit", "repoDir")},
    "sourceContext.git.gitAuth.basicAuth.userName": "sourceContext.git.gitAuth.basicAuth.username",
    "sourceContext.git.gitAuth.basicAuth.password": "sourceContext.git.gitAuth.basicAuth.password",
    "sourceContext.git.gitAuth.sshAuth.sshPrivateKey": "sourceContext.git.gitAuth.sshAuth.sshPrivateKey",
    "sourceContext.git.gitAuth.sshAuth.password": "sourceContext.git.gitAuth.sshAuth.password",
}
"""A field of the service's settings (``*``: each entry of a map) -> the key of ``deployments[].settings``
that keeps it."""

HIDDEN = frozenset(
    {
        "executorContext.credentials.password",
        "sourceContext.git.gitAuth.basicAuth.password",
        "sourceContext.git.gitAuth.sshAuth.sshPrivateKey",
        "sourceContext.git.gitAuth.sshAuth.password",
    }
)
"""Keys whose value the API never returns: they are set again from secure config."""

UNKEPT: Mapping[str, str] = {
    "operationContext.role": "the deployment's Pulumi Cloud role: the resource has no input for it",
    "operationContext.options.shell": "the provider never sends it (it reads the key Shell)",
    "operationContext.options.remediateIfDriftDetected": "the resource has no input for it",
    "operationContext.oidc.azure": "OIDC for Azure: this program declares only operationContext.oidc.aws",
    "operationContext.oidc.gcp": "OIDC for Google Cloud: this program declares only operationContext.oidc.aws",
    "sourceContext.template": "a template source: the resource takes a git source only",
    "sourceContext.hg": "a Mercurial source: the resource takes a git source only",
    "sourceContext.git.gitAuth.accessToken": "a personal access token: the resource takes basicAuth or sshAuth",
    "executorContext.executorRootPath": "the resource has no input for it",
    "tag": "the resource has no input for it",
}
"""Fields the resource cannot express, by prefix, with the reason; any other unknown field is one too."""

RESOURCE_DEFAULTS: Mapping[str, bool] = {
    f"{kind}.{key}": value
    for kind in ("github", "vcs")
    for key, value in (("deployCommits", True), ("previewPullRequests", True), ("pullRequestTemplate", False))
}
"""What the resource sends for a key its declared object leaves out (``DeploymentSettingsGithubArgs``,
``DeploymentSettingsVcsArgs``). The service leaves out a ``false`` in what it returns, so these keys of a
returned ``gitHub`` or ``vcs`` read as ``false`` when absent."""

OWN = ("version", "source", "operationContext.oidc.aws")
"""Fields of the service's bookkeeping, and the program's own ``oidc.aws``: never a loss."""

UNKEPT_OTHERWISE = "the resource has no input for it"
AS_CONFIGURED = "<as in your config>"
"""What a message shows in place of a value of a secret config key."""


@dataclass(frozen=True)
class CurrentSettings:
    """A stack's settings as the service returns them, sorted into what config can keep and what not."""

    kept: Mapping[str, Any]
    """Key of ``deployments[].settings`` -> value; a :class:`Secret` of ``""`` where the API hides it."""
    unkept: Mapping[str, str]
    """Field of the service -> why no config keeps it (shown with its value where that is not secret)."""
    session: Mapping[str, Any] = field(default_factory=dict)
    """``sessionName``, ``duration`` and ``policyArns`` of the stack's ``oidc.aws``, as entry keys."""


def _is_set(value: Any) -> bool:
    return value not in (None, "", False, [], {})


def _is_secret_value(value: Any) -> bool:
    """A ``SecretValue`` of the API: an object with ``secret`` or ``ciphertext``, not plain text."""
    return isinstance(value, dict) and bool(value) and set(value) <= {"secret", "ciphertext", "plaintext"}


def _rest_leaves(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict) and not _is_secret_value(value):
        for key in sorted(value):
            path = f"{prefix}.{key}" if prefix else key
            if path == "executorContext.executorImage" and isinstance(value[key], dict):
                image = value[key]
                if image.get("isDefault"):
                    continue  # the service's default image: nothing chosen, nothing to keep
                image = {k: v for k, v in image.items() if k != "isDefault"}
                yield from _rest_leaves(image, path)
            else:
                yield from _rest_leaves(value[key], path)
    elif _is_set(value):
        yield prefix, value


def _kept_key(path: str) -> str | None:
    if path in KEPT:
        return KEPT[path]
    variables = "operationContext.environmentVariables."
    if path.startswith(variables) and "." not in path[len(variables) :]:
        return path
    return None


def current_settings(body: Mapping[str, Any]) -> CurrentSettings:
    """Sort the body of ``GET .../deployments/settings`` (the service's ``DeploymentSettings``)."""
    kept: dict[str, Any] = {}
    unkept: dict[str, str] = {}
    for path, value in _rest_leaves(dict(body)):
        if any(path == own or path.startswith(f"{own}.") for own in OWN):
            continue
        key = _kept_key(path)
        if key is not None:
            hidden = key in HIDDEN or _is_secret_value(value)
            kept[key] = Secret("") if hidden else value
            continue
        prefix = next((p for p in UNKEPT if path == p or path.startswith(f"{p}.")), None)
        # One line for the whole field, e.g. operationContext.role with its id and name.
        field_path, field_value = (prefix, _at(body, prefix)) if prefix is not None else (path, value)
        if field_path not in unkept:
            reason = UNKEPT.get(field_path, UNKEPT_OTHERWISE)
            shown = "" if _is_secret_value(field_value) else f"; it is {_short(_hide(field_value))}"
            unkept[field_path] = reason + shown
    for key, default in RESOURCE_DEFAULTS.items():
        kind = key.partition(".")[0]
        if default and key not in kept and any(k.startswith(f"{kind}.") for k in kept):
            kept[key] = False  # the service omits a false; writing the entry's object would send true
    return CurrentSettings(kept, unkept, _session(body))


def _at(body: Mapping[str, Any], path: str) -> Any:
    value: Any = body
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def _hide(value: Any) -> Any:
    """``value`` with the API's secret values (and any secret-looking key) shown as ``[secret]``."""
    if _is_secret_value(value):
        return "[secret]"
    if isinstance(value, Mapping):
        return {k: _hide(v) for k, v in value.items()}
    return value


SHORT_CHARS = 80
"""How much of a field's value a message shows."""


def _short(value: Any) -> str:
    text = yaml.safe_dump(_pruned(value, [SHORT_CHARS]), default_flow_style=True, width=10_000)
    text = text.strip().removesuffix("...").strip()
    return text if len(text) <= SHORT_CHARS else text[: SHORT_CHARS - 1] + "…"


def _pruned(value: Any, budget: list[int]) -> Any:
    """As much of ``value`` as :data:`SHORT_CHARS` characters can show, in the order YAML writes it (keys sorted):
    every item takes at least two characters, so the first ``budget`` items and the start of long strings
    suffice, and a value of a million items (a body of up to 1 MiB) costs no more to show than a short one."""
    budget[0] -= 1
    if isinstance(value, str):
        return value[: 2 * SHORT_CHARS]
    if isinstance(value, Mapping):
        keys = heapq.nsmallest(budget[0] + 1, value, key=str)
        return {key: _pruned(value[key], budget) for key in keys if budget[0] > 0}
    if isinstance(value, list):
        return [_pruned(item, budget) for item in value[: budget[0] + 1] if budget[0] > 0]
    return value


def _session(body: Mapping[str, Any]) -> dict[str, Any]:
    aws = _at(body, "operationContext.oidc.aws")
    session: dict[str, Any] = {}
    if isinstance(aws, dict):
        if aws.get("sessionName"):
            session["sessionName"] = aws["sessionName"]
        if aws.get("duration"):
            try:
                session["duration"] = format_duration(parse_duration(str(aws["duration"])))
            except ValueError:
                session["duration"] = aws["duration"]
        if isinstance(aws.get("policyArns"), list) and aws["policyArns"]:
            session["policyArns"] = list(aws["policyArns"])
    return session


def config_leaves(value: Any, prefix: str = "") -> dict[str, Any]:
    """Key path -> value of each leaf of config-shaped settings (or of a ``DeploymentSettings``'s inputs: same
    names), whatever its value: ``false`` declared is declared. A map of environment variables has a leaf per
    variable; a list is one leaf."""
    leaves: dict[str, Any] = {}
    if isinstance(value, Mapping) and value and not _is_pulumi_secret(value):
        for key, item in value.items():
            leaves.update(config_leaves(item, f"{prefix}.{key}" if prefix else key))
    elif prefix:
        leaves[prefix] = value
    return leaves


def _is_pulumi_secret(value: Any) -> bool:
    """A secret as Pulumi keeps it in state: an object marked with the secret signature."""
    return isinstance(value, Mapping) and value.get("4dabf18193072939515e22adb298388d") == (
        "1b47061264138c4ac30d75fd1eb44270"
    )


def lost(current: CurrentSettings, declared: Mapping[str, Any], written: Mapping[str, Any] | None) -> dict[str, Any]:
    """The fields of ``current`` the write would erase: neither declared nor written by this stack before."""
    declared_leaves = config_leaves(declared)
    sent = {
        key: default
        for key, default in RESOURCE_DEFAULTS.items()
        if key not in declared_leaves and key.partition(".")[0] in declared
    }
    written_leaves = config_leaves(written or {})
    # A secret object in state (the provider may keep all of operationContext secret) covers every key below it.
    sealed = tuple(f"{key}." for key, value in written_leaves.items() if _is_pulumi_secret(value))
    return {
        key: value
        for key, value in current.kept.items()
        if key not in declared_leaves
        and key not in written_leaves
        and not key.startswith(sealed)
        and sent.get(key, not value) != value
    }


def nest(leaves: Mapping[str, Any]) -> dict[str, Any]:
    """Dotted key paths -> the nested object they make, without the values the API hides."""
    root: dict[str, Any] = {}
    for path, value in leaves.items():
        if isinstance(value, Secret):
            continue
        *parents, last = path.split(".")
        node = root
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return root


def secret_commands(entry_path: str, leaves: Mapping[str, Any]) -> list[str]:
    """The ``pulumi config set --secret --path`` command for each value the API hides."""
    return [
        f"pulumi config set --secret --path '{entry_path}.settings.{path}' <value>"
        for path, value in sorted(leaves.items())
        if isinstance(value, Secret)
    ]


def _sorted(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: _sorted(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_sorted(item) for item in value]
    return value


def dump(document: Any) -> str:
    """YAML of ``document``: keys in the order given at the top of each entry, sorted below."""
    if isinstance(document, list):
        document = [
            {key: _sorted(item) for key, item in entry.items()} if isinstance(entry, dict) else entry
            for entry in document
        ]
    else:
        document = _sorted(document)
    return yaml.safe_dump(document, sort_keys=False, default_flow_style=False, width=100)


def _indented(text: str, prefix: str = "      ") -> str:
    return "\n".join(prefix + line for line in text.rstrip("\n").splitlines())


def _hidden_git(leaves: Mapping[str, Any]) -> bool:
    return any(key.startswith("sourceContext.git.") and isinstance(v, Secret) for key, v in leaves.items())


def settings_issue(
    deployment: DeploymentStack,
    org: str,
    current: CurrentSettings,
    written: Mapping[str, Any] | None,
    *,
    secret: bool = False,
) -> ConfigIssue | None:
    """The problem with writing ``deployment``'s settings over ``current``, or ``None`` if nothing is lost.

    ``secret``: the entry's config key is secret, so the entry that keeps the fields shows its own values
    (``source``) as :data:`AS_CONFIGURED`, never as written.
    """
    missing = lost(current, deployment.declared_settings(), written)
    if not missing and not current.unkept:
        return None
    stack = f"{org}/{deployment.identity}"
    lines = [
        f"the deployment settings of {stack} hold what this entry does not declare, and writing them "
        "replaces them whole (pulumiservice.DeploymentSettings sends an HTTP PUT):"
    ]
    if missing:
        lines.append(f"    would be erased: {', '.join(sorted(missing))}")
        keep: dict[str, Any] = {}
        settings = nest(missing)
        git = settings.get("sourceContext", {}).get("git", {})
        if deployment.source is not None and git:
            source = dict(deployment.source_context or {}).get("git", {})
            if secret:
                source = dict.fromkeys(source, AS_CONFIGURED)
            if set(git) <= {"repoUrl", "branch", "repoDir"} and not _hidden_git(missing):
                keep["source"] = {**source, **git}
                del settings["sourceContext"]
            else:
                settings["sourceContext"] = {"git": {**source, **git}}
                lines.append(f"    ({deployment.path}.source becomes settings.sourceContext.git: remove source)")
        if settings:
            keep["settings"] = settings
        if keep:
            lines += [f"    keep them by adding to {deployment.path}:", _indented(dump(keep))]
        commands = secret_commands(deployment.path, missing)
        if commands:
            lines += ["    and set the values the API does not return:", *(f"      {c}" for c in commands)]
    if current.unkept:
        lines.append("    cannot be kept, as no config expresses them:")
        lines += [f"      {path}: {why}" for path, why in sorted(current.unkept.items())]
    lines.append(
        f"    python -m oidc settings pull {stack} prints the entry that keeps what can be kept; "
        f"{deployment.path}.replaceSettings: true accepts losing the rest"
        if current.unkept
        else f"    python -m oidc settings pull {stack} prints the entry that keeps them; "
        f"{deployment.path}.replaceSettings: true accepts losing them"
    )
    return ConfigIssue(deployment.path, "\n".join(lines))


def pulled_entry(project: str, stack: str, current: CurrentSettings, entry_path: str) -> str:
    """``settings pull``: the ``deployments[]`` entry that keeps ``current``, as YAML, with what it cannot keep."""
    entry: dict[str, Any] = {"project": project, "stack": stack, **current.session}
    settings = nest(current.kept)
    if settings:
        entry["settings"] = settings
    parts = [dump([entry]).rstrip("\n")]
    commands = secret_commands(entry_path, current.kept)
    if commands:
        parts.append("# Values the API does not return: set each from secure config, with this entry at " + entry_path)
        parts += [f"#   {command}" for command in commands]
    if current.unkept:
        parts.append("# Cannot be kept (no config expresses them); replaceSettings: true accepts losing them:")
        parts += [f"#   {path}: {why}" for path, why in sorted(current.unkept.items())]
    return "\n".join(parts) + "\n"


# --- the guard ----------------------------------------------------------------------------


@dataclass(frozen=True)
class AdminStack:
    """This admin stack, whose state says which settings and environments it wrote."""

    organization: str
    project: str
    stack: str


@dataclass(frozen=True)
class State:
    """What this admin stack's last update holds, as far as the guard needs it."""

    written: dict[str, Mapping[str, Any]]
    """``org/project/stack`` -> the inputs of the stack's ``DeploymentSettings``."""
    environments: set[str] | None
    """``org/project/name`` of each environment; ``None`` when the update cannot be read."""
    client_id_resources: dict[tuple[str, str], str] = field(default_factory=dict)
    """(provider ARN, client ID) -> URN of each client-ID resource of this stack (``addAudiences``): whether it
    added its client ID or found it, its delete removes the client ID when this stack is its last claimant
    and this program added it."""
    team_permissions: dict[str, dict[str, str]] = field(default_factory=dict)
    """``org/project/name`` of an environment -> team -> the permission this stack's
    ``TeamEnvironmentPermission`` wrote (its inputs)."""


def read_state(cloud: PulumiCloud, admin: AdminStack) -> State:
    """Read this admin stack's last update (``GET .../resources/latest``)."""
    found = cloud.stack_resources(admin.organization, admin.project, admin.stack)
    # No update to read: a new stack holds nothing yet, but a stack kept elsewhere cannot say what it holds.
    known = found is not None or cloud.stack_exists(admin.organization, admin.project, admin.stack)
    resources = found or []
    written: dict[str, Mapping[str, Any]] = {}
    environments: set[str] = set()
    held: dict[tuple[str, str], str] = {}
    teams: dict[str, dict[str, str]] = {}
    for resource in resources:
        outputs = resource.get("outputs") or {}
        if resource.get("type") == client_ids.TYPE and isinstance(outputs, dict) and not resource.get("delete"):
            held[(str(outputs.get("providerArn")), str(outputs.get("clientId")))] = str(resource.get("urn"))
        inputs = resource.get("inputs") or {}
        if not isinstance(inputs, dict) or resource.get("delete"):
            continue
        if resource.get("type") == SETTINGS_TYPE:
            key = f"{inputs.get('organization')}/{inputs.get('project')}/{inputs.get('stack')}"
            written[key] = {k: v for k, v in inputs.items() if k not in {"organization", "project", "stack"}}
        elif resource.get("type") == ENVIRONMENT_TYPE:
            environments.add(f"{inputs.get('organization')}/{inputs.get('project') or 'default'}/{inputs.get('name')}")
        elif resource.get("type") == TEAM_PERMISSION_TYPE and isinstance(inputs.get("permission"), str):
            key = f"{inputs.get('organization')}/{inputs.get('project') or 'default'}/{inputs.get('environment')}"
            teams.setdefault(key, {})[str(inputs.get("team"))] = inputs["permission"]
    return State(written, environments if known else None, held, teams)


@dataclass(frozen=True)
class Findings:
    """What the guard found: problems that stop the run, and warnings that do not."""

    issues: list[ConfigIssue]
    warnings: list[str]
    client_id_resources: Mapping[tuple[str, str], str] = field(default_factory=dict)
    """This stack's client-ID resources on reused providers (``addAudiences``), by provider ARN and client ID."""


def guard(
    settings: Settings,
    cloud: PulumiCloud,
    admin: AdminStack,
    adopt: Callable[[RoleSettings, EscEnvironment], str],
    teams: Sequence[DeclaredTeams] = (),
) -> Findings:
    """Every loss the program's writes would cause, and every environment it would create that exists.

    ``adopt`` gives the command that brings an existing environment into this stack for the role's entry.
    ``teams``: the team permissions declared for each environment this stack creates (:func:`guard_teams`).
    Raises :class:`oidc.cloud.CloudError` when Pulumi Cloud cannot be read, or does not hold a managed stack.
    """
    org = settings.organization
    managed = [d for role in settings.roles for d in role.managed_stacks]
    environments = [(role, e) for role in settings.roles for e in role.defined_environments]
    state = read_state(cloud, admin)
    written, held = state.written, state.environments
    warnings = [
        f"{stack}: this stack no longer declares the stack's deployment settings, so pulumi up deletes them, and "
        "deleting a DeploymentSettings removes all of the stack's settings, console fields included. To keep "
        "them, keep its entry with manageSettings true until you have moved the stack's settings elsewhere"
        for stack in sorted(set(written) - {f"{org}/{d.identity}" for d in managed})
    ]
    if held is None and environments:
        warnings.append(
            f"not guarded: this admin stack's last update ({admin.organization}/{admin.project}/{admin.stack}) "
            "cannot be read from Pulumi Cloud (the stack is kept elsewhere, or the token cannot see it), so the "
            "environments "
            "to create were not checked for ones that exist already; one that does stops pulumi up with a conflict"
        )
        environments = []
    # Stacks whose loss replaceSettings accepts are read too: a deployment role is lost again on every write.
    bodies = cloud.each(lambda d: cloud.deployment_settings(org, d.project, d.stack), managed)
    warnings += [
        warning
        for d, body in zip(managed, bodies, strict=True)
        if body and (warning := deployment_role_warning(f"{org}/{d.identity}", d.path, body)) is not None
    ]
    issues: list[ConfigIssue] = []
    for deployment, body in zip(managed, bodies, strict=True):
        if body is None or deployment.replace_settings:
            continue
        issue = settings_issue(
            deployment,
            org,
            current_settings(body),
            written.get(f"{org}/{deployment.identity}"),
            secret=settings.secret(deployment.path),
        )
        if issue is not None:
            issues.append(issue)
    foreign = [(role, e) for role, e in environments if f"{org}/{e.identity}" not in (held or set())]
    exists = cloud.each(lambda pair: cloud.environment_exists(org, pair[1].project, pair[1].name), foreign)
    for (role, environment), found in zip(foreign, exists, strict=True):
        if found:
            issues.append(
                ConfigIssue(
                    environment.path,
                    f"the ESC environment {org}/{environment.identity} exists already and this stack did not "
                    "create it, so pulumi up would stop half-way with a conflict. To manage it from here, adopt it "
                    f"(its definition is then replaced by this program's; copy what else it holds first):\n"
                    f"      {adopt(role, environment)}\n"
                    "    or give this entry the name of an environment that does not exist yet",
                )
            )
    access = guard_teams(cloud, org, teams, state)
    return Findings(issues + access.issues, warnings + access.warnings, state.client_id_resources)


def environment_import(
    environment: EscEnvironment, org: str, logical_name: str, parent_name: str, parent_urn: str | None
) -> str:
    """The ``pulumi import`` command that adopts ``environment`` under its logical name and parent."""
    parent = f"{parent_name}={parent_urn}" if parent_urn else f"{parent_name}=<its URN: pulumi stack --show-urns>"
    return (
        f"pulumi import {ENVIRONMENT_TYPE} {_quote(logical_name)} {org}/{environment.identity} "
        f"--parent {_quote(parent)}"
    )


def _quote(text: str) -> str:
    return text if re.fullmatch(r"[\w./:=@%+-]+", text) else "'" + text.replace("'", "'\\''") + "'"


def unguarded_warning(stacks: Sequence[str], environments: Sequence[str], missing: NoToken) -> str:
    """What the program says when it cannot read Pulumi Cloud before writing to it, and why (``missing``)."""
    what = " and ".join(
        part
        for part in (
            f"the deployment settings of {len(stacks)} stack{'s' if len(stacks) != 1 else ''}" if stacks else "",
            f"{len(environments)} ESC environment{'s' if len(environments) != 1 else ''}" if environments else "",
        )
        if part
    )
    fix = missing.fix if missing in {OFFLINE, UNDER_MOCKS} else f"{missing.fix}, and preview again"
    return (
        f"not guarded: {missing.reason}, so nothing checked that writing {what} erases nothing "
        f"(pulumiservice.DeploymentSettings replaces a stack's settings whole); {fix}"
    )


# --- who may open a created environment: team permissions ---------------------------------------


@dataclass(frozen=True)
class DeclaredTeams:
    """An environment this stack creates, and the permission its entry declares for each team (none: ``{}``)."""

    project: str
    name: str
    teams: Mapping[str, str]
    """Team name -> ``none``, ``read``, ``open``, ``write`` or ``admin``."""
    path: str = ""
    """The entry's key path (``environments[0]``), for messages."""

    @property
    def identity(self) -> str:
        return f"{self.project}/{self.name}"


def _shown(permission: str | None) -> str:
    return f"`{permission}`" if permission is not None else "no permission of its own"


def _change(before: str | None, after: str | None, default: str | None) -> str:
    """What a write does to a team's permission: raise, lower, remove or grant it."""
    if after is None:
        fallback = f" (its members then get the organization's default, `{default}`)" if default else ""
        return f"remove it{fallback}"
    if before is None:
        return f"grant it `{after}`"
    low, high = cloud_teams.rank(before), cloud_teams.rank(after)
    if low is None or high is None:
        return f"change it to `{after}`"
    return f"{'raise' if high > low else 'lower'} it to `{after}`"


def team_permission_issues(
    org: str,
    project: str,
    name: str,
    declared: Mapping[str, str],
    *,
    live: Mapping[str, str],
    written: Mapping[str, str],
    default: str | None = None,
    path: str = "",
) -> list[ConfigIssue]:
    """The team permissions on ``org/project/name`` that pulumi up would change though Pulumi Cloud set them.

    ``declared``: team -> permission of the entry at ``path``; ``live``: team -> permission Pulumi Cloud holds
    now (:func:`oidc.cloud.teams.environment_permissions`); ``written``: team -> permission this stack's
    ``TeamEnvironmentPermission`` last wrote (:attr:`State.team_permissions`); ``default``: the organization's
    default environment permission, named in messages.

    After the write a declared team holds its declared permission, a team written before and no longer
    declared holds none (the resource's delete removes it), any other team keeps what it has. A change is the
    config's when the live permission is the one this stack wrote; a live permission this stack did not write
    (set, changed or removed in Pulumi Cloud) is changed only when the config declares exactly it. Otherwise the
    issue names the team, the environment, the live, written and declared values, and the two ways on: declare
    the live value, or make Pulumi Cloud hold the declared one.
    """
    environment = f"{org}/{project}/{name}"
    issues: list[ConfigIssue] = []
    for team in sorted({*declared, *written, *live}):
        now, before = live.get(team), written.get(team)
        after = declared.get(team, None if team in written else now)
        if now in (after, before):
            continue  # nothing changes, or the change is to what this stack wrote itself
        key = f"{path}.teams.{team}" if path else f"teams.{team}"
        wrote = f"`{before}`" if before is not None else "nothing for this team"
        asks = f"declares `{after}`" if team in declared else "no longer names the team"
        keep = f"declare {key}: {now}" if now is not None else f"remove {key}"
        apply = (
            f"set the team's permission on {environment} to {after}"
            if after is not None
            else f"remove the team's permission on {environment}"
        )
        issues.append(
            ConfigIssue(
                key,
                f"the team {team} has {_shown(now)} on the ESC environment {environment} in Pulumi Cloud, which "
                f"this stack did not set (it last wrote {wrote}), and this entry {asks}: pulumi up would "
                f"{_change(now, after, default)} without a word. To keep what Pulumi Cloud holds, {keep}; to "
                f"apply the config, first {apply} in Pulumi Cloud (Settings > Access management > Teams > "
                f"{team}), then preview again",
            )
        )
    return issues


def team_permission_warnings(
    org: str,
    project: str,
    name: str,
    declared: Mapping[str, str],
    *,
    live: Mapping[str, str],
    written: Mapping[str, str],
    path: str = "",
) -> list[str]:
    """Teams that can open ``org/project/name`` (``open``, ``write`` or ``admin``) by a permission set in Pulumi
    Cloud that the entry does not declare and this stack never wrote: pulumi up leaves it, and says so."""
    key = f"{path}.teams" if path else "teams"
    return [
        f"{org}/{project}/{name}: the team {team} can open it, and get the credentials it resolves, by `{live[team]}` "
        f"set in Pulumi Cloud; {key} does not name the team, so pulumi up leaves it. Declare {key}.{team}: "
        f"{live[team]} to manage it here, or remove it in Pulumi Cloud"
        for team in sorted(live)
        if team not in declared and team not in written and live[team] in cloud_teams.OPENS
    ]


def guard_teams(cloud: PulumiCloud, org: str, environments: Sequence[DeclaredTeams], state: State) -> Findings:
    """The team permissions pulumi up would change without a word, for the environments this stack creates.

    Reads nothing when no environment declares teams and this stack wrote none. Otherwise reads the
    organization's teams with their environment permissions and its default environment permission
    (:mod:`oidc.cloud.teams`), and reports: a declared team the organization does not have (the grant would
    stop pulumi up half-way); each permission :func:`team_permission_issues` finds; each team that can open an
    environment undeclared (:func:`team_permission_warnings`); and, once, the environments every member can open
    because the organization's default environment permission opens them. Without this stack's last update
    (``state.environments`` is ``None``) the live permissions cannot be told from the ones it wrote: a warning
    says they were not compared.
    """
    checked = [
        e for e in environments if e.teams or state.team_permissions.get(f"{org}/{e.project or 'default'}/{e.name}")
    ]
    if not checked:
        return Findings([], [])
    access = cloud_teams.organization_access(cloud, org)
    teams = cloud_teams.read_teams(cloud, org)
    names = {team.name for team in teams}
    issues: list[ConfigIssue] = []
    warnings: list[str] = []
    unknown = state.environments is None
    for environment in checked:
        key = f"{environment.path}.teams" if environment.path else "teams"
        for team in sorted(set(environment.teams) - names):
            listed = ", ".join(sorted(names)[:10]) + (", …" if len(names) > 10 else "") if names else "none"
            issues.append(
                ConfigIssue(
                    f"{key}.{team}",
                    f"the organization {org} has no team {team} (its teams: {listed}), so pulumi up would stop "
                    "half-way when it grants the team its permission. Create the team first (Settings > Access "
                    "management > Teams), or correct the name",
                )
            )
        live = {
            team: grant.permission
            for team, grant in cloud_teams.environment_permissions(teams, environment.project, environment.name).items()
        }
        written = state.team_permissions.get(f"{org}/{environment.project or 'default'}/{environment.name}", {})
        where = (org, environment.project, environment.name, environment.teams)
        if not unknown:
            found = team_permission_issues(
                *where, live=live, written=written, default=access.default_environment_permission, path=environment.path
            )
            missing = {f"{key}.{team}" for team in set(environment.teams) - names}  # reported above
            issues += [issue for issue in found if issue.path not in missing]
        warnings += team_permission_warnings(*where, live=live, written=written, path=environment.path)
    if unknown:
        warnings.append(
            "not guarded: this admin stack's last update cannot be read from Pulumi Cloud, so the team permissions "
            "of the environments "
            + ", ".join(f"{org}/{e.identity}" for e in checked)
            + " were not compared with what it wrote; pulumi up sets the declared ones whatever Pulumi Cloud holds"
        )
    default = access.default_environment_permission
    if default in cloud_teams.OPENS:
        warnings.append(
            f"every member of {org} can open "
            + ", ".join(f"{org}/{e.identity}" for e in checked)
            + f" and get the credentials they resolve: the organization's default environment permission is "
            f"`{default}`, and every member gets it on every environment, whatever the teams. For the teams "
            "declared to decide who opens them, set it to `read` or `none` (Settings > Access management)"
        )
    return Findings(issues, warnings)


# --- the deployment role the settings' write erases ---------------------------------------------


def deployment_role_warning(stack: str, entry_path: str, body: Mapping[str, Any]) -> str | None:
    """The warning for a managed stack whose settings (``body``, of ``GET .../deployments/settings``) name a
    deployment role (``operationContext.role``, the spec's ``DeploymentRole``: ``id``, ``name``), or ``None``:
    every write of ``pulumiservice.DeploymentSettings`` erases it (pulumi/pulumi-pulumiservice#823)."""
    role = _at(body, "operationContext.role")
    if not isinstance(role, Mapping):
        return None
    shown = " ".join(
        template.format(excerpt(value, 80))
        for template, value in (("{}", role.get("name")), ("(id {})", role.get("id")))
        if isinstance(value, str) and value
    )
    if not shown:
        return None
    return (
        f"{stack}: its deployment settings run deployments with the deployment role {shown} "
        "(operationContext.role), which pulumiservice.DeploymentSettings cannot express: every pulumi up that "
        "writes the settings erases it (pulumi/pulumi-pulumiservice#823), and setting it again in Pulumi Cloud "
        "lasts until the next write. Deployments then run with the organization's default deployment role if it "
        "has one, else with the permissions of the user who starts them, or on a git push with a token of the "
        "stack alone (which opens no ESC environment when the organization's default environment permission is "
        "`none`). To keep the role: make it the organization's default deployment role (Settings > Deployments; "
        f"it applies to every stack whose settings name none), or give {entry_path} manageSettings: false and "
        "keep the stack's settings in Pulumi Cloud"
    )
