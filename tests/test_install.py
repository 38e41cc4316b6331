"""The component is an installable package: ``pip install .`` gives ``from oidc.package import PulumiCloudOidc``.

The wheel is built from a copy of what the package is made of, with the build backend of this
virtualenv (no build isolation, no index: nothing reaches the network), installed into a fresh
virtualenv that sees this one's dependencies through a ``.pth`` file, and used by a program that
runs outside the repository.
"""

from __future__ import annotations

import ast
import email
import functools
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from oidc import package
from tests.conftest import PROJECT_DIR

PYPROJECT = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text(encoding="utf-8"))
PROJECT = PYPROJECT["project"]


def requirement_lines(name: str) -> list[str]:
    lines = (PROJECT_DIR / name).read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


@functools.cache
def imports() -> dict[str, frozenset[str]]:
    """What each module of ``oidc`` imports anywhere (at the top or inside a function), by its dotted name below
    ``oidc`` (``cli.explain``, ``cloud``)."""
    found = {}
    for path in (PROJECT_DIR / "oidc").rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.update([node.module, *(f"{node.module}.{a.name}" for a in node.names)])
        parts = path.relative_to(PROJECT_DIR / "oidc").with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = frozenset(names)
    return found


def modules_importing(name: str) -> set[str]:
    """The modules of ``oidc`` that import ``name`` or one of its modules."""
    return {module for module, names in imports().items() if any(n == name or n.startswith(f"{name}.") for n in names)}


def test_the_dependencies_are_requirements_txt_split_into_the_components_and_the_cli_extra() -> None:
    assert sorted(PROJECT["dependencies"] + PROJECT["optional-dependencies"]["cli"]) == sorted(
        requirement_lines("requirements.txt")
    )
    assert PROJECT["optional-dependencies"] == {"cli": ["PyJWT>=2.8,<3"]}
    assert PROJECT["requires-python"] == ">=3.11"


def tools(modules: set[str]) -> set[str]:
    """Those of ``modules`` that are the command line's (``oidc.cli`` and below)."""
    return {module for module in modules if module == "cli" or module.startswith("cli.")}


def test_the_cli_extra_holds_what_only_the_command_line_imports() -> None:
    assert modules_importing("jwt") == {"cli.explain"}
    importing_cli = modules_importing("oidc.cli")
    assert importing_cli - tools(importing_cli) == {"__main__"}, "the component's modules never import the tools"
    for module in ("yaml", "pulumi", "pulumi_aws", "pulumi_tls", "pulumi_pulumiservice"):
        users = modules_importing(module)
        assert users - tools(users), f"{module} is a dependency of the component"


def test_the_version_is_the_one_the_package_reports() -> None:
    assert PROJECT["dynamic"] == ["version"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "oidc.package.PACKAGE_VERSION"}


def _why_no_build() -> str | None:
    """Why a wheel cannot be built and installed offline here, or ``None``."""
    try:
        setuptools = importlib.metadata.version("setuptools")
    except importlib.metadata.PackageNotFoundError:
        return "setuptools is not installed in this virtualenv (requirements-dev.txt): no build backend offline"
    if int(setuptools.split(".")[0]) < 77:
        return f"setuptools {setuptools} is older than the build-system requires (77)"
    pip = importlib.metadata.version("pip")
    if tuple(int(part) for part in pip.split(".")[:2]) < (22, 3):
        return f"pip {pip} cannot install into another interpreter (--python needs pip 22.3)"
    return None


PROGRAM = """
import importlib.metadata
import json
import sys
from pathlib import Path

import oidc
from oidc.cli import offline
from oidc.package import PulumiCloudOidc

args = {"organization": "acme", "deployments": [{"project": "infra", "stack": "prod"}]}
recording = offline.run_program(lambda: PulumiCloudOidc("pulumi-cloud", args), {})
distribution = importlib.metadata.distribution("pulumi-aws-oidc")
print(json.dumps({
    "oidc": str(Path(oidc.__file__).resolve()),
    "types": sorted({resource.type for resource in recording.resources}),
    "version": distribution.version,
    "requires": distribution.requires,
    "typed": Path(oidc.__file__).with_name("py.typed").is_file(),
}))
"""


def run(*command: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key not in {"PYTHONPATH", "PIP_REQUIRE_VIRTUALENV"}}
    result = subprocess.run(
        [str(part) for part in command], cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"
    return result


def test_the_wheel_installs_and_gives_the_component_to_a_program_outside_the_repository(tmp_path: Path) -> None:
    why = _why_no_build()
    if why:
        pytest.skip(why)
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copyfile(PROJECT_DIR / name, source / name)
    shutil.copytree(PROJECT_DIR / "oidc", source / "oidc", ignore=shutil.ignore_patterns("__pycache__"))
    wheels = tmp_path / "wheels"
    pip = (sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input")
    run(*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "--wheel-dir", wheels, source, cwd=tmp_path)
    [wheel] = wheels.glob("pulumi_aws_oidc-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        packages = {name.split("/")[0] for name in archive.namelist() if not name.startswith("pulumi_aws_oidc-")}
    assert packages == {"oidc"}, "the wheel holds the oidc package and nothing else"

    target = tmp_path / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", target, cwd=tmp_path)
    python = target / "bin" / "python"
    run(*pip, "--python", python, "install", "--no-deps", "--no-index", wheel, cwd=tmp_path)
    # The dependencies are this virtualenv's: the new one reads them after its own site-packages.
    purelib = run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", cwd=tmp_path).stdout.strip()
    (Path(purelib) / "dependencies-of-the-test.pth").write_text(sysconfig.get_path("purelib") + "\n", encoding="utf-8")

    elsewhere = tmp_path / "program"
    elsewhere.mkdir()
    (elsewhere / "program.py").write_text(textwrap.dedent(PROGRAM), encoding="utf-8")
    report: dict[str, Any] = json.loads(run(python, "program.py", cwd=elsewhere).stdout)

    assert Path(report["oidc"]).is_relative_to(target), "oidc comes from the installed wheel, not the repository"
    assert "aws:iam/role:Role" in report["types"]
    assert "pulumiservice:index:DeploymentSettings" in report["types"]
    assert Version(report["version"]) == Version(package.PACKAGE_VERSION)
    expected = [*PROJECT["dependencies"], *(f'{r}; extra == "cli"' for r in PROJECT["optional-dependencies"]["cli"])]
    assert sorted(map(Requirement, report["requires"]), key=str) == sorted(map(Requirement, expected), key=str)
    assert report["typed"], "py.typed ships, so type checkers read the package's argument types"
    metadata = email.message_from_string(
        zipfile.ZipFile(wheel).read(f"pulumi_aws_oidc-{report['version']}.dist-info/METADATA").decode()
    )
    assert (metadata["Name"], metadata["Requires-Python"], metadata["License-Expression"]) == (
        "pulumi-aws-oidc",
        ">=3.11",
        "Apache-2.0",
    )
