"""Hostile stack files end in one line, exit 1, within seconds and little memory.

``python -m oidc plan`` (and ``explain``, which exits 2) reads ``Pulumi.yaml`` and ``Pulumi.<stack>.yaml``
with :mod:`oidc.stack_files`. Each test feeds one hostile file and checks the one line that names it and
what is wrong. Time limits are generous (measured figures are in the comments); the point is that each
ends. The reader's checks run with libyaml's parser and with PyYAML's own, which PyYAML falls back to
where it was built without libyaml.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from oidc import cli
from oidc.cli import docs, stack_files
from tests.conftest import PROJECT_DIR

VALID = (
    "config:\n  pulumi-aws-oidc:organization: acme\n  pulumi-aws-oidc:deployments: [{project: infra, stack: prod}]\n"
)
SECONDS = 10
"""Every hostile file here is refused in well under a second (about 0.05 s at most, measured)."""


@pytest.fixture(params=["libyaml", "python"])
def parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each test runs with libyaml's parser, and with PyYAML's own (where PyYAML has no libyaml)."""
    if request.param == "python":
        monkeypatch.setattr(stack_files, "_LibyamlParser", None)
    elif stack_files._LibyamlParser is None:
        pytest.skip("PyYAML is built without libyaml here")
    return str(request.param)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(PROJECT_DIR / name, tmp_path / name)
    return tmp_path


def refused(capsys: pytest.CaptureFixture[str], project: Path, *command: str) -> tuple[int, str, float]:
    """Run ``plan`` (or ``command``) on stack ``hostile``: the exit code, the one line said, and the time."""
    start = time.perf_counter()
    code = cli.main([*(command or ("plan",)), "--stack", "hostile", "--cwd", str(project)])
    elapsed = time.perf_counter() - start
    out, err = capsys.readouterr()
    assert out == ""
    assert err.endswith("\n")
    assert err.count("\n") == 1, err
    assert "Traceback" not in err
    return code, err.rstrip("\n"), elapsed


def hostile(project: Path, content: bytes | str) -> Path:
    path = project / "Pulumi.hostile.yaml"
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def test_a_binary_stack_file_is_refused_as_binary(
    capsys: pytest.CaptureFixture[str], project: Path, parser: str
) -> None:
    path = hostile(project, bytes(range(1, 256)) * 16 + b"\x00\x01\x02")

    code, line, elapsed = refused(capsys, project)

    assert (code, line) == (1, f"error: {path}: a binary file, not YAML text (a NUL byte at offset 4080)")
    assert elapsed < SECONDS


def test_a_latin_1_stack_file_is_refused_naming_the_byte_and_its_line(
    capsys: pytest.CaptureFixture[str], project: Path, parser: str
) -> None:
    path = hostile(project, (VALID + "  aws:profile: Zoë\n").encode("latin-1"))

    code, line, elapsed = refused(capsys, project)

    offset = len(VALID) + len("  aws:profile: Zo")
    assert code == 1
    assert line == (
        f"error: {path}: not UTF-8 text: byte 0xeb at offset {offset} (line 4) is invalid in UTF-8 (Latin-1 or "
        "Windows-1252 text?); save it as UTF-8"
    )
    assert elapsed < SECONDS


@pytest.mark.parametrize(
    ("encoding", "mark", "named"),
    [
        ("utf-16-le", b"\xff\xfe", "UTF-16 (little-endian)"),
        ("utf-16-be", b"\xfe\xff", "UTF-16 (big-endian)"),
        ("utf-32-le", b"\xff\xfe\x00\x00", "UTF-32 (little-endian)"),
        ("utf-32-be", b"\x00\x00\xfe\xff", "UTF-32 (big-endian)"),
    ],
)
def test_a_utf_16_or_32_stack_file_with_a_byte_order_mark_is_refused_naming_the_encoding(
    capsys: pytest.CaptureFixture[str], project: Path, encoding: str, mark: bytes, named: str
) -> None:
    # Windows PowerShell 5 writes UTF-16 with a byte order mark: `pulumi config get ... > Pulumi.dev.yaml`.
    path = hostile(project, mark + VALID.encode(encoding))

    code, line, elapsed = refused(capsys, project)

    assert code == 1
    assert line == (
        f"error: {path}: {named} text (it starts with that byte order mark); Pulumi stack files are UTF-8: save "
        "it as UTF-8"
    )
    assert elapsed < SECONDS


def test_a_utf_16_stack_file_without_a_byte_order_mark_is_refused_as_utf_16_not_binary(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    path = hostile(project, VALID.encode("utf-16-le"))

    code, line, _ = refused(capsys, project)

    assert code == 1
    assert line.startswith(f"error: {path}: UTF-16 text without a byte order mark (NUL bytes from offset 1); ")


def test_a_directory_named_as_the_stack_file_is_refused(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    path = project / "Pulumi.hostile.yaml"
    path.mkdir()

    code, line, elapsed = refused(capsys, project)

    assert (code, line) == (1, f"error: {path}: not a regular file (a directory); a stack file is YAML text")
    assert elapsed < SECONDS


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_a_fifo_named_as_the_stack_file_is_refused_without_waiting_for_a_writer(project: Path) -> None:
    path = project / "Pulumi.hostile.yaml"
    os.mkfifo(path)

    # In a process of its own: opened for reading without O_NONBLOCK, a FIFO waits for a writer forever.
    result = subprocess.run(
        [sys.executable, "-m", "oidc", "plan", "--stack", "hostile", "--cwd", str(project)],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"error: {path}: not a regular file (a FIFO); a stack file is YAML text\n"


def test_5000_levels_of_nesting_are_refused_as_too_deep_without_recursion(
    capsys: pytest.CaptureFixture[str], project: Path, parser: str
) -> None:
    path = hostile(project, VALID + "  aws:tags: " + "[" * 5000 + "]" * 5000 + "\n")

    code, line, elapsed = refused(capsys, project)

    assert code == 1
    assert line.startswith(f"error: {path}: lists and maps nested more than 64 deep at line 4, under config.aws:tags")
    assert line.endswith("; this program's config needs fewer than 15 levels")
    assert elapsed < SECONDS


def test_500_levels_of_indented_maps_are_refused_as_too_deep(
    capsys: pytest.CaptureFixture[str], project: Path, parser: str
) -> None:
    nested = "".join(f"{'  ' * (level + 2)}k{level}:\n" for level in range(500))
    path = hostile(project, VALID + "  aws:tags:\n" + nested)

    code, line, elapsed = refused(capsys, project)

    assert code == 1
    assert line.startswith(f"error: {path}: lists and maps nested more than 64 deep at line 67, under config.aws:")
    assert elapsed < SECONDS


def test_nesting_through_aliases_counts_as_nesting(
    capsys: pytest.CaptureFixture[str], project: Path, parser: str
) -> None:
    # Each anchor is 40 deep, well within the limit; used inside each other they are 80 deep.
    path = hostile(
        project,
        VALID + "  aws:a: &deep " + "[" * 40 + "]" * 40 + "\n  aws:b: " + "[" * 40 + "*deep" + "]" * 40 + "\n",
    )

    code, line, _ = refused(capsys, project)

    assert code == 1
    assert line.startswith(f"error: {path}: lists and maps nested more than 64 deep at line 5 through alias *deep")


def billion_laughs(levels: int) -> str:
    """The alias bomb: each level is 9 aliases of the one before, 9**levels strings in all."""
    lines = ['    a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    names = "abcdefghijklmnop"
    for level in range(1, levels):
        aliases = ", ".join([f"*{names[level - 1]}"] * 9)
        lines.append(f"    {names[level]}: &{names[level]} [{aliases}]")
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_under_another_namespaces_key_is_refused_without_being_expanded(
    capsys: pytest.CaptureFixture[str], project: Path, parser: str
) -> None:
    # 9**12 strings once expanded: more than any memory. The former reader printed 351 MB in 108 s for 9**8.
    path = hostile(project, VALID + "  other-project:laughs:\n" + billion_laughs(12))
    tracemalloc.start()
    try:
        code, line, elapsed = refused(capsys, project)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert code == 1
    assert line.startswith(f"error: {path}: document contains excessive aliasing (alias *c at line 8 makes ")
    assert line.endswith("which Pulumi's YAML reader (go-yaml) refuses too; write the values out, or repeat fewer")
    assert elapsed < SECONDS
    assert peak < 50 * 2**20  # measured about 1 MiB of Python allocations, in 25 ms


def test_a_50_mb_stack_file_is_refused_without_being_read(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    path = hostile(project, VALID + "  aws:tags:\n" + "    - a value of a very long list\n" * 1_600_000)
    size = path.stat().st_size
    assert size > 50_000_000
    tracemalloc.start()
    try:
        code, line, elapsed = refused(capsys, project)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert code == 1
    assert line == (
        f"error: {path}: {size:,} bytes, larger than the 1 MiB a stack file may be; stack files are small (1,000 "
        "entries take about 100 KB), so this is not one"
    )
    assert elapsed < SECONDS
    assert peak < 10 * 2**20  # not read: measured about 1 MiB of Python allocations (the CLI's own), in 30 ms


def test_duplicate_keys_are_an_error_naming_both_lines(
    capsys: pytest.CaptureFixture[str], project: Path, parser: str
) -> None:
    # The former reader kept the second readonly role and dropped the first without a word.
    path = hostile(
        project,
        """config:
  pulumi-aws-oidc:organization: acme
  pulumi-aws-oidc:roles:
    readonly:
      deployments: [{project: infra, stack: "*", operations: [preview]}]
    deploy:
      deployments: [{project: infra, stack: prod}]
    readonly:
      deployments: [{project: apps, stack: "*", operations: [preview]}]
""",
    )

    code, line, _ = refused(capsys, project)

    assert (code, line) == (1, f"error: {path}: config.pulumi-aws-oidc:roles.readonly: duplicate key, at lines 4 and 8")


def test_a_hostile_pulumi_yaml_is_refused_by_the_same_reader(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    hostile(project, VALID)
    (project / "Pulumi.yaml").write_text("name: pulumi-aws-oidc\nruntime: python\nname: other\n")

    code, line, _ = refused(capsys, project)

    assert (code, line) == (1, f"error: {project / 'Pulumi.yaml'}: name: duplicate key, at lines 1 and 3")


def test_a_directory_named_pulumi_yaml_is_refused_not_passed_over(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    hostile(project, VALID)
    inner = project / "inner"
    (inner / "Pulumi.yaml").mkdir(parents=True)

    code, err = cli.main(["plan", "--stack", "hostile", "--cwd", str(inner)]), capsys.readouterr().err

    assert code == 1
    assert err == f"error: {inner / 'Pulumi.yaml'}: not a regular file (a directory); a stack file is YAML text\n"


def test_explain_refuses_a_hostile_stack_file_in_the_same_line_with_exit_2(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    path = hostile(project, VALID + "  aws:tags: " + "[" * 5000 + "]" * 5000 + "\n")

    code, line, _ = refused(capsys, project, "explain", "--aud", "acme", "--sub", "x")

    assert code == cli.EXIT_USAGE == 2
    assert line.startswith(f"error: {path}: lists and maps nested more than 64 deep at line 4")


def test_make_docs_reads_pulumi_yaml_with_the_same_reader(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_bytes("name: pulumi-aws-oidc\ndescription: Zoë\n".encode("latin-1"))

    code = docs.main(["--check", "--cwd", str(tmp_path)])

    assert code == 2
    assert capsys.readouterr().err == (
        f"error: {tmp_path / 'Pulumi.yaml'}: not UTF-8 text: byte 0xeb at offset 37 (line 2) is invalid in UTF-8 "
        "(Latin-1 or Windows-1252 text?); save it as UTF-8\n"
    )


# --- what a stack file reads as ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "read"),
    [
        pytest.param("010", 10, id="010-is-decimal-ten-not-octal-eight"),
        pytest.param("1:20", "1:20", id="1:20-is-text-not-sexagesimal-80"),
        pytest.param("0o10", 8, id="0o10-is-octal"),
        pytest.param("0x1F", 31, id="0x1F-is-hexadecimal"),
        pytest.param("1_000", "1_000", id="1_000-is-text"),
        pytest.param("0b101", "0b101", id="0b101-is-text"),
        pytest.param("1e3", 1000, id="1e3-is-a-number"),
        pytest.param("2024-01-01", "2024-01-01", id="a-date-is-text"),
        pytest.param("yes", "yes", id="yes-is-text"),
        pytest.param("off", "off", id="off-is-text"),
        pytest.param("TRUE", True, id="TRUE-is-true"),
        pytest.param("~", None, id="tilde-is-null"),
        pytest.param('"010"', "010", id="quoted-010-is-text"),
    ],
)
def test_scalars_read_as_yaml_1_2_core_schema_reads_them(
    capsys: pytest.CaptureFixture[str], project: Path, parser: str, written: str, read: Any
) -> None:
    hostile(project, VALID + f"  other:value: [{written}]\n")

    code = cli.main(["plan", "--stack", "hostile", "--json", "--cwd", str(project)])

    assert code == 0
    assert json.loads(capsys.readouterr().out)["config"]["other:value"] == [read]


def test_anchors_and_merge_keys_within_go_yamls_limits_are_read(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(
        "base: &base {project: infra, operations: [preview, update]}\n"
        "entries:\n" + "".join(f"  - {{<<: *base, stack: s{n}}}\n" for n in range(300)) + "again: *base\n"
    )

    document = stack_files.load(path)

    assert document["entries"][299] == {"project": "infra", "operations": ["preview", "update"], "stack": "s299"}
    assert document["again"] is document["base"]


@pytest.mark.parametrize(
    ("decodes", "ratio"), [(1_000, 0.99), (400_000, 0.99), (2_200_000, 0.545), (4_000_000, 0.10), (9_000_000, 0.10)]
)
def test_the_allowed_alias_ratio_is_go_yamls(decodes: int, ratio: float) -> None:
    assert stack_files.allowed_alias_ratio(decodes) == pytest.approx(ratio)


def test_excessive_aliasing_is_go_yamls_test() -> None:
    assert not stack_files.excessive_aliasing(1_000, 999)  # no more than 1,000 decodes: never
    assert not stack_files.excessive_aliasing(100_000, 100)  # no more than 100 through aliases: never
    assert not stack_files.excessive_aliasing(100_000, 99_000)
    assert stack_files.excessive_aliasing(100_000, 99_001)
