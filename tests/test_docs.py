"""What ``make docs`` generates from the one declaration of each key, and declared defaults as the loader reads them."""

from __future__ import annotations

import ast
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from oidc import claims
from oidc.cli import docs, offline, stack_files
from oidc.cli.evaluate import evaluate_stack
from oidc.model import ConfigError, ConfigIssue
from oidc.settings import KEYS, load_settings, models, parse_config, raw_text
from tests.conftest import PROJECT_DIR

PROJECT = stack_files.load(PROJECT_DIR / "Pulumi.yaml")
DECLARED: dict[str, dict[str, Any]] = {key: dict(value) for key, value in PROJECT["config"].items()}
DEFAULTS = {key: declared["default"] for key, declared in DECLARED.items() if "default" in declared}
FORM_A: dict[str, Any] = {
    "organization": "acme",
    "deployments": [{"project": "infra", "stack": "prod"}],
    "environments": [{"project": "aws", "name": "dev"}],
}
FORM_B: dict[str, Any] = {
    "organization": "acme",
    "accounts": {"main": {"id": "111111111111"}},
    "roles": {
        "ops": {
            "account": "main",
            "deployments": [{"project": "infra", "stack": "prod"}],
            "environments": [{"project": "aws", "name": "dev"}],
        }
    },
}
PACKAGE_SOURCE = (PROJECT_DIR / docs.PACKAGE_PATH).read_text(encoding="utf-8")


def issues(values: dict[str, Any]) -> list[ConfigIssue]:
    try:
        load_settings(values)
    except ConfigError as error:
        return list(error.issues)
    return []


def minimal(without: str = "") -> dict[str, Any]:
    """The least config that loads, trusting something else than the key ``without``."""
    trusted = FORM_A["deployments"] if without == "environments" else FORM_A["environments"]
    return {"organization": "acme", "deployments" if without == "environments" else "environments": trusted}


# --- (a) the generated parts are what the declarations say ---------------------------------------------------


@pytest.mark.parametrize(("path", "render"), docs.targets(PROJECT_DIR), ids=lambda t: str(getattr(t, "name", "")))
def test_each_generated_part_is_exactly_what_make_docs_generates(path: Path, render: Any) -> None:
    text = path.read_text(encoding="utf-8")

    assert render(text) == text, f"{path} is stale: run make docs"


def test_docs_check_fails_on_a_stale_part_and_docs_repairs_it(tmp_path: Path) -> None:
    for path, _ in docs.targets(PROJECT_DIR):
        target = tmp_path / path.relative_to(PROJECT_DIR)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    committed = {path: path.read_text(encoding="utf-8") for path, _ in docs.targets(tmp_path)}
    for path, text in committed.items():
        path.write_text(text.replace("role description", "a stale role description"), encoding="utf-8")
    project = committed[tmp_path / "Pulumi.yaml"]
    (tmp_path / "Pulumi.yaml").write_text(project.replace("description: Pulumi organization login", "description: x"))

    assert docs.main(["--check", "--cwd", str(tmp_path)]) == 1
    assert docs.main(["--cwd", str(tmp_path)]) == 0
    assert {path: path.read_text(encoding="utf-8") for path in committed} == committed
    assert docs.main(["--check", "--cwd", str(tmp_path)]) == 0


def test_rendering_refuses_a_file_without_its_markers() -> None:
    with pytest.raises(docs.DocsError, match="needs one"):
        docs.render_reference("no markers here")
    with pytest.raises(docs.DocsError, match="needs one"):
        docs.render_package("no markers here")
    with pytest.raises(docs.DocsError, match="needs one"):
        docs.render_project("name: x\n")


def test_every_key_and_every_object_has_a_description() -> None:
    found = list(docs.declared_keys())

    assert len(found) > 80
    assert all(key.field.description for key in found), [key.path for key in found if not key.field.description]
    assert all((key.inner.__doc__ or "").strip() for key in found if key.inner is not None)


def test_the_reference_shows_each_key_once_and_names_an_object_it_already_showed() -> None:
    table = docs.config_table()

    assert "| `deployments[].source.branch` |" in table
    assert "| `accounts.<key>.oidcProvider` | object | `{}` | the issuer's IAM OIDC provider in this account" in table
    assert "`accounts.<key>.oidcProvider.arn`" not in table  # named: the keys of oidcProvider
    assert "`roles.<key>.deployments[].stack`" not in table
    assert "| `roles.<key>.deployments` | list | `[]` |" in table


def test_a_durations_input_is_its_text_in_the_reference_and_the_package() -> None:
    [row] = [line for line in docs.config_table().splitlines() if line.startswith("| `role.maxSessionDuration`")]
    assert "| duration | `1h` |" in row
    role = ast.parse(PACKAGE_SOURCE).body
    [cls] = [node for node in role if isinstance(node, ast.ClassDef) and node.name == "Role"]
    annotations = {n.target.id: ast.unparse(n.annotation) for n in cls.body if isinstance(n, ast.AnnAssign)}  # type: ignore[union-attr]
    assert annotations["max_session_duration"] == "str"


def test_the_generated_block_holds_every_argument_type_and_nothing_else() -> None:
    start, end = docs.PACKAGE_MARKERS
    block = PACKAGE_SOURCE.split(start)[1].split(end)[0]
    outside = PACKAGE_SOURCE.replace(block, "")

    defined = [node.name for node in ast.parse(block).body if isinstance(node, ast.ClassDef)]
    models_used = {key.inner for key in docs.declared_keys() if key.inner is not None} | {models.Program}
    assert sorted(defined) == sorted(docs.package_name(model) for model in models_used)
    classes = [node.name for node in ast.parse(outside).body if isinstance(node, ast.ClassDef)]
    assert classes == ["PulumiCloudOidc", "ArgumentsError"]


def test_argument_types_mirror_the_models_fields_and_requiredness() -> None:
    classes = {node.name: node for node in ast.parse(PACKAGE_SOURCE).body if isinstance(node, ast.ClassDef)}
    for model in {key.inner for key in docs.declared_keys() if key.inner is not None} | {models.Program}:
        assert model is not None
        node = classes[docs.package_name(model)]
        fields = [n for n in node.body if isinstance(n, ast.AnnAssign)]
        assert [n.target.id for n in fields] == list(model.model_fields)  # type: ignore[union-attr]
        total = not any(kw.arg == "total" for kw in node.keywords)
        for field_node, info in zip(fields, model.model_fields.values(), strict=True):
            optional = ast.unparse(field_node.annotation).startswith("NotRequired[") or not total
            assert optional == (not info.is_required()), f"{model.__name__}.{info.alias}"


def test_a_field_docstring_is_the_meaning_followed_by_the_default() -> None:
    assert docs.docstring("role tags", "`{}`") == "Role tags. Default: `{}`."
    assert docs.docstring("an ARN", "none") == "An ARN."
    assert docs.docstring("the account", "required with `accounts`") == "The account. Required with `accounts`."
    assert docs.docstring("project name", "required") == "Project name. Required."


def test_pulumi_yaml_declares_exactly_the_keys_the_program_reads_in_its_order() -> None:
    assert tuple(DECLARED) == KEYS == tuple(str(info.alias) for info in models.Program.model_fields.values())


def test_pulumi_yaml_uses_only_what_pulumis_project_schema_allows() -> None:
    python_types = {"string": str, "integer": int, "boolean": bool, "array": list}
    for key, declared in PROJECT["config"].items():
        assert isinstance(declared, dict), key
        assert ":" not in key
        assert set(declared) <= {"type", "items", "description", "secret", "default", "value"}, key
        if "type" in declared:
            assert declared["type"] in python_types, key
            if "default" in declared:
                default = declared["default"]
                assert isinstance(default, python_types[declared["type"]]), key
                assert declared["type"] == "boolean" or not isinstance(default, bool), key
    template = PROJECT["template"]
    assert set(template) <= {"displayName", "description", "quickstart", "config", "metadata"}
    for key, prompt in template["config"].items():
        assert set(prompt) <= {"description", "default", "secret"}, key
        assert isinstance(prompt.get("default", ""), str), key


# --- (b) the outputs ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("form", "config"),
    [("A", FORM_A), ("B", FORM_B), ("B", {"organization": "acme", "roles": {"ops": FORM_B["roles"]["ops"] | {}}})],
    ids=["form-a", "form-b", "form-b-without-accounts"],
)
def test_documented_outputs_are_what_main_py_exports_in_order(
    tmp_path: Path, form: str, config: dict[str, Any]
) -> None:
    config = json.loads(json.dumps(config))
    if "roles" in config and "accounts" not in config:
        config["roles"]["ops"].pop("account")
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(PROJECT_DIR / name, tmp_path / name)
    (tmp_path / "Pulumi.docs.yaml").write_text(
        json.dumps({"config": {f"pulumi-aws-oidc:{key}": value for key, value in config.items()}})
    )

    evaluated = evaluate_stack("docs", tmp_path)

    assert load_settings(parse_config(evaluated.config.project_values)).by_roles == (form == "B")
    assert list(evaluated.recording.outputs) == [name for name, _ in docs.OUTPUTS[form]]


def test_outputs_are_documented_for_both_forms_and_nothing_else() -> None:
    assert set(docs.OUTPUTS) == set(docs.FORMS) == {"A", "B"}
    table = docs.outputs_table()
    assert table.count(docs.FORMS["A"]) == len(docs.OUTPUTS["A"])
    assert table.count(docs.FORMS["B"]) == len(docs.OUTPUTS["B"])


# --- (c) a declared default is as good as leaving the key out ---------------------------------------------


def test_only_organization_is_declared_without_default_and_the_loader_requires_it() -> None:
    assert [key for key in DECLARED if key not in DEFAULTS] == ["organization"]
    assert [issue.path for issue in issues({"environments": FORM_A["environments"]})] == ["organization"]


def test_declared_issuer_and_quota_defaults_are_the_loaders() -> None:
    assert DEFAULTS["issuer"] == claims.DEFAULT_ISSUER == load_settings(minimal()).issuer
    assert DEFAULTS["trustPolicyMaxChars"] == 2048 == load_settings(minimal()).accounts[0].trust_policy_max_chars


@pytest.mark.parametrize("key", sorted(DEFAULTS))
def test_a_declared_default_loads_as_leaving_the_key_out(key: str) -> None:
    assert load_settings({**minimal(without=key), key: DEFAULTS[key]}) == load_settings(minimal(without=key))


@pytest.mark.parametrize("key", sorted(set(DEFAULTS) - {"accounts", "roles"}))
def test_a_form_b_stack_loads_the_same_with_the_declared_defaults_pulumi_hands_it(key: str) -> None:
    assert load_settings({**FORM_B, key: DEFAULTS[key]}) == load_settings(FORM_B)


def test_offline_stack_reading_applies_the_declared_defaults_as_pulumi_hands_them(tmp_path: Path) -> None:
    shutil.copy(PROJECT_DIR / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    (tmp_path / "Pulumi.bare.yaml").write_text(
        "config:\n  pulumi-aws-oidc:organization: acme\n  pulumi-aws-oidc:environments: [{project: aws, name: dev}]\n"
    )

    values = offline.read_stack_config(tmp_path, "bare").project_values

    assert values == {
        **{key: raw_text(value) for key, value in DEFAULTS.items()},
        **{
            "organization": "acme",
            "environments": raw_text(FORM_A["environments"]),
        },
    }
    assert load_settings(parse_config(values)) == load_settings(minimal())


def literal_defaults() -> list[tuple[str, Any, dict[str, Any]]]:
    """Each nested key with a literal default, the default, and a config that sets it (in the first item or entry)."""
    found = []
    for key in docs.declared_keys():
        if "." not in key.path or key.field.is_required() or key.inner is not None:
            continue
        default = key.field.get_default(call_default_factory=True, validated_data={})
        if default is None or "shown" in docs.metadata(key.field):
            continue
        found.append((key.path, default, _setting(key.path, default)))
    return found


def _setting(path: str, value: Any) -> dict[str, Any]:
    base: Any = json.loads(json.dumps(FORM_B if path.startswith(("accounts", "roles")) else FORM_A))
    node = base
    parts = path.split(".")
    for index, part in enumerate(parts[:-1]):
        if part == "<key>":
            node = node[{"accounts": "main", "roles": "ops"}[parts[index - 1]]]
        elif part.endswith("[]"):
            node = node.setdefault(part[:-2], [{}])[0]
        else:
            node = node.setdefault(part, {})
    node[parts[-1]] = value
    return base


LITERALS = literal_defaults()


@pytest.mark.parametrize(("path", "value", "config"), LITERALS, ids=[path for path, _, _ in LITERALS])
def test_each_literal_default_of_a_nested_key_loads_as_leaving_it_out(path: str, value: Any, config: Any) -> None:
    absent = json.loads(json.dumps(config))
    node = absent
    parts = path.split(".")
    for index, part in enumerate(parts[:-1]):
        if part == "<key>":
            node = node[{"accounts": "main", "roles": "ops"}[parts[index - 1]]]
        elif part.endswith("[]"):
            node = node[part[:-2]][0]
        else:
            node = node[part]
    del node[parts[-1]]

    assert load_settings(config) == load_settings(absent)


def test_literal_defaults_are_checked_through_objects_lists_and_maps() -> None:
    checked = {path: value for path, value, _ in LITERALS}

    assert checked["oidcProvider.protect"] is True
    assert checked["role.path"] == "/"
    assert checked["environments[].sessionName"] == "pulumi-environments-session"
    assert checked["deployments[].duration"] == "1h"
    assert checked["accounts.<key>.trustPolicyMaxChars"] == 2048


# --- (d) pulumi new ---------------------------------------------------------------------------------------


def test_the_template_prompts_make_a_deployable_stack() -> None:
    prompts = {key: dict(prompt or {}) for key, prompt in PROJECT["template"]["config"].items()}
    assert {"organization", "aws:region"} <= set(prompts)
    assert prompts["aws:region"]["default"] == "us-west-2"
    assert "default" not in prompts["organization"]
    answers = {key: prompt["default"] for key, prompt in prompts.items() if ":" not in key and "default" in prompt}

    loaded = load_settings({**parse_config(answers), "organization": "acme"})

    [role] = loaded.roles
    assert role.environments or role.deployments
