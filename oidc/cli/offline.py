"""Running the Pulumi program offline, under mocks that record what it declares.

``python -m oidc plan`` and the tests use this to evaluate the real program without the
Pulumi CLI, provider plugins, credentials or network. The mocks answer the AWS look-ups with
a placeholder account, and either answer the issuer's certificate look-up with a given chain
or leave it unknown, as a preview does for values only known at deploy time.
"""

from __future__ import annotations

import logging
import os
import runpy
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.output import Unknown
from pulumi.runtime import mocks as runtime_mocks
from pulumi.runtime import resource as runtime_resource
from pulumi.runtime import rpc
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.proto import resource_pb2, source_pb2
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from oidc.cli import stack_files
from oidc.cli.stack_files import StackFileError
from oidc.settings import namespace_values, raw_text
from oidc.testing import CERTIFICATE_TOKEN, OidcMocks

SECRET = "[secret]"
"""How a secure value is shown."""
SECRET_PLACEHOLDER = "secret"
"""What the program reads for a secure value it cannot decrypt offline: plain letters, valid wherever text is."""
_SIG = rpc._special_sig_key


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
    """:class:`oidc.testing.OidcMocks` that record every look-up in ``recording``; by default the issuer's chain is
    left unknown, as a preview leaves what only a deployment reads."""

    def __init__(self, recording: Recording, **options: Any) -> None:
        options.setdefault("certificates", None)
        super().__init__(**options)
        self.recording = recording
        self.calls = recording.calls


def _hide_secret_inputs(value: Any) -> None:
    """Replace each secret input, at any depth, by :data:`SECRET` before the mocks and the recording see it.

    ``value`` is a protobuf ``Struct`` or ``ListValue`` of the request. The SDK sends each secret as a marked
    object; deserialised, its secrecy moves up to the object holding it, with the plain value inside.
    Replaced here, at the leaf, no recording or plan ever holds a secret.
    """
    is_struct = hasattr(value, "fields")
    children = value.fields if is_struct else value.values
    for key, item in list(children.items() if is_struct else enumerate(children)):
        kind = item.WhichOneof("kind")
        if kind == "struct_value":
            fields = item.struct_value.fields
            if _SIG in fields and fields[_SIG].string_value == rpc._special_secret_sig:
                children[key].string_value = SECRET
            else:
                _hide_secret_inputs(item.struct_value)
        elif kind == "list_value":
            _hide_secret_inputs(item.list_value)


class _RecordingMonitor(runtime_mocks.MockMonitor):
    """A mock monitor that also records each resource's parent and ``protect`` option."""

    def __init__(self, mocks: OfflineMocks) -> None:
        super().__init__(mocks)
        self.offline = mocks
        self.names: dict[str, str] = {}
        self.urns: dict[str, str] = {}
        """Mock URN -> the resource's URN as the engine derives it (the mock's own URNs keep only the last parent)."""

    def _urn(self, parent: str, type_: str, name: str) -> str:
        chain = f"{self.urns[parent].rpartition('::')[0]}${type_}" if parent in self.urns else type_
        return f"{chain}::{name}"

    def _aliases(self, request: Any) -> tuple[str, ...]:
        found = []
        for alias in request.aliases:
            if alias.HasField("urn"):
                found.append(alias.urn.split("::", 2)[2])
                continue
            spec = alias.spec
            parent = "" if spec.noParent else spec.parentUrn or request.parent
            found.append(self._urn(parent, spec.type or request.type, spec.name or request.name))
        return tuple(sorted(found))

    def RegisterResource(self, request: Any) -> Any:
        _hide_secret_inputs(request.object)
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type != "pulumi:pulumi:Stack":
            self.names[response.urn] = request.name
            urn = self._urn(request.parent, request.type, request.name)
            self.urns[response.urn] = urn
            self.offline.recording.resources.append(
                RecordedResource(
                    type=request.type,
                    name=request.name,
                    parent=self.names.get(request.parent),
                    protect=request.protect,
                    inputs=self.offline.inputs[(request.type, request.name)],
                    outputs=self.resources[response.urn].state,
                    dependencies=self._dependencies(request),
                    urn=urn,
                    aliases=self._aliases(request),
                    parent_urn=self.urns.get(request.parent),
                )
            )
        return response

    def _dependencies(self, request: Any) -> tuple[str, ...]:
        urns = set(request.dependencies)
        for property_dependencies in request.propertyDependencies.values():
            urns.update(property_dependencies.urns)
        return tuple(sorted(self.names.get(urn, urn) for urn in urns))

    def Invoke(self, request: Any) -> Any:
        if request.tok == CERTIFICATE_TOKEN and self.offline.certificates is None:
            self.offline.calls.append((request.tok, {}))
            return resource_pb2.ResourceInvokeResponse(unknown=True)
        return super().Invoke(request)  # type: ignore[no-untyped-call]


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
    runtime_settings.ROOT.set(None)
    pulumi.runtime.set_mocks(
        offline,
        project=project,
        stack=stack,
        preview=preview,
        logger=logger,
        monitor=_RecordingMonitor(offline),
        organization=organization,
    )
    pulumi.runtime.set_all_config({key: raw_text(value) for key, value in config.items()}, list(secret_keys))

    def body() -> Any:
        program()
        root = runtime_settings.get_root_resource()
        exported = dict(getattr(root, "outputs", {}) or {})

        async def collect() -> None:
            for key, value in exported.items():
                output = pulumi.Output.from_input(value)
                found = await output.future(with_unknowns=True)
                recording.outputs[key] = SECRET if await output.is_secret() else found

        return collect()

    # The SDK captures a stack trace for each resource, only to show the engine where it was declared;
    # no engine runs here, and the capture (os.stat per frame) costs about a third of a large run.
    capture = runtime_resource._get_stack_trace
    runtime_resource._get_stack_trace = source_pb2.StackTrace
    try:
        _sync_await(run_pulumi_func(body))
    finally:
        runtime_resource._get_stack_trace = capture
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
