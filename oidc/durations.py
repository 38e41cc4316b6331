"""Session durations in Pulumi's ``XhYmZs`` form (``1h``, ``90m``, ``1h30m``).

Pulumi Deployments and ESC's ``aws-login`` take durations as strings; AWS STS takes
seconds. Everything here converts between the two so that limits are compared in seconds.
"""

from __future__ import annotations

import re

_DURATION = re.compile(r"^(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?(?:(?P<s>\d+)s)?$")

MIN_SESSION_SECONDS = 15 * 60
"""STS ``DurationSeconds`` lower bound for ``AssumeRoleWithWebIdentity``."""

MAX_SESSION_SECONDS = 12 * 60 * 60
"""STS ``DurationSeconds`` upper bound, and the largest role ``MaxSessionDuration``."""

MIN_ROLE_MAX_SECONDS = 60 * 60
"""The smallest ``MaxSessionDuration`` IAM accepts for a role."""


def parse_duration(text: str) -> int:
    """Return the number of seconds in ``text`` (``1h30m`` -> 5400).

    Raises ``ValueError`` when ``text`` is not of the ``XhYmZs`` form or is zero.
    """
    match = _DURATION.fullmatch(text)
    if not text or match is None:
        raise ValueError(f"{text!r} is not a duration of the form XhYmZs (e.g. 1h, 90m, 1h30m)")
    hours, minutes, seconds = (int(match.group(unit) or 0) for unit in ("h", "m", "s"))
    total = hours * 3600 + minutes * 60 + seconds
    if total == 0:
        raise ValueError(f"{text!r} is not a duration of the form XhYmZs: it is zero")
    return total


def format_duration(seconds: int) -> str:
    """Return the canonical ``XhYmZs`` text for ``seconds`` (5400 -> ``1h30m``)."""
    if seconds <= 0:
        raise ValueError(f"a duration must be positive, got {seconds} seconds")
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{value}{unit}" for value, unit in ((hours, "h"), (minutes, "m"), (secs, "s")) if value]
    return "".join(parts)
