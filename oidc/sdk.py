"""The Pulumi SDK's private names this project uses, each only where no public hook does the job, with the reason.

Every other module of ``oidc`` uses the SDK's public API alone (``pulumi``, ``pulumi.runtime``'s exported names such
as ``set_mocks``, ``register_stack_transformation``, ``test``, ``get_config``): ``tests/test_sdk.py`` fails when one
imports a private name. A private name can change in any release, so this module is where an SDK upgrade is checked;
``make test-min`` runs the suite against the lowest SDK ``requirements.txt`` allows (pulumi 3.256.0), ``make test``
against the newest installed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import pulumi
from pulumi import _types
from pulumi.runtime import config as runtime_config
from pulumi.runtime import resource as runtime_resource
from pulumi.runtime import rpc
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.proto import resource_pb2, source_pb2


def under_mocks() -> bool:
    """Whether the program runs under ``pulumi.runtime.set_mocks`` (a unit test, or ``plan``), not under the engine.

    Private: no public API tells; ``set_mocks`` installs the SDK's ``MockMonitor`` as the resource monitor, and
    ``get_monitor`` is not exported by ``pulumi.runtime``.
    """
    return isinstance(runtime_settings.get_monitor(), MockMonitor)


def current_run() -> object:
    """An object that stands for the program run in progress (its resource monitor): a key for what one run declares.

    Private: no public API identifies a run. The root stack resource (public) would not do: ``set_mocks`` keeps an
    earlier run's root, so two test runs in one process would share it.
    """
    monitor: object = runtime_settings.get_monitor()
    return monitor


def config_keys_set() -> set[str]:
    """The config keys (``namespace:key``) set in the program's config, by the engine or ``set_all_config``.

    Private: ``pulumi.Config`` reads a key by its name and ``pulumi.runtime.get_config_env`` lists only those of the
    environment; none lists the keys ``set_all_config`` sets (as under mocks), which a typo check needs.
    """
    return set(runtime_config.CONFIG.get())


@contextmanager
def without_stack_traces() -> Iterator[None]:
    """Within it, declaring a resource captures no stack trace.

    Private: the SDK captures one per resource (an ``os.stat`` per frame) only to tell the engine where the resource
    was declared, and no option turns it off; offline no engine reads it, and it costs about a third of a large run.
    """
    capture = runtime_resource._get_stack_trace
    runtime_resource._get_stack_trace = source_pb2.StackTrace
    try:
        yield
    finally:
        runtime_resource._get_stack_trace = capture


async def settled(value: Any) -> tuple[Any, bool]:
    """The value of a stack output as the engine records it, with its unknowns, and whether it is secret.

    Private: ``Output.future`` and ``Output.is_secret`` are marked implementation details in the SDK's source;
    ``apply`` never sees an unknown value and does not tell whether one is secret.
    """
    output = pulumi.Output.from_input(value)
    return await output.future(with_unknowns=True), await output.is_secret()


def input_outputs(props: Any) -> list[pulumi.Output[Any]]:
    """The outputs among a resource's inputs, at any depth of maps, lists and input types.

    Private: telling an input type (``pulumi_aws.iam.RoleInlinePolicyArgs``) from any other object takes
    ``pulumi._types``. Walking the inputs costs little; wrapping them whole with ``Output.from_input`` and awaiting
    its resources, as a public-only runner would, makes an output of every nested value and a task per resource:
    ``make bench``'s thousand entries took 7.2 s that way, 3.1 s this way.
    """
    outputs: list[pulumi.Output[Any]] = []

    def walk(value: Any) -> None:
        if isinstance(value, pulumi.Output):
            outputs.append(value)
        elif isinstance(value, Mapping):
            for item in value.values():
                walk(item)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)
        elif _types.is_input_type(type(value)):
            walk(_types.input_type_to_untranslated_dict(value))

    walk(props)
    return outputs


def resources_of(outputs: Iterable[pulumi.Output[Any]]) -> set[pulumi.Resource]:
    """The resources ``outputs`` depend on, once the program has run; an output whose dependencies never became
    known (its program failed) adds none.

    Private: ``Output._data`` is the future ``Output.resources`` awaits (itself marked an implementation detail, as
    its result's ``resources`` is); no public API names the resources an output depends on, and after the run no
    event loop is left to await it.
    """
    found: set[pulumi.Resource] = set()
    for output in outputs:
        future = output._data
        if future.done() and not future.cancelled() and future.exception() is None:
            found |= set(future.result().resources)
    return found


class OfflineMonitor(MockMonitor):
    """The SDK's mock resource monitor, with the two things no public mock hook does.

    - Each secret input reaches the mocks (and so any recording) as ``secret_text``, at the leaf that is secret.
      Private: ``Mocks.new_resource`` gets the inputs deserialized, where the SDK has moved each secret's mark up
      to its top-level property with the plain value inside (``rpc.deserialize_property``); only the serialized
      request marks the leaf, with the SDK's private signature key (``rpc._special_sig_key``).
    - A look-up for which ``unknown(token)`` is true is answered as unknown, as a preview answers a look-up only a
      deployment can make. Private: ``Mocks.call`` returns values; an unknown result is a flag of the protocol's
      ``ResourceInvokeResponse`` (``pulumi.runtime.proto``).
    """

    def __init__(self, mocks: pulumi.runtime.Mocks, *, secret_text: str, unknown: Callable[[str], bool]) -> None:
        super().__init__(mocks)
        self.secret_text = secret_text
        self.unknown = unknown

    def RegisterResource(self, request: Any) -> Any:
        _hide_secrets(request.object, self.secret_text)
        return super().RegisterResource(request)  # type: ignore[no-untyped-call]

    def Invoke(self, request: Any) -> Any:
        if self.unknown(request.tok):
            return resource_pb2.ResourceInvokeResponse(unknown=True)
        return super().Invoke(request)  # type: ignore[no-untyped-call]


def _hide_secrets(value: Any, text: str) -> None:
    """Replace each secret in ``value`` (a protobuf ``Struct`` or ``ListValue``), at any depth, by ``text``."""
    is_struct = hasattr(value, "fields")
    children = value.fields if is_struct else value.values
    for key, item in list(children.items() if is_struct else enumerate(children)):
        kind = item.WhichOneof("kind")
        if kind == "struct_value":
            fields = item.struct_value.fields
            if rpc._special_sig_key in fields and fields[rpc._special_sig_key].string_value == rpc._special_secret_sig:
                children[key].string_value = text
            else:
                _hide_secrets(item.struct_value, text)
        elif kind == "list_value":
            _hide_secrets(item.list_value, text)
