"""The declared interface (Pulumi.yaml), the generated README tables and the loader agree."""

from __future__ import annotations

import ast
import copy
import dataclasses
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from oidc import claims, docs, offline, settings
from oidc.settings import ConfigError, ConfigIssue, Settings, load_settings
from tests.conftest import PROJECT_DIR

PROJECT = docs.load_project(PROJECT_DIR)
DECLARED = docs.project_declarations(PROJECT)
DEFAULTS = {key: declared["default"] for key, declared in DECLARED.items() if "default" in declared}
ENVIRONMENT = '[{"project": "aws", "name": "dev"}]'
DEPLOYMENT = '[{"project": "infra", "stack": "prod"}]'
BASE_ITEMS: dict[str, dict[str, str]] = {
    "deployments": {"project": "infra", "stack": "prod"},
    "environments": {"project": "aws", "name": "dev"},
}


def issues(values: dict[str, str]) -> list[ConfigIssue]:
    try:
        load_settings(values)
    except ConfigError as error:
        return list(error.issues)
    return []


def minimal(without: str = "") -> dict[str, str]:
    """The least config that loads, trusting something else than the key ``without``."""
    trusted = {"deployments": DEPLOYMENT} if without == "environments" else {"environments": ENVIRONMENT}
    return {"organization": "acme", **trusted}


def field_name(key: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", key).lower()


def config_with(path: str, value: Any) -> tuple[dict[str, str], str]:
    """Config that sets the documented key ``path`` to ``value``, and the path the loader reports it at."""
    top, first, *rest = path.split(".")
    key = top.removesuffix("[]")
    inner = value
    for part in reversed(rest):
        inner = {part: inner}
    data: Any = [{**BASE_ITEMS[key], first: inner}] if top.endswith("[]") else {first: inner}
    return {**minimal(), key: json.dumps(data)}, path.replace("[]", "[0]")


def object_levels() -> list[tuple[str, list[str]]]:
    """Every documented object (or list item) with the keys documented for it."""
    levels = [(holder, [nested.key for nested in keys]) for holder, keys in docs.NESTED.items()]
    levels += [
        (f"{holder}.{nested.key}", list(nested.keys))
        for holder, keys in docs.NESTED.items()
        for nested in keys
        if nested.keys
    ]
    return levels


# --- (a) the README tables are generated ------------------------------------------------


def test_readme_tables_are_exactly_what_make_docs_generates() -> None:
    readme = (PROJECT_DIR / "README.md").read_text(encoding="utf-8")

    assert docs.render_readme(readme, PROJECT) == readme


def test_docs_check_fails_on_a_stale_readme_and_docs_repairs_it(tmp_path: Path) -> None:
    shutil.copy(PROJECT_DIR / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    committed = (PROJECT_DIR / "README.md").read_text(encoding="utf-8")
    stale = committed.replace("| `roleArn` | ARN of the role |", "| `roleArn` | an old text |")
    (tmp_path / "README.md").write_text(stale, encoding="utf-8")

    assert docs.main(["--check", "--cwd", str(tmp_path)]) == 1
    assert (tmp_path / "README.md").read_text(encoding="utf-8") == stale
    assert docs.main(["--cwd", str(tmp_path)]) == 0
    assert (tmp_path / "README.md").read_text(encoding="utf-8") == committed
    assert docs.main(["--check", "--cwd", str(tmp_path)]) == 0


def test_rendering_refuses_a_readme_without_the_markers() -> None:
    with pytest.raises(docs.DocsError, match="config-reference:start"):
        docs.render_readme("# README without tables\n", PROJECT)


def test_rendering_refuses_a_declared_key_without_description() -> None:
    project = copy.deepcopy(PROJECT)
    del project["config"]["issuer"]["description"]

    with pytest.raises(docs.DocsError, match="issuer has no description"):
        docs.config_table(project)


def test_documented_outputs_are_the_exports_of_main_py_in_order() -> None:
    tree = ast.parse((PROJECT_DIR / "__main__.py").read_text(encoding="utf-8"))
    exported = [
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "export"
        and isinstance(node.args[0], ast.Constant)
    ]

    assert exported == [name for name, _ in docs.OUTPUTS]


# --- (b) Pulumi.yaml declares the program's keys ------------------------------------------


def test_pulumi_yaml_declares_exactly_the_keys_the_program_reads_in_its_order() -> None:
    assert tuple(DECLARED) == settings.KEYS


def test_pulumi_yaml_declares_its_keys_unqualified_and_no_other_namespace() -> None:
    assert all(":" not in key for key in PROJECT["config"])


def test_pulumi_yaml_uses_only_what_pulumis_project_schema_allows() -> None:
    python_types = {"string": str, "integer": int, "boolean": bool, "array": list}
    for key, declared in PROJECT["config"].items():
        assert isinstance(declared, dict), key
        assert set(declared) <= {"type", "items", "description", "secret", "default", "value"}, key
        assert not ("default" in declared and "value" in declared), key
        if "type" in declared:
            assert declared["type"] in python_types, key
            assert declared["type"] != "array" or "items" in declared, key
            if "default" in declared:
                default = declared["default"]
                assert isinstance(default, python_types[declared["type"]]), key
                assert declared["type"] == "boolean" or not isinstance(default, bool), key
    template = PROJECT["template"]
    assert set(template) <= {"displayName", "description", "quickstart", "config", "metadata"}
    for key, prompt in template["config"].items():
        assert set(prompt) <= {"description", "default", "secret"}, key
        assert isinstance(prompt.get("default", ""), str), key


# --- (c) declared defaults are the loader's -----------------------------------------------


def test_only_organization_is_declared_without_default_and_the_loader_requires_it() -> None:
    assert [key for key in DECLARED if key not in DEFAULTS] == ["organization"]
    assert [issue.path for issue in issues({"environments": ENVIRONMENT})] == ["organization"]


def test_declared_issuer_default_is_pulumi_clouds_issuer_the_loader_uses() -> None:
    assert DEFAULTS["issuer"] == claims.DEFAULT_ISSUER == load_settings(minimal()).issuer


def test_declared_trust_policy_max_chars_default_is_the_loaders() -> None:
    assert (
        DEFAULTS["trustPolicyMaxChars"]
        == settings.DEFAULT_TRUST_POLICY_MAX_CHARS
        == 2048
        == load_settings(minimal()).trust_policy_max_chars
    )


@pytest.mark.parametrize("key", sorted(DEFAULTS))
def test_a_declared_default_loads_as_the_settings_default_and_as_leaving_the_key_out(key: str) -> None:
    absent = load_settings(minimal(without=key))
    explicit = load_settings({**minimal(without=key), key: settings.raw_text(DEFAULTS[key])})
    dataclass_default = {field.name: field.default for field in dataclasses.fields(Settings)}[field_name(key)]

    assert explicit == absent
    assert getattr(absent, field_name(key)) == dataclass_default


def test_all_declared_defaults_at_once_load_as_leaving_them_out() -> None:
    given = {key: settings.raw_text(value) for key, value in DEFAULTS.items() if key != "environments"}

    assert load_settings({**given, **minimal()}) == load_settings(minimal())


def test_offline_stack_reading_applies_the_declared_defaults(tmp_path: Path) -> None:
    shutil.copy(PROJECT_DIR / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    (tmp_path / "Pulumi.bare.yaml").write_text(
        "config:\n  pulumi-aws-oidc:organization: acme\n  pulumi-aws-oidc:environments: [{project: aws, name: dev}]\n"
    )

    values = offline.read_stack_config(tmp_path, "bare").project_values

    assert values == {
        **{key: settings.raw_text(value) for key, value in DEFAULTS.items()},
        **minimal(),
    }
    assert load_settings(values) == load_settings(minimal())


# --- (d) documented nested keys are the loader's ------------------------------------------


@pytest.mark.parametrize("path", docs.nested_paths())
def test_each_documented_nested_key_is_read_by_the_loader(path: str) -> None:
    values, loader_path = config_with(path, None)

    found = issues(values)

    assert loader_path in [issue.path for issue in found]
    assert not [issue for issue in found if "unknown key" in issue.message]


@pytest.mark.parametrize(("level", "documented"), object_levels(), ids=[level for level, _ in object_levels()])
def test_the_loader_allows_exactly_the_documented_keys_of_each_object(level: str, documented: list[str]) -> None:
    values, loader_path = config_with(f"{level}.undocumentedKey", "x")

    [unknown] = [issue for issue in issues(values) if issue.path == loader_path]

    assert "unknown key" in unknown.message
    assert sorted(unknown.message.partition("allowed: ")[2].split(", ")) == sorted(documented)


def test_every_nested_object_documents_its_keys() -> None:
    objects = [nested for keys in docs.NESTED.values() for nested in keys if nested.type == "object"]

    assert objects
    assert all(nested.keys for nested in objects)


# --- (e) pulumi new ------------------------------------------------------------------------


def test_template_prompts_for_organization_and_aws_region() -> None:
    prompts = docs.template_prompts(PROJECT)

    assert {"organization", "aws:region"} <= set(prompts)
    assert prompts["aws:region"]["default"] == "us-west-2"
    assert "default" not in prompts["organization"]
    assert all(prompt.get("description") for prompt in prompts.values())


def test_the_template_prompts_make_a_deployable_stack() -> None:
    prompts = docs.template_prompts(PROJECT)
    answers = {key: prompt["default"] for key, prompt in prompts.items() if ":" not in key and "default" in prompt}

    loaded = load_settings({**answers, "organization": "acme"})

    assert loaded.environments or loaded.deployments
