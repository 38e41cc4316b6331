from __future__ import annotations

import json
from typing import Any

import pytest

from oidc import claims
from oidc.settings import (
    AwsSession,
    ConfigError,
    ConfigIssue,
    GitSource,
    OidcProviderSettings,
    RoleSettings,
    Settings,
    load_settings,
    namespace_values,
)
from tests.conftest import raw_config

DEV = {"project": "aws", "name": "dev"}
PROD = {"project": "infra", "stack": "prod"}
THUMB = "0123456789abcdef0123456789abcdef01234567"
POLICY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
PROVIDER_ARN = "arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/oidc"
DROP = object()


def config(**overrides: Any) -> dict[str, str]:
    values: dict[str, Any] = {"organization": "contoso", "environments": [DEV], **overrides}
    return raw_config({key: value for key, value in values.items() if value is not DROP})


def load(**overrides: Any) -> Settings:
    return load_settings(config(**overrides))


def errors(**overrides: Any) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load(**overrides)
    return info.value


def issue_at(error: ConfigError, path: str) -> ConfigIssue:
    found = [issue for issue in error.issues if issue.path == path]
    assert found, f"no issue at {path}; got {[str(issue) for issue in error.issues]}"
    return found[0]


def test_defaults() -> None:
    settings = load(deployments=[PROD])
    assert settings.organization == "contoso"
    assert settings.issuer == "https://api.pulumi.com/oidc"
    assert settings.condition_prefix == "api.pulumi.com/oidc"
    assert settings.oidc_provider == OidcProviderSettings(arn=None, thumbprints="auto", audiences=(), protect=True)
    assert settings.role == RoleSettings()
    assert settings.role.max_session_duration == 3600
    assert settings.role.policy_arns is None
    assert settings.role.path == "/"
    assert settings.trust_policy_max_chars == 2048
    (deployment,) = settings.deployments
    assert deployment.operations is None
    assert deployment.session == AwsSession(session_name="pulumi-deploy-infra-prod", duration="1h", policy_arns=())
    assert deployment.source is None
    (environment,) = settings.environments
    assert environment.session == AwsSession(session_name="pulumi-environments-session", duration="1h")
    assert environment.region is None


def test_full_config_is_read() -> None:
    settings = load(
        issuer="https://pulumi.example.com/oidc",
        oidcProvider={"thumbprints": [THUMB.upper()], "audiences": ["fabrikam"], "protect": False},
        role={
            "name": "pulumi-oidc",
            "path": "/ci/",
            "policyArns": [POLICY],
            "maxSessionDuration": "2h",
            "tags": {"team": "platform"},
        },
        deployments=[
            {
                **PROD,
                "operations": ["update", "preview"],
                "sessionName": "deploy-${stack}",
                "duration": "90m",
                "policyArns": [POLICY],
                "source": {"repoUrl": "https://github.com/contoso/infra.git", "branch": "main", "repoDir": "aws"},
            },
            {"project": "infra", "stack": "review-*"},
            {"project": "infra", "stack": "staging", "manageSettings": False},
        ],
        environments=[
            {**DEV, "sessionName": "esc-dev", "duration": "2h", "region": "eu-west-1"},
            {"project": "aws", "name": "sandbox-*"},
            {"project": "default", "name": "legacy"},
        ],
        trustPolicyMaxChars=4096,
    )
    assert settings.condition_prefix == "pulumi.example.com/oidc"
    assert settings.oidc_provider == OidcProviderSettings(thumbprints=(THUMB,), audiences=("fabrikam",), protect=False)
    assert settings.role.max_session_duration == 7200
    assert settings.role.tags == {"team": "platform"}
    prod, review, staging = settings.deployments
    assert prod.operations == ("update", "preview")
    assert prod.session == AwsSession("deploy-${stack}", "1h30m", (POLICY,))
    assert prod.source == GitSource("https://github.com/contoso/infra.git", "main", "aws")
    assert review.is_pattern
    assert review.session is None
    assert staging.session is None
    assert not staging.is_pattern
    dev, sandbox, legacy = settings.environments
    assert dev.session == AwsSession("esc-dev", "2h")
    assert dev.region == "eu-west-1"
    assert sandbox.is_pattern
    assert sandbox.session is None
    assert legacy.session is not None
    assert settings.trust_policy_max_chars == 4096


def dep(**item: Any) -> dict[str, Any]:
    return {"deployments": [{**PROD, **item}]}


def env(**item: Any) -> dict[str, Any]:
    return {"environments": [{**DEV, **item}]}


def prov(**item: Any) -> dict[str, Any]:
    return {"oidcProvider": item}


def case(path: str, value: Any, allowed: str, overrides: dict[str, Any]) -> Any:
    return pytest.param(overrides, path, value, allowed, id=path if value is None else f"{path}={str(value)[:24]}")


ELEVEN_POLICIES = [f"arn:aws:iam::123456789012:policy/p{i}" for i in range(11)]
GITHUB_PROVIDER = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
REVIEW = {"project": "infra", "stack": "review-*"}
DEV_PATTERN = {"project": "aws", "name": "dev-*"}
UNMANAGED = {"manageSettings": False}
MAX_CHARS = "whole number up to 4096"
OTHER_ISSUER = "https://pulumi.example.com:8443/oidc"

INVALID = [
    case("deployments[1].duration", "1d", "XhYmZs", {"deployments": [PROD, {**PROD, "stack": "qa", "duration": "1d"}]}),
    case("environments[0].duration", "2h", "role.maxSessionDuration", env(duration="2h")),
    case("environments[0].duration", "10m", "from 15m", env(duration="10m")),
    case("environments[0].duration", "13h", "to 12h", {"role": {"maxSessionDuration": "12h"}, **env(duration="13h")}),
    case("environments[0].duration", 3600, "XhYmZs", env(duration=3600)),
    case("role.maxSessionDuration", "30m", "from 1h to 12h", {"role": {"maxSessionDuration": "30m"}}),
    case("role.maxSessionDuration", "13h", "from 1h to 12h", {"role": {"maxSessionDuration": "13h"}}),
    case("deployments[0].policyArns", None, "at most 10", dep(policyArns=ELEVEN_POLICIES)),
    case("environments[0].policyArns[0]", "ReadOnly", "policy ARN", env(policyArns=["ReadOnly"])),
    case("deployments[0].manageSettings", True, "pattern", dep(**REVIEW, manageSettings=True)),
    case("deployments[0].sessionName", "x-y", "remove it", dep(stack="r?", sessionName="x-y")),
    case("deployments[0].duration", "1h", "remove it", dep(project="*", duration="1h")),
    case("deployments[0].source", {"branch": "main"}, "remove it", dep(**REVIEW, source={"branch": "main"})),
    case("deployments[0].sessionName", "ab", "manageSettings true", dep(**UNMANAGED, sessionName="ab")),
    case("deployments[0].duration", "30m", "manageSettings true", dep(**UNMANAGED, duration="30m")),
    case("deployments[0].source", {}, "manageSettings true", dep(**UNMANAGED, source={})),
    case("environments[0].sessionName", "ab", "pattern", env(**DEV_PATTERN, sessionName="ab")),
    case("environments[0].duration", "1h", "pattern", env(**DEV_PATTERN, duration="1h")),
    case("environments[0].region", "us-east-1", "pattern", env(**DEV_PATTERN, region="us-east-1")),
    case("environments[0].sessionName", "team/dev", "session name", env(sessionName="team/dev")),
    case("deployments[0].sessionName", "my session", "session name", dep(sessionName="my session")),
    case("environments[0].sessionName", "x", "2 to 64", env(sessionName="x")),
    case("environments[0].sessionName", "s" * 65, "2 to 64", env(sessionName="s" * 65)),
    case("environments[0].sessionName", "${x}/y", "session name", env(sessionName="${x}/y")),
    case("deployments[1]", None, "infra/prod is also at", {"deployments": [PROD, {**PROD, "operations": ["update"]}]}),
    case("environments[1]", None, "aws/dev is also at", {"environments": [DEV, {**DEV, "region": "us-east-1"}]}),
    case("deployments[0].operations", ["update", "update"], "repeated: update", dep(operations=["update", "update"])),
    case("deployments[0].operations[0]", "deploy", "remediate-drift", dep(operations=["deploy"])),
    case("deployments[0].operations", [], "omit the key", dep(operations=[])),
    case("oidcProvider.arn", GITHUB_PROVIDER, "api.pulumi.com/oidc", prov(arn=GITHUB_PROVIDER)),
    case("oidcProvider.arn", "api.pulumi.com/oidc", "provider ARN", prov(arn="api.pulumi.com/oidc")),
    case("oidcProvider.thumbprints", [], "remove", prov(arn=PROVIDER_ARN, thumbprints=[])),
    case("oidcProvider.audiences", ["x"], "remove", prov(arn=PROVIDER_ARN, audiences=["x"])),
    case("oidcProvider.thumbprints", None, "at most 5", prov(thumbprints=[f"{i:040x}" for i in range(6)])),
    case("oidcProvider.thumbprints[0]", "z" * 40, "40 hex", prov(thumbprints=["z" * 40])),
    case("oidcProvider.thumbprints[0]", THUMB[:-1], "40 hex", prov(thumbprints=[THUMB[:-1]])),
    case("oidcProvider.thumbprints", "none", '"auto"', prov(thumbprints="none")),
    case("oidcProvider.thumbprints", None, "repeated", prov(thumbprints=[THUMB, THUMB.upper()])),
    case("oidcProvider.protect", "yes", "true or false", prov(protect="yes")),
    case("trustPolicyMaxChars", "lots", MAX_CHARS, {"trustPolicyMaxChars": "lots"}),
    case("trustPolicyMaxChars", 5000, MAX_CHARS, {"trustPolicyMaxChars": 5000}),
    case("trustPolicyMaxChars", 0, MAX_CHARS, {"trustPolicyMaxChars": 0}),
    case("trustPolicyMaxChars", True, MAX_CHARS, {"trustPolicyMaxChars": True}),
    case("trustPolicyMaxChars", 2048.5, MAX_CHARS, {"trustPolicyMaxChars": 2048.5}),
    case("environments[0].project", "a*", "no pattern", env(project="a*")),
    case("environments[0].name", "dev/x", "letters, digits", env(name="dev/x")),
    case("deployments[0].stack", None, "Pulumi name", {"deployments": [{"project": "infra"}]}),
    case("environments[0].region", "US-WEST-2", "AWS region", env(region="US-WEST-2")),
    case("role.policyArns[0]", "Admin", "policy ARN", {"role": {"policyArns": ["Admin"]}}),
    case("role.tags.aws:owner", "x", "'aws:'", {"role": {"tags": {"aws:owner": "x"}}}),
    case("issuer", "http://api.pulumi.com/oidc", "https:// URL", {"issuer": "http://api.pulumi.com/oidc"}),
    case("issuer", "https://api.pulumi.com/oidc/", "slash", {"issuer": "https://api.pulumi.com/oidc/"}),
    case("issuer", OTHER_ISSUER, "port", {"issuer": OTHER_ISSUER}),
    case("organization", "Contoso", "'contoso'", {"organization": "Contoso"}),
    case("organization", "con toso", "organization login", {"organization": "con toso"}),
    case("deployments", {"project": "infra"}, "list", {"deployments": {"project": "infra"}}),
]


@pytest.mark.parametrize(("overrides", "path", "value", "allowed"), INVALID)
def test_invalid_value_is_reported_with_path_value_and_what_is_allowed(
    overrides: dict[str, Any], path: str, value: Any, allowed: str
) -> None:
    error = errors(**overrides)
    issue = issue_at(error, path)
    assert f"  - {path}: " in str(error)
    if value is not None:
        assert f"got {json.dumps(value, sort_keys=True)}" in issue.message
    assert allowed in issue.message


UNKNOWN = {
    "top-level": ({"deploymnets": [PROD]}, "deploymnets"),
    "deployment-stak": ({"deployments": [{"project": "infra", "stak": "prod"}]}, "deployments[0].stak"),
    "environment-regoin": ({"environments": [{**DEV, "regoin": "us-east-1"}]}, "environments[0].regoin"),
    "role": ({"role": {"maxSessionDurations": "2h"}}, "role.maxSessionDurations"),
    "oidc-provider": ({"oidcProvider": {"thumbprint": [THUMB]}}, "oidcProvider.thumbprint"),
    "source": (
        {"deployments": [{**PROD, "source": {"repoURL": "u", "branch": "main"}}]},
        "deployments[0].source.repoURL",
    ),
}


@pytest.mark.parametrize(("overrides", "path"), UNKNOWN.values(), ids=UNKNOWN.keys())
def test_unknown_keys_are_rejected(overrides: dict[str, Any], path: str) -> None:
    assert "unknown key; allowed:" in issue_at(errors(**overrides), path).message


def test_typo_reports_both_the_unknown_and_the_missing_key() -> None:
    error = errors(deployments=[{"project": "infra", "stak": "prod"}])
    assert {issue.path for issue in error.issues} >= {"deployments[0].stak", "deployments[0].stack"}
    assert "stack" in issue_at(error, "deployments[0].stak").message


def test_uppercase_organization_suggests_lowercase_login() -> None:
    message = issue_at(errors(organization="ConToso"), "organization").message
    assert "'contoso'" in message
    assert "lowercase" in message


def test_missing_organization() -> None:
    assert "pulumi config set organization" in issue_at(errors(organization=DROP), "organization").message


@pytest.mark.parametrize(
    "overrides",
    [{"deployments": [], "environments": []}, {"environments": DROP}, {"environments": []}],
    ids=["both-empty", "both-absent", "environments-empty"],
)
def test_nothing_to_trust_is_rejected(overrides: dict[str, Any]) -> None:
    assert "trust nothing" in issue_at(errors(**overrides), "deployments").message


def test_every_problem_is_reported_at_once() -> None:
    error = errors(
        organization="Contoso",
        stak="prod",
        oidcProvider={"thumbprints": ["nothex"]},
        deployments=[PROD, {**PROD, "duration": "1d"}, {"project": "infra", "stack": "pr-*", "sessionName": "ab"}],
        environments=[{**DEV, "duration": "2h"}, {"project": "x*", "name": "dev"}],
        trustPolicyMaxChars=9000,
    )
    paths = {issue.path for issue in error.issues}
    assert paths >= {
        "organization",
        "stak",
        "oidcProvider.thumbprints[0]",
        "deployments[1]",
        "deployments[1].duration",
        "deployments[2].sessionName",
        "environments[0].duration",
        "environments[1].project",
        "trustPolicyMaxChars",
    }
    assert f"({len(error.issues)} problems)" in str(error)


def test_duration_over_default_role_max_is_accepted_when_role_max_is_raised() -> None:
    environment = {**DEV, "duration": "2h"}
    assert "role.maxSessionDuration" in issue_at(errors(environments=[environment]), "environments[0].duration").message
    settings = load(role={"maxSessionDuration": "2h"}, environments=[environment])
    assert settings.environments[0].session == AwsSession("pulumi-environments-session", "2h")
    assert settings.role.max_session_duration == 7200


def test_durations_are_stored_in_canonical_form() -> None:
    settings = load(role={"maxSessionDuration": "120m"}, environments=[{**DEV, "duration": "5400s"}])
    assert settings.environments[0].session is not None
    assert settings.environments[0].session.duration == "1h30m"


@pytest.mark.parametrize("duration", ["15m", "1h", "60m"])
def test_durations_within_bounds_are_accepted(duration: str) -> None:
    assert load(environments=[{**DEV, "duration": duration}]).environments[0].session is not None


@pytest.mark.parametrize(
    "session_name",
    ["${context.pulumi.user.login}", "esc-${context.pulumi.user.login}-dev", "ab", "a+b=c,d.e@f_g-h", "s" * 64],
)
def test_valid_session_names_are_accepted(session_name: str) -> None:
    session = load(environments=[{**DEV, "sessionName": session_name}]).environments[0].session
    assert session is not None
    assert session.session_name == session_name


def test_session_policies_up_to_10_are_accepted() -> None:
    arns = [f"arn:aws:iam::123456789012:policy/p{i}" for i in range(10)]
    session = load(deployments=[{**PROD, "policyArns": arns}]).deployments[0].session
    assert session is not None
    assert session.policy_arns == tuple(arns)


@pytest.mark.parametrize(
    ("thumbprints", "expected"),
    [
        ("auto", "auto"),
        ([], ()),
        ([THUMB], (THUMB,)),
        ([THUMB.upper(), "A" * 40], (THUMB, "a" * 40)),
        ([f"{i:040x}" for i in range(5)], tuple(f"{i:040x}" for i in range(5))),
    ],
    ids=["auto", "none", "one", "uppercase", "five"],
)
def test_thumbprints(thumbprints: Any, expected: Any) -> None:
    assert load(oidcProvider={"thumbprints": thumbprints}).oidc_provider.thumbprints == expected


def test_provider_arn_of_the_issuer_is_reused() -> None:
    assert load(oidcProvider={"arn": PROVIDER_ARN}).oidc_provider.arn == PROVIDER_ARN
    custom = "arn:aws:iam::123456789012:oidc-provider/pulumi.example.com/oidc"
    assert load(issuer="https://pulumi.example.com/oidc", oidcProvider={"arn": custom}).oidc_provider.arn == custom
    error = errors(issuer="https://pulumi.example.com/oidc", oidcProvider={"arn": PROVIDER_ARN})
    assert "pulumi.example.com/oidc" in issue_at(error, "oidcProvider.arn").message


def test_patterns_and_unmanaged_stacks_manage_no_settings() -> None:
    settings = load(
        deployments=[
            {"project": "infra", "stack": "review-*", "manageSettings": False},
            {"project": "infra?", "stack": "prod", "operations": ["update"]},
            {**PROD, "manageSettings": False},
        ],
        environments=[{"project": "aws", "name": "dev-?"}],
    )
    assert [d.session for d in settings.deployments] == [None, None, None]
    assert [d.is_pattern for d in settings.deployments] == [True, True, False]
    assert settings.environments[0].session is None
    assert settings.environments[0].is_pattern


def test_default_deployments_session_name_is_cut_to_64_characters() -> None:
    session = load(deployments=[{"project": "p" * 40, "stack": "s" * 40}]).deployments[0].session
    assert session is not None
    assert session.session_name == f"pulumi-deploy-{'p' * 40}-{'s' * 40}"[:64]
    assert len(session.session_name) == 64


def test_audiences_over_provider_limit_are_rejected() -> None:
    audiences = [f"org{i}" for i in range(99)]
    assert (
        "at most 100 client IDs"
        in issue_at(errors(oidcProvider={"audiences": audiences}), "oidcProvider.audiences").message
    )
    assert len(load(oidcProvider={"audiences": audiences[:98]}).oidc_provider.audiences) == 98


def test_default_project_environment_is_accepted() -> None:
    (environment,) = load(environments=[{"project": claims.LEGACY_ESC_PROJECT, "name": "legacy"}]).environments
    assert environment.identity == "default/legacy"
    assert environment.session is not None


def test_session_name_with_placeholder_and_overlong_literal_is_rejected() -> None:
    name = "${context.pulumi.user.login}-" + "s" * 64
    assert "2 to 64" in issue_at(errors(**env(sessionName=name)), "environments[0].sessionName").message


def test_same_policy_in_two_partitions_is_rejected() -> None:
    policies = ["arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws-us-gov:iam::aws:policy/ReadOnlyAccess"]

    [issue] = errors(role={"policyArns": policies}).issues

    assert issue.path == "role.policyArns"
    assert "two partitions" in issue.message


def test_invalid_manage_settings_is_the_only_error_of_its_entry() -> None:
    entry = {**PROD, "manageSettings": "yes", "duration": "30m", "source": {"repoUrl": "u", "branch": "main"}}

    [issue] = errors(deployments=[entry]).issues

    assert issue.path == "deployments[0].manageSettings"


def test_namespace_values_strip_the_projects_prefix_and_keep_misplaced_keys() -> None:
    config = {
        "my-fork:organization": "acme",
        "my-fork:trustPolicyMaxChars": 4096,
        "pulumi-aws-oidc:environments": [DEV],
        "aws:region": "us-west-2",
        "aws:role": "not ours",
        "my-fork:unset": None,
    }

    assert namespace_values(config, "my-fork") == {
        "organization": "acme",
        "trustPolicyMaxChars": "4096",
        "pulumi-aws-oidc:environments": '[{"project": "aws", "name": "dev"}]',
    }


def test_a_key_under_another_projects_namespace_is_reported() -> None:
    values = {**config(), "pulumi-aws-oidc:environments": '[{"project": "aws", "name": "dev"}]'}

    with pytest.raises(ConfigError) as raised:
        load_settings(values)

    [issue] = raised.value.issues
    assert issue.path == "pulumi-aws-oidc:environments"
    assert "from its own project's namespace, not pulumi-aws-oidc's" in issue.message


@pytest.mark.parametrize(
    ("tags", "path"), [({"cost-center": "R&D"}, "role.tags.cost-center"), ({"team!": "x"}, "role.tags.team!")]
)
def test_role_tags_outside_iams_alphabet_are_rejected(tags: dict[str, str], path: str) -> None:
    [issue] = errors(role={"tags": tags}).issues

    assert issue.path == path
    assert "letters, digits, spaces and _.:/=+-@" in issue.message


def test_role_tags_of_unicode_letters_and_iams_symbols_are_accepted() -> None:
    tags = {"Équipe": "Plateforme données", "owner:email": "ops@example.com", "path": "/a/b=c+d-e_f.g"}

    assert dict(load(role={"tags": tags}).role.tags) == tags
