"""``python -m oidc discover --org ORG``: an admin stack file proposed from what exists.

It reads, and writes nothing to AWS or Pulumi Cloud:

- Pulumi Cloud (:mod:`oidc.cloud.inventory`): the organization's stacks and ESC environments, and every stack's
  deployment settings;
- AWS (:mod:`oidc.aws.discover`): the account of the credentials, or every account of its AWS organization, and in
  each the issuer's IAM OIDC provider and the roles whose trust policy names it.

It proposes one role per existing role, in form B (``accounts`` and ``roles``): each stack whose deployment
settings name the role's ARN becomes an entry that manages them, with the settings it has now (as ``settings
pull`` keeps them); each stack and environment the role's trust policy admits becomes an entry that keeps that
trust. Where a role's trust policy (rendered by :mod:`oidc.trust`, as ``plan`` renders it) would not fit its
account's quota, ``*`` patterns are added, the ones that admit the fewest stacks and environments not listed first.
Existing providers, roles, their policy attachments and environments get the ``pulumi import`` commands that adopt
them under the logical names and parents the components give them.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from oidc import claims, cloud, trust
from oidc.aws import discover as aws_discover
from oidc.cli import offline
from oidc.cli.evaluate import EXIT_INVALID, EXIT_OK, EXIT_USAGE
from oidc.cli.pull import cloud_connection
from oidc.cli.stack_files import StackFileError, plain_is_text
from oidc.cloud import guard, inventory
from oidc.components.organization import TYPE as PROGRAM_TYPE
from oidc.components.organization import component_name
from oidc.components.provider import PROVIDER_TYPE
from oidc.components.role import ROLE_TYPE, environment_name, policy_identity
from oidc.durations import format_duration, parse_duration
from oidc.model import FORM_A_KEY, MAX_TRUST_POLICY_CHARS, ConfigError, DeploymentStack, EscEnvironment
from oidc.settings import load_settings
from oidc.settings import models as m
from oidc.settings.fields import ESC_NAME, ESC_PROJECT, MAP_KEY, ORG, PROJECT_OR_STACK, ROLE_NAME

PROJECT = "pulumi-aws-oidc"
"""The project's name where no ``Pulumi.yaml`` says another."""
COMPONENT = "pulumi-cloud"
"""The name ``__main__.py`` gives the program's component: the root of every logical name."""
STACK_PLACEHOLDER = "<admin-stack>"
_SEPARATORS = "-_."


def _k(model: type[m.Keys], name: str) -> str:
    """The config key of field ``name`` of ``model``, as the model declares it."""
    alias = model.model_fields[name].alias
    return alias or name


# --- what a role's trust policy admits ----------------------------------------------------------------


@dataclass
class Trusted:
    """What one existing trust policy admits, as entries: ``None`` operations for every operation."""

    deployments: dict[tuple[str, str], tuple[str, ...] | None] = field(default_factory=dict)
    environments: set[tuple[str, str]] = field(default_factory=set)
    ignored: list[str] = field(default_factory=list)
    """Subjects (and statements) no entry can express, with why."""


def _operations(pattern: str) -> tuple[str, ...] | None:
    found = tuple(op for op in claims.OPERATIONS if trust.string_like(pattern, op))
    return None if len(found) == len(claims.OPERATIONS) else found


def _merge_operations(a: tuple[str, ...] | None, b: tuple[str, ...] | None) -> tuple[str, ...] | None:
    if a is None or b is None:
        return None
    merged = tuple(op for op in claims.OPERATIONS if op in a or op in b)
    return None if len(merged) == len(claims.OPERATIONS) else merged


def _statements(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    statements = document.get("Statement", [])
    if isinstance(statements, Mapping):
        statements = [statements]
    return [s for s in statements if isinstance(s, Mapping)] if isinstance(statements, list) else []


def read_trust(document: Mapping[str, Any], provider_arn: str, org: str, issuer: str) -> Trusted:
    """The entries that keep what ``document`` admits through ``provider_arn``."""
    found = Trusted()
    prefix = claims.condition_prefix(issuer)
    for statement in _statements(document):
        if statement.get("Effect") != "Allow" or provider_arn not in aws_discover.federated_principals(statement):
            continue
        subjects: list[str] = []
        condition = statement.get("Condition")
        for operator, keys in condition.items() if isinstance(condition, Mapping) else ():
            if not isinstance(keys, Mapping) or operator not in {"StringEquals", "StringLike"}:
                continue
            values = keys.get(f"{prefix}:sub")
            subjects += [values] if isinstance(values, str) else [v for v in values or () if isinstance(v, str)]
        if not subjects:
            found.ignored.append(
                f"a statement ({statement.get('Sid') or 'no Sid'}) with no sub condition of StringEquals or "
                "StringLike, which admits more than entries can say: not kept"
            )
        for subject in subjects:
            _read_subject(subject, org, found)
    return found


def _read_subject(subject: str, org: str, found: Trusted) -> None:
    parsed = claims.parse_subject(subject)
    if parsed is None:
        found.ignored.append(f"{subject}: not a subject of Pulumi Deployments or ESC that an entry can say")
        return
    if parsed.org != org:
        found.ignored.append(f"{subject}: of the organization {parsed.org!r}, not {org!r}")
        return
    if parsed.kind == "deployments":
        project, stack, operation = parsed.project or "", parsed.name or "", parsed.operation or "*"
        if not (PROJECT_OR_STACK.fullmatch(project) and PROJECT_OR_STACK.fullmatch(stack)):
            found.ignored.append(f"{subject}: the project or stack is not a name or pattern an entry takes")
            return
        operations = _operations(operation)
        if operations == ():
            found.ignored.append(f"{subject}: the operation {operation!r} matches none of Pulumi Deployments'")
            return
        key = (project, stack)
        found.deployments[key] = (
            _merge_operations(found.deployments[key], operations) if key in found.deployments else operations
        )
        return
    if parsed.project is None or parsed.name is None:
        found.ignored.append(f"{subject}: an ESC subject that does not name one environment")
        return
    if parsed.pinned and parsed.attributes != (claims.ESC_SUBJECT_ATTRIBUTE,):
        found.ignored.append(
            f"{subject}: subjectAttributes {list(parsed.attributes)}; this program's environments use "
            f"[{claims.ESC_SUBJECT_ATTRIBUTE}] only"
        )
        return
    if not parsed.pinned and claims.is_pattern(subject):
        found.ignored.append(f"{subject}: a pattern of ESC's default subject, which no entry says")
        return
    if not ESC_PROJECT.fullmatch(parsed.project) or not ESC_NAME.fullmatch(parsed.name):
        found.ignored.append(f"{subject}: the project or name is not one an entry takes (no pattern in the project)")
        return
    found.environments.add((parsed.project, parsed.name))


# --- patterns that make a trust policy fit ---------------------------------------------------------


@dataclass(frozen=True)
class Pattern:
    kind: str
    """``deployments`` or ``environments``."""
    project: str
    name: str
    operations: tuple[str, ...] | None = None
    widens: int = 0
    """Stacks or environments it admits that the role did not, and entries whose operations it loosens."""


def policy_size(
    org: str,
    issuer: str,
    provider_arn: str,
    deployments: Sequence[DeploymentStack],
    environments: Sequence[EscEnvironment],
) -> int:
    """The characters of the trust policy ``plan`` renders for these entries (IAM's count: no whitespace in it)."""
    document = trust.trust_policy(issuer, provider_arn, trust.admissions(org, deployments, environments))
    return len(trust.render(document))


def _candidates(
    deployments: Sequence[DeploymentStack],
    environments: Sequence[EscEnvironment],
    known_stacks: Iterable[inventory.Stack],
    known_environments: Iterable[inventory.Environment],
) -> list[Pattern]:
    """Patterns that cover two or more exact entries: ``<project>/*`` and ``<project>/<prefix>*`` (a prefix ending at a
    ``-``, ``_`` or ``.``), never a pattern of the ``default`` ESC project's names alone (its ``*`` is org-wide)."""
    listed = {(d.project, d.stack) for d in deployments if not d.is_pattern}
    found: list[Pattern] = []
    by_project: dict[str, list[DeploymentStack]] = {}
    for d in deployments:
        if not d.is_pattern:
            by_project.setdefault(d.project, []).append(d)
    stacks_of: dict[str, list[str]] = {}
    for known in known_stacks:
        stacks_of.setdefault(known.project, []).append(known.stack)
    for project, entries in sorted(by_project.items()):
        for name in _prefix_patterns([d.stack for d in entries], with_star=True):
            covered = [d for d in entries if trust.string_like(name, d.stack)]
            operations: tuple[str, ...] | None = covered[0].operations
            for d in covered[1:]:
                operations = _merge_operations(operations, d.operations)
            others = {s for s in stacks_of.get(project, []) if trust.string_like(name, s)} - {
                s for p, s in listed if p == project
            }
            loosened = sum(
                1
                for d in entries
                if trust.string_like(name, d.stack) and d.operations is not None and operations != d.operations
            )
            found.append(Pattern("deployments", project, name, operations, len(others) + loosened))
    listed_environments = {(e.project, e.name) for e in environments if not e.is_pattern}
    envs_of: dict[str, list[str]] = {}
    for known_env in known_environments:
        envs_of.setdefault(known_env.project, []).append(known_env.name)
    projects = sorted({p for p, _ in listed_environments})
    for project in projects:
        names = [n for p, n in listed_environments if p == project]
        for name in _prefix_patterns(names, with_star=project != claims.LEGACY_ESC_PROJECT):
            others = {n for n in envs_of.get(project, []) if trust.string_like(name, n)} - set(names)
            found.append(Pattern("environments", project, name, None, len(others)))
    return found


def _prefix_patterns(names: Sequence[str], *, with_star: bool) -> list[str]:
    counts: dict[str, int] = {}
    for name in set(names):
        for index, char in enumerate(name[:-1]):
            if char in _SEPARATORS:
                counts[name[: index + 1]] = counts.get(name[: index + 1], 0) + 1
    patterns = sorted(f"{prefix}*" for prefix, count in counts.items() if count >= 2)
    if with_star and len(set(names)) >= 2:
        patterns.append("*")
    return patterns


def fit(
    org: str,
    issuer: str,
    provider_arn: str,
    quota: int,
    *,
    deployments: list[DeploymentStack],
    environments: list[EscEnvironment],
    known_stacks: Iterable[inventory.Stack] = (),
    known_environments: Iterable[inventory.Environment] = (),
) -> tuple[list[Pattern], int]:
    """The patterns to add so that the role's trust policy fits ``quota``, and its size then.

    Greedy: while the policy is too long, add the candidate that widens trust least (stacks or environments not
    listed that it admits, entries whose operations it loosens), of those the narrowest (the longest literal
    prefix), and of those the one that shortens the policy most.
    """
    size = policy_size(org, issuer, provider_arn, deployments, environments)
    if size <= quota:
        return [], size
    pending = _candidates(deployments, environments, list(known_stacks), list(known_environments))
    chosen: list[Pattern] = []
    while size > quota and pending:
        best: tuple[int, int, int, str, Pattern] | None = None
        for candidate in pending:
            tried_d, tried_e = _with(deployments, environments, [*chosen, candidate])
            new = policy_size(org, issuer, provider_arn, tried_d, tried_e)
            if new >= size:
                continue
            narrowness = -len(candidate.name.rstrip("*"))
            rank = (candidate.widens, narrowness, new, f"{candidate.project}/{candidate.name}", candidate)
            if best is None or rank[:4] < best[:4]:
                best = rank
        if best is None:
            break
        chosen.append(best[4])
        pending.remove(best[4])
        size = best[2]
    return chosen, size


def _with(
    deployments: Sequence[DeploymentStack], environments: Sequence[EscEnvironment], patterns: Sequence[Pattern]
) -> tuple[list[DeploymentStack], list[EscEnvironment]]:
    extra_d = [DeploymentStack(p.project, p.name, p.operations) for p in patterns if p.kind == "deployments"]
    extra_e = [EscEnvironment(p.project, p.name) for p in patterns if p.kind == "environments"]
    return [*deployments, *extra_d], [*environments, *extra_e]


# --- the proposal --------------------------------------------------------------------------------------


@dataclass
class RoleProposal:
    key: str
    account: str
    found: aws_discover.Role
    provider_arn: str
    quota: int
    deployments: list[dict[str, Any]] = field(default_factory=list)
    environments: list[dict[str, Any]] = field(default_factory=list)
    patterns: list[Pattern] = field(default_factory=list)
    size: int = 0
    managed: int = 0
    secrets: list[str] = field(default_factory=list)
    unkept: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    adopted_environments: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Proposal:
    organization: str
    project: str
    stack: str
    values: dict[str, Any]
    region: str | None
    accounts: list[tuple[str, aws_discover.Found]]
    roles: list[RoleProposal]
    notes: list[str]
    imports: list[str]
    targets: list[str]

    def text(self, command: str) -> str:
        return render(self, command)


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:32].strip("-")
    return slug if slug and slug != FORM_A_KEY else f"{slug or 'key'}-1"


def _unique(wanted: str, taken: set[str], *others: str) -> str:
    for candidate in (wanted, *(_slug(o) for o in others)):
        if candidate not in taken and MAP_KEY.fullmatch(candidate):
            taken.add(candidate)
            return candidate
    n = 2
    while (candidate := f"{wanted[:28]}-{n}") in taken:
        n += 1
    taken.add(candidate)
    return candidate


def _urn(stack: str, project: str, types: Sequence[str], name: str) -> str:
    return f"urn:pulumi:{stack}::{project}::{'$'.join(types)}::{name}"


def _quote(text: str) -> str:
    return text if re.fullmatch(r"[\w./:=@%+-]+", text) else "'" + text.replace("'", "'\\''") + "'"


def propose(
    org: str,
    issuer: str,
    found: aws_discover.Discovered,
    cloud_inventory: inventory.Inventory,
    *,
    project: str = PROJECT,
    stack: str = STACK_PLACEHOLDER,
) -> Proposal:
    """The admin stack that keeps what ``found`` and ``cloud_inventory`` hold (pure: nothing is read here)."""
    notes: list[str] = []
    account_keys: set[str] = set()
    accounts: list[tuple[str, aws_discover.Found]] = []
    for account_found in found.accounts:
        account = account_found.account
        key = _unique(_slug(account.name), account_keys, f"account-{account.id}")
        accounts.append((key, account_found))
    by_arn: dict[str, tuple[str, aws_discover.Found, aws_discover.Role]] = {}
    for key, account_found in accounts:
        for role in account_found.roles:
            by_arn[role.arn] = (key, account_found, role)
    managed_by: dict[str, list[inventory.Stack]] = {}
    for stack_ref in cloud_inventory.stacks:
        arn = inventory.role_arn(cloud_inventory.settings.get(stack_ref))
        if arn is None:
            continue
        if arn in by_arn:
            managed_by.setdefault(arn, []).append(stack_ref)
        else:
            notes.append(
                f"{org}/{stack_ref.identity}: its deployment settings name {arn}, a role not found in the accounts read"
            )
    existing_environments = set(cloud_inventory.environments)
    role_keys: set[str] = set()
    roles: list[RoleProposal] = []
    for account_key, account_found in accounts:
        provider = account_found.provider
        if provider is None:
            continue
        for role in account_found.roles:
            proposal = _role(
                org,
                issuer,
                account_key=account_key,
                account_found=account_found,
                role=role,
                provider_arn=provider.arn,
                key=_unique(_slug(role.name), role_keys, f"{account_key}-{role.name}"),
                managed=managed_by.get(role.arn, []),
                cloud_inventory=cloud_inventory,
                existing_environments=existing_environments,
            )
            if proposal.deployments or proposal.environments:
                roles.append(proposal)
            else:
                role_keys.discard(proposal.key)
                notes.append(
                    f"role {role.arn}: trusts the issuer, but nothing an entry can say (not proposed)"
                    + "".join(f"; {why}" for why in proposal.ignored)
                )
    used_accounts = {r.account for r in roles}
    values: dict[str, Any] = {_k(m.Program, "organization"): org}
    if issuer != claims.DEFAULT_ISSUER:
        values[_k(m.Program, "issuer")] = issuer
    values[_k(m.Program, "accounts")] = {
        key: _account_config(account_found, _needed(org, roles, key))
        for key, account_found in accounts
        if key in used_accounts
    }
    values[_k(m.Program, "roles")] = {r.key: _role_config(r) for r in roles}
    for key, account_found in accounts:
        if account_found.unreached:
            account = account_found.account
            notes.append(f"account {account.id} ({account.name}): not read: {account_found.unreached}")
        elif key not in used_accounts:
            what = (
                "no IAM OIDC provider for the issuer"
                if account_found.provider is None
                else "no role trusts its provider"
            )
            notes.append(f"account {account_found.account.id} ({account_found.account.name}): {what}; not proposed")
    imports, targets = _imports(org, project, stack, accounts=accounts, roles=roles, used=used_accounts)
    return Proposal(org, project, stack, values, found.region, accounts, roles, notes, imports, targets)


def _role(
    org: str,
    issuer: str,
    *,
    account_key: str,
    account_found: aws_discover.Found,
    role: aws_discover.Role,
    provider_arn: str,
    key: str,
    managed: Sequence[inventory.Stack],
    cloud_inventory: inventory.Inventory,
    existing_environments: set[inventory.Environment],
) -> RoleProposal:
    trusted = read_trust(role.trust_policy, provider_arn, org, issuer)
    proposal = RoleProposal(
        key, account_key, role, provider_arn, account_found.trust_policy_quota, ignored=trusted.ignored
    )
    managed_keys = {(s.project, s.stack) for s in managed}
    exact: list[DeploymentStack] = []
    rows: list[tuple[tuple[int, str, str], dict[str, Any], DeploymentStack, Mapping[str, Any] | None]] = []
    for stack_ref in managed:
        operations = trusted.deployments.get((stack_ref.project, stack_ref.stack))
        model = DeploymentStack(stack_ref.project, stack_ref.stack, operations)
        rows.append(((0, stack_ref.project, stack_ref.stack), {}, model, cloud_inventory.settings.get(stack_ref)))
    for (project, stack_name), operations in trusted.deployments.items():
        if (project, stack_name) in managed_keys:
            continue
        model = DeploymentStack(project, stack_name, operations)
        rank = 2 if model.is_pattern else 1
        rows.append(((rank, project, stack_name), {}, model, None))
    rows.sort(key=lambda row: row[0])
    for (rank, project, stack_name), _, model, body in rows:
        entry: dict[str, Any] = {_k(m.Deployment, "project"): project, _k(m.Deployment, "stack"): stack_name}
        if model.operations is not None:
            entry[_k(m.Deployment, "operations")] = list(model.operations)
        if rank == 1:
            entry[_k(m.Deployment, "manage_settings")] = False
        path = f"roles.{key}.deployments[{len(proposal.deployments)}]"
        if rank == 0:
            proposal.managed += 1
            current = guard.current_settings(body or {})
            entry.update(_session(current.session, role.max_session_duration, path, proposal))
            settings = guard.nest(current.kept)
            if settings:
                entry[_k(m.Deployment, "settings")] = settings
            proposal.secrets += guard.secret_commands(path, current.kept)
            proposal.unkept += [
                f"{path} ({org}/{project}/{stack_name}): {field_path}: {why}"
                for field_path, why in sorted(current.unkept.items())
            ]
        if not model.is_pattern:
            exact.append(model)
        proposal.deployments.append(entry)
    environments: list[EscEnvironment] = []
    for project, name in sorted(trusted.environments, key=lambda pair: (claims.is_pattern(pair[1]), pair)):
        entry = {_k(m.Environment, "project"): project, _k(m.Environment, "name"): name}
        model_env = EscEnvironment(project, name)
        environments.append(model_env)
        proposal.environments.append(entry)
        if not model_env.is_pattern and inventory.Environment(project, name) in existing_environments:
            proposal.adopted_environments.append((project, name))
    all_deployments = [
        DeploymentStack(d["project"], d["stack"], tuple(d["operations"]) if "operations" in d else None)
        for d in proposal.deployments
    ]
    patterns, size = fit(
        org,
        issuer,
        provider_arn,
        proposal.quota,
        deployments=all_deployments,
        environments=environments,
        known_stacks=cloud_inventory.stacks,
        known_environments=cloud_inventory.environments,
    )
    for pattern in patterns:
        if pattern.kind == "deployments":
            entry = {_k(m.Deployment, "project"): pattern.project, _k(m.Deployment, "stack"): pattern.name}
            if pattern.operations is not None:
                entry[_k(m.Deployment, "operations")] = list(pattern.operations)
            proposal.deployments.append(entry)
        else:
            proposal.environments.append(
                {_k(m.Environment, "project"): pattern.project, _k(m.Environment, "name"): pattern.name}
            )
    proposal.patterns = patterns
    proposal.size = size
    return proposal


def _session(session: Mapping[str, Any], role_max: int, path: str, proposal: RoleProposal) -> dict[str, Any]:
    """The entry keys of the stack's current ``oidc.aws`` session; a duration longer than the role allows is left
    out (the entry's default, 1h, then applies) and said."""
    kept: dict[str, Any] = {}
    if "sessionName" in session:
        kept[_k(m.Deployment, "session_name")] = session["sessionName"]
    if "duration" in session:
        try:
            seconds = parse_duration(str(session["duration"]))
        except ValueError:
            seconds = None
        if seconds is not None and seconds <= role_max:
            kept[_k(m.Deployment, "duration")] = format_duration(seconds)
        else:
            proposal.ignored.append(
                f"{path}.duration: the stack's settings ask for {session['duration']}, longer than the role's "
                f"maxSessionDuration ({format_duration(role_max)}): left at the default"
            )
    if session.get("policyArns"):
        kept[_k(m.Deployment, "policy_arns")] = list(session["policyArns"])
    return kept


def _account_config(account_found: aws_discover.Found, needed: set[str]) -> dict[str, Any]:
    """An account's keys: how it is reached, its provider as it is (thumbprints, and the client IDs it has beyond
    those its roles need, so that adopting it changes and removes nothing), its quota when raised."""
    account = account_found.account
    config: dict[str, Any] = {}
    if account.assume_role_arn is None:
        config[_k(m.Account, "id")] = account.id
    else:
        config[_k(m.Account, "assume_role")] = {_k(m.AssumeRole, "role_arn"): account.assume_role_arn}
    provider = account_found.provider
    if provider is not None:
        kept: dict[str, Any] = {_k(m.OidcProvider, "thumbprints"): list(provider.thumbprints)}
        extra = sorted(set(provider.client_ids) - needed)
        if extra:
            kept[_k(m.OidcProvider, "audiences")] = extra
        config[_k(m.Account, "oidc_provider")] = kept
    if account_found.trust_policy_quota != aws_discover.DEFAULT_QUOTA:
        config[_k(m.Account, "trust_policy_max_chars")] = min(account_found.trust_policy_quota, MAX_TRUST_POLICY_CHARS)
    return config


def _needed(org: str, roles: Sequence[RoleProposal], account: str) -> set[str]:
    """The audiences the roles of ``account`` need (form B registers these)."""
    needed: set[str] = set()
    for role in roles:
        if role.account != account:
            continue
        if role.deployments:
            needed.add(claims.deployments_audience(org))
        needed |= {claims.esc_audience(org, entry["project"]) for entry in role.environments}
    return needed


def _role_config(proposal: RoleProposal) -> dict[str, Any]:
    role = proposal.found
    config: dict[str, Any] = {_k(m.Role, "account"): proposal.account, _k(m.Role, "name"): role.name}
    if role.path != "/":
        config[_k(m.Role, "path")] = role.path
    if role.description:
        config[_k(m.Role, "description")] = role.description
    config[_k(m.Role, "policy_arns")] = list(role.policy_arns)
    if role.permissions_boundary:
        config[_k(m.Role, "permissions_boundary")] = role.permissions_boundary
    if role.max_session_duration != 3600:
        config[_k(m.Role, "max_session_duration")] = format_duration(role.max_session_duration)
    if role.tags:
        config[_k(m.Role, "tags")] = dict(sorted(role.tags.items()))
    if proposal.deployments:
        config[_k(m.Role, "deployments")] = proposal.deployments
    if proposal.environments:
        config[_k(m.Role, "environments")] = proposal.environments
    return config


def _imports(
    org: str,
    project: str,
    stack: str,
    *,
    accounts: Sequence[tuple[str, aws_discover.Found]],
    roles: Sequence[RoleProposal],
    used: set[str],
) -> tuple[list[str], list[str]]:
    """The ``pulumi import`` commands, and the URNs a targeted ``pulumi up`` creates first (their parents and
    the accounts' AWS providers, which ``pulumi import`` needs to exist)."""
    root = _urn(stack, project, [PROGRAM_TYPE], COMPONENT)
    targets = [root]
    commands: list[str] = []
    aws_providers: dict[str, str] = {}
    for key, account_found in accounts:
        if key not in used:
            continue
        if account_found.account.assume_role_arn is not None:
            name = f"{COMPONENT}-aws-{key}"
            aws_providers[key] = f"{name}={_urn(stack, project, ['pulumi:providers:aws'], name)}"
            targets.append(_urn(stack, project, ["pulumi:providers:aws"], name))
        component = component_name(COMPONENT, key)
        parent_urn = _urn(stack, project, [PROGRAM_TYPE, PROVIDER_TYPE], component)
        targets.append(parent_urn)
        provider = account_found.provider
        if provider is not None:
            commands.append(
                _command(
                    m.OIDC_PROVIDER,
                    f"{component}-provider",
                    provider.arn,
                    f"{component}={parent_urn}",
                    aws_providers.get(key),
                    protect=True,
                )
            )
    for role in roles:
        component = component_name(COMPONENT, role.key)
        parent_urn = _urn(stack, project, [PROGRAM_TYPE, ROLE_TYPE], component)
        targets.append(parent_urn)
        parent = f"{component}={parent_urn}"
        provider_ref = aws_providers.get(role.account)
        commands.append(_command(m.ROLE, f"{component}-role", role.found.name, parent, provider_ref))
        for arn in role.found.policy_arns:
            commands.append(
                _command(
                    m.ATTACHMENT,
                    f"{component}-policy-{policy_identity(arn)}",
                    f"{role.found.name}/{arn}",
                    parent,
                    provider_ref,
                )
            )
        for env_project, name in role.adopted_environments:
            logical = environment_name(COMPONENT, EscEnvironment(env_project, name))
            commands.append(_command(m.ENVIRONMENT, logical, f"{org}/{env_project}/{name}", parent, None))
    return commands, targets


def _command(kind: str, name: str, id_: str, parent: str, provider: str | None, *, protect: bool = False) -> str:
    parts = ["pulumi import", kind, _quote(name), _quote(id_), "--parent", _quote(parent)]
    if provider:
        parts += ["--provider", _quote(provider)]
    parts += ["--generate-code=false", f"--protect={'true' if protect else 'false'}"]
    return " ".join(parts)


# --- YAML -------------------------------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    """Safe YAML whose strings read back as strings by YAML 1.2 (Pulumi's go-yaml v3) and by YAML 1.1."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = None if plain_is_text(value) else '"'
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def dump(document: Any) -> str:
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=120, allow_unicode=True)


def render(proposal: Proposal, command: str) -> str:
    """The stack file: a header of what was found, the config, then what to do as comments."""
    lines = [
        f"# Proposed by: {command}",
        "# Read it before use: it keeps what exists (roles, their trust, each stack's deployment settings) and adds",
        "# patterns only where a trust policy would not fit its quota. Check it offline: python -m oidc plan --stack "
        + (proposal.stack if proposal.stack != STACK_PLACEHOLDER else "<stack>"),
        "#",
        "# Accounts:",
    ]
    for key, found in proposal.accounts:
        account = found.account
        where = f" in {account.organizational_unit}" if account.organizational_unit else ""
        how = f"assuming {account.assume_role_arn}" if account.assume_role_arn else "with the credentials' own"
        provider = found.provider.arn if found.provider else "no OIDC provider for the issuer"
        state = (
            f"not read ({found.unreached})" if found.unreached else f"{provider}; {len(found.roles)} role(s) trust it"
        )
        lines.append(f"#   {key}: {account.id} ({account.name}){where}, read {how}: {state}")
    lines.append("# Trust policies (characters, as IAM counts them, against the account's quota):")
    for role in proposal.roles:
        added = ", ".join(
            f"{p.project}/{p.name}" + (f" (admits {p.widens} not listed)" if p.widens else "") for p in role.patterns
        )
        lines.append(
            f"#   roles.{role.key} ({role.found.arn}): {role.size} of {role.quota}; {role.managed} stack(s) with "
            f"settings, {len(role.deployments)} deployments entries, {len(role.environments)} environments entries"
            + (f"; patterns added to fit: {added}" if added else "")
        )
    config: dict[str, Any] = {}
    if proposal.region:
        config["aws:region"] = proposal.region
    config.update({f"{proposal.project}:{key}": value for key, value in proposal.values.items()})
    lines.append(dump({"config": config}).rstrip("\n"))
    secrets = [command for role in proposal.roles for command in role.secrets]
    if secrets:
        lines.append("# Values the API does not return: set each from secure config before the first pulumi up:")
        lines += [f"#   {command}" for command in secrets]
    unkept = [line for role in proposal.roles for line in role.unkept]
    if unkept:
        lines.append(
            "# Cannot be kept (no config expresses them; pulumi up stops unless the entry sets replaceSettings: true):"
        )
        lines += [f"#   {line}" for line in unkept]
    ignored = [f"roles.{role.key}: {why}" for role in proposal.roles for why in role.ignored] + proposal.notes
    if ignored:
        lines.append("# Not proposed, or changed:")
        lines += [f"#   {line}" for line in ignored]
    if proposal.imports:
        lines += [
            "# Adopt what exists, once, after pulumi stack init and before the first pulumi up (else IAM refuses to",
            "# create what exists: EntityAlreadyExists). The parents (components) and the accounts' AWS providers",
            "# must exist first; this targeted update creates only them, nothing in AWS or Pulumi Cloud:",
            "#   pulumi up " + " ".join(f"--target {_quote(urn)}" for urn in proposal.targets),
            "# then:",
        ]
        lines += [f"#   {command}" for command in proposal.imports]
        if any(role.adopted_environments for role in proposal.roles):
            lines.append(
                "# An adopted environment's definition is replaced by this program's on the next pulumi up: copy "
                "anything else it holds first."
            )
    return "\n".join(lines) + "\n"


# --- the command -----------------------------------------------------------------------------------------


def _stack_of(out: Path | None) -> str:
    if out is None:
        return STACK_PLACEHOLDER
    match = re.fullmatch(r"Pulumi\.(.+)\.yaml", out.name)
    return match.group(1) if match else STACK_PLACEHOLDER


def _project_of(directory: Path) -> str:
    if not (directory / "Pulumi.yaml").is_file():
        return PROJECT
    try:
        return offline.project_name(directory)
    except (StackFileError, ValueError):
        return PROJECT


def discover_command(
    org: str,
    *,
    from_organizations: bool = False,
    assume_role_name: str = aws_discover.DEFAULT_ASSUME_ROLE_NAME,
    out: Path | None = None,
    force: bool = False,
    issuer: str = claims.DEFAULT_ISSUER,
    timeout: cloud.Timeout | None = None,
    argv: Sequence[str] = (),
) -> int:
    """``discover``: exit 0 written (or printed), 1 a service failed or the proposal needs a decision, 2 bad usage."""
    if not ORG.fullmatch(org):
        print(
            f"error: --org got {org!r}; expected a Pulumi organization login: lowercase letters, digits, '-', '_' "
            "and '.' (the <org> in app.pulumi.com/<org>)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if not ROLE_NAME.fullmatch(assume_role_name):
        print(f"error: --assume-role-name got {assume_role_name!r}; expected an IAM role name", file=sys.stderr)
        return EXIT_USAGE
    if out is not None and (out.exists() or out.is_symlink()) and not force:
        print(f"error: {out} exists; it is not overwritten without --force", file=sys.stderr)
        return EXIT_USAGE
    if out is not None and not re.fullmatch(r"Pulumi\.[^/]+\.yaml", out.name):
        print(f"error: --out got {str(out)!r}; expected a stack file named Pulumi.<stack>.yaml", file=sys.stderr)
        return EXIT_USAGE
    if out is not None and not out.parent.is_dir():
        print(f"error: --out got {str(out)!r}, but the folder {str(out.parent)!r} does not exist", file=sys.stderr)
        return EXIT_USAGE
    connection = cloud_connection(timeout)
    if isinstance(connection, int):
        return connection
    credentials, timeout = connection
    try:
        with cloud.PulumiCloud(credentials, timeout=timeout) as client:
            found_cloud = inventory.read_inventory(client, org)
        found_aws = aws_discover.discover(
            issuer, from_organizations=from_organizations, assume_role_name=assume_role_name, timeout=timeout.seconds
        )
    except (cloud.CloudError, aws_discover.AwsError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INVALID
    directory = (out.parent if out is not None else Path.cwd()).resolve()
    proposal = propose(org, issuer, found_aws, found_cloud, project=_project_of(directory), stack=_stack_of(out))
    if not proposal.roles:
        print(
            f"error: nothing to propose: no role in the {len(found_aws.accounts)} account(s) read trusts an IAM OIDC "
            f"provider of {issuer}" + "".join(f"\n  - {note}" for note in proposal.notes),
            file=sys.stderr,
        )
        return EXIT_INVALID
    text = render(proposal, "python -m oidc " + " ".join(argv))
    problems = _check(proposal)
    if out is None:
        print(text, end="")
    else:
        try:
            out.write_text(text, encoding="utf-8")
        except OSError as error:
            print(f"error: cannot write {out}: {error.strerror or error}", file=sys.stderr)
            return EXIT_INVALID
        print(f"wrote {out}: {len(proposal.roles)} role(s) in {len({r.account for r in proposal.roles})} account(s)")
    for role in proposal.roles:
        print(f"  roles.{role.key}: trust policy {role.size} of {role.quota} characters", file=sys.stderr)
    if problems:
        print("the proposal needs a decision before plan passes:", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return EXIT_INVALID
    return EXIT_OK


def _check(proposal: Proposal) -> list[str]:
    """What the loader and the trust-policy size check find wrong in the proposal (nothing, as a rule)."""
    try:
        load_settings(proposal.values, aws_region=proposal.region or "us-east-1")
    except ConfigError as error:
        return [str(issue) for issue in error.issues]
    return [
        f"roles.{r.key}: {problem}"
        for r in proposal.roles
        if (problem := trust.size_problem("x" * r.size, r.quota, f"accounts.{r.account}.trustPolicyMaxChars"))
    ]
