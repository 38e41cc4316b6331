"""A stack evaluated offline, as ``plan`` and ``explain`` read it: its config, what the program declared, its roles.

``evaluate_stack`` reads ``Pulumi.yaml`` and ``Pulumi.<stack>.yaml``, runs the project's ``__main__.py`` under
recording mocks, and says what is wrong, as text or as JSON errors, when it cannot.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi

from oidc import cloud
from oidc.cli import offline, stack_files
from oidc.components import organization
from oidc.components.role import ROLE_TYPE, OidcRole
from oidc.model import PLAIN_FIELD, ConfigError, ConfigIssue, Settings
from oidc.settings import load_settings, parse_config

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_DENY = 1
EXIT_USAGE = 2


ROLE = "aws:iam/role:Role"


@dataclass(frozen=True)
class RoleView:
    """One role of an evaluated program, as the offline run declared it.

    What the role component was given (its key, account, entries, quota) is read from the component object the
    program constructed, which the offline run keeps: the component's inputs carry only what its resources need.
    """

    component: offline.RecordedResource
    role: offline.RecordedResource
    children: tuple[offline.RecordedResource, ...]

    @property
    def declared(self) -> OidcRole:
        assert isinstance(self.component.declared, OidcRole)
        return self.component.declared

    @property
    def key(self) -> str:
        return self.declared.role.key

    @property
    def owner(self) -> str:
        """The name of the PulumiCloudOidc component that holds the role."""
        return (self.component.parent_urn or "").rpartition("::")[2]

    def label(self, composed: bool) -> str:
        """``<key> (account <account>)``, and the component's name where a program declares several."""
        return f"{self.key} (account {self.account}){f' of {self.owner}' if composed else ''}"

    @property
    def account(self) -> str:
        return self.declared.role.account

    @property
    def organization(self) -> str:
        return self.declared.organization

    @property
    def issuer(self) -> str:
        return self.declared.issuer

    @property
    def entries(self) -> str:
        """The key path prefix of the role's entries: ``roles.<key>.``, or empty in form A."""
        path = self.declared.role.config_path
        return f"{path}." if path != "role" else ""

    @property
    def trust_policy(self) -> str:
        return str(self.role.inputs["assumeRolePolicy"])

    @property
    def max_chars(self) -> int:
        return self.declared.trust_policy_max_chars

    @property
    def quota_key(self) -> str:
        """The config key of the quota the trust policy was checked against."""
        return self.declared.quota_key


def composed(roles: Sequence[RoleView]) -> bool:
    """Whether the roles belong to more than one PulumiCloudOidc component (a composed program)."""
    return len({view.owner for view in roles}) > 1


def role_views(recording: offline.Recording) -> list[RoleView]:
    """Every role component of the run, by account and key."""
    views = []
    for role_component in recording.of_type(ROLE_TYPE):
        if not isinstance(role_component.declared, OidcRole):
            continue  # not constructed in this process: nothing to read its settings from
        children = tuple(recording.children(role_component))
        role = next(r for r in children if r.type == ROLE)
        views.append(RoleView(role_component, role, children))
    return sorted(views, key=lambda v: (v.account, v.key, v.component.name))


def pairs(rows: Sequence[tuple[str, Any]], prefix: str = "  ") -> list[str]:
    width = max((len(key) for key, _ in rows), default=0)
    return [f"{prefix}{key.ljust(width)}  {value}" for key, value in rows]


def show(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None or value == []:
        return "(none)"
    return json.dumps(value, separators=(", ", ": "), sort_keys=True)


class StackError(Exception):
    """The stack cannot be evaluated: its files are missing or its config is invalid.

    ``errors`` are the problems one by one, each at its key path (or file), for ``--json``.
    """

    def __init__(self, text: str, errors: Sequence[ConfigIssue]) -> None:
        super().__init__(text)
        self.errors = tuple(errors)


class UsageError(Exception):
    """The command line names no stack of this project."""


_STACK_PART = re.compile(r"^[A-Za-z0-9_.-]+$")
"""Pulumi's alphabet for organization, project and stack names."""


@dataclass(frozen=True)
class StackName:
    """``--stack`` as Pulumi names stacks: ``name``, ``org/name`` or ``org/project/name``."""

    name: str
    organization: str | None = None
    project: str | None = None

    @classmethod
    def parse(cls, text: str) -> StackName:
        parts = text.split("/")
        if len(parts) > 3 or not all(_STACK_PART.fullmatch(part) and part.strip(".") for part in parts):
            raise UsageError(
                f"--stack {text}: expected NAME, ORG/NAME or ORG/PROJECT/NAME, each of letters, digits, '-', '_' "
                "and '.'"
            )
        if len(parts) == 3:
            return cls(name=parts[2], organization=parts[0], project=parts[1])
        if len(parts) == 2:
            return cls(name=parts[1], organization=parts[0])
        return cls(name=parts[0])

    def check_project(self, text: str, project: str, directory: Path) -> None:
        """A usage error when ``--stack`` names another project than the one in ``directory``."""
        if self.project is not None and self.project != project:
            raise UsageError(
                f"--stack {text}: names a stack of project {self.project}, but {directory / 'Pulumi.yaml'} is project "
                f"{project}; give --stack {self.organization}/{project}/{self.name}, or --cwd the folder of "
                f"project {self.project}"
            )


@dataclass(frozen=True)
class Evaluated:
    """A stack evaluated offline: its config, what the program declared, and its roles."""

    config: offline.StackConfig
    recording: offline.Recording
    roles: tuple[RoleView, ...]
    organization: str | None = None
    """The admin stack's organization, where ``--stack`` names it (``ORG/NAME``, ``ORG/PROJECT/NAME``)."""


def _default_account(settings: Settings) -> dict[str, Any]:
    """Mock options that make the default AWS provider answer as the config says its account is.

    Only for a program built from the stack's config; for any other the placeholder stays.
    """
    for account in settings.accounts:
        if account.uses_default_provider:
            reused = account.oidc_provider.arn
            account_id = account.id or (reused.split(":")[4] if reused else None)
            return {"account_id": account_id} if account_id else {}
    return {}


def offline_settings(config: offline.StackConfig) -> Settings | None:
    """The stack's settings as the program will load them, or ``None`` for a program of another config.

    Raises :class:`ConfigError` for a config that cannot be checked offline: a ``secure:`` value where the
    placeholder read offline is not valid (its real value is checked by ``pulumi preview``), or where a name is
    expected (names stay plain, so a secret there would not stay secret).
    """
    secure = config.project_secure_paths
    issues = [
        ConfigIssue(
            path,
            "a secure value where a name is expected: names stay plain in URNs and state, so it would "
            "not stay secret; set it without --secret",
        )
        for path in secure
        if PLAIN_FIELD.search(path)
    ]
    try:
        settings = load_settings(
            parse_config(config.project_values), secret_keys=[k.partition(":")[2] for k in config.secret_keys]
        )
    except ConfigError as error:
        # The program reports its config's problems itself; those of a secure value are said here, as the program
        # would blame the placeholder read in its place.
        unchecked = [
            ConfigIssue(issue.path, "a secure value; it cannot be checked offline (pulumi preview checks it)")
            for issue in error.issues
            if any(issue.path == p or issue.path.startswith((f"{p}.", f"{p}[")) for p in secure)
        ]
        if unchecked:
            issues += [i for i in error.issues if i.path not in {u.path for u in unchecked}] + unchecked
        settings = None
    if issues:
        raise ConfigError(issues)
    return settings


def evaluate_stack(stack_text: str, directory: Path) -> Evaluated:
    """Read the stack's config and run the program offline; :class:`StackError` says what is wrong.

    ``stack_text`` is ``--stack``: ``name``, ``org/name`` or ``org/project/name`` (its project must be
    the one in ``directory``, or :class:`UsageError`); the config is ``Pulumi.<name>.yaml``.
    """
    stack_name = StackName.parse(stack_text)
    stack = stack_name.name
    try:
        project_dir = offline.find_project(directory)
        if stack_name.project is not None:
            stack_name.check_project(stack_text, offline.project_name(project_dir), project_dir)
        config = offline.read_stack_config(project_dir, stack)
        undecryptable = [
            ConfigIssue(key.partition(":")[2], "a secure value; it cannot be decrypted offline")
            for key in config.undecryptable
        ]
        if undecryptable:
            raise ConfigError(undecryptable)
        settings = offline_settings(config)
        with cloud.offline():
            recording = offline.run_stack(
                config,
                preview=True,
                organization=stack_name.organization,
                **(_default_account(settings) if settings else {}),
            )
    except stack_files.StackFileError as error:
        raise StackError(f"error: {error}", [ConfigIssue("files", str(error))]) from None
    except ConfigError as error:
        raise StackError(_blamed(error, stack), error.issues) from None
    except organization.ProgramError as error:
        raise StackError(_blamed(error.error, stack), error.error.issues) from None
    except pulumi.RunError as error:
        raise StackError(f"Pulumi.{stack}.yaml: {error}", [ConfigIssue("program", str(error))]) from None
    roles = tuple(role_views(recording))
    if not roles:
        message = (
            f"{config.directory} declares no {ROLE_TYPE}: plan and explain evaluate programs "
            f"that declare {organization.TYPE} components, as this project's __main__.py does"
        )
        raise StackError(f"error: {message}", [ConfigIssue("program", message)])
    return Evaluated(config, recording, roles, stack_name.organization)


def _blamed(error: ConfigError, stack: str) -> str:
    """The error's text, prefixed with the stack file when the stack's config is what is wrong."""
    return f"Pulumi.{stack}.yaml: {error}" if error.where == "config" else f"error: {error}"


def errors_document(errors: Sequence[ConfigIssue], warnings: Sequence[str] = ()) -> str:
    """What ``--json`` prints for a failed command: every error at its path, and the warnings so far."""
    document = {
        "errors": [{"path": issue.path, "message": issue.message} for issue in errors],
        "warnings": list(warnings),
    }
    return json.dumps(document, indent=2)


def failed(text: str, errors: Sequence[ConfigIssue], as_json: bool, code: int) -> int:
    """Say why a command failed, as text on standard error or as JSON on standard output; ``code``."""
    if as_json:
        print(errors_document(errors))
    else:
        print(text, file=sys.stderr)
    return code
