from __future__ import annotations

import pytest

from oidc.durations import (
    MAX_SESSION_SECONDS,
    MIN_ROLE_MAX_SECONDS,
    MIN_SESSION_SECONDS,
    format_duration,
    parse_duration,
)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1h", 3600),
        ("90m", 5400),
        ("1h30m", 5400),
        ("15m", 900),
        ("45s", 45),
        ("2h5m10s", 7510),
        ("12h", 43200),
        ("1h0m", 3600),
        ("3600s", 3600),
    ],
)
def test_parse_duration_returns_seconds(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(5400, "1h30m"), (3600, "1h"), (900, "15m"), (45, "45s"), (7510, "2h5m10s"), (43200, "12h"), (61, "1m1s")],
)
def test_format_duration_is_canonical(seconds: int, text: str) -> None:
    assert format_duration(seconds) == text


@pytest.mark.parametrize("text", ["1h", "15m", "1h30m", "2h5m10s", "12h", "45s", "1m1s"])
def test_canonical_text_round_trips(text: str) -> None:
    assert format_duration(parse_duration(text)) == text


@pytest.mark.parametrize("seconds", [1, 59, 60, 900, 3599, 3600, 5400, 7510, 43200, 86399])
def test_seconds_round_trip(seconds: int) -> None:
    assert parse_duration(format_duration(seconds)) == seconds


@pytest.mark.parametrize(
    ("text", "canonical"),
    [("90m", "1h30m"), ("60m", "1h"), ("3600s", "1h"), ("1h0m", "1h"), ("120s", "2m")],
)
def test_parse_then_format_canonicalizes(text: str, canonical: str) -> None:
    assert format_duration(parse_duration(text)) == canonical


@pytest.mark.parametrize(
    "text",
    ["", "1d", "h", "1.5h", "1H", "-1h", "1h ", " 1h", "1m1h", "1s1m", "1h1h", "1", "one hour", "1h30"],
)
def test_parse_duration_rejects_malformed_text(text: str) -> None:
    with pytest.raises(ValueError, match="XhYmZs"):
        parse_duration(text)


@pytest.mark.parametrize("text", ["0h", "0m", "0s", "0h0m0s"])
def test_parse_duration_rejects_zero(text: str) -> None:
    with pytest.raises(ValueError, match="XhYmZs"):
        parse_duration(text)


@pytest.mark.parametrize("seconds", [0, -1, -3600])
def test_format_duration_rejects_non_positive(seconds: int) -> None:
    with pytest.raises(ValueError, match="positive"):
        format_duration(seconds)


def test_limits_match_sts_and_iam() -> None:
    assert (MIN_SESSION_SECONDS, MIN_ROLE_MAX_SECONDS, MAX_SESSION_SECONDS) == (900, 3600, 43200)
