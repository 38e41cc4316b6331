"""mypy follows the modules of pulumi_aws that oidc uses, and no other (pyproject.toml says why).

A name of pulumi_aws that oidc uses from a module mypy skips would be typed ``Any``: a wrong argument to it would
pass ``make types``. This test resolves every ``aws.<name>`` (and ``aws.<module>.<name>``) that a module of oidc
uses to the module defining it and fails when mypy is told to skip that module.
"""

from __future__ import annotations

import ast
import fnmatch
import tomllib
import types

import pulumi_aws

from tests.conftest import PROJECT_DIR
from tests.source_names import attribute_chains


def _modules(follow_imports: str) -> list[str]:
    """The module patterns of pyproject.toml's mypy overrides with this ``follow_imports``."""
    overrides = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text())["tool"]["mypy"]["overrides"]
    return [m for o in overrides if o.get("follow_imports") == follow_imports for m in o["module"]]


def _matches(module: str, patterns: list[str]) -> bool:
    """Whether mypy's module pattern list names ``module`` (``a.*`` names ``a`` and every module under it)."""
    return any(
        module == pattern or (pattern.endswith(".*") and fnmatch.fnmatch(module + ".", pattern[:-1] + "*"))
        for pattern in patterns
    )


def uses_of_pulumi_aws(source: str) -> set[tuple[str, ...]]:
    """The attribute paths (``("iam", "Role")``) ``source`` reaches through an import of pulumi_aws."""
    tree = ast.parse(source)
    aliases = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
        if alias.name == "pulumi_aws"
    }
    return {chain for name, chain in attribute_chains(tree) if name in aliases}


def defining_module(path: tuple[str, ...]) -> str:
    """The module that defines what ``pulumi_aws.<path>`` names (a module names itself)."""
    value: object = pulumi_aws
    for part in path:
        if isinstance(value, types.ModuleType):
            value = getattr(value, part)
        else:
            break
    if isinstance(value, types.ModuleType):
        return value.__name__
    return str(getattr(value, "__module__", ""))


def test_mypy_follows_every_module_of_pulumi_aws_that_oidc_uses() -> None:
    followed = _modules("normal")
    uses = {
        path
        for module in sorted((PROJECT_DIR / "oidc").rglob("*.py"))
        for path in uses_of_pulumi_aws(module.read_text(encoding="utf-8"))
    }
    assert uses, "oidc uses pulumi_aws"

    not_followed = {".".join(path): defining_module(path) for path in uses}
    not_followed = {name: module for name, module in not_followed.items() if not _matches(module, followed)}

    assert not_followed == {}


def test_mypy_skips_pulumi_aws_but_for_what_it_follows() -> None:
    assert _matches("pulumi_aws.sqs.queue", _modules("skip"))
    assert not _matches("pulumi_aws.sqs.queue", _modules("normal"))
    assert _matches("pulumi_aws.iam.role", _modules("normal"))
    assert not _matches("pulumi_aws.iamx", _modules("normal"))


def test_the_check_resolves_a_use_to_its_defining_module() -> None:
    uses = uses_of_pulumi_aws("import pulumi_aws as aws\naws.sqs.Queue('q')\naws.Provider('p')\n")

    assert {".".join(path): defining_module(path) for path in uses} == {
        "sqs.Queue": "pulumi_aws.sqs.queue",
        "Provider": "pulumi_aws.provider",
    }
