"""``Pulumi.yaml`` and ``Pulumi.<stack>.yaml``, read as Pulumi reads them, or refused in one line.

Pulumi reads these files with go-yaml v3. :func:`load` reads them the same way, strictly, and refuses
what Pulumi refuses or what no stack file holds, each time with one line naming the file and what is
wrong, quickly and in little memory, whatever the file holds:

- a regular file (not a directory, FIFO or device) of at most :data:`MAX_FILE_BYTES`;
- UTF-8 text (a UTF-16 or UTF-32 byte order mark, NUL bytes or an invalid byte are named as such);
- one YAML document, its collections nested at most :data:`MAX_DEPTH` deep (what aliases bring in
  included), and no key twice in one mapping (go-yaml refuses that too);
- no more aliasing than go-yaml allows: it counts every node it decodes, an alias's value each time
  it is used, and fails with "document contains excessive aliasing" when those decoded through aliases
  are too large a share (:func:`allowed_alias_ratio`). Here the same counts are kept while composing,
  from each anchor's size, so a billion-laughs document is refused without ever being expanded;
- scalars as YAML 1.2's core schema resolves them: only ``true``/``false`` (any case as written there)
  are booleans, ``null``/``~``/empty is null, ``010`` is decimal 10, ``0o10`` octal and ``0x10``
  hexadecimal, ``1:20`` and dates are text.

The document is composed from the parser's events with an explicit stack, never by recursion. A value
an alias repeats is the same Python object each time, as PyYAML makes it. Pure: no Pulumi imports.
"""

from __future__ import annotations

import math
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

try:  # libyaml's parser, when PyYAML was built with it: the same events, faster
    from yaml._yaml import CParser as _LibyamlParser
except ImportError:  # pragma: no cover - PyYAML without libyaml
    _LibyamlParser = None  # type: ignore[assignment, misc]

MAX_FILE_BYTES = 1024 * 1024
"""The largest stack file read. Stack files are small: this project's examples are under 3 KB, and an
organization of 1,000 entries is about 100 KB."""
MAX_DEPTH = 64
"""The deepest nesting of lists and maps read. This program's config needs fewer than 15 levels."""

_CORE = "tag:yaml.org,2002:"
_NULL = re.compile(r"null|Null|NULL|~|")
_BOOLEANS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_DECIMAL = re.compile(r"[-+]?[0-9]+")
_OCTAL = re.compile(r"0o[0-7]+")
_HEXADECIMAL = re.compile(r"0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_INFINITY = re.compile(r"[-+]?\.(?:inf|Inf|INF)")
_NAN = re.compile(r"\.(?:nan|NaN|NAN)")
_NOT_ONLY_TEXT = frozenset("0123456789+-.~nNtTfF")
"""How a plain scalar that is not text starts: text starting otherwise needs no other test."""
_BYTE_ORDER_MARKS = (
    (b"\x00\x00\xfe\xff", "UTF-32 (big-endian)"),
    (b"\xff\xfe\x00\x00", "UTF-32 (little-endian)"),
    (b"\xfe\xff", "UTF-16 (big-endian)"),
    (b"\xff\xfe", "UTF-16 (little-endian)"),
)
_SHOWN_PATH = 80
"""About how much of a key path a message shows."""


class StackFileError(Exception):
    """``Pulumi.yaml`` or ``Pulumi.<stack>.yaml`` is missing, unreadable, or not what Pulumi would read.

    The message is one line: the file, then what is wrong with it.
    """


def load(path: Path) -> Any:
    """The YAML document in ``path``, as Pulumi reads it; :class:`StackFileError` when it is refused.

    An empty file (or one of comments only) is ``None``.
    """
    return _compose(path, _text(path, _read(path)))


def allowed_alias_ratio(decodes: int) -> float:
    """The share of decoded nodes that may come from aliases in a document of ``decodes`` decoded nodes.

    go-yaml v3's ``allowedAliasRatio``: 99% up to 400,000 decodes, falling linearly to 10% at 4,000,000.
    """
    low, high = 400_000, 4_000_000
    if decodes <= low:
        return 0.99
    if decodes >= high:
        return 0.10
    return 0.99 - 0.89 * (decodes - low) / (high - low)


def excessive_aliasing(decodes: int, aliased: int) -> bool:
    """go-yaml v3's test, made after each decoded node: ``aliased`` of ``decodes`` nodes came through aliases."""
    return aliased > 100 and decodes > 1000 and aliased / decodes > allowed_alias_ratio(decodes)


# --- the bytes ------------------------------------------------------------------------------


def _read(path: Path) -> bytes:
    """The file's bytes: a regular file's, and never more than :data:`MAX_FILE_BYTES` of them."""
    # Without O_NONBLOCK, opening a FIFO waits for a writer: the type is checked on the open descriptor.
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    try:
        descriptor = os.open(path, flags)
    except FileNotFoundError:
        raise StackFileError(f"{path} does not exist") from None
    except OSError as error:
        raise StackFileError(f"{path}: cannot be read: {error.strerror}") from None
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            raise StackFileError(f"{path}: not a regular file ({_kind(status.st_mode)}); a stack file is YAML text")
        if status.st_size > MAX_FILE_BYTES:
            raise StackFileError(_too_large(path, f"{status.st_size:,} bytes"))
        chunks = []
        size = 0
        while size <= MAX_FILE_BYTES:  # a file can grow after fstat, or report no size at all
            chunk = os.read(descriptor, MAX_FILE_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > MAX_FILE_BYTES:
            raise StackFileError(_too_large(path, f"more than {MAX_FILE_BYTES:,} bytes"))
        return b"".join(chunks)
    except OSError as error:
        raise StackFileError(f"{path}: cannot be read: {error.strerror}") from None
    finally:
        os.close(descriptor)


def _kind(mode: int) -> str:
    kinds = (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    )
    return next((name for test, name in kinds if test(mode)), "not a file")


def _too_large(path: Path, size: str) -> str:
    return (
        f"{path}: {size}, larger than the {MAX_FILE_BYTES // 1024 // 1024} MiB a stack file may be; stack files "
        "are small (1,000 entries take about 100 KB), so this is not one"
    )


def _text(path: Path, data: bytes) -> str:
    """``data`` as UTF-8 text, without a UTF-8 byte order mark; anything else is named and refused."""
    for mark, encoding in _BYTE_ORDER_MARKS:
        if data.startswith(mark):
            raise StackFileError(
                f"{path}: {encoding} text (it starts with that byte order mark); Pulumi stack files are UTF-8: "
                "save it as UTF-8"
            )
    nul = data.find(b"\x00")
    if nul >= 0:
        unmarked = _unmarked_encoding(data)
        if unmarked is None:
            raise StackFileError(f"{path}: a binary file, not YAML text (a NUL byte at offset {nul})")
        raise StackFileError(
            f"{path}: {unmarked} text without a byte order mark (NUL bytes from offset {nul}); Pulumi stack "
            "files are UTF-8: save it as UTF-8"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise StackFileError(
            f"{path}: not UTF-8 text: byte 0x{data[error.start]:02x} at offset {error.start} (line {line}) is "
            "invalid in UTF-8 (Latin-1 or Windows-1252 text?); save it as UTF-8"
        ) from None
    return text.removeprefix("\ufeff")


def _unmarked_encoding(data: bytes) -> str | None:
    """UTF-16 or UTF-32, when ``data`` starts as ASCII text in it does: every other (or every fourth) byte NUL.

    YAML's own test of the first bytes (YAML 1.2, section 5.2), made on 8 bytes rather than 2 or 4.
    """
    head = data[:8]
    if len(head) < 8:
        return None
    units = {"UTF-32": [head[0:4], head[4:8]], "UTF-16": [head[i : i + 2] for i in range(0, 8, 2)]}
    for encoding, parts in units.items():
        for order in (parts, [part[::-1] for part in parts]):
            if all(part[-1] != 0 and not part[:-1].strip(b"\x00") for part in order):
                return encoding
    return None


# --- the document ---------------------------------------------------------------------------


class _PythonParser(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser):
    """PyYAML's own parser, where it was built without libyaml."""

    def __init__(self, text: str) -> None:
        yaml.reader.Reader.__init__(self, text)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)


class _Refused(Exception):
    """What is wrong with the document, said without the file's name."""


_KEY = object()
"""A mapping awaiting a key."""
_MERGE = object()
"""A mapping awaiting the value of its merge key (``<<``)."""


@dataclass(eq=False)
class _Collection:
    """A list or map being composed."""

    value: list[Any] | dict[Any, Any]
    path: str
    anchor: str | None
    size: int = 1
    """Nodes go-yaml decodes for it, itself included, each alias's value counted where it is used."""
    height: int = 1
    """How deep lists and maps nest in it, itself included, aliases' values included."""
    key: Any = _KEY
    key_lines: dict[Any, int] = field(default_factory=dict)
    """A map's keys, each with the line it is on."""
    merged: list[dict[Any, Any]] = field(default_factory=list)
    """Maps a ``<<`` key merges in, first one first."""

    def child_path(self) -> str:
        if isinstance(self.value, list):
            return f"{self.path}[{len(self.value)}]"
        key = "<<" if self.key is _MERGE else self.key
        return f"{self.path}.{_key_text(key)}" if self.path else _key_text(key)


@dataclass(frozen=True)
class _Anchored:
    value: Any
    size: int
    height: int


class _Composer:
    """Builds the document from parser events, one at a time, with every check made as it goes."""

    def __init__(self) -> None:
        self.open: list[_Collection] = []
        self.anchors: dict[str, _Anchored] = {}
        self.documents = 0
        self.document: Any = None
        self.decodes = 1  # go-yaml counts the document node too
        self.aliased = 0

    def feed(self, event: yaml.Event) -> None:
        line = event.start_mark.line + 1 if event.start_mark is not None else 0
        if isinstance(event, yaml.ScalarEvent):
            self._count(1, 0, line, None)
            self._add(self._scalar(event, line), 1, 0, event.anchor, line, merge=_is_merge_key(event))
        elif isinstance(event, yaml.DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                raise _Refused(f"a second YAML document starts at line {line}; a stack file is one document")
        elif isinstance(event, yaml.AliasEvent):
            self._alias(str(event.anchor), line)
        elif isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent):
            self._start(event, line)
        elif isinstance(event, yaml.SequenceEndEvent | yaml.MappingEndEvent):
            done = self.open.pop()
            value = done.value
            if done.merged:
                assert isinstance(value, dict)
                merged: dict[Any, Any] = {}
                for source in done.merged:
                    for key, item in source.items():
                        merged.setdefault(key, item)
                value = merged | value
            self._add(value, done.size, done.height, done.anchor, line)

    def _start(self, event: yaml.CollectionStartEvent, line: int) -> None:
        is_map = isinstance(event, yaml.MappingStartEvent)
        expected = "map" if is_map else "seq"
        if event.tag not in {None, "!", _CORE + expected}:
            raise _Refused(_unsupported_tag(event.tag, line))
        parent = self.open[-1] if self.open else None
        if parent is not None and isinstance(parent.value, dict) and parent.key is _KEY:
            raise _Refused(_not_a_key(parent.path, line))
        path = parent.child_path() if parent is not None else ""
        if len(self.open) + 1 > MAX_DEPTH:
            raise _Refused(_too_deep(path, line))
        self._count(1, 0, line, None)
        if event.anchor is not None:
            self.anchors.pop(event.anchor, None)  # a redefined anchor is the new one, once complete
        self.open.append(_Collection({} if is_map else [], path, event.anchor))

    def _alias(self, name: str, line: int) -> None:
        anchored = self.anchors.get(name)
        if anchored is None:
            if any(collection.anchor == name for collection in self.open):
                raise _Refused(
                    f"alias *{name} at line {line} is inside the value of &{name}, which would contain itself"
                )
            raise _Refused(f"alias *{name} at line {line} has no anchor &{name} before it")
        if len(self.open) + anchored.height > MAX_DEPTH:
            parent = self.open[-1]
            raise _Refused(_too_deep(parent.child_path(), line, f" through alias *{name}"))
        self._count(1, 0, line, name)
        self._count(anchored.size, anchored.size, line, name)
        self._add(anchored.value, 1 + anchored.size, anchored.height, None, line)

    def _count(self, decodes: int, aliased: int, line: int, alias: str | None) -> None:
        self.decodes += decodes
        self.aliased += aliased
        if excessive_aliasing(self.decodes, self.aliased):
            at = f"alias *{alias} at line {line}" if alias else f"line {line}"
            raise _Refused(
                f"document contains excessive aliasing ({at} makes {self.decodes:,} values, {self.aliased:,} of "
                "them repeated through aliases), which Pulumi's YAML reader (go-yaml) refuses too; write the "
                "values out, or repeat fewer"
            )

    def _add(self, value: Any, size: int, height: int, anchor: str | None, line: int, *, merge: bool = False) -> None:
        """Place a complete node in the collection being composed (or make it the document)."""
        if anchor is not None:
            self.anchors[anchor] = _Anchored(value, size, height)
        if not self.open:
            self.document = value
            return
        parent = self.open[-1]
        parent.size += size
        parent.height = max(parent.height, height + 1)
        if isinstance(parent.value, list):
            parent.value.append(value)
        elif parent.key is _KEY:
            self._key(parent, value, line, merge=merge)
        elif parent.key is _MERGE:
            sources = value if isinstance(value, list) else [value]
            if not all(isinstance(source, dict) for source in sources):
                raise _Refused(f"{_shown(parent.child_path())} at line {line}: a merge takes a map or a list of maps")
            parent.merged.extend(sources)
            parent.key = _KEY
        else:
            parent.value[parent.key] = value
            parent.key = _KEY

    def _key(self, parent: _Collection, key: Any, line: int, *, merge: bool) -> None:
        if isinstance(key, list | dict):
            raise _Refused(_not_a_key(parent.path, line))
        name = "<<" if merge else key
        first = parent.key_lines.get(name)
        if first is not None:
            parent.key = name
            raise _Refused(f"{_shown(parent.child_path())}: duplicate key, at lines {first} and {line}")
        parent.key_lines[name] = line
        parent.key = _MERGE if merge else key

    def _scalar(self, event: yaml.ScalarEvent, line: int) -> Any:
        tag, text = event.tag, event.value
        if tag is None and event.implicit[0]:
            return _resolved(text, line)
        if tag is None or tag in {"!", _CORE + "str"}:
            return text
        if tag in {_CORE + kind for kind in ("int", "float", "bool", "null")}:
            value = _resolved(text, line)
            kind = tag.removeprefix(_CORE)
            types = {"int": int, "float": float, "bool": bool, "null": type(None)}[kind]
            if isinstance(value, types) and not (kind == "int" and isinstance(value, bool)):
                return value
            if kind == "float" and isinstance(value, int) and not isinstance(value, bool):
                return float(value)
            raise _Refused(f"line {line}: {text!r} is not a !!{kind}")
        raise _Refused(_unsupported_tag(tag, line))


def _resolved(text: str, line: int) -> Any:
    """A plain scalar's value by YAML 1.2's core schema."""
    if text and text[0] not in _NOT_ONLY_TEXT:
        return text
    if _NULL.fullmatch(text):
        return None
    if text in _BOOLEANS:
        return _BOOLEANS[text]
    try:
        if _DECIMAL.fullmatch(text):
            return int(text, 10)
        if _OCTAL.fullmatch(text):
            return int(text[2:], 8)
        if _HEXADECIMAL.fullmatch(text):
            return int(text[2:], 16)
    except ValueError:  # more digits than Python converts
        raise _Refused(f"line {line}: a number of {len(text):,} digits; quote it if it is text") from None
    if _FLOAT.fullmatch(text):
        return float(text)
    if _INFINITY.fullmatch(text):
        return -math.inf if text.startswith("-") else math.inf
    if _NAN.fullmatch(text):
        return math.nan
    return text


def plain_is_text(text: str) -> bool:
    """Whether ``text``, written as a plain (unquoted) scalar, reads back as this text by YAML 1.2's core schema."""
    try:
        return _resolved(text, 0) == text and isinstance(_resolved(text, 0), str)
    except _Refused:
        return False


def _is_merge_key(event: yaml.ScalarEvent) -> bool:
    """go-yaml's merge key: a plain ``<<`` (or one tagged ``!!merge``)."""
    return event.value == "<<" and ((event.tag is None and event.implicit[0]) or event.tag in {"!", _CORE + "merge"})


def _unsupported_tag(tag: str | None, line: int) -> str:
    return (
        f"line {line}: the tag {tag} is not read; a stack file holds plain YAML (text, numbers, true or false, "
        "null, lists and maps)"
    )


def _not_a_key(path: str, line: int) -> str:
    under = f", under {_shown(path)}" if path else ""
    return f"a key at line {line}{under} is a list or map; keys are text"


def _too_deep(path: str, line: int, how: str = "") -> str:
    under = f", under {_shown(path)}" if path else ""
    return (
        f"lists and maps nested more than {MAX_DEPTH} deep at line {line}{how}{under}; this program's config "
        "needs fewer than 15 levels"
    )


def _key_text(key: Any) -> str:
    text = str(key)
    return text if text.isprintable() else repr(text)


def _shown(path: str) -> str:
    return path if len(path) <= _SHOWN_PATH else path[: _SHOWN_PATH - 3] + "..."


def _compose(path: Path, text: str) -> Any:
    composer = _Composer()
    try:
        parser = _LibyamlParser(text) if _LibyamlParser is not None else _PythonParser(text)
        while True:
            event = parser.get_event()
            if event is None or isinstance(event, yaml.StreamEndEvent):
                return composer.document
            composer.feed(event)
    except _Refused as refused:
        raise StackFileError(f"{path}: {refused}") from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else 0
        if "nesting depth" in str(error.problem):  # libyaml's own limit (1,000), met first when it scans ahead
            deepest = composer.open[-1].path if composer.open else ""
            raise StackFileError(f"{path}: {_too_deep(deepest, line)}") from None
        raise StackFileError(f"{path}: {_syntax_error(error)}") from None
    except yaml.reader.ReaderError as error:
        line = text.count("\n", 0, error.position) + 1
        character = f"U+{error.character:04X}" if isinstance(error.character, int) else repr(error.character)
        raise StackFileError(
            f"{path}: not valid YAML at line {line}: the character {character} is not allowed"
        ) from None
    except yaml.YAMLError as error:
        raise StackFileError(f"{path}: not valid YAML: {' '.join(str(error).split())}") from None


def _syntax_error(error: yaml.MarkedYAMLError) -> str:
    mark = error.problem_mark or error.context_mark
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    problem = " ".join(str(error.problem or "").split())
    context = " ".join(str(error.context or "").split())
    return f"not valid YAML{where}: {f'{context}: ' if context else ''}{problem}"
