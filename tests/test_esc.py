from __future__ import annotations

from typing import Any

import pytest
import yaml

from oidc import esc
from oidc.model import AwsSession, EscEnvironment
from oidc.settings import load_settings

ROLE_ARN = "arn:aws:iam::123456789012:role/pulumi-oidc"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "${aws.login.accessKeyId}",
    "AWS_SECRET_ACCESS_KEY": "${aws.login.secretAccessKey}",
    "AWS_SESSION_TOKEN": "${aws.login.sessionToken}",
}


def environment(
    policy_arns: tuple[str, ...] = (), region: str | None = None, project: str = "aws", name: str = "dev"
) -> EscEnvironment:
    session = AwsSession(session_name="pulumi-environments-session", duration="1h", policy_arns=policy_arns)
    return EscEnvironment(project=project, name=name, session=session, region=region)


def login(document: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = document["values"]["aws"]["login"]["fn::open::aws-login"]["oidc"]
    return result


def test_definition_logs_in_with_the_role_and_pins_the_subject() -> None:
    assert login(esc.definition(environment(), ROLE_ARN)) == {
        "roleArn": ROLE_ARN,
        "sessionName": "pulumi-environments-session",
        "duration": "1h",
        "subjectAttributes": ["currentEnvironment.name"],
    }


def test_definition_exports_the_three_credential_variables_only() -> None:
    document = esc.definition(environment(), ROLE_ARN)
    assert document["values"]["environmentVariables"] == CREDENTIALS
    assert set(document["values"]) == {"aws", "environmentVariables"}


def test_policy_arns_are_passed_when_given() -> None:
    arns = ("arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::123456789012:policy/deny-iam")
    assert login(esc.definition(environment(policy_arns=arns), ROLE_ARN))["policyArns"] == list(arns)


def test_policy_arns_are_absent_when_not_given() -> None:
    assert "policyArns" not in login(esc.definition(environment(), ROLE_ARN))


def test_region_sets_aws_region_and_pulumi_config() -> None:
    values = esc.definition(environment(region="eu-west-1"), ROLE_ARN)["values"]
    assert values["environmentVariables"] == {**CREDENTIALS, "AWS_REGION": "eu-west-1"}
    assert values["pulumiConfig"] == {"aws:region": "eu-west-1"}


def test_region_does_not_leak_into_shared_credential_variables() -> None:
    esc.definition(environment(region="eu-west-1"), ROLE_ARN)
    assert esc.definition(environment(), ROLE_ARN)["values"]["environmentVariables"] == CREDENTIALS


def test_pattern_environment_has_no_definition() -> None:
    with pytest.raises(ValueError, match="pattern"):
        esc.definition(EscEnvironment(project="aws", name="dev-*"), ROLE_ARN)


@pytest.mark.parametrize(
    "env",
    [
        environment(),
        environment(policy_arns=("arn:aws:iam::aws:policy/ReadOnlyAccess",), region="us-west-2"),
        environment(project="default", name="legacy", region="ap-southeast-2"),
    ],
    ids=["plain", "policies-and-region", "default-project"],
)
def test_render_parses_back_to_the_same_definition(env: EscEnvironment) -> None:
    document = esc.definition(env, ROLE_ARN)
    assert yaml.safe_load(esc.render(document)) == document


def test_render_keeps_build_order() -> None:
    text = esc.render(esc.definition(environment(region="us-west-2"), ROLE_ARN))
    positions = [text.index(f"{key}:") for key in ("roleArn", "sessionName", "duration", "subjectAttributes")]
    assert positions == sorted(positions)


def test_definition_from_loaded_settings_uses_defaults_and_canonical_duration() -> None:
    settings = load_settings(
        {
            "organization": "contoso",
            "role": {"maxSessionDuration": "2h"},
            "environments": [{"project": "aws", "name": "dev", "duration": "90m", "region": "us-east-2"}],
        }
    )
    [role] = settings.roles
    document = esc.definition(role.environments[0], ROLE_ARN)
    assert login(document)["sessionName"] == "pulumi-environments-session"
    assert login(document)["duration"] == "1h30m"
    assert yaml.safe_load(esc.render(document)) == document
