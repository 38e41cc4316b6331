"""The README's "Config reference" and "Outputs" tables, generated from one source.

- Top-level keys: their declarations in ``Pulumi.yaml`` (``type``, ``default``, ``description``),
  which are also what the Pulumi CLI checks and applies.
- Nested keys (``oidcProvider.arn``, ``deployments[].stack``, ``roles.<key>.account``, ...):
  :data:`NESTED` below, which Pulumi's project config cannot express (it types no objects).
- Stack outputs of each form: :data:`OUTPUTS` below.

``python -m oidc.docs`` (``make docs``) rewrites the tables between their markers in README.md;
``--check`` only reports whether they are up to date. The tests check that the documented keys
are exactly those the loader accepts and the outputs exactly those ``__main__.py`` exports.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from oidc import claims
from oidc.durations import MAX_SESSION_SECONDS, MIN_ROLE_MAX_SECONDS, format_duration
from oidc.settings import (
    DEFAULT_DURATION,
    DEFAULT_ESC_SESSION_NAME,
    DEFAULT_TRUST_POLICY_MAX_CHARS,
    MAX_ROLE_POLICIES,
    MAX_SESSION_POLICIES,
    MAX_THUMBPRINTS,
    MAX_TRUST_POLICY_CHARS,
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
    like: str = ""
    """A holder of :data:`NESTED` whose keys this key's value takes (``oidcProvider``, ``deployments[]``), which
    ``meaning`` refers to instead of repeating them."""


_ONE_HOUR = f"`{DEFAULT_DURATION}`"
_SESSION_POLICIES = NestedKey(
    "policyArns", "list of ARNs", "`[]`", f"session policies (at most {MAX_SESSION_POLICIES})"
)

_ROLE_KEYS = (
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
)
"""The keys of a role: ``role`` in form A, each ``roles.<key>`` in form B."""

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
            "extra client IDs (e.g. other organizations) besides `<org>` and `aws:<org>` (in form B: besides the "
            "audiences the account's roles need)",
        ),
        NestedKey("protect", "bool", "`true`", "protect the created provider from `pulumi destroy`"),
    ),
    "role": _ROLE_KEYS,
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
    "accounts.<key>": (
        NestedKey(
            "id",
            "string",
            "the account of `assumeRole.roleArn`, else none",
            "12-digit AWS account ID (quote it in YAML); when given, the run fails unless the credentials reach it",
        ),
        NestedKey(
            "assumeRole",
            "object",
            "none",
            "`roleArn` (required), `sessionName` and `externalId`: the role this account's AWS provider assumes "
            "with the stack's credentials (e.g. `OrganizationAccountAccessRole`)",
            keys=("roleArn", "sessionName", "externalId"),
        ),
        NestedKey(
            "profile",
            "string",
            "none",
            "a named AWS profile for this account's AWS provider, instead of `assumeRole`; at most one account "
            "has neither, and it uses the stack's default AWS provider",
        ),
        NestedKey("region", "string", "the stack's `aws:region`", "region of this account's AWS provider"),
        NestedKey(
            "oidcProvider",
            "object",
            "`{}`",
            "the issuer's IAM OIDC provider in this account, with the keys of `oidcProvider`",
            like="oidcProvider",
        ),
        NestedKey(
            "trustPolicyMaxChars",
            "int",
            f"`{DEFAULT_TRUST_POLICY_MAX_CHARS}`",
            f'the account\'s IAM quota "Role trust policy length" (adjustable up to {MAX_TRUST_POLICY_CHARS})',
        ),
    ),
    "roles.<key>": (
        NestedKey(
            "account",
            "string",
            "required with `accounts`",
            "the key of the role's account in `accounts` (an error without `accounts`); role names are unique "
            "within an account",
        ),
        *_ROLE_KEYS,
        NestedKey(
            "deployments",
            "list",
            "`[]`",
            "Pulumi Deployments stacks the role trusts, one item each, with the keys of `deployments[]`",
            like="deployments[]",
        ),
        NestedKey(
            "environments",
            "list",
            "`[]`",
            "ESC environments the role trusts, one item each, with the keys of `environments[]`",
            like="environments[]",
        ),
    ),
}
"""Nested keys by the top-level key holding them: a ``[]`` suffix marks a list of objects, a ``.<key>`` suffix
a map of objects by key."""

FORMS: Mapping[str, str] = {"A": "A (no `roles`)", "B": "B (`roles`)"}
"""The two forms of the config (design sections 2 and 2b), as the outputs table names them."""

OUTPUTS: Mapping[str, tuple[tuple[str, str], ...]] = {
    "A": (
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
    ),
    "B": (
        (
            "roles",
            "map role key -> `arn`, `name`, `account` (its key of `accounts`, or `default` without `accounts`) and "
            "`trustPolicy` (the compact JSON IAM stores)",
        ),
        ("oidcProviders", "map account key -> ARN of the account's provider, created or reused"),
        ("deploymentStacks", "map `org/project/stack` -> key of the role that manages the stack's settings"),
        ("environments", "map `org/project/name` -> key of the role that creates the environment"),
    ),
}
"""The stack outputs of each form (a key of :data:`FORMS`), in the order ``__main__.py`` exports them."""

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


MAP_ENTRY = ".<key>"
"""The suffix of a holder that is a map of objects (``roles.<key>``), standing for any key of the map."""
LIST_ITEM = "[]"
"""The suffix of a holder that is a list of objects (``deployments[]``), standing for any item."""


def _top_level(holder: str) -> str:
    return holder.removesuffix(LIST_ITEM).removesuffix(MAP_ENTRY)


def _like_holder(nested: NestedKey) -> tuple[NestedKey, ...]:
    if nested.like not in NESTED:
        raise DocsError(
            f"nested key {nested.key} takes the keys of {nested.like!r}, which oidc/docs.py does not document"
        )
    return NESTED[nested.like]


def _walk(prefix: str, keys: Sequence[NestedKey]) -> Iterator[tuple[str, NestedKey]]:
    """Each key below ``prefix`` with its path, following ``like`` into the keys it refers to."""
    for nested in keys:
        path = f"{prefix}.{nested.key}"
        yield path, nested
        if nested.like:
            item = LIST_ITEM if nested.like.endswith(LIST_ITEM) else ""
            yield from _walk(f"{path}{item}", _like_holder(nested))


def nested_keys() -> list[tuple[str, NestedKey]]:
    """Every documented nested key with its path, ``[]`` standing for a list item and ``<key>`` for a map entry.

    Keys whose rows refer to another holder's keys (``roles.<key>.deployments``) are followed, so
    ``roles.<key>.deployments[].stack`` is a documented key too.
    """
    return [found for holder, keys in NESTED.items() for found in _walk(holder, keys)]


def nested_paths() -> list[str]:
    """Every documented nested key path (those of :func:`nested_keys`, and the keys of their object values)."""
    paths = []
    for path, nested in nested_keys():
        paths.append(path)
        paths.extend(f"{path}.{key}" for key in nested.keys)
    return paths


def nested_objects() -> list[tuple[str, list[str]]]:
    """Every documented object (a holder, a list item, a map entry, an object value) with its documented keys."""
    objects = [(holder, [nested.key for nested in keys]) for holder, keys in NESTED.items()]
    for path, nested in nested_keys():
        if nested.keys:
            objects.append((path, list(nested.keys)))
        if nested.like:
            item = LIST_ITEM if nested.like.endswith(LIST_ITEM) else ""
            objects.append((f"{path}{item}", [inner.key for inner in _like_holder(nested)]))
    return objects


# --- rendering ----------------------------------------------------------------------------


def _cell(text: str) -> str:
    if "\n" in text:
        raise DocsError(f"a table cell cannot hold a line break: {text!r}")
    return text.replace("|", "\\|")


def _row(*cells: str) -> str:
    return "| " + " | ".join(_cell(cell) for cell in cells) + " |"


def _type(key: str, declared: Mapping[str, Any], holder: str | None) -> str:
    if holder is not None and holder.endswith(MAP_ENTRY):
        return "map"
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
    holders = {_top_level(holder): holder for holder in NESTED}
    missing = sorted(set(holders) - set(declarations))
    if missing:
        raise DocsError(f"nested keys are documented for keys Pulumi.yaml does not declare: {', '.join(missing)}")
    lines = [_row("key", "type", "default", "meaning"), "|---|---|---|---|"]
    for key, declared in declarations.items():
        description = declared.get("description")
        if not isinstance(description, str) or not description:
            raise DocsError(f"Pulumi.yaml: config {key} has no description")
        holder = holders.get(key)
        if holder is not None and holder.endswith(LIST_ITEM) != isinstance(declared.get("default"), list):
            shape = "a list" if holder.endswith(LIST_ITEM) else "an object"
            raise DocsError(f"Pulumi.yaml: config {key}: documented as {holder}, so its default must be {shape}")
        meaning = f"{description}:" if holder else description
        lines.append(_row(f"`{key}`", _type(key, declared, holder), _default(declared), meaning))
        for nested in NESTED.get(holder or "", ()):
            if nested.like:
                _like_holder(nested)
            lines.append(_row(f"`{holder}.{nested.key}`", nested.type, nested.default, nested.meaning))
    return "\n".join(lines) + "\n"


def outputs_table() -> str:
    """The "Outputs" table: the outputs of each form, form by form."""
    if set(OUTPUTS) != set(FORMS):
        raise DocsError(f"outputs are documented for forms {sorted(OUTPUTS)}, and the forms are {sorted(FORMS)}")
    lines = [_row("output", "form", "meaning"), "|---|---|---|"]
    lines += [_row(f"`{name}`", FORMS[form], meaning) for form, outputs in OUTPUTS.items() for name, meaning in outputs]
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
