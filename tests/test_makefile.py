"""The Makefile checks the interpreter before anything else, and rebuilds a virtualenv another one built.

Every run is ``make -n`` in a scratch copy of the Makefile and the requirements files: make prints
the recipes it would run and runs none, so nothing is installed and nothing reaches the network.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PROJECT_DIR

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")

FILES = ("Makefile", "requirements.txt", "requirements-dev.txt", "requirements-min.txt")


def interpreter(folder: Path, version: tuple[int, int, int] | None = None) -> Path:
    """A ``python3`` in ``folder`` that runs this interpreter, reporting ``version`` as sys.version_info."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "python3"
    if version is None:
        script.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n', encoding="utf-8")
    else:
        major, minor, micro = version
        override = f"import sys; sys.version_info = ({major}, {minor}, {micro}, 'final', 0); exec(sys.argv[1])"
        script.write_text(
            f'#!/bin/sh\n[ "$1" = -c ] || exit 99\nexec "{sys.executable}" -c "{override}" "$2"\n',
            encoding="utf-8",
        )
    script.chmod(0o755)
    return script


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A scratch folder with the Makefile and the requirements files, their dates in the past."""
    folder = tmp_path / "project"
    folder.mkdir()
    for name in FILES:
        shutil.copyfile(PROJECT_DIR / name, folder / name)
        os.utime(folder / name, (1_000_000_000, 1_000_000_000))
    return folder


def dry_run(project: Path, *args: str, path: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``make -n ARGS`` in ``project``, with ``path`` first on PATH."""
    env = {**os.environ, "PATH": f"{path}{os.pathsep}{os.environ['PATH']}" if path else os.environ["PATH"]}
    for variable in ("PYTHON", "MAKEFLAGS", "MFLAGS", "MAKELEVEL"):  # as when run by `make test`
        env.pop(variable, None)
    return subprocess.run(
        ["make", "-n", "--no-print-directory", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def built_venv(project: Path, venv: str, stamp: str) -> None:
    """A virtualenv in ``project`` as ``make`` leaves it, built by the interpreter ``stamp`` names."""
    (project / venv / "bin").mkdir(parents=True)
    (project / venv / ".python").write_text(f"{stamp}\n", encoding="utf-8")
    (project / venv / ".installed").touch()


def the_stamp(output: str, venv: str) -> str:
    """What the dry run would write into ``<venv>/.python``."""
    match = re.search(rf"^echo '(.+)' > {re.escape(venv)}/\.python$", output, re.MULTILINE)
    assert match, output
    return match.group(1)


@pytest.mark.parametrize("goal", ["test", "plan", "test-min", "docs"])
def test_a_python_before_3_11_on_path_fails_at_once_with_one_line(project: Path, tmp_path: Path, goal: str) -> None:
    interpreter(tmp_path / "bin", (3, 10, 12))

    result = dry_run(project, goal, path=tmp_path / "bin")

    assert result.returncode != 0
    assert result.stdout == ""  # nothing would run: no virtualenv, no install
    [line] = result.stderr.splitlines()
    assert "python3 is Python 3.10.12 at " in line
    assert "this project needs Python 3.11 or later" in line
    assert f"pass another interpreter, e.g. make {goal} PYTHON=python3.12" in line


def test_the_default_goal_is_checked_too(project: Path, tmp_path: Path) -> None:
    interpreter(tmp_path / "bin", (3, 10, 12))

    [line] = dry_run(project, path=tmp_path / "bin").stderr.splitlines()

    assert "Python 3.10.12" in line
    assert "make plan PYTHON=python3.12" in line


def test_the_interpreter_given_as_python_is_the_one_checked(project: Path, tmp_path: Path) -> None:
    old = interpreter(tmp_path / "old", (3, 9, 18))
    interpreter(tmp_path / "bin")  # a good python3 on PATH changes nothing

    result = dry_run(project, "test", f"PYTHON={old}", path=tmp_path / "bin")

    assert result.returncode != 0
    [line] = result.stderr.splitlines()
    assert (
        f"{old} is Python 3.9.18 at {os.path.realpath(sys.executable)}: this project needs Python 3.11 or later" in line
    )


def test_an_interpreter_that_cannot_run_is_named(project: Path) -> None:
    result = dry_run(project, "test", "PYTHON=python3.99-none")

    assert result.returncode != 0
    [line] = result.stderr.splitlines()
    assert "python3.99-none cannot be run as Python: this project needs Python 3.11 or later" in line
    assert "make test PYTHON=python3.12" in line


def test_clean_needs_no_interpreter(project: Path) -> None:
    result = dry_run(project, "clean", "PYTHON=python3.99-none")

    assert result.returncode == 0, result.stderr
    assert "rm -rf .venv .venv-min" in result.stdout


def test_a_good_interpreter_builds_the_venv_and_records_itself(project: Path, tmp_path: Path) -> None:
    interpreter(tmp_path / "bin")

    result = dry_run(project, "test", path=tmp_path / "bin")

    assert result.returncode == 0, result.stderr
    version = ".".join(str(part) for part in sys.version_info[:3])
    assert the_stamp(result.stdout, ".venv").startswith(f"{version} /")
    assert "python3 -m venv .venv" in result.stdout
    assert ".venv/bin/python -m pytest" in result.stdout


@pytest.mark.parametrize(("goal", "venv"), [("test", ".venv"), ("test-min", ".venv-min")])
def test_a_venv_of_the_same_interpreter_is_reused(project: Path, tmp_path: Path, goal: str, venv: str) -> None:
    interpreter(tmp_path / "bin")
    built_venv(project, venv, the_stamp(dry_run(project, goal, path=tmp_path / "bin").stdout, venv))

    result = dry_run(project, goal, path=tmp_path / "bin")

    assert result.returncode == 0, result.stderr
    assert f"rm -rf {venv}" not in result.stdout
    assert "-m venv" not in result.stdout
    assert "pip install" not in result.stdout


@pytest.mark.parametrize(("goal", "venv"), [("test", ".venv"), ("test-min", ".venv-min")])
@pytest.mark.parametrize("stamp", ["3.10.12 /usr/bin/python3.10", None], ids=["other-interpreter", "no-record"])
def test_a_venv_of_another_interpreter_is_rebuilt(
    project: Path, tmp_path: Path, goal: str, venv: str, stamp: str | None
) -> None:
    interpreter(tmp_path / "bin")
    built_venv(project, venv, stamp or "")
    if stamp is None:
        (project / venv / ".python").unlink()  # a virtualenv of unknown origin

    result = dry_run(project, goal, path=tmp_path / "bin")

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    rebuild = [f"rm -rf {venv}", f"python3 -m venv {venv}"]
    assert lines[:2] == rebuild
    assert any(line.startswith(f"{venv}/bin/python -m pip install") for line in lines)


def test_two_names_of_one_interpreter_share_the_venv(project: Path, tmp_path: Path) -> None:
    interpreter(tmp_path / "bin")
    other_name = tmp_path / "elsewhere" / "python3.x"  # another path to the same interpreter
    other_name.parent.mkdir()
    other_name.symlink_to(os.path.realpath(sys.executable))
    built_venv(project, ".venv", the_stamp(dry_run(project, "test", path=tmp_path / "bin").stdout, ".venv"))

    result = dry_run(project, "test", f"PYTHON={other_name}", path=tmp_path / "bin")

    assert result.returncode == 0, result.stderr
    assert "-m venv" not in result.stdout
