"""The value types of the config keys: each a check with the words its error says.

A key's type is ``Annotated[<Python type>, BeforeValidator(<check>)]`` (a check of text: :func:`text`): the check
runs on the value as written (from YAML or JSON, before pydantic converts anything) and raises :func:`invalid` with
what is allowed, which the loader renders as ``<path>: got <value>; <what is allowed>``. So every message is this
module's, word for word, and pydantic adds the structure: unknown keys, missing keys, defaults, and every error at
once.

A check may read the validation context (:class:`Context`): the role's ``maxSessionDuration`` that bounds the
durations of its entries, the issuer a reused provider must belong to, and whether the key is secret.
"""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.resources
import json
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import BeforeValidator, ValidationInfo
from pydantic_core import PydanticCustomError

from oidc import claims
from oidc.durations import MAX_SESSION_SECONDS, MIN_SESSION_SECONDS, format_duration, parse_duration
from oidc.model import ENVIRONMENT_PERMISSIONS, MAX_CLIENT_IDS, MAX_ROLE_TAGS, MAX_SESSION_POLICIES, MAX_THUMBPRINTS

ORG = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
PROJECT_OR_STACK = re.compile(r"^[A-Za-z0-9_.*?-]+$")
ESC_NAME = re.compile(r"^[A-Za-z0-9_.*?-]+$")
ESC_PROJECT = re.compile(r"^[A-Za-z0-9_.-]+$")
SESSION_NAME_CHARS = re.compile(r"^[\w+=,.@-]*$", re.ASCII)
PLACEHOLDER = re.compile(r"\$\{[^}]*\}")
ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$", re.ASCII)
ROLE_PATH = re.compile(r"^/(?:[\x21-\x7E]+/)?$")
POLICY_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(?:aws|\d{12}):policy/[\w+=,.@/-]+$", re.ASCII)
PROVIDER_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:oidc-provider/\S+$")
THUMBPRINT = re.compile(r"^[0-9a-fA-F]{40}$")
REGION = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d+$")
MAP_KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
ACCOUNT_ID = re.compile(r"^\d{12}$")
ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(?P<account>\d{12}):role/[\w+=,.@/-]+$", re.ASCII)
ADMIN_SESSION_NAME = re.compile(r"^[\w+=,.@-]{2,64}$", re.ASCII)
EXTERNAL_ID = re.compile(r"^[\w+=,.@:/-]{2,1224}$", re.ASCII)
PROFILE = re.compile(r"^[\w+=,.@:-]{1,128}$", re.ASCII)
ISSUER = re.compile(r"^https://[A-Za-z0-9.-]+(?:/[A-Za-z0-9._~/-]*[A-Za-z0-9._~-])?$")
DESCRIPTION = re.compile(r"^[\t\n\r\x20-\x7E\xA1-\xFF]*$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass
class Context:
    """What a check may need beyond its value, for one validation."""

    secret: bool = False
    """The top-level key being validated is secret: credentials may come from it, and messages show no value."""
    max_session: int | None = 3600
    """The ``maxSessionDuration`` of the role whose entries are validated (seconds); ``None`` when it is invalid."""
    role_path: str = "role"
    """Where that role's keys are (``role``, ``roles.<key>``), for messages."""
    issuer: str | None = claims.DEFAULT_ISSUER
    """The configured issuer, when valid: a reused provider's ARN must name it."""
    regions: list[tuple[str, str]] = field(default_factory=list)
    """Every region a check read (value, and the field's alias), to be checked against botocore in the second pass."""


def context(info: ValidationInfo) -> Context:
    found = info.context
    return found if isinstance(found, Context) else Context()


def invalid(allowed: str) -> PydanticCustomError:
    """The error of a value that is not allowed: ``got <value>; <allowed>``."""
    return PydanticCustomError("config", "{allowed}", {"allowed": allowed})


def problem(message: str) -> PydanticCustomError:
    """An error said as it is, without the value (``missing; ...``, a rule across keys)."""
    return PydanticCustomError("config_problem", "{message}", {"message": message})


def several(entries: Sequence[tuple[str, Any, str]]) -> PydanticCustomError:
    """Errors of parts of one value, each ``(where below the key: [1] or .name, the part's value, allowed)``."""
    return PydanticCustomError("config_several", "several problems", {"entries": list(entries)})


QUOTE_IT = "YAML reads an unquoted number as a number: quote it"


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def text(pattern: re.Pattern[str] | None, allowed: str, max_len: int | None = None) -> Callable[[Any], str]:
    """A check: a non-empty string, matching ``pattern``, at most ``max_len`` long."""

    def check(value: Any) -> str:
        if _number(value):
            raise invalid(f"{allowed}; {QUOTE_IT}")
        if not isinstance(value, str) or not value or (pattern is not None and not pattern.fullmatch(value)):
            raise invalid(allowed)
        if max_len is not None and len(value) > max_len:
            raise invalid(f"{allowed}, at most {max_len} characters")
        return value

    return check


def Text(pattern: re.Pattern[str] | None, allowed: str, max_len: int | None = None) -> Any:
    """The type of a key whose value is text (see :func:`text`)."""
    return Annotated[str, BeforeValidator(text(pattern, allowed, max_len))]


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise invalid("expected true or false")
    return value


Bool = Annotated[bool, BeforeValidator(boolean)]


def _duration(value: Any, low: int, high: int, why_high: str) -> int:
    allowed = f"expected a duration of the form XhYmZs from {format_duration(low)} to {format_duration(high)}{why_high}"
    if not isinstance(value, str):
        raise invalid(allowed)
    try:
        seconds = parse_duration(value)
    except ValueError:
        raise invalid(allowed) from None
    if not low <= seconds <= high:
        raise invalid(allowed)
    return seconds


def role_max_session(value: Any) -> int:
    """A role's ``maxSessionDuration``: 1h to 12h, in seconds."""
    from oidc.durations import MIN_ROLE_MAX_SECONDS  # noqa: PLC0415

    return _duration(
        value,
        MIN_ROLE_MAX_SECONDS,
        MAX_SESSION_SECONDS,
        "; the durations of the role's entries are checked against it once it is valid",
    )


def session_duration(value: Any, info: ValidationInfo) -> str:
    """A session's duration: 15m to 12h and no longer than the role's maximum; canonical ``XhYmZs`` text."""
    found = context(info)
    if found.max_session is None:
        high, why = MAX_SESSION_SECONDS, f", and no longer than {found.role_path}.maxSessionDuration"
    else:
        high = found.max_session
        why = (
            f", and no longer than {found.role_path}.maxSessionDuration ({format_duration(high)}; "
            "raise it for longer sessions)"
        )
    return format_duration(_duration(value, MIN_SESSION_SECONDS, high, why))


def session_name(value: Any) -> str:
    allowed = (
        "expected an STS role session name: 2 to 64 of letters, digits and _+=,.@- (Pulumi ${...} placeholders allowed)"
    )
    if not isinstance(value, str):
        raise invalid(allowed)
    literal = PLACEHOLDER.sub("", value)
    # Placeholders render at run time (Pulumi trims what they add); the literal text must fit.
    shortest = 0 if literal != value else 2
    if not SESSION_NAME_CHARS.fullmatch(literal) or not shortest <= len(literal) <= 64:
        raise invalid(allowed)
    return value


SessionName = Annotated[str, BeforeValidator(session_name)]
Duration = Annotated[str, BeforeValidator(session_duration)]
RoleMaxSession = Annotated[int, BeforeValidator(role_max_session)]

_POLICY_ARN_ALLOWED = "expected an IAM managed policy ARN such as arn:aws:iam::aws:policy/ReadOnlyAccess"
policy_arn = text(POLICY_ARN, _POLICY_ARN_ALLOWED)
PolicyArn = Annotated[str, BeforeValidator(policy_arn)]


def items(item: Callable[[Any], str], max_items: int, what: str) -> Callable[[Any], list[str]]:
    """A check: a list of at most ``max_items`` values (each checked by ``item``, its error at its index), each once."""

    def check(value: Any) -> list[str]:
        if not isinstance(value, list):
            raise invalid(f"expected a list of {what}, at most {max_items}")
        if len(value) > max_items:
            raise invalid(f"at most {max_items} {what} are allowed, got {len(value)}")
        checked, bad = [], []
        for index, element in enumerate(value):
            try:
                checked.append(item(element))
            except PydanticCustomError as error:
                bad.append((f"[{index}]", element, str(error.context["allowed"] if error.context else error)))
        if bad:
            raise several(bad)
        duplicates = sorted({element for element in checked if checked.count(element) > 1})
        if duplicates:
            raise invalid(f"each entry once; repeated: {', '.join(duplicates)}")
        return checked

    return check


def Items(item: Callable[[Any], str], max_items: int, what: str) -> Any:
    return Annotated[list[str], BeforeValidator(items(item, max_items, what))]


SessionPolicies = Items(policy_arn, MAX_SESSION_POLICIES, "policy ARNs")


def _did_you_mean(word: Any, known: Sequence[str], before: str = "; ") -> str:
    import difflib  # noqa: PLC0415

    if not isinstance(word, str):
        return ""
    by_lower = {key.lower(): key for key in known}
    close = difflib.get_close_matches(word.lower(), list(by_lower), n=1, cutoff=0.6)
    return f"{before}did you mean `{by_lower[close[0]]}`?" if close else ""


def did_you_mean(word: Any, known: Sequence[str], before: str = "; ") -> str:
    """``; did you mean `known`?`` for the known word closest to ``word`` (ignoring case), or nothing."""
    return _did_you_mean(word, known, before)


def operation(value: Any) -> str:
    if value not in claims.OPERATIONS:
        raise invalid(f"expected one of {', '.join(claims.OPERATIONS)}{did_you_mean(value, claims.OPERATIONS)}")
    return str(value)


def operations(value: Any) -> list[str]:
    found = items(operation, len(claims.OPERATIONS), "operations")(value)
    if not found:
        raise invalid("list at least one operation, or omit the key to trust all")
    return found


Operations = Annotated[list[str], BeforeValidator(operations)]


def thumbprints(value: Any) -> Any:
    if value == "auto":
        return value
    if not isinstance(value, list):
        raise invalid(f'expected "auto", a list of up to {MAX_THUMBPRINTS} SHA-1 thumbprints, or [] for none')
    check = text(THUMBPRINT, "expected a SHA-1 thumbprint: 40 hex digits")
    return items(lambda item: check(item).lower(), MAX_THUMBPRINTS, "thumbprints")(value)


Thumbprints = Annotated[str | list[str], BeforeValidator(thumbprints)]

client_id = text(None, "expected a client ID of 1 to 255 characters", max_len=255)
Audiences = Annotated[list[str], BeforeValidator(items(client_id, MAX_CLIENT_IDS, "audiences"))]


def _tag_text(value: str) -> bool:
    """IAM's tag alphabet: Unicode letters, digits and spaces, and ``_ . : / = + - @``."""
    return all(unicodedata.category(c)[0] in "LNZ" or c in "_.:/=+-@" for c in value)


TAGS_ALLOWED = (
    f"expected a map of up to {MAX_ROLE_TAGS} tags: keys of 1 to 128 characters (not starting with 'aws:'), "
    "string values of up to 256, both of letters, digits, spaces and _.:/=+-@"
)


def tags(value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or len(value) > MAX_ROLE_TAGS:
        raise invalid(TAGS_ALLOWED)
    bad = []
    for key, tag in value.items():
        key_ok = isinstance(key, str) and 1 <= len(key) <= 128 and not key.lower().startswith("aws:") and _tag_text(key)
        if not (key_ok and isinstance(tag, str) and len(tag) <= 256 and _tag_text(tag)):
            bad.append((f".{key}", tag, TAGS_ALLOWED))
    if bad:
        raise several(bad)
    return dict(value)


Tags = Annotated[dict[str, str], BeforeValidator(tags)]


def region(value: Any, info: ValidationInfo) -> str:
    found = text(REGION, "expected an AWS region such as us-west-2")(value)
    context(info).regions.append((found, info.field_name or ""))
    return found


Region = Annotated[str, BeforeValidator(region)]


def variables(value: Any) -> dict[str, str]:
    """A map of environment variables: names of letters, digits and _; text values."""
    if not isinstance(value, dict):
        raise invalid("expected a map of environment variable names to text")
    bad = []
    for name, item in value.items():
        if not isinstance(name, str) or not ENV_NAME.fullmatch(name):
            bad.append((f".{name}", item, "expected a variable name of letters, digits and _"))
        elif not isinstance(item, str):
            bad.append((f".{name}", item, "expected text (quote numbers and booleans in YAML)"))
    if bad:
        raise several(bad)
    return dict(value)


Variables = Annotated[dict[str, str], BeforeValidator(variables)]


def strings(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise invalid("expected a list of non-empty strings")
    return list(value)


Strings = Annotated[list[str], BeforeValidator(strings)]


def whole_number(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise invalid("expected a whole number above 0")
    return value


WholeNumber = Annotated[int, BeforeValidator(whole_number)]


def choice(choices: Sequence[str]) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value not in choices:
            raise invalid(f"expected one of {', '.join(choices)}")
        return str(value)

    return check


def credential(value: Any, info: ValidationInfo) -> str:
    """A credential: text from secure config only."""
    text(None, "expected a non-empty string")(value)
    if not context(info).secret:
        raise PydanticCustomError("config_credential", "credential", {})
    return str(value)


Credential = Annotated[str, BeforeValidator(credential)]


@functools.cache
def known_regions() -> frozenset[str]:
    """Every region of every partition in botocore's partition data, without the partitions' global pseudo-regions
    (``aws-global``).

    The file is read as JSON: importing botocore's loader and its endpoint data would cost ``make plan`` 0.2 s.
    """
    data = importlib.resources.files("botocore") / "data" / "partitions.json"
    try:
        partitions = json.loads(data.read_text(encoding="utf-8"))["partitions"]
    except FileNotFoundError:  # a botocore that keeps its data compressed: its loader reads it
        import botocore.loaders  # type: ignore[import-untyped]  # noqa: PLC0415

        partitions = botocore.loaders.create_loader().load_data("partitions")["partitions"]
    return frozenset(
        region for partition in partitions for region in partition.get("regions", {}) if not region.endswith("-global")
    )


def botocore_version() -> str:
    return importlib.metadata.version("botocore")


# --- who may open a created environment --------------------------------------------------------------------------

TEAM_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
"""A team's name as Pulumi Cloud's URLs hold it (``/api/orgs/<org>/teams/<name>``); it also goes into logical names."""
USER_LOGIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")

_TEAM_ALLOWED = "expected a team's name (not its display name): letters, digits, '-', '_' and '.'"
_PERMISSION_ALLOWED = f"expected one of {', '.join(ENVIRONMENT_PERMISSIONS)}"
TEAMS_ALLOWED = (
    f"expected a map of team name to a permission ({', '.join(ENVIRONMENT_PERMISSIONS)}), or to "
    "{permission, maxOpenDuration}"
)


def _open_duration(value: Any) -> str:
    allowed = "expected a duration of the form XhYmZs, such as 4h or 30m"
    if not isinstance(value, str):
        raise invalid(allowed)
    try:
        seconds = parse_duration(value)
    except ValueError:
        raise invalid(allowed) from None
    if seconds <= 0:
        raise invalid(allowed)
    return format_duration(seconds)


def teams(value: Any) -> dict[str, dict[str, str]]:
    """A map of team name to ``none|read|open|write|admin`` or ``{permission, maxOpenDuration}``: each team's entry
    as ``{"permission": ..., "maxOpenDuration": ...}`` (the duration only where given, in ``XhYmZs`` form)."""
    if not isinstance(value, dict):
        raise invalid(TEAMS_ALLOWED)
    found: dict[str, dict[str, str]] = {}
    bad: list[tuple[str, Any, str]] = []
    for name, given in value.items():
        if not isinstance(name, str) or not TEAM_NAME.fullmatch(name):
            bad.append((f".{name}", name, _TEAM_ALLOWED))
            continue
        entry = {"permission": given} if isinstance(given, str) else given
        if not isinstance(entry, dict):
            bad.append((f".{name}", entry, TEAMS_ALLOWED))
            continue
        unknown = sorted(set(entry) - {"permission", "maxOpenDuration"})
        for key in unknown:
            bad.append((f".{name}.{key}", entry[key], "unknown key; allowed: permission, maxOpenDuration"))
        permission = entry.get("permission")
        if permission not in ENVIRONMENT_PERMISSIONS:
            where = f".{name}.permission" if isinstance(given, dict) else f".{name}"
            shown = permission if "permission" in entry else None
            bad.append((where, shown, _PERMISSION_ALLOWED + did_you_mean(permission, ENVIRONMENT_PERMISSIONS)))
            continue
        checked = {"permission": str(permission)}
        if "maxOpenDuration" in entry:
            try:
                checked["maxOpenDuration"] = _open_duration(entry["maxOpenDuration"])
            except PydanticCustomError as error:
                allowed = str(error.context["allowed"]) if error.context else str(error)
                bad.append((f".{name}.maxOpenDuration", entry["maxOpenDuration"], allowed))
                continue
        if not unknown:
            found[name] = checked
    if bad:
        raise several(bad)
    return found


Teams = Annotated[dict[str, dict[str, str]], BeforeValidator(teams)]

APPROVER_PERMISSIONS = (
    "environment:read",
    "environment:open",
    "environment:write",
    "environment:delete",
    "environment_settings:update",
    "environment_access:update",
    "environment_version:create",
    "environment_tag:update",
)
"""Permissions on the environment that make a member an eligible approver (``has_permission_on_target``): the
environment permissions of the service's ``RbacPermission`` enum (``ApprovalRuleEligibilityInputPermission`` in the
pulumiservice provider's embedded OpenAPI spec) that a reviewer of an environment would name."""

team_name = text(TEAM_NAME, _TEAM_ALLOWED)
user_login = text(USER_LOGIN, "expected a Pulumi user login: letters, digits, '-', '_' and '.'")


def _approver_permission(value: Any) -> str:
    if value not in APPROVER_PERMISSIONS:
        raise invalid(f"expected one of {', '.join(APPROVER_PERMISSIONS)}{did_you_mean(value, APPROVER_PERMISSIONS)}")
    return str(value)


TeamNames = Items(team_name, 100, "team names")
UserLogins = Items(user_login, 100, "user logins")
ApproverPermissions = Items(_approver_permission, len(APPROVER_PERMISSIONS), "permissions")
