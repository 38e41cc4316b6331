"""The README's "Config reference" and "Outputs" tables, generated from one source.

- Top-level keys: their declarations in ``Pulumi.yaml`` (``type``, ``default``, ``description``),
  which are also what the Pulumi CLI checks and applies.
- Nested keys (``oidcProvider.arn``, ``deployments[].stack``, ...): :data:`NESTED` below, which
  Pulumi's project config cannot express (it types no objects).
- Stack outputs: :data:`OUTPUTS` below.

``python -m oidc.docs`` (``make docs``) rewrites the tables between their markers in README.md;
``--check`` only reports whether they are up to date. The tests check that the documented keys
are exactly those the loader accepts and the outputs exactly those ``__main__.py`` exports.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from oidc import claims
from oidc.durations import MAX_SESSION_SECONDS, MIN_ROLE_MAX_SECONDS, format_duration
from oidc.settings import (
    DEFAULT_DURATION,
    DEFAULT_ESC_SESSION_NAME,
    MAX_ROLE_POLICIES,
    MAX_SESSION_POLICIES,
    MAX_THUMBPRINTS,
)

PROJECT_DIR = Path(__file__).resolve().parent.parent

CONFIG_MARKERS = ("<!-- config-reference:start -->", "<!-- config-reference:end -->")
OUTPUTS_MARKERS = ("<!-- outputs:start -->", "<!-- outputs:end -->")
CONFIG_SOURCES = "Pulumi.yaml (top-level keys) and oidc/docs.py (nested keys)"
OUTPUTS_SOURCES = "oidc/docs.py"


class DocsError(Exception):
    """The sources of the tables are incomplete, or README.md lacks a table's markers."""


@dataclass(frozen=True)
class NestedKey:
    """One key inside a top-level object, or inside each item of a top-level list."""

    key: str
    type: str
    default: str
    """As shown: ``required``, ``none``, a phrase, or a value in backticks."""
    meaning: str
    keys: tuple[str, ...] = ()
    """The keys of this key's own object value, which ``meaning`` describes in one row."""


_ONE_HOUR = f"`{DEFAULT_DURATION}`"
_SESSION_POLICIES = NestedKey(
    "policyArns", "list of ARNs", "`[]`", f"session policies (at most {MAX_SESSION_POLICIES})"
)

NESTED: Mapping[str, tuple[NestedKey, ...]] = {
    "oidcProvider": (
        NestedKey("arn", "string", "none", "reuse this existing provider and create none"),
        NestedKey(
            "thumbprints",
            '`"auto"` or list',
            '`"auto"`',
            "`auto`: SHA-1 of the issuer's top intermediate CA, from pulumi-tls; a list of up to "
            f"{MAX_THUMBPRINTS} hex SHA-1 values; `[]` for none (AWS then relies on its own trusted CAs)",
        ),
        NestedKey(
            "audiences",
            "list of strings",
            "`[]`",
            "extra client IDs besides `<org>` and `aws:<org>` (e.g. other organizations)",
        ),
        NestedKey("protect", "bool", "`true`", "protect the created provider from `pulumi destroy`"),
    ),
    "role": (
        NestedKey("name", "string", "auto-named", "IAM role name (1-64 of letters, digits and `_+=,.@-`)"),
        NestedKey("path", "string", "`/`", "IAM path"),
        NestedKey("description", "string", "`Assumed by Pulumi Cloud for <org> through OIDC`", "role description"),
        NestedKey(
            "policyArns",
            "list of ARNs",
            "`[arn:<partition>:iam::aws:policy/ReadOnlyAccess]`",
            f"managed policies attached to the role: at most {MAX_ROLE_POLICIES}, and AWS's default quota is 10 "
            'per role (raise "Managed policies per role" in Service Quotas for more)',
        ),
        NestedKey("permissionsBoundary", "ARN", "none", "permissions boundary"),
        NestedKey(
            "maxSessionDuration",
            "duration",
            _ONE_HOUR,
            f"the role's maximum session, {format_duration(MIN_ROLE_MAX_SECONDS)} to "
            f"{format_duration(MAX_SESSION_SECONDS)}; every `duration` below must fit in it",
        ),
        NestedKey("tags", "map", "`{}`", "role tags"),
    ),
    "deployments[]": (
        NestedKey(
            "project",
            "string",
            "required",
            "project name; `*`/`?` patterns allowed (they trust, but manage no settings)",
        ),
        NestedKey("stack", "string", "required", "stack name; patterns allowed as for `project`"),
        NestedKey(
            "operations",
            "list",
            "all, as one pattern",
            "any of " + ", ".join(f"`{operation}`" for operation in claims.OPERATIONS),
        ),
        NestedKey(
            "manageSettings",
            "bool",
            "`true` for a concrete stack",
            "declare the stack's `DeploymentSettings`; `false` only trusts it",
        ),
        NestedKey(
            "sessionName",
            "string",
            "`pulumi-deploy-<project>-<stack>`",
            "STS session name (2-64 of letters, digits and `_+=,.@-`; `${...}` placeholders allowed)",
        ),
        NestedKey("duration", "duration", _ONE_HOUR, "session duration"),
        _SESSION_POLICIES,
        NestedKey(
            "source",
            "object",
            "none",
            "`repoUrl`, `branch` (both required) and `repoDir`: the settings' git source",
            keys=("repoUrl", "branch", "repoDir"),
        ),
    ),
    "environments[]": (
        NestedKey("project", "string", "required", "ESC project (no pattern: it decides the audience)"),
        NestedKey(
            "name",
            "string",
            "required",
            "environment name (letters, digits, `-`, `_`, `.`); a `*`/`?` pattern trusts matching environments "
            "that set `subjectAttributes: [currentEnvironment.name]` themselves, and creates none",
        ),
        NestedKey("sessionName", "string", f"`{DEFAULT_ESC_SESSION_NAME}`", "STS session name"),
        NestedKey("duration", "duration", _ONE_HOUR, "session duration"),
        _SESSION_POLICIES,
        NestedKey("region", "string", "none", "adds `AWS_REGION` and `pulumiConfig: aws:region` to the environment"),
    ),
}
"""Nested keys by the top-level key holding them; a ``[]`` suffix marks a list of objects."""

OUTPUTS: tuple[tuple[str, str], ...] = (
    ("roleArn", "ARN of the role"),
    ("roleName", "name of the role"),
    ("oidcProviderArn", "ARN of the provider, created or reused"),
    (
        "audiences",
        "client IDs of the created provider; for a reused provider, the audiences the trust policy needs",
    ),
    ("trustPolicy", "the trust policy, as the compact JSON IAM stores"),
    ("deploymentStacks", "`org/project/stack` of every stack whose settings this stack manages"),
    ("environments", "`org/project/name` of every environment this stack creates"),
)
"""The stack outputs, in the order ``__main__.py`` exports them."""

_TYPE_NAMES = {"string": "string", "integer": "int", "boolean": "bool", "array": "list"}


# --- the project file ---------------------------------------------------------------------


def load_project(directory: Path = PROJECT_DIR) -> dict[str, Any]:
    """``Pulumi.yaml`` of ``directory`` as data."""
    path = directory / "Pulumi.yaml"
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(document, dict) or not isinstance(document.get("name"), str):
        raise DocsError(f"{path} has no project name")
    return document


def project_declarations(project: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The ``config:`` declarations of the project's own namespace, by unqualified key, in file order.

    A short-hand value (``key: value``) declares a default, as Pulumi reads it; keys of other
    namespaces (``aws:region``) only set values and are left out.
    """
    prefix = f"{project['name']}:"
    declarations: dict[str, dict[str, Any]] = {}
    for key, declared in (project.get("config") or {}).items():
        name = key.removeprefix(prefix)
        if ":" in name:
            continue
        declarations[name] = dict(declared) if isinstance(declared, dict) else {"default": declared}
    return declarations


def template_prompts(project: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The config ``pulumi new`` asks for, by key as written in ``template.config``."""
    template = project.get("template") or {}
    return {key: dict(prompt or {}) for key, prompt in (template.get("config") or {}).items()}


def nested_paths() -> list[str]:
    """Every documented nested key path, as the loader names them, with ``[]`` for a list item."""
    paths = []
    for holder, keys in NESTED.items():
        for nested in keys:
            paths.append(f"{holder}.{nested.key}")
            paths.extend(f"{holder}.{nested.key}.{key}" for key in nested.keys)
    return paths


# --- rendering ----------------------------------------------------------------------------


def _cell(text: str) -> str:
    if "\n" in text:
        raise DocsError(f"a table cell cannot hold a line break: {text!r}")
    return text.replace("|", "\\|")


def _row(*cells: str) -> str:
    return "| " + " | ".join(_cell(cell) for cell in cells) + " |"


def _type(key: str, declared: Mapping[str, Any]) -> str:
    if "type" in declared:
        name = _TYPE_NAMES.get(declared["type"])
        if name is None:
            raise DocsError(f"Pulumi.yaml: config {key}: unknown type {declared['type']!r}")
        if declared["type"] == "array":
            items = (declared.get("items") or {}).get("type")
            return f"list of {_TYPE_NAMES.get(items, items)}s" if items else name
        return name
    default = declared.get("default")
    if isinstance(default, list):
        return "list"
    if isinstance(default, dict):
        return "object"
    raise DocsError(f"Pulumi.yaml: config {key}: declare a type, or a default that shows it")


def _default(declared: Mapping[str, Any]) -> str:
    if "default" not in declared:
        return "required"
    default = declared["default"]
    return f"`{default if isinstance(default, str) else json.dumps(default)}`"


def config_table(project: Mapping[str, Any]) -> str:
    """The "Config reference" table: each declared key, followed by its nested keys."""
    declarations = project_declarations(project)
    holders = {holder.removesuffix("[]"): holder for holder in NESTED}
    missing = sorted(set(holders) - set(declarations))
    if missing:
        raise DocsError(f"nested keys are documented for keys Pulumi.yaml does not declare: {', '.join(missing)}")
    lines = [_row("key", "type", "default", "meaning"), "|---|---|---|---|"]
    for key, declared in declarations.items():
        description = declared.get("description")
        if not isinstance(description, str) or not description:
            raise DocsError(f"Pulumi.yaml: config {key} has no description")
        holder = holders.get(key)
        if holder is not None and holder.endswith("[]") != isinstance(declared.get("default"), list):
            shape = "a list" if holder.endswith("[]") else "an object"
            raise DocsError(f"Pulumi.yaml: config {key}: documented as {holder}, so its default must be {shape}")
        meaning = f"{description}:" if holder else description
        lines.append(_row(f"`{key}`", _type(key, declared), _default(declared), meaning))
        for nested in NESTED.get(holder or "", ()):
            lines.append(_row(f"`{holder}.{nested.key}`", nested.type, nested.default, nested.meaning))
    return "\n".join(lines) + "\n"


def outputs_table() -> str:
    """The "Outputs" table."""
    lines = [_row("output", "meaning"), "|---|---|"]
    lines += [_row(f"`{name}`", meaning) for name, meaning in OUTPUTS]
    return "\n".join(lines) + "\n"


def _replace_between(text: str, markers: tuple[str, str], table: str, sources: str) -> str:
    start, end = markers
    if text.count(start) != 1 or text.count(end) != 1 or text.index(start) > text.index(end):
        raise DocsError(f"README.md needs one {start} line followed by one {end} line")
    before, rest = text.split(start)
    _, after = rest.split(end)
    note = f"<!-- Generated by `make docs` from {sources}; change the source, not this table. -->"
    return f"{before}{start}\n{note}\n\n{table}\n{end}{after}"


def render_readme(readme: str, project: Mapping[str, Any]) -> str:
    """``readme`` with both generated tables replaced by what the sources say now."""
    readme = _replace_between(readme, CONFIG_MARKERS, config_table(project), CONFIG_SOURCES)
    return _replace_between(readme, OUTPUTS_MARKERS, outputs_table(), OUTPUTS_SOURCES)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m oidc.docs",
        description="Regenerate README.md's config reference and outputs tables from Pulumi.yaml and oidc/docs.py.",
    )
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if README.md is out of date")
    parser.add_argument("--cwd", type=Path, default=PROJECT_DIR, help="the project folder (default: this project)")
    args = parser.parse_args(argv)
    readme_path = args.cwd / "README.md"
    try:
        readme = readme_path.read_text(encoding="utf-8")
        rendered = render_readme(readme, load_project(args.cwd))
    except (DocsError, OSError, yaml.YAMLError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if rendered == readme:
        print(f"{readme_path}: up to date")
        return 0
    if args.check:
        print(f"{readme_path}: out of date; run `make docs`", file=sys.stderr)
        return 1
    readme_path.write_text(rendered, encoding="utf-8")
    print(f"{readme_path}: tables regenerated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
