"""The declared interface (Pulumi.yaml), the generated tables of docs/configuration.md and the loader agree."""

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
import yaml

from oidc import claims, settings
from oidc.cli import docs, offline
from oidc.cli.evaluate import evaluate_stack
from oidc.model import AccountSettings, ConfigError, ConfigIssue, RoleSettings, Settings
from oidc.settings import load_settings
from tests.conftest import PROJECT_DIR, raw_config

PROJECT = docs.load_project(PROJECT_DIR)
DECLARED = docs.project_declarations(PROJECT)
DEFAULTS = {key: declared["default"] for key, declared in DECLARED.items() if "default" in declared}
ENVIRONMENT = '[{"project": "aws", "name": "dev"}]'
DEPLOYMENT = '[{"project": "infra", "stack": "prod"}]'
MAP_KEYS = {"accounts": "main", "roles": "ops"}
"""The entry each map of the form-B base config has, standing for ``<key>`` in documented paths."""
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
FORM_B_WITHOUT_ACCOUNTS: dict[str, Any] = {
    "organization": "acme",
    "roles": {"ops": {key: value for key, value in FORM_A.items() if key != "organization"}},
}
ABSENT = object()


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


def config_with(path: str, value: Any = ABSENT) -> tuple[dict[str, str], str]:
    """Config that sets the documented key ``path`` to ``value`` (or leaves it out), and the path the loader reports.

    A path under ``accounts.<key>`` or ``roles.<key>`` goes into the form-B base config (``<key>``
    being its entry), any other into the form-A one; ``[]`` is the base's first item. Objects on
    the way that the base lacks are created.
    """
    parts = path.split(".")
    data = copy.deepcopy(FORM_B if parts[0] in MAP_KEYS else FORM_A)
    node: Any = data
    reported = []
    for index, part in enumerate(parts[:-1]):
        if part == "<key>":
            node = node.setdefault(MAP_KEYS[parts[index - 1]], {})
            reported.append(MAP_KEYS[parts[index - 1]])
        elif part.endswith("[]"):
            items = node.setdefault(part.removesuffix("[]"), [])
            if not items:
                items.append({})
            node = items[0]
            reported.append(part.replace("[]", "[0]"))
        else:
            node = node.setdefault(part, {})
            reported.append(part)
    if value is ABSENT:
        node.pop(parts[-1], None)
    else:
        node[parts[-1]] = value
    return raw_config(data), ".".join([*reported, parts[-1]])


def literal_default(nested: docs.NestedKey) -> Any:
    """The value of a default documented as one literal in backticks (``ABSENT`` for a phrase or a placeholder)."""
    literal = re.fullmatch(r"`([^`]+)`", nested.default)
    if literal is None or re.search(r"<[^>]*>", literal[1]):
        return ABSENT
    try:
        return json.loads(literal[1])
    except json.JSONDecodeError:
        return literal[1]


def literal_defaults() -> list[tuple[str, Any]]:
    """Every documented nested key whose default is a literal, with that value."""
    return [
        (path, literal_default(nested)) for path, nested in docs.nested_keys() if literal_default(nested) is not ABSENT
    ]


def loads_as_absent(path: str, value: Any) -> bool:
    """Whether setting ``path`` to ``value`` loads the same Settings as leaving it out."""
    return load_settings(config_with(path, value)[0]) == load_settings(config_with(path)[0])


def dataclass_default(cls: type, name: str) -> Any:
    field = {field.name: field for field in dataclasses.fields(cls)}[name]
    return field.default_factory() if field.default is dataclasses.MISSING else field.default


LOADED_AS: dict[str, Any] = {
    "issuer": lambda loaded: (loaded.issuer, dataclass_default(Settings, "issuer")),
    "oidcProvider": lambda loaded: (
        loaded.accounts[0].oidc_provider,
        dataclass_default(AccountSettings, "oidc_provider"),
    ),
    "trustPolicyMaxChars": lambda loaded: (
        loaded.accounts[0].trust_policy_max_chars,
        dataclass_default(AccountSettings, "trust_policy_max_chars"),
    ),
    "role": lambda loaded: (dataclasses.replace(loaded.roles[0], deployments=(), environments=()), RoleSettings()),
    "deployments": lambda loaded: (loaded.roles[0].deployments, dataclass_default(RoleSettings, "deployments")),
    "environments": lambda loaded: (loaded.roles[0].environments, dataclass_default(RoleSettings, "environments")),
    "accounts": lambda loaded: (loaded.accounts, dataclass_default(Settings, "accounts")),
    "roles": lambda loaded: (loaded.by_roles, dataclass_default(Settings, "by_roles")),
}
"""For each top-level key with a default: what the loader made of it, and the dataclasses' own default for that."""


# --- (a) the tables of docs/configuration.md are generated ---------------------------------


def test_reference_tables_are_exactly_what_make_docs_generates() -> None:
    reference = (PROJECT_DIR / docs.REFERENCE_PATH).read_text(encoding="utf-8")

    assert docs.render_readme(reference, PROJECT) == reference


def copy_sources(directory: Path) -> None:
    """What ``python -m oidc.cli.docs --cwd directory`` reads and rewrites: Pulumi.yaml, docs/, oidc/package.py."""
    shutil.copy(PROJECT_DIR / "Pulumi.yaml", directory / "Pulumi.yaml")
    (directory / docs.REFERENCE_PATH).parent.mkdir()
    shutil.copy(PROJECT_DIR / docs.REFERENCE_PATH, directory / docs.REFERENCE_PATH)
    (directory / docs.PACKAGE_PATH).parent.mkdir()
    shutil.copy(PROJECT_DIR / docs.PACKAGE_PATH, directory / docs.PACKAGE_PATH)


def test_docs_check_fails_on_a_stale_reference_page_and_docs_repairs_it(tmp_path: Path) -> None:
    copy_sources(tmp_path)
    committed = (PROJECT_DIR / docs.REFERENCE_PATH).read_text(encoding="utf-8")
    row = f"| `roleArn` | {docs.FORMS['A']} | ARN of the role |"
    assert row in committed
    stale = committed.replace(row, f"| `roleArn` | {docs.FORMS['A']} | an old text |")
    (tmp_path / docs.REFERENCE_PATH).write_text(stale, encoding="utf-8")

    assert docs.main(["--check", "--cwd", str(tmp_path)]) == 1
    assert (tmp_path / docs.REFERENCE_PATH).read_text(encoding="utf-8") == stale
    assert docs.main(["--cwd", str(tmp_path)]) == 0
    assert (tmp_path / docs.REFERENCE_PATH).read_text(encoding="utf-8") == committed
    assert docs.main(["--check", "--cwd", str(tmp_path)]) == 0


# --- (a') the package's argument types are generated ---------------------------------------

PACKAGE_SOURCE = (PROJECT_DIR / docs.PACKAGE_PATH).read_text(encoding="utf-8")


def test_package_types_are_exactly_what_make_docs_generates() -> None:
    assert docs.render_package(PACKAGE_SOURCE, PROJECT) == PACKAGE_SOURCE


def test_the_generated_block_holds_every_argument_type_and_nothing_else() -> None:
    start, end = docs.PACKAGE_MARKERS
    block = PACKAGE_SOURCE.split(start)[1].split(end)[0]
    outside = PACKAGE_SOURCE.replace(block, "")

    defined = [node.name for node in ast.parse(block).body if isinstance(node, ast.ClassDef)]
    assert defined == [argument_type.name for argument_type in docs.argument_types(PROJECT)]
    assert sorted(defined) == sorted(name for name, _ in docs.ARGUMENT_TYPES.values())
    classes = [node.name for node in ast.parse(outside).body if isinstance(node, ast.ClassDef)]
    assert classes == ["PulumiCloudOidc", "ArgumentsError"]


@pytest.mark.parametrize(
    ("generated", "hand_edited"),
    [
        pytest.param('    """IAM path. Default: `/`."""\n', '    """IAM path."""\n', id="docstring"),
        pytest.param("    repo_dir: NotRequired[str]\n", "    repo_dir: str\n", id="requiredness"),
        pytest.param("    tags: dict[str, str]\n", "    tags: dict[str, Any]\n", id="type"),
    ],
)
def test_docs_check_fails_on_a_stale_package_and_docs_repairs_it(
    tmp_path: Path, generated: str, hand_edited: str
) -> None:
    copy_sources(tmp_path)
    assert generated in PACKAGE_SOURCE
    stale = PACKAGE_SOURCE.replace(generated, hand_edited, 1)
    (tmp_path / docs.PACKAGE_PATH).write_text(stale, encoding="utf-8")

    assert docs.main(["--check", "--cwd", str(tmp_path)]) == 1
    assert (tmp_path / docs.PACKAGE_PATH).read_text(encoding="utf-8") == stale
    assert docs.main(["--cwd", str(tmp_path)]) == 0
    assert (tmp_path / docs.PACKAGE_PATH).read_text(encoding="utf-8") == PACKAGE_SOURCE
    assert docs.main(["--check", "--cwd", str(tmp_path)]) == 0


def test_docs_check_fails_when_a_declaration_changes_and_docs_rewrites_the_package(tmp_path: Path) -> None:
    copy_sources(tmp_path)
    project = copy.deepcopy(PROJECT)
    project["config"]["issuer"]["description"] = "the OIDC issuer"
    (tmp_path / "Pulumi.yaml").write_text(yaml.safe_dump(project, sort_keys=False), encoding="utf-8")

    assert docs.main(["--check", "--cwd", str(tmp_path)]) == 1
    assert docs.main(["--cwd", str(tmp_path)]) == 0
    assert '    """The OIDC issuer. Default: `https://api.pulumi.com/oidc`."""\n' in (
        tmp_path / docs.PACKAGE_PATH
    ).read_text(encoding="utf-8")
    assert "| `issuer` | string | `https://api.pulumi.com/oidc` | the OIDC issuer |" in (
        tmp_path / docs.REFERENCE_PATH
    ).read_text(encoding="utf-8")


def test_rendering_refuses_a_package_without_the_markers() -> None:
    with pytest.raises(docs.DocsError, match="generated by make docs"):
        docs.render_package(PACKAGE_SOURCE.replace(docs.PACKAGE_MARKERS[1], ""), PROJECT)


def test_argument_types_mirror_the_declarations() -> None:
    types = {argument_type.holder: argument_type for argument_type in docs.argument_types(PROJECT)}
    fields = {holder: {field.key: field for field in found.fields} for holder, found in types.items()}

    assert set(types) == {"", *docs.NESTED}
    assert list(fields[""]) == list(DECLARED)
    for holder, keys in docs.NESTED.items():
        assert list(fields[holder]) == [nested.key for nested in keys]
        for nested in keys:
            assert fields[holder][nested.key].required == (nested.default == "required"), f"{holder}.{nested.key}"
    assert [key for key, field in fields[""].items() if field.required] == ["organization"]
    assert fields[""]["accounts"].annotation == "dict[str, Account]"
    assert fields[""]["deployments"].annotation == "list[Deployment]"
    assert fields[""]["trustPolicyMaxChars"].annotation == "int"
    assert fields["deployments[]"]["source"].annotation == "GitSource"
    assert fields["deployments[]"]["operations"].annotation == "list[str]"
    assert fields["accounts.<key>"]["assumeRole"].annotation == "AssumeRole"
    assert fields["accounts.<key>"]["oidcProvider"].annotation == "OidcProvider"
    assert fields["roles.<key>"]["environments"].annotation == "list[Environment]"
    assert fields["roles.<key>"]["tags"].annotation == "dict[str, str]"
    assert fields["roles.<key>"]["maxSessionDuration"].name == "max_session_duration"


def test_a_field_docstring_is_the_meaning_followed_by_the_default() -> None:
    types = {argument_type.holder: argument_type for argument_type in docs.argument_types(PROJECT)}
    docstrings = {(holder, field.key): field.docstring for holder, found in types.items() for field in found.fields}

    assert docstrings[("", "organization")] == f"{DECLARED['organization']['description'].capitalize()}. Required."
    assert docstrings[("", "trustPolicyMaxChars")].endswith(" Default: `2048`.")
    assert docstrings[("role", "path")] == "IAM path. Default: `/`."
    assert docstrings[("deployments[].source", "branch")] == "Branch to deploy, e.g. `main`. Required."
    assert docstrings[("roles.<key>", "account")].endswith(" Required with `accounts`.")
    [region] = [nested for nested in docs.NESTED["environments[]"] if nested.key == "region"]
    assert region.default == "none"
    assert docstrings[("environments[]", "region")] == docs.docstring(region.meaning, "none")
    assert docs.docstring(region.meaning, "none").endswith("to the environment.")


@pytest.mark.parametrize("length", [20, 108, 110, 111, 113, 114, 115, 116, 200, 400])
@pytest.mark.parametrize("quotes", ["", '"', "'", '""\'', "\\"])
def test_a_docstring_literal_is_the_text_within_the_line_length(length: int, quotes: str) -> None:
    words = f"a {quotes}quoted{quotes} `word` and more words here " * 20
    text = words[: length - 1].rstrip() + "."

    lines = docs.string_literal(text, 4)

    assert max(len(line) for line in lines) <= docs.LINE_LENGTH
    assert ast.literal_eval("\n".join(line.strip() for line in lines)) == text


def test_rendering_refuses_a_type_without_python_type(monkeypatch: pytest.MonkeyPatch) -> None:
    odd = tuple(
        dataclasses.replace(nested, type="set of strings") if nested.key == "audiences" else nested
        for nested in docs.NESTED["oidcProvider"]
    )
    monkeypatch.setattr(docs, "NESTED", {**docs.NESTED, "oidcProvider": odd})

    with pytest.raises(docs.DocsError, match="'set of strings' has no Python type"):
        docs.package_types(PROJECT)


def test_rendering_refuses_a_holder_without_a_package_type(monkeypatch: pytest.MonkeyPatch) -> None:
    types = {holder: named for holder, named in docs.ARGUMENT_TYPES.items() if holder != "deployments[].source"}
    monkeypatch.setattr(docs, "ARGUMENT_TYPES", types)

    with pytest.raises(docs.DocsError, match=re.escape("no package type for deployments[].source")):
        docs.package_types(PROJECT)


def test_rendering_refuses_an_object_key_without_its_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(docs, "NESTED", {h: k for h, k in docs.NESTED.items() if h != "accounts.<key>.assumeRole"})

    with pytest.raises(docs.DocsError, match=re.escape("object key accounts.<key>.assumeRole has no holder")):
        docs.config_table(PROJECT)


def test_rendering_refuses_a_holder_that_is_no_object_key(monkeypatch: pytest.MonkeyPatch) -> None:
    stray = (docs.NestedKey("x", "string", "none", "x"),)
    monkeypatch.setattr(docs, "NESTED", {**docs.NESTED, "deployments[].stack": stray})

    with pytest.raises(docs.DocsError, match=re.escape("holder deployments[].stack is no object key")):
        docs.config_table(PROJECT)


def test_rendering_refuses_a_reference_page_without_the_markers() -> None:
    with pytest.raises(docs.DocsError, match=re.escape(f"{docs.REFERENCE_PATH} needs one {docs.CONFIG_MARKERS[0]}")):
        docs.render_readme("# Configuration reference without tables\n", PROJECT)


def test_rendering_refuses_a_declared_key_without_description() -> None:
    project = copy.deepcopy(PROJECT)
    del project["config"]["issuer"]["description"]

    with pytest.raises(docs.DocsError, match="issuer has no description"):
        docs.config_table(project)


def test_rendering_refuses_a_key_that_refers_to_undocumented_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    broken = tuple(
        dataclasses.replace(nested, like="nothing[]") if nested.key == "deployments" else nested
        for nested in docs.NESTED["roles.<key>"]
    )
    monkeypatch.setattr(docs, "NESTED", {**docs.NESTED, "roles.<key>": broken})

    with pytest.raises(docs.DocsError, match="takes the keys of 'nothing\\[\\]'"):
        docs.config_table(PROJECT)


def test_accounts_and_roles_are_documented_as_maps_of_objects() -> None:
    table = docs.config_table(PROJECT)

    assert "| `accounts` | map | `{}` |" in table
    assert "| `roles` | map | `{}` |" in table
    assert "| `roles.<key>.deployments` | list | `[]` |" in table


def test_object_values_have_rows_of_their_own_keys_below_their_row() -> None:
    rows = [line.split(" | ")[0].removeprefix("| ") for line in docs.config_table(PROJECT).splitlines()]

    source = rows.index("`deployments[].source`")
    assert rows[source + 1 : source + 4] == [
        "`deployments[].source.repoUrl`",
        "`deployments[].source.branch`",
        "`deployments[].source.repoDir`",
    ]
    assume_role = rows.index("`accounts.<key>.assumeRole`")
    assert rows[assume_role + 1 : assume_role + 4] == [
        "`accounts.<key>.assumeRole.roleArn`",
        "`accounts.<key>.assumeRole.sessionName`",
        "`accounts.<key>.assumeRole.externalId`",
    ]
    assert "| `accounts.<key>.assumeRole.roleArn` | ARN | required |" in docs.config_table(PROJECT)


@pytest.mark.parametrize(
    ("form", "config"),
    [("A", FORM_A), ("B", FORM_B), ("B", FORM_B_WITHOUT_ACCOUNTS)],
    ids=["form-a", "form-b", "form-b-without-accounts"],
)
def test_documented_outputs_are_what_main_py_exports_in_order(
    tmp_path: Path, form: str, config: dict[str, Any]
) -> None:
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(PROJECT_DIR / name, tmp_path / name)
    (tmp_path / "Pulumi.docs.yaml").write_text(
        json.dumps({"config": {f"pulumi-aws-oidc:{key}": value for key, value in config.items()}})
    )

    evaluated = evaluate_stack("docs", tmp_path)

    assert load_settings(evaluated.config.project_values).by_roles == (form == "B")
    assert list(evaluated.recording.outputs) == [name for name, _ in docs.OUTPUTS[form]]


def test_outputs_are_documented_for_both_forms_and_nothing_else() -> None:
    assert set(docs.OUTPUTS) == set(docs.FORMS) == {"A", "B"}
    table = docs.outputs_table()
    assert table.count(docs.FORMS["A"]) == len(docs.OUTPUTS["A"])
    assert table.count(docs.FORMS["B"]) == len(docs.OUTPUTS["B"])


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
        == load_settings(minimal()).accounts[0].trust_policy_max_chars
    )


def test_accounts_and_roles_are_declared_empty_so_a_stack_without_them_is_form_a() -> None:
    assert DEFAULTS["accounts"] == DEFAULTS["roles"] == {}
    loaded = load_settings({**minimal(), "accounts": "{}", "roles": "{}"})

    assert not loaded.by_roles
    assert [(a.key, r.key) for a in loaded.accounts for r in loaded.roles_of(a.key)] == [("default", "default")]


@pytest.mark.parametrize("key", sorted(DEFAULTS))
def test_a_declared_default_loads_as_the_settings_default_and_as_leaving_the_key_out(key: str) -> None:
    absent = load_settings(minimal(without=key))
    explicit = load_settings({**minimal(without=key), key: settings.raw_text(DEFAULTS[key])})
    loaded, dataclasses_default = LOADED_AS[key](absent)

    assert explicit == absent
    assert loaded == dataclasses_default


@pytest.mark.parametrize("key", sorted(set(DEFAULTS) - {"accounts", "roles"}))
@pytest.mark.parametrize("base", ["with-accounts", "without-accounts"])
def test_a_form_b_stack_loads_the_same_with_the_declared_defaults_pulumi_hands_it(key: str, base: str) -> None:
    values = raw_config(FORM_B if base == "with-accounts" else FORM_B_WITHOUT_ACCOUNTS)

    assert load_settings({**values, key: settings.raw_text(DEFAULTS[key])}) == load_settings(values)


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


def test_offline_stack_reading_of_a_form_b_stack_applies_the_declared_defaults(tmp_path: Path) -> None:
    shutil.copy(PROJECT_DIR / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    (tmp_path / "Pulumi.org.yaml").write_text(
        json.dumps({"config": {f"pulumi-aws-oidc:{key}": value for key, value in FORM_B.items()}})
    )

    values = offline.read_stack_config(tmp_path, "org").project_values

    assert values == {**{key: settings.raw_text(value) for key, value in DEFAULTS.items()}, **raw_config(FORM_B)}
    assert load_settings(values) == load_settings(raw_config(FORM_B))
    assert load_settings(values).by_roles


# --- (d) documented nested keys are the loader's ------------------------------------------


def test_probe_configs_start_from_bases_that_load_and_report_the_loaders_path() -> None:
    assert not load_settings(raw_config(FORM_A)).by_roles
    assert load_settings(raw_config(FORM_B)).by_roles
    assert config_with("roles.<key>.deployments[].source.branch", "main") == (
        raw_config(
            {
                **FORM_B,
                "roles": {
                    "ops": {
                        **FORM_B["roles"]["ops"],
                        "deployments": [{"project": "infra", "stack": "prod", "source": {"branch": "main"}}],
                    }
                },
            }
        ),
        "roles.ops.deployments[0].source.branch",
    )


def test_the_new_keys_of_both_maps_are_documented() -> None:
    paths = docs.nested_paths()

    for path in (
        "accounts.<key>.id",
        "accounts.<key>.assumeRole.roleArn",
        "accounts.<key>.assumeRole.sessionName",
        "accounts.<key>.assumeRole.externalId",
        "accounts.<key>.profile",
        "accounts.<key>.region",
        "accounts.<key>.oidcProvider.protect",
        "accounts.<key>.trustPolicyMaxChars",
        "roles.<key>.account",
        "roles.<key>.maxSessionDuration",
        "roles.<key>.deployments[].stack",
        "roles.<key>.deployments[].source.repoUrl",
        "roles.<key>.environments[].name",
    ):
        assert path in paths


@pytest.mark.parametrize("path", docs.nested_paths())
def test_each_documented_nested_key_is_read_by_the_loader(path: str) -> None:
    values, loader_path = config_with(path, None)

    found = issues(values)

    assert loader_path in [issue.path for issue in found]
    assert not [issue for issue in found if "unknown key" in issue.message]


@pytest.mark.parametrize(
    ("level", "documented"), docs.nested_objects(), ids=[level for level, _ in docs.nested_objects()]
)
def test_the_loader_allows_exactly_the_documented_keys_of_each_object(level: str, documented: list[str]) -> None:
    values, loader_path = config_with(f"{level}.undocumentedKey", "x")

    [unknown] = [issue for issue in issues(values) if issue.path == loader_path]

    assert "unknown key" in unknown.message
    assert sorted(unknown.message.partition("allowed: ")[2].split(", ")) == sorted(documented)


@pytest.mark.parametrize(("path", "value"), literal_defaults(), ids=[path for path, _ in literal_defaults()])
def test_each_documented_literal_default_loads_as_leaving_the_key_out(path: str, value: Any) -> None:
    assert loads_as_absent(path, value)


def test_literal_defaults_are_checked_in_every_holder_and_through_references() -> None:
    checked = dict(literal_defaults())

    assert checked["oidcProvider.protect"] is True
    assert checked["oidcProvider.thumbprints"] == "auto"
    assert checked["role.path"] == "/"
    assert checked["environments[].sessionName"] == settings.DEFAULT_ESC_SESSION_NAME
    assert checked["accounts.<key>.trustPolicyMaxChars"] == 2048
    assert checked["accounts.<key>.oidcProvider.protect"] is True
    assert checked["roles.<key>.deployments[].duration"] == "1h"
    assert "role.description" not in checked  # `Assumed by ... <org> ...` is a template, not a value
    assert "deployments[].manageSettings" not in checked  # a phrase


def test_a_documented_default_the_loader_does_not_apply_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    wrong = tuple(
        dataclasses.replace(nested, default="`false`") if nested.key == "protect" else nested
        for nested in docs.NESTED["oidcProvider"]
    )
    monkeypatch.setattr(docs, "NESTED", {**docs.NESTED, "oidcProvider": wrong})

    checked = dict(literal_defaults())

    assert checked["oidcProvider.protect"] is False
    assert checked["accounts.<key>.oidcProvider.protect"] is False
    assert not loads_as_absent("oidcProvider.protect", False)
    assert not loads_as_absent("accounts.<key>.oidcProvider.protect", False)


def test_every_nested_object_documents_its_keys() -> None:
    objects = [(holder, nested) for holder, keys in docs.NESTED.items() for nested in keys if nested.type == "object"]

    assert len(objects) >= 3
    for holder, nested in objects:
        assert nested.like or f"{holder}.{nested.key}" in docs.NESTED, f"{holder}.{nested.key}"
    [source] = [nested for nested in docs.NESTED["deployments[]"] if nested.key == "source"]
    assert docs.value_holder("deployments[]", source) == "deployments[].source"
    for nested in [nested for _, nested in docs.nested_keys()]:
        if nested.like:
            assert nested.like in docs.NESTED
            assert (nested.type == "list") == nested.like.endswith("[]"), nested.key
            assert f"`{nested.like}`" in nested.meaning, nested.key


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

    [role] = loaded.roles
    assert role.environments or role.deployments
