"""Talking to Pulumi Cloud safely: where the token goes, and reads that a hostile or broken server cannot stall.

Each test is named after an attack or a failure, and checks what reached the server (tests/cloud_server.py on
127.0.0.1, a real HTTP server, also used as an HTTP proxy standing for the network), what the user is told, and
that the run ends. The deadline is 1 s here (``PULUMI_AWS_OIDC_TIMEOUT``), so time limits are generous
multiples of it. The program runs as ``pulumi preview`` runs it: the project's ``__main__.py`` under mocks.
Untested without the real service: its own rate limits and the ``Retry-After`` values it sends.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pulumi
import pytest

from oidc import cli, cloud, testing
from oidc.cli import offline
from tests import cloud_server
from tests.cloud_server import FakeCloud, serving
from tests.conftest import PROJECT_DIR, project_config

TOKEN = "pul-0123456789abcdef0123456789abcdef01234567"
STORED = "pul-stored0123456789abcdef0123456789abcdef0"
STATE_PATH = "/api/stacks/acme/pulumi-aws-oidc/test/resources/latest"
ADMIN_PATH = "/api/stacks/acme/pulumi-aws-oidc/test"
SETTINGS_PATH = "/api/stacks/acme/infra/prod/deployments/settings"
STACK_PATH = "/api/stacks/acme/infra/prod"
DEADLINE = 1.0
ENDS_WITHIN = 8.0
"""A run that must end does so within this many seconds: about 1 s measured, and a slow shared machine."""


@pytest.fixture(autouse=True)
def guard_reads_the_local_server() -> Iterator[None]:
    """The guard reads Pulumi Cloud only in a real preview or up; these tests run it under mocks against a server
    they start, as a real run would read Pulumi Cloud."""
    with testing.reading_pulumi_cloud():
        yield


@pytest.fixture(autouse=True)
def short_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cloud.TIMEOUT_VARIABLE, f"{DEADLINE:g}")
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def server() -> Iterator[FakeCloud]:
    with serving() as fake:
        fake.stack("acme", "pulumi-aws-oidc", "test")
        fake.stack("acme", "infra", "prod")
        yield fake


@pytest.fixture
def token_for(server: FakeCloud, monkeypatch: pytest.MonkeyPatch) -> FakeCloud:
    """``server``, found through ``PULUMI_ACCESS_TOKEN`` and ``PULUMI_BACKEND_URL``."""
    monkeypatch.setenv("PULUMI_ACCESS_TOKEN", TOKEN)
    monkeypatch.setenv("PULUMI_BACKEND_URL", server.url)
    return server


def stored_login(tokens: dict[str, str], current: str) -> None:
    """The Pulumi CLI's ``credentials.json`` in this test's ``PULUMI_HOME`` (conftest makes one per test)."""
    home = Path(os.environ["PULUMI_HOME"])
    (home / "credentials.json").write_text(json.dumps({"current": current, "accessTokens": tokens}))


def preview(config: dict[str, Any] | None = None, **values: Any) -> tuple[offline.Recording, str | None, float]:
    """Run the project's program for acme (managing infra/prod unless ``values`` say); the recording, the
    message of the error it stopped with, and the seconds it took."""
    values = {"organization": "acme", "deployments": [{"project": "infra", "stack": "prod"}], **values}
    config = {**project_config(values), **(config or {})}
    stack = offline.StackConfig("pulumi-aws-oidc", "test", PROJECT_DIR, config, ())
    recording = offline.Recording()
    start = time.monotonic()
    try:
        offline.run_stack(stack, recording=recording)
    except pulumi.RunError as error:
        return recording, str(error), time.monotonic() - start
    return recording, None, time.monotonic() - start


def pull(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str, float]:
    start = time.monotonic()
    code = cli.main(["settings", "pull", "acme/infra/prod", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err, time.monotonic() - start


# --- 1. the stored token goes only to the API it was stored for ---------------------------------------


@pytest.mark.parametrize("where", ["pulumiservice:apiUrl", "PULUMI_BACKEND_URL", "PULUMI_API"])
def test_stored_token_is_not_sent_to_a_url_from_a_stack_file_or_the_environment(
    server: FakeCloud, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    stored_login({"https://api.pulumi.com": STORED}, current="https://api.pulumi.com")
    config = {where: server.url} if where.startswith("pulumiservice:") else {}
    if not config:
        monkeypatch.setenv(where, server.url)

    recording, error, _ = preview(config)

    assert server.requests == []  # nothing, so no request carried the stored token
    assert error is None
    [warning] = [w for w in recording.warnings if w.startswith("not guarded")]
    assert warning.startswith(
        f"not guarded: the Pulumi CLI's stored token is for https://api.pulumi.com, not for {server.url} ({where}), "
        "and a stored token goes only to the API it was stored for"
    )
    assert f"if {server.url} is the API of your Pulumi Cloud, set PULUMI_ACCESS_TOKEN or pulumiservice:accessToken" in (
        warning
    )
    assert STORED not in warning


def test_stored_token_is_not_sent_by_settings_pull_to_another_api(
    server: FakeCloud, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stored_login({"https://api.pulumi.com": STORED}, current="https://api.pulumi.com")
    monkeypatch.setenv("PULUMI_BACKEND_URL", server.url)

    code, out, err, _ = pull(capsys)

    assert (code, out) == (1, "")
    assert server.requests == []
    assert err.startswith(
        "error: no Pulumi Cloud token: the Pulumi CLI's stored token is for https://api.pulumi.com, not for "
        f"{server.url} (PULUMI_BACKEND_URL)"
    )
    assert "set PULUMI_ACCESS_TOKEN to a token of it; if not, correct PULUMI_BACKEND_URL" in err


def test_stored_token_goes_to_the_api_it_was_stored_for_written_another_way(
    server: FakeCloud, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The CLI stored the URL with upper-case scheme and host and a trailing slash; the config writes it plainly.
    stored_login(
        {"https://api.pulumi.com": "pul-other", server.url.upper() + "/": STORED},
        current="https://api.pulumi.com",
    )
    monkeypatch.setenv("PULUMI_BACKEND_URL", server.url)
    server.settings("acme", "infra", "prod", {"agentPoolID": "pool-1"})

    code, out, _, _ = pull(capsys)

    assert code == 0
    assert "agentPoolId: pool-1" in out
    assert {request.authorization for request in server.requests} == {f"token {STORED}"}


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("https://API.Pulumi.com/", "https://api.pulumi.com"),
        ("https://api.pulumi.com:443", "https://api.pulumi.com"),
        ("http://127.0.0.1:80/", "http://127.0.0.1"),
        ("https://[::1]:443/x/", "https://[::1]/x"),
    ],
)
def test_urls_of_one_api_compare_equal(left: str, right: str) -> None:
    assert cloud.normalized_url(left) == cloud.normalized_url(right)


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("https://api.pulumi.com", "http://api.pulumi.com"),
        ("https://api.pulumi.com", "https://api.pulumi.com:8443"),
        ("https://api.pulumi.com", "https://api.pulumi.com.evil.example"),
        ("https://api.pulumi.com/a", "https://api.pulumi.com/A"),
    ],
)
def test_urls_of_other_apis_differ(left: str, right: str) -> None:
    assert cloud.normalized_url(left) != cloud.normalized_url(right)


# --- 2. never plain http but to this machine -----------------------------------------------------------


def test_token_is_not_sent_in_the_clear_to_a_remote_http_api(
    server: FakeCloud, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The fake server stands for the network as an HTTP proxy: a plain-http request would cross it in the clear.
    monkeypatch.setenv("HTTP_PROXY", server.url)
    monkeypatch.setenv("PULUMI_ACCESS_TOKEN", TOKEN)
    monkeypatch.setenv("PULUMI_BACKEND_URL", "http://api.acme.example")

    recording, error, _ = preview()
    code, out, err, _ = pull(capsys)

    assert server.requests == []
    assert recording.resources == []
    expected = (
        "pulumi cloud: the API URL http://api.acme.example (from PULUMI_BACKEND_URL) is plain http: the Pulumi Cloud "
        "token would cross the network unencrypted, so it is sent over http only to this machine"
    )
    assert error is not None
    assert error.startswith(expected)
    assert (code, out) == (1, "")
    assert err.startswith(f"error: {expected}")


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "127.3.2.1", "localhost", "LocalHost", "::1", "[::1]", "::ffff:127.0.0.1"]
)
def test_loopback_addresses_may_be_plain_http(host: str) -> None:
    assert cloud.is_loopback(host)


@pytest.mark.parametrize("host", ["10.0.0.1", "128.0.0.1", "localhost.acme.example", "api.pulumi.com", "::2"])
def test_other_addresses_may_not_be_plain_http(host: str) -> None:
    assert not cloud.is_loopback(host)


# --- 3. no credentials of a URL, and never the token, in a message --------------------------------------


def test_credentials_in_the_api_url_are_refused_and_never_printed(
    server: FakeCloud, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = server.url.replace("http://", "http://admin:s3cret@")
    monkeypatch.setenv("PULUMI_ACCESS_TOKEN", TOKEN)
    monkeypatch.setenv("PULUMI_BACKEND_URL", url)

    recording, error, _ = preview()
    code, _, err, _ = pull(capsys)

    assert server.requests == []
    assert recording.resources == []
    shown = server.url.replace("http://", "http://***@")
    assert error is not None
    assert error.startswith(f"pulumi cloud: the API URL {shown} (from PULUMI_BACKEND_URL) has credentials in it")
    assert code == 1
    assert f"the API URL {shown} (from PULUMI_BACKEND_URL) has credentials in it" in err
    for text in (error, err):
        assert "s3cret" not in text
        assert "admin" not in text


def test_credentials_in_a_stored_login_url_are_not_printed(
    server: FakeCloud, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stored_login({"https://bot:hunter22@api.acme.example": STORED}, current="https://bot:hunter22@api.acme.example")
    monkeypatch.setenv("PULUMI_BACKEND_URL", server.url.replace("http://", "http://u:pw123456@"))

    code, _, err, _ = pull(capsys)

    assert code == 1
    assert server.requests == []
    assert "stored token is for https://***@api.acme.example, not for http://***@127.0.0.1:" in err
    assert "hunter22" not in err
    assert "pw123456" not in err


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://user:pass@api.acme.example/x", "https://***@api.acme.example/x"),
        ("https://user@api.acme.example", "https://***@api.acme.example"),
        ("https://a:b@c@api.acme.example", "https://***@api.acme.example"),
        ("https://api.acme.example/p@th", "https://api.acme.example/p@th"),
        ("https://api.acme.example", "https://api.acme.example"),
    ],
)
def test_credentials_of_a_url_are_redacted_in_messages(url: str, shown: str) -> None:
    assert cloud.redact_url(url) == shown


def test_the_token_is_never_printed_even_when_the_server_echoes_it(
    token_for: FakeCloud, capsys: pytest.CaptureFixture[str]
) -> None:
    token_for.routes[SETTINGS_PATH] = cloud_server.raw(200, f"Authorization: token {TOKEN}".encode())
    token_for.routes[STATE_PATH] = cloud_server.raw(200, f"<p>you sent {TOKEN}</p>".encode())

    _, error, _ = preview()
    code, _, err, _ = pull(capsys)

    assert error is not None
    assert code == 1
    for text in (error, err):
        assert "the answer is not JSON" in text
        assert TOKEN not in text
        assert "[token]" in text


def test_a_redirect_does_not_take_the_token_elsewhere(token_for: FakeCloud, capsys: pytest.CaptureFixture[str]) -> None:
    elsewhere = cloud_server.closed_port_url()  # were the token to follow, it would go here
    token_for.routes[SETTINGS_PATH] = cloud_server.raw(302, b"", {"Location": f"{elsewhere}/steal"})

    code, _, err, _ = pull(capsys)

    assert code == 1
    assert token_for.paths() == [SETTINGS_PATH]
    assert f"answered 302 Found, a redirect to {elsewhere}/steal, which is not followed" in err
    assert "Set PULUMI_BACKEND_URL to the API itself" in err


# --- 4. bounded reads ------------------------------------------------------------------------------------


@pytest.mark.parametrize("headers_too", [False, True], ids=["body", "status-and-headers"])
def test_a_server_that_trickles_bytes_is_cut_at_the_deadline(
    token_for: FakeCloud, capsys: pytest.CaptureFixture[str], headers_too: bool
) -> None:
    # 200 bytes, one every 0.2 s: 40 s of answer, each read well within a per-read timeout of 1 s.
    body = json.dumps({"agentPoolID": "p" * 180}).encode()
    token_for.routes[SETTINGS_PATH] = cloud_server.trickle(body, 0.2, headers_too=headers_too)

    code, out, err, elapsed = pull(capsys)

    assert (code, out) == (1, "")
    assert token_for.paths() == [SETTINGS_PATH]
    assert err.startswith(
        f"error: pulumi cloud: GET {token_for.url}{SETTINGS_PATH}: no complete answer within 1 s "
        f"({cloud.TIMEOUT_VARIABLE})"
    )
    assert DEADLINE <= elapsed < ENDS_WITHIN


def test_a_trickling_server_is_cut_at_the_deadline_in_preview_too(token_for: FakeCloud) -> None:
    token_for.routes[STATE_PATH] = cloud_server.trickle(b'{"resources": []}' + b" " * 200, 0.2)

    recording, error, elapsed = preview()

    assert error is not None
    assert error.startswith(f"pulumi cloud: GET {token_for.url}{STATE_PATH}: no complete answer within 1 s")
    assert recording.resources == []
    assert elapsed < ENDS_WITHIN


def test_hanging_parallel_reads_end_after_one_deadline_and_stop_the_rest(token_for: FakeCloud) -> None:
    token_for.otherwise = cloud_server.hang()  # every stack's settings hang; the admin stack is found, no update
    token_for.routes[STATE_PATH] = (404, {"code": 404, "message": "Not Found"})
    stacks = [{"project": "infra", "stack": f"s{index}"} for index in range(24)]

    recording, error, elapsed = preview(deployments=stacks, trustPolicyMaxChars=4096)  # 24 subjects fit 4096

    assert error is not None
    assert " no complete answer within 1 s " in error
    assert recording.resources == []
    assert elapsed < ENDS_WITHIN  # before: one deadline per batch of 8, and a message saying one deadline
    reads = [path for path in token_for.paths() if path.endswith("/deployments/settings")]
    assert len(reads) <= cloud.PARALLEL_REQUESTS  # the first failure started no more


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "until-closed"])
def test_a_huge_body_is_not_read_past_the_cap_nor_copied(
    token_for: FakeCloud, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, declared: bool
) -> None:
    monkeypatch.setenv(cloud.TIMEOUT_VARIABLE, "10")  # the cap stops it, not the deadline
    size = 64 * cloud.MAX_SETTINGS_BYTES
    token_for.routes[SETTINGS_PATH] = cloud_server.flood(size, declared=declared)

    code, _, err, elapsed = pull(capsys)

    assert code == 1
    verb = f"declares {size} bytes, more than" if declared else "goes on past"
    assert f"GET {token_for.url}{SETTINGS_PATH}: the answer {verb} 1 MiB, the most this program reads there" in err
    assert "xxxxx" not in err
    assert len(err) < 600
    # What the server could write before the client left: the cap and what the sockets' buffers took.
    assert token_for.sent.get(SETTINGS_PATH, 0) < 16 * cloud.MAX_SETTINGS_BYTES
    assert elapsed < ENDS_WITHIN


def test_a_huge_state_is_not_read_past_its_cap(token_for: FakeCloud, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cloud.TIMEOUT_VARIABLE, "10")
    token_for.routes[STATE_PATH] = cloud_server.flood(4 * cloud.MAX_BODY_BYTES, declared=False)

    recording, error, elapsed = preview()

    assert error is not None
    assert f"GET {token_for.url}{STATE_PATH}: the answer goes on past 16 MiB, the most this program reads" in error
    assert recording.resources == []
    assert token_for.sent[STATE_PATH] < 2 * cloud.MAX_BODY_BYTES
    assert elapsed < ENDS_WITHIN


def test_a_429_waits_as_retry_after_says_then_reads(
    token_for: FakeCloud, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(cloud.TIMEOUT_VARIABLE, "5")
    token_for.queued[SETTINGS_PATH] = [cloud_server.too_many_requests("1")]
    token_for.settings("acme", "infra", "prod", {"agentPoolID": "pool-1"})

    code, out, _, _ = pull(capsys)

    assert code == 0
    assert "agentPoolId: pool-1" in out
    first, second = token_for.requests
    assert first.path == second.path == SETTINGS_PATH
    assert second.at - first.at >= 1.0


def test_a_retry_after_beyond_the_deadline_fails_at_once_saying_so(
    token_for: FakeCloud, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(cloud.TIMEOUT_VARIABLE, "5")
    token_for.routes[SETTINGS_PATH] = cloud_server.too_many_requests("120")

    code, _, err, elapsed = pull(capsys)

    assert code == 1
    assert token_for.paths() == [SETTINGS_PATH]
    assert (
        f"GET {token_for.url}{SETTINGS_PATH}: Pulumi Cloud answered 429 Too Many Requests and asks to retry after "
        f"120 s, past the deadline of 5 s ({cloud.TIMEOUT_VARIABLE})"
    ) in err
    assert elapsed < 2.5  # not the 5 s deadline


def test_server_errors_are_retried_with_backoff_and_given_up_after_three_attempts(
    token_for: FakeCloud, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cloud, "BACKOFF_SECONDS", (0.1, 0.2))
    token_for.queued[SETTINGS_PATH] = [cloud_server.raw(503, b"{}"), cloud_server.raw(502, b"{}")]
    token_for.settings("acme", "infra", "prod", {"agentPoolID": "pool-1"})

    code, _, _, _ = pull(capsys)

    assert code == 0
    times = [request.at for request in token_for.requests if request.path == SETTINGS_PATH]
    assert len(times) == 3
    assert times[1] - times[0] >= 0.1
    assert times[2] - times[1] >= 0.2

    token_for.routes[SETTINGS_PATH] = cloud_server.raw(500, b"{}")
    token_for.requests.clear()

    code, _, err, _ = pull(capsys)

    assert code == 1
    assert token_for.paths() == [SETTINGS_PATH] * cloud.ATTEMPTS
    assert "Pulumi Cloud failed (500 Internal Server Error) on each of 3 attempts. Nothing was changed" in err


def test_retry_after_is_read_as_seconds_or_an_http_date() -> None:
    now = datetime(2026, 12, 3, 10, 0, 0, tzinfo=UTC)

    assert cloud.retry_after("7", now) == 7.0
    assert cloud.retry_after("Thu, 03 Dec 2026 10:00:30 GMT", now) == 30.0
    assert cloud.retry_after("Thu, 03 Dec 2026 09:00:00 GMT", now) == 0.0  # in the past: at once
    assert cloud.retry_after("soon", now) is None
    assert cloud.retry_after("-3", now) is None
    assert cloud.retry_after(None, now) is None


@pytest.mark.parametrize("depth", [100_000, cloud.MAX_DEPTH + 1], ids=["past-the-parser", "past-the-limit"])
def test_deeply_nested_json_is_a_clear_error_not_a_recursion_error(
    token_for: FakeCloud, capsys: pytest.CaptureFixture[str], depth: int
) -> None:
    token_for.routes[SETTINGS_PATH] = cloud_server.nested(depth)
    token_for.routes[STATE_PATH] = cloud_server.raw(200, b'{"resources": ' + b"[" * depth + b"]" * depth + b"}")

    code, _, err, _ = pull(capsys)
    recording, error, _ = preview()

    assert code == 1
    assert error is not None
    assert recording.resources == []
    for text in (err, error):
        assert f"the answer nests deeper than {cloud.MAX_DEPTH} levels" in text
        assert "Traceback" not in text
        assert "RecursionError" not in text


def test_settings_of_hundreds_of_thousands_of_items_are_judged_in_seconds(token_for: FakeCloud) -> None:
    # Under the 1 MiB cap: one field the resource cannot express, holding 349,518 empty objects.
    items = (cloud.MAX_SETTINGS_BYTES - 20) // 3
    token_for.routes[SETTINGS_PATH] = cloud_server.raw(200, b'{"tag": [' + b",".join([b"{}"] * items) + b"]}")

    recording, error, elapsed = preview()

    assert error is not None
    assert "      tag: the resource has no input for it; it is [{}, {}, {}," in error
    assert len(error) < 2000
    assert recording.resources == []
    assert elapsed < ENDS_WITHIN  # the value shown is cut before it is written, not after


def test_json_nested_to_the_limit_is_read() -> None:
    assert not cloud.deeper_than(json.loads("[" * cloud.MAX_DEPTH + "]" * cloud.MAX_DEPTH), cloud.MAX_DEPTH)
    assert cloud.deeper_than({"a": [{"b": [[]]}]}, 4)


def test_a_compressed_body_that_was_not_asked_for_is_refused(
    token_for: FakeCloud, capsys: pytest.CaptureFixture[str]
) -> None:
    # A gzip body could expand a thousandfold past the cap; the client asks for none (Accept-Encoding: identity).
    token_for.routes[SETTINGS_PATH] = cloud_server.raw(200, b"\x1f\x8b", {"Content-Encoding": "gzip"})

    code, _, err, _ = pull(capsys)

    assert code == 1
    assert "the answer is compressed (gzip) though none was asked for" in err


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"agentPoolID": "caf\xe9"}', "the answer is not UTF-8 text (byte 0xe9 at offset 20 of 23)"),
        (
            b"<html>" + b"\x1b[31m" + b"x" * 10_000,
            "the answer is not JSON (Expecting value, line 1 column 1): <html>\\x1b[31m",
        ),
        (b'"' + b"y" * 1_000_000 + b'"', 'the answer is not of the documented shape ("yyy'),
        (b"1" * 5000, "the answer is not JSON Python reads"),
    ],
    ids=["bad-encoding", "html-with-escapes", "huge-string", "huge-number"],
)
def test_a_malformed_body_is_a_clear_error_that_quotes_at_most_200_characters(
    token_for: FakeCloud, capsys: pytest.CaptureFixture[str], body: bytes, expected: str
) -> None:
    token_for.routes[SETTINGS_PATH] = cloud_server.raw(200, body)

    code, _, err, _ = pull(capsys)

    assert code == 1
    assert expected in err
    assert "\x1b" not in err
    assert len(err) < 800


# --- 5. a wrong API URL is not "no settings yet" ---------------------------------------------------------


def test_an_api_that_answers_404_to_everything_is_an_error_not_no_settings(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with serving() as nothing:  # no route at all: 404 for every path
        monkeypatch.setenv("PULUMI_ACCESS_TOKEN", TOKEN)
        monkeypatch.setenv("PULUMI_BACKEND_URL", nothing.url)

        recording, error, _ = preview()
        code, out, err, _ = pull(capsys)

    expected = (
        f"GET {nothing.url}{STACK_PATH}: 404 Not Found: the stack acme/infra/prod does not exist in this Pulumi "
        f"Cloud, or {nothing.url} (from PULUMI_BACKEND_URL) is not the API of your Pulumi Cloud"
    )
    assert error is not None
    assert error.startswith(f"pulumi cloud: {expected}")
    assert recording.resources == []
    assert (code, out) == (1, "")
    assert err.startswith(f"error: pulumi cloud: {expected}")
    assert nothing.paths() == [STATE_PATH, ADMIN_PATH, SETTINGS_PATH, STACK_PATH, SETTINGS_PATH, STACK_PATH]


def test_an_admin_stack_this_api_does_not_hold_still_only_skips_the_environment_check(token_for: FakeCloud) -> None:
    del token_for.routes[ADMIN_PATH]

    recording, error, _ = preview(deployments=[], environments=[{"project": "aws", "name": "dev"}])

    assert error is None
    assert recording.of_type("pulumiservice:index:Environment")
    assert token_for.paths() == [STATE_PATH, ADMIN_PATH]
    assert any(w.startswith("not guarded: this admin stack's last update") for w in recording.warnings)


# --- 6. Pulumi Cloud's failure is not "invalid config" ----------------------------------------------------


def test_a_failure_to_reach_pulumi_cloud_is_not_reported_as_invalid_config(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = cloud_server.closed_port_url()
    monkeypatch.setenv("PULUMI_ACCESS_TOKEN", TOKEN)
    monkeypatch.setenv("PULUMI_BACKEND_URL", url)
    monkeypatch.setattr(cloud, "BACKOFF_SECONDS", (0.01, 0.02))

    recording, error, _ = preview()

    assert error is not None
    assert error.startswith(f"pulumi cloud: GET {url}{STATE_PATH}: cannot reach Pulumi Cloud (")
    assert "invalid config" not in error
    assert error.endswith("; nothing was declared")
    assert recording.resources == []


# --- the deadline's setting -------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["soon", "0", "-5", "nan", "inf", "7200"])
def test_a_wrong_timeout_variable_is_a_clear_error(
    token_for: FakeCloud, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    monkeypatch.setenv(cloud.TIMEOUT_VARIABLE, value)

    _, error, _ = preview()
    code, _, err, _ = pull(capsys)

    expected = f"{cloud.TIMEOUT_VARIABLE} is {value!r}: expected a number of seconds above 0 and at most 3600"
    assert error is not None
    assert error.startswith(f"pulumi cloud: {expected}")
    assert (code, err) == (2, f"error: {expected}, e.g. 60\n")
    assert token_for.requests == []


def test_settings_pull_timeout_option_sets_the_deadline(
    token_for: FakeCloud, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(cloud.TIMEOUT_VARIABLE, "30")
    token_for.routes[SETTINGS_PATH] = cloud_server.hang()

    code, _, err, elapsed = pull(capsys, "--timeout", "0.5")

    assert code == 1
    assert "no complete answer within 0.5 s (--timeout)" in err
    assert elapsed < ENDS_WITHIN

    with pytest.raises(SystemExit) as raised:
        cli.main(["settings", "pull", "acme/infra/prod", "--timeout", "never"])
    assert raised.value.code == 2
    assert "--timeout: 'never': expected a number of seconds" in capsys.readouterr().err


@pytest.mark.parametrize("status", [404, 500, 401])
def test_settings_pull_names_only_the_keys_it_reads_in_its_hints(
    token_for: FakeCloud, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, status: int
) -> None:
    # settings pull reads no stack's config: pulumiservice:apiUrl and pulumiservice:accessToken mean nothing to it.
    monkeypatch.setattr(cloud, "BACKOFF_SECONDS", (0.01, 0.02))
    token_for.status = status
    token_for.routes.clear()

    code, out, err, _ = pull(capsys)

    assert (code, out) == (1, "")
    assert "pulumiservice:" not in err
    if status != 500:  # a failure of the service itself names no key
        assert "PULUMI_BACKEND_URL" in err or "PULUMI_ACCESS_TOKEN" in err
