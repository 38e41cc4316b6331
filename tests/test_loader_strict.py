"""The config read as Pulumi hands it, strictly: numbers where text is expected, account IDs, regions."""

from __future__ import annotations

from typing import Any

import pytest

from oidc.cli import offline
from oidc.model import ConfigError, Settings
from oidc.settings import load_settings
from tests.conftest import PROJECT_DIR, project_config

ROLES = {"r": {"account": "a", "deployments": [{"project": "infra", "stack": "prod"}]}}


def load(**values: Any) -> Settings:
    return load_settings({"organization": "acme", **values})


def problems(**values: Any) -> dict[str, str]:
    with pytest.raises(ConfigError) as raised:
        load(**values)
    return {issue.path: issue.message for issue in raised.value.issues}


def test_an_unquoted_account_id_is_told_to_quote_it_with_its_leading_zero() -> None:
    # `id: 012345678901` unquoted: YAML 1.2 reads the number 12345678901.
    found = problems(accounts={"a": {"id": 12345678901, "profile": "p"}}, roles=ROLES)

    assert found == {
        "accounts.a.id": "got 12345678901; expected a 12-digit AWS account ID as text: YAML reads an unquoted one "
        'as a number, dropping any leading zero; write it in quotes, "012345678901"'
    }


@pytest.mark.parametrize(
    ("values", "path"),
    [
        ({"deployments": [{"project": 2024, "stack": "prod"}]}, "deployments[0].project"),
        ({"deployments": [{"project": "infra", "stack": 1.5}]}, "deployments[0].stack"),
        ({"role": {"name": 42}, "deployments": [{"project": "infra", "stack": "prod"}]}, "role.name"),
    ],
)
def test_a_number_where_text_is_expected_is_told_to_quote_it(values: dict[str, Any], path: str) -> None:
    found = problems(**values)

    assert found[path].endswith("; YAML reads an unquoted number as a number: quote it")


def test_a_region_botocore_does_not_know_is_a_warning_naming_the_closest_one() -> None:
    loaded = load(
        accounts={"a": {"id": "012345678901", "profile": "p", "region": "us-wst-2"}},
        roles={"r": {"account": "a", "environments": [{"project": "aws", "name": "dev", "region": "eu-west-1"}]}},
    )

    [warning] = loaded.warnings
    assert warning.path == "accounts.a.region"
    assert "us-wst-2 is not a region botocore" in warning.message
    assert "did you mean us-west-2?" in warning.message


def test_a_known_region_gives_no_warning() -> None:
    loaded = load(environments=[{"project": "aws", "name": "dev", "region": "ap-southeast-2"}])

    assert loaded.warnings == ()


def test_the_program_warns_of_an_unknown_region() -> None:
    config = offline.StackConfig(
        "pulumi-aws-oidc",
        "dev",
        PROJECT_DIR,
        project_config(
            {"organization": "acme", "environments": [{"project": "aws", "name": "dev", "region": "us-east-9"}]}
        ),
        (),
    )

    recording = offline.run_stack(config)

    assert any(w.startswith("environments[0].region: us-east-9 is not a region botocore") for w in recording.warnings)


def test_every_error_of_an_entry_is_reported_at_once() -> None:
    found = problems(deployments=[{"project": "in fra", "operations": ["preview", "deploy"], "duration": "99h"}])

    assert set(found) == {
        "deployments[0].project",
        "deployments[0].stack",
        "deployments[0].operations[1]",
        "deployments[0].duration",
    }
    assert (
        "did you mean" in found["deployments[0].operations[1]"]
        or "expected one of" in found["deployments[0].operations[1]"]
    )
