"""Running the Pulumi program offline, under mocks that record what it declares.

``python -m oidc plan`` and the tests use this to evaluate the real program without the
Pulumi CLI, provider plugins, credentials or network. The mocks answer the AWS look-ups with
a placeholder account, and either answer the issuer's certificate look-up with a given chain
or leave it unknown, as a preview does for values only known at deploy time.

The runner stands on the SDK's public hooks: ``pulumi.runtime.set_mocks`` with mocks that record each resource's
inputs and outputs, ``pulumi.runtime.register_stack_transformation`` that records each resource as the program
declares it (its parent, ``protect``, aliases and dependencies, and the object itself, which the tools read instead
of the component's inputs), and ``pulumi.runtime.test`` that runs the program. What no public hook does is in
:mod:`oidc.sdk`, with the reason.
"""

from __future__ import annotations

import logging
import os
import runpy
import sys
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.output import Unknown

from oidc import sdk
from oidc.cli import stack_files
from oidc.cli.stack_files import StackFileError
from oidc.settings import namespace_values, raw_text
from oidc.testing import CERTIFICATE_TOKEN, OidcMocks

SECRET = "[secret]"
"""How a secure value is shown."""
SECRET_PLACEHOLDER = "secret"
"""What the program reads for a secure value it cannot decrypt offline: plain letters, valid wherever text is."""


@dataclass(frozen=True)
class RecordedResource:
    """A resource the program declared: type, logical name, parent's name, inputs, mocked outputs."""

    type: str
    name: str
    parent: str | None
    protect: bool
    inputs: Mapping[str, Any]
    outputs: Mapping[str, Any]
    dependencies: tuple[str, ...] = ()
    """Logical names of the resources it depends on, by ``depends_on`` or through its inputs."""
    urn: str = ""
    """Its URN's type chain and name (``Parent$Type::name``), as the engine derives it, without stack and project."""
    aliases: tuple[str, ...] = ()
    """The earlier URNs (in the same form) it declares as aliases."""
    parent_urn: str | None = None
    """The parent's ``urn`` (in the same form); names alone can repeat across types."""
    declared: pulumi.Resource | None = field(default=None, compare=False, repr=False)
    """The object the program constructed: the tools read what a component was given from it (an
    :class:`~oidc.components.role.OidcRole`'s settings), not from the component's inputs."""


@dataclass
class Recording:
    """Everything one offline run declared, looked up, warned about and exported."""

    resources: list[RecordedResource] = field(default_factory=list)
    calls: list[tuple[str, Mapping[str, Any]]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """What the program said at info level (``pulumi.log.info``): facts, not warnings."""
    outputs: dict[str, Any] = field(default_factory=dict)
    """Stack outputs; a secret one as :data:`SECRET`, as the engine would show it."""

    def of_type(self, type_: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.type == type_]

    def named(self, name: str, type_: str | None = None) -> RecordedResource:
        return next(r for r in self.resources if r.name == name and type_ in {None, r.type})

    def children(self, parent: RecordedResource) -> list[RecordedResource]:
        return [r for r in self.resources if r.parent_urn == parent.urn]


class OfflineMocks(OidcMocks):
    """:class:`oidc.testing.OidcMocks` that record every look-up in ``recording``, and each resource's outputs; by
    default the issuer's chain is left unknown, as a preview leaves what only a deployment reads."""

    def __init__(self, recording: Recording, **options: Any) -> None:
        options.setdefault("certificates", None)
        super().__init__(**options)
        self.recording = recording
        self.calls = recording.calls
        self.registered: list[tuple[str, str, Mapping[str, Any]]] = []
        """Type, name and outputs of each resource, in the order the program registered them."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        found = super().new_resource(args)
        self.registered.append((args.typ, args.name, found[1]))
        return found

    def unknown(self, token: str) -> bool:
        """Whether the look-up ``token`` is answered as unknown: the issuer's chain, unless a chain was given."""
        if token == CERTIFICATE_TOKEN and self.certificates is None:
            self.calls.append((token, {}))
            return True
        return False


def _urn(parent: str | None, type_: str, name: str) -> str:
    """A URN's type chain and name (``Parent$Type::name``) under the parent's (in the same form)."""
    chain = f"{parent.rpartition('::')[0]}${type_}" if parent else type_
    return f"{chain}::{name}"


@dataclass
class _Declared:
    """One resource as the program declared it."""

    resource: pulumi.Resource
    urn: str
    parent: _Declared | None
    protect: bool
    aliases: tuple[str, ...]
    depends_on: list[pulumi.Resource]
    input_outputs: list[pulumi.Output[Any]] = field(default_factory=list)
    """The outputs among its inputs: the resources they depend on are known once the program has run."""


class _Declarations:
    """A stack transformation that records each resource as the program declares it: its parent, ``protect`` (its
    own, or its parent's), aliases and dependencies. It changes nothing."""

    def __init__(self) -> None:
        self.by_object: dict[int, _Declared] = {}
        self.by_key: dict[tuple[str, str], deque[_Declared]] = {}

    def __call__(self, args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
        opts = args.opts
        parent = self._of(opts.parent)
        urn = _urn(parent.urn if parent else None, args.type_, args.name)
        depends_on = opts.depends_on if isinstance(opts.depends_on, list | tuple) else [opts.depends_on]
        declared = _Declared(
            resource=args.resource,
            urn=urn,
            parent=parent,
            protect=bool(opts.protect if opts.protect is not None else parent and parent.protect),
            aliases=tuple(sorted(self._alias(alias, args, parent) for alias in opts.aliases or ())),
            depends_on=[r for r in depends_on if isinstance(r, pulumi.Resource)],
        )
        self.by_object[id(args.resource)] = declared
        self.by_key.setdefault((args.type_, args.name), deque()).append(declared)

        declared.input_outputs = sdk.input_outputs(args.props)
        return None

    def _of(self, resource: Any) -> _Declared | None:
        return self.by_object.get(id(resource)) if isinstance(resource, pulumi.Resource) else None

    def _alias(self, alias: Any, args: pulumi.ResourceTransformationArgs, parent: _Declared | None) -> str:
        """An alias as the URN form of :attr:`RecordedResource.urn`; what it leaves out is the resource's own."""
        if isinstance(alias, str):
            return alias.split("::", 2)[2]
        name = args.name if alias.name in {..., None} else alias.name
        type_ = args.type_ if alias.type_ in {..., None} else alias.type_
        if alias.parent is ...:
            old_parent = parent.urn if parent else None
        elif isinstance(alias.parent, str):
            old_parent = alias.parent.split("::", 2)[2]
        else:
            found = self._of(alias.parent)
            old_parent = found.urn if found else None
        return _urn(old_parent, type_, name)

    def record(self, recording: Recording, mocks: OfflineMocks) -> None:
        """Add each resource the program registered to ``recording``, in the order it registered them."""
        for type_, name, outputs in mocks.registered:
            queue = self.by_key.get((type_, name))
            if not queue:
                continue
            declared = queue.popleft()
            through_inputs = sdk.resources_of(declared.input_outputs)
            depends = {id(r) for r in [*declared.depends_on, *through_inputs]} & self.by_object.keys()
            recording.resources.append(
                RecordedResource(
                    type=type_,
                    name=name,
                    parent=declared.parent.urn.rpartition("::")[2] if declared.parent else None,
                    protect=declared.protect,
                    inputs=mocks.inputs[(type_, name)],
                    outputs=outputs,
                    dependencies=tuple(sorted(self.by_object[key].urn.rpartition("::")[2] for key in depends)),
                    urn=declared.urn,
                    aliases=declared.aliases,
                    parent_urn=declared.parent.urn if declared.parent else None,
                    declared=declared.resource,
                )
            )


class _LogHandler(logging.Handler):
    """Records the program's warnings, and its info messages as notes."""

    def __init__(self, recording: Recording) -> None:
        super().__init__(logging.INFO)
        self.recording = recording

    def emit(self, record: logging.LogRecord) -> None:
        found = self.recording.warnings if record.levelno >= logging.WARNING else self.recording.notes
        found.append(record.getMessage())


def plain(value: Any) -> Any:
    """Recorded values as JSON-ready data: assets as their text, unknowns as ``None``."""
    if isinstance(value, Unknown):
        return None
    if isinstance(value, pulumi.StringAsset):
        return value.text
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def run_program(
    program: Callable[[], None],
    config: Mapping[str, Any],
    *,
    project: str = "pulumi-aws-oidc",
    stack: str = "dev",
    organization: str | None = None,
    preview: bool = False,
    secret_keys: Sequence[str] = (),
    recording: Recording | None = None,
    **mock_options: Any,
) -> Recording:
    """Run ``program`` under recording mocks with ``config`` (full ``namespace:key`` keys).

    Values may be Python values; they are given to the program as Pulumi would: strings as they
    are, everything else as JSON. Exceptions the program raises propagate after the run; pass
    ``recording`` to see what was declared before one.
    """
    recording = Recording() if recording is None else recording
    offline = OfflineMocks(recording, **mock_options)
    logger = logging.getLogger("oidc.offline")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    handler = _LogHandler(recording)
    logger.addHandler(handler)
    pulumi.runtime.reset_options()  # a new root stack for this run: set_mocks would keep an earlier run's
    pulumi.runtime.set_mocks(
        offline,
        project=project,
        stack=stack,
        preview=preview,
        logger=logger,
        monitor=sdk.OfflineMonitor(offline, secret_text=SECRET, unknown=offline.unknown),
        organization=organization,
    )
    pulumi.runtime.set_all_config({key: raw_text(value) for key, value in config.items()}, list(secret_keys))
    declarations = _Declarations()
    pulumi.runtime.register_stack_transformation(declarations)

    def body() -> Any:
        program()
        exported = dict(getattr(pulumi.runtime.get_root_resource(), "outputs", {}) or {})

        async def collect() -> None:
            for key, value in exported.items():
                found, secret = await sdk.settled(value)
                recording.outputs[key] = SECRET if secret else found

        return collect()

    try:
        with sdk.without_stack_traces():
            pulumi.runtime.test(body)()  # type: ignore[no-untyped-call]
    finally:
        declarations.record(recording, offline)
        logger.removeHandler(handler)
    return recording


# --- the project on disk ----------------------------------------------------------------


@dataclass(frozen=True)
class StackConfig:
    """A stack's config as ``pulumi up`` would hand it to the program."""

    project: str
    stack: str
    directory: Path
    values: Mapping[str, Any]
    secret_keys: tuple[str, ...]
    secure_paths: tuple[str, ...] = ()
    """The key path of each ``secure:`` value (``pulumi-aws-oidc:role.tags.team``), which the program reads as
    :data:`SECRET_PLACEHOLDER`."""

    @property
    def project_values(self) -> dict[str, str]:
        """The raw values ``load_settings`` takes, read as the running program reads them."""
        return namespace_values(self.values, self.project)

    @property
    def project_secrets(self) -> list[str]:
        """Keys of the project namespace that hold a ``secure:`` value, at any depth: the program reads them."""
        return [key for key in self.secret_keys if key.startswith(f"{self.project}:")]

    @property
    def undecryptable(self) -> list[str]:
        """Keys of the project namespace whose whole value is ``secure:``: the program cannot run on them offline.

        A ``secure:`` value inside an object or list reads as :data:`SECRET_PLACEHOLDER`, which the program
        checks and keeps secret as it would the real value (where the placeholder is not valid there, the
        config error at its path says it cannot be checked offline).
        """
        return [key for key in self.project_secrets if key in self.secure_paths]

    @property
    def project_secure_paths(self) -> list[str]:
        """The key paths of the ``secure:`` values of the project namespace, without the namespace."""
        prefix = f"{self.project}:"
        return [path.removeprefix(prefix) for path in self.secure_paths if path.startswith(prefix)]

    def shown(self, key: str) -> Any:
        """The value of ``key`` as ``plan`` shows it: each ``secure:`` value as :data:`SECRET`."""

        def walk(value: Any, path: str) -> Any:
            if path in secure:
                return SECRET
            if isinstance(value, dict):
                return {name: walk(item, f"{path}.{name}") for name, item in value.items()}
            if isinstance(value, list):
                return [walk(item, f"{path}[{index}]") for index, item in enumerate(value)]
            return value

        secure = set(self.secure_paths)
        return walk(self.values.get(key), key)


def find_project(start: Path) -> Path:
    """The nearest directory at or above ``start`` that holds ``Pulumi.yaml``."""
    for directory in (start, *start.parents):
        # Any entry of that name: one that is no file is refused when read, not passed over for another.
        if os.path.lexists(directory / "Pulumi.yaml"):
            return directory
    raise StackFileError(f"no Pulumi.yaml in {start} or any folder above it")


def _kind_of(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "true or false"
    return "a number" if isinstance(value, int | float) else "text"


def _config_section(document: dict[str, Any], path: Path) -> dict[str, Any]:
    section = document.get("config") or {}
    if not isinstance(section, dict) or not all(isinstance(key, str) for key in section):
        raise StackFileError(f"{path}: 'config' must map key names to values")
    return section


def _hide_secrets(value: Any, path: str, found: list[str]) -> Any:
    """``value`` with every ``{secure: ...}`` replaced by :data:`SECRET_PLACEHOLDER`; the key path of each is
    added to ``found``."""
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            found.append(path)
            return SECRET_PLACEHOLDER
        return {key: _hide_secrets(item, f"{path}.{key}", found) for key, item in value.items()}
    if isinstance(value, list):
        return [_hide_secrets(item, f"{path}[{index}]", found) for index, item in enumerate(value)]
    return value


def project_name(directory: Path) -> str:
    """The project's name, from ``Pulumi.yaml`` in ``directory``."""
    return _project_name(directory / "Pulumi.yaml", stack_files.load(directory / "Pulumi.yaml"))


def _project_name(project_path: Path, project_file: Any) -> str:
    if not isinstance(project_file, dict) or not isinstance(project_file.get("name"), str):
        raise StackFileError(f"{project_path}: has no project name (name: ...)")
    return str(project_file["name"])


def read_stack_config(directory: Path, stack: str) -> StackConfig:
    """Read the project's name and the stack's config, with the project's config defaults.

    A ``secure:`` value cannot be decrypted offline: the program reads
    :data:`SECRET_PLACEHOLDER` in its place, and its key is marked secret.
    """
    project_path = directory / "Pulumi.yaml"
    project_file = stack_files.load(project_path)
    project = _project_name(project_path, project_file)

    def qualified(key: str) -> str:
        return key if ":" in key else f"{project}:{key}"

    values: dict[str, Any] = {}
    for key, declared in _config_section(project_file, project_path).items():
        own = qualified(key).startswith(f"{project}:")
        if not isinstance(declared, dict):
            values[qualified(key)] = declared
        elif "value" in declared:
            values[qualified(key)] = declared["value"]
        elif "default" in declared and own:  # Pulumi gives defaults to the project's own keys only
            values[qualified(key)] = declared["default"]

    stack_path = directory / f"Pulumi.{stack}.yaml"
    stack_file = stack_files.load(stack_path) or {}
    if not isinstance(stack_file, dict):
        raise StackFileError(f"{stack_path}: is not a mapping of keys (config: ...), but {_kind_of(stack_file)}")
    secret_keys = []
    secure_paths: list[str] = []
    for key, value in _config_section(stack_file, stack_path).items():
        if value is None:
            raise StackFileError(f"{stack_path}: {key} has no value; give it one or remove the line")
        before = len(secure_paths)
        values[qualified(key)] = _hide_secrets(value, qualified(key), secure_paths)
        if len(secure_paths) > before:
            secret_keys.append(qualified(key))
    return StackConfig(project, stack, directory, values, tuple(secret_keys), tuple(secure_paths))


@contextmanager
def _importable(directory: Path) -> Iterator[None]:
    sys.path.insert(0, str(directory))
    try:
        yield
    finally:
        sys.path.remove(str(directory))


def run_stack(
    config: StackConfig,
    *,
    preview: bool = True,
    recording: Recording | None = None,
    organization: str | None = None,
    **mock_options: Any,
) -> Recording:
    """Run the project's ``__main__.py`` offline with the stack's config, as a stack of ``organization``
    (``pulumi.get_organization()``; the SDK's default when ``None``)."""
    main = config.directory / "__main__.py"
    if not main.is_file():
        raise StackFileError(f"{main} does not exist: the project has no program to run")

    def program() -> None:
        with _importable(config.directory):
            runpy.run_path(str(main), run_name="__main__")

    return run_program(
        program,
        config.values,
        project=config.project,
        stack=config.stack,
        organization=organization,
        preview=preview,
        secret_keys=config.secret_keys,
        recording=recording,
        **mock_options,
    )
