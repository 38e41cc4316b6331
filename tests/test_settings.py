from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from oidc import claims
from oidc.model import (
    FORM_A_KEY,
    AccountSettings,
    AssumeRole,
    AwsSession,
    ConfigError,
    ConfigIssue,
    GitSource,
    OidcProviderSettings,
    RoleSettings,
    Settings,
    provider_client_ids,
)
from oidc.settings import load_settings, namespace_values

DEV = {"project": "aws", "name": "dev"}
PROD = {"project": "infra", "stack": "prod"}
THUMB = "0123456789abcdef0123456789abcdef01234567"
POLICY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
PROVIDER_ARN = "arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/oidc"
DROP = object()


def config(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"organization": "contoso", "environments": [DEV], **overrides}
    return {key: value for key, value in values.items() if value is not DROP}


def load(**overrides: Any) -> Settings:
    return load_settings(config(**overrides))


def role_of(settings: Settings) -> RoleSettings:
    """The one role of a form-A config."""
    [role] = settings.roles
    return role


def account_of(settings: Settings) -> AccountSettings:
    """The one account of a form-A config."""
    [account] = settings.accounts
    return account


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
    assert not settings.by_roles
    account, role = account_of(settings), role_of(settings)
    assert account == AccountSettings(key=FORM_A_KEY, config_path="")
    assert account.oidc_provider == OidcProviderSettings(arn=None, thumbprints="auto", audiences=(), protect=True)
    assert account.trust_policy_max_chars == 2048
    assert account.uses_default_provider
    assert dataclasses.replace(role, deployments=(), environments=()) == RoleSettings()
    assert (role.key, role.account, role.config_path) == (FORM_A_KEY, FORM_A_KEY, "role")
    assert role.max_session_duration == 3600
    assert role.policy_arns is None
    assert role.path == "/"
    (deployment,) = role.deployments
    assert deployment.operations is None
    assert deployment.session == AwsSession(session_name="pulumi-deploy-infra-prod", duration="1h", policy_arns=())
    assert deployment.source is None
    assert deployment.path == "deployments[0]"
    (environment,) = role.environments
    assert environment.session == AwsSession(session_name="pulumi-environments-session", duration="1h")
    assert environment.region is None
    assert environment.path == "environments[0]"
    assert role.managed_stacks == (deployment,)
    assert role.defined_environments == (environment,)


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
    account, role = account_of(settings), role_of(settings)
    assert account.oidc_provider == OidcProviderSettings(thumbprints=(THUMB,), audiences=("fabrikam",), protect=False)
    assert role.max_session_duration == 7200
    assert role.tags == {"team": "platform"}
    prod, review, staging = role.deployments
    assert prod.operations == ("update", "preview")
    assert prod.session == AwsSession("deploy-${stack}", "1h30m", (POLICY,))
    assert prod.source == GitSource("https://github.com/contoso/infra.git", "main", "aws")
    assert review.is_pattern
    assert review.session is None
    assert staging.session is None
    assert not staging.is_pattern
    assert role.managed_stacks == (prod,)
    dev, sandbox, legacy = role.environments
    assert dev.session == AwsSession("esc-dev", "2h")
    assert dev.region == "eu-west-1"
    assert sandbox.is_pattern
    assert sandbox.session is None
    assert legacy.session is not None
    assert [e.path for e in role.environments] == ["environments[0]", "environments[1]", "environments[2]"]
    assert role.defined_environments == (dev, legacy)
    assert account.trust_policy_max_chars == 4096


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
    "top-level": ({"deploymnets": [PROD]}, "deploymnets", "deployments"),
    "top-level-case": ({"TrustPolicyMaxChars": 4096}, "TrustPolicyMaxChars", "trustPolicyMaxChars"),
    "deployment-stak": ({"deployments": [{"project": "infra", "stak": "prod"}]}, "deployments[0].stak", "stack"),
    "environment-regoin": ({"environments": [{**DEV, "regoin": "us-east-1"}]}, "environments[0].regoin", "region"),
    "role": ({"role": {"maxSessionDurations": "2h"}}, "role.maxSessionDurations", "maxSessionDuration"),
    "oidc-provider": ({"oidcProvider": {"thumbprint": [THUMB]}}, "oidcProvider.thumbprint", "thumbprints"),
    "source": (
        {"deployments": [{**PROD, "source": {"repoURL": "u", "branch": "main"}}]},
        "deployments[0].source.repoURL",
        "repoUrl",
    ),
}


@pytest.mark.parametrize(("overrides", "path", "closest"), UNKNOWN.values(), ids=UNKNOWN.keys())
def test_unknown_keys_are_rejected_with_the_closest_known_key(
    overrides: dict[str, Any], path: str, closest: str
) -> None:
    message = issue_at(errors(**overrides), path).message
    assert f"; unknown key, did you mean `{closest}`? (allowed: " in message


def test_an_unknown_key_like_no_known_one_lists_the_keys_allowed() -> None:
    message = issue_at(errors(colour="blue"), "colour").message
    assert message == (
        'got "blue"; unknown key; allowed: organization, issuer, oidcProvider, role, deployments, environments, '
        "trustPolicyMaxChars, accounts, roles"
    )
    assert "did you mean" not in message


def test_the_typo_of_a_top_level_key_is_told_in_full() -> None:
    [issue] = errors(deploymnets=[PROD], deployments=[PROD]).issues
    assert str(issue) == (
        'deploymnets: got [{"project": "infra", "stack": "prod"}]; unknown key, did you mean `deployments`? '
        "(allowed: organization, issuer, oidcProvider, role, deployments, environments, trustPolicyMaxChars, "
        "accounts, roles)"
    )


def test_an_operation_typo_gets_the_closest_operation() -> None:
    message = issue_at(errors(deployments=[{**PROD, "operations": ["udpate"]}]), "deployments[0].operations[0]").message
    assert message.startswith('got "udpate"; expected one of preview, update,')
    assert message.endswith("; did you mean `update`?")


def test_a_value_is_shown_decoded_as_it_was_written_not_as_json_text() -> None:
    # Pulumi keeps an object as JSON text: the message shows the object, once, with its keys in order.
    message = issue_at(errors(rols={"ci": {"deployments": [PROD]}}), "rols").message
    assert message.startswith('got {"ci": {"deployments": [{"project": "infra", "stack": "prod"}]}}; ')
    assert "\\" not in message
    assert "did you mean `roles`?" in message


def test_non_ascii_text_is_shown_as_written() -> None:
    message = issue_at(errors(role={"name": "rôle-ci"}), "role.name").message
    assert message.startswith('got "rôle-ci"; ')


def test_a_long_value_is_cut_to_about_80_characters_with_its_size() -> None:
    roles = {f"team-{index}": {"deployments": [{"project": f"team-{index}", "stack": "*"}]} for index in range(1000)}
    message = issue_at(errors(rols=roles), "rols").message
    shown = message.removeprefix("got ").partition("; unknown key")[0]
    assert shown == ('{"team-0": {"deployments": [{"project": "team-0", "stack": "*"}]}, "team-1": {"… (1000 entries)')
    assert len(message) < 300

    text = issue_at(errors(role={"description": "x" * 1001}), "role.description").message
    assert text.startswith(f'got "{"x" * 78}… (1001 characters); expected text of Latin-1 characters')


def test_a_list_cut_short_says_how_many_items_it_has() -> None:
    policies = [f"arn:aws:iam::aws:policy/Policy{index}" for index in range(30)]
    message = issue_at(errors(role={"policyArns": policies}), "role.policyArns").message
    assert message.startswith('got ["arn:aws:iam::aws:policy/Policy0", ')
    assert "… (30 items); at most 20 policy ARNs are allowed, got 30" in message


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
    role = role_of(load(role={"maxSessionDuration": "2h"}, environments=[environment]))
    assert role.environments[0].session == AwsSession("pulumi-environments-session", "2h")
    assert role.max_session_duration == 7200


BAD_ROLE_NAME = "pulumi ci"


@pytest.mark.parametrize(("role", "limit"), [({}, "1h"), ({"maxSessionDuration": "90m"}, "1h30m")])
def test_a_duration_is_held_to_the_roles_maximum_while_another_role_key_is_wrong(
    role: dict[str, Any], limit: str
) -> None:
    error = errors(role={**role, "name": BAD_ROLE_NAME}, environments=[{**DEV, "duration": "2h"}])

    assert {issue.path for issue in error.issues} == {"role.name", "environments[0].duration"}
    message = issue_at(error, "environments[0].duration").message
    assert f"and no longer than role.maxSessionDuration ({limit}; raise it for longer sessions)" in message


def test_a_duration_within_the_roles_maximum_passes_while_another_role_key_is_wrong() -> None:
    error = errors(role={"name": BAD_ROLE_NAME, "maxSessionDuration": "2h"}, environments=[{**DEV, "duration": "2h"}])

    assert [issue.path for issue in error.issues] == ["role.name"]


def test_an_invalid_maximum_is_reported_once_and_no_limit_is_invented() -> None:
    error = errors(
        role={"maxSessionDuration": "30m"},
        environments=[{**DEV, "duration": "2h"}, {"project": "aws", "name": "prod", "duration": "13h"}],
    )

    assert [issue.path for issue in error.issues] == ["role.maxSessionDuration", "environments[1].duration"]
    assert issue_at(error, "role.maxSessionDuration").message == (
        'got "30m"; expected a duration of the form XhYmZs from 1h to 12h; the durations of the role\'s entries '
        "are checked against it once it is valid"
    )
    # Outside STS's own bounds whatever the maximum: said without a limit of the role.
    assert issue_at(error, "environments[1].duration").message == (
        'got "13h"; expected a duration of the form XhYmZs from 15m to 12h, and no longer than role.maxSessionDuration'
    )


def test_a_role_that_is_no_object_invents_no_limit_either() -> None:
    error = errors(role="pulumi-ci", environments=[{**DEV, "duration": "2h"}])

    assert [issue.path for issue in error.issues] == ["role"]


def test_a_form_b_duration_is_held_to_its_roles_maximum_while_another_role_key_is_wrong() -> None:
    error = errors_b(
        roles={
            "deploy": {**DEPLOY_ROLE, "maxSessionDuration": "4h"},
            "ops": {"name": BAD_ROLE_NAME, "environments": [{**DEV, "duration": "2h"}]},
        }
    )

    assert {issue.path for issue in error.issues} == {"roles.ops.name", "roles.ops.environments[0].duration"}
    assert (
        "no longer than roles.ops.maxSessionDuration (1h;"
        in issue_at(error, "roles.ops.environments[0].duration").message
    )


def test_durations_are_stored_in_canonical_form() -> None:
    role = role_of(load(role={"maxSessionDuration": "120m"}, environments=[{**DEV, "duration": "5400s"}]))
    assert role.environments[0].session is not None
    assert role.environments[0].session.duration == "1h30m"


@pytest.mark.parametrize("duration", ["15m", "1h", "60m"])
def test_durations_within_bounds_are_accepted(duration: str) -> None:
    assert role_of(load(environments=[{**DEV, "duration": duration}])).environments[0].session is not None


@pytest.mark.parametrize(
    "session_name",
    ["${context.pulumi.user.login}", "esc-${context.pulumi.user.login}-dev", "ab", "a+b=c,d.e@f_g-h", "s" * 64],
)
def test_valid_session_names_are_accepted(session_name: str) -> None:
    session = role_of(load(environments=[{**DEV, "sessionName": session_name}])).environments[0].session
    assert session is not None
    assert session.session_name == session_name


def test_session_policies_up_to_10_are_accepted() -> None:
    arns = [f"arn:aws:iam::123456789012:policy/p{i}" for i in range(10)]
    session = role_of(load(deployments=[{**PROD, "policyArns": arns}])).deployments[0].session
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
    assert account_of(load(oidcProvider={"thumbprints": thumbprints})).oidc_provider.thumbprints == expected


def test_provider_arn_of_the_issuer_is_reused() -> None:
    assert account_of(load(oidcProvider={"arn": PROVIDER_ARN})).oidc_provider.arn == PROVIDER_ARN
    custom = "arn:aws:iam::123456789012:oidc-provider/pulumi.example.com/oidc"
    reused = load(issuer="https://pulumi.example.com/oidc", oidcProvider={"arn": custom})
    assert account_of(reused).oidc_provider.arn == custom
    error = errors(issuer="https://pulumi.example.com/oidc", oidcProvider={"arn": PROVIDER_ARN})
    assert "pulumi.example.com/oidc" in issue_at(error, "oidcProvider.arn").message


def test_patterns_and_unmanaged_stacks_manage_no_settings() -> None:
    role = role_of(
        load(
            deployments=[
                {"project": "infra", "stack": "review-*", "manageSettings": False},
                {"project": "infra?", "stack": "prod", "operations": ["update"]},
                {**PROD, "manageSettings": False},
            ],
            environments=[{"project": "aws", "name": "dev-?"}],
        )
    )
    assert [d.session for d in role.deployments] == [None, None, None]
    assert [d.is_pattern for d in role.deployments] == [True, True, False]
    assert role.environments[0].session is None
    assert role.environments[0].is_pattern
    assert role.managed_stacks == ()
    assert role.defined_environments == ()


def test_default_deployments_session_name_is_cut_to_64_characters() -> None:
    session = role_of(load(deployments=[{"project": "p" * 40, "stack": "s" * 40}])).deployments[0].session
    assert session is not None
    assert session.session_name == f"pulumi-deploy-{'p' * 40}-{'s' * 40}"[:64]
    assert len(session.session_name) == 64


def test_audiences_over_provider_limit_are_rejected() -> None:
    audiences = [f"org{i}" for i in range(99)]
    assert (
        "at most 100 client IDs"
        in issue_at(errors(oidcProvider={"audiences": audiences}), "oidcProvider.audiences").message
    )
    assert len(account_of(load(oidcProvider={"audiences": audiences[:98]})).oidc_provider.audiences) == 98


def test_default_project_environment_is_accepted() -> None:
    (environment,) = role_of(load(environments=[{"project": claims.LEGACY_ESC_PROJECT, "name": "legacy"}])).environments
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

    assert dict(role_of(load(role={"tags": tags})).tags) == tags


# Form B: `roles`, and optionally `accounts`, with the rules that hold across them.

DEPLOY_ROLE = {"deployments": [PROD]}
PROD_ID, STAGE_ID = "111111111111", "222222222222"


def assume(account_id: str) -> dict[str, str]:
    return {"roleArn": f"arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole"}


def load_b(**values: Any) -> Settings:
    return load_settings({"organization": "contoso", **values})


def errors_b(**values: Any) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_b(**values)
    return info.value


def in_accounts(**roles: dict[str, Any]) -> dict[str, Any]:
    """``roles`` in the accounts prod (default AWS provider) and stage (a profile), each role's account given."""
    return {"accounts": {"prod": {}, "stage": {"profile": "stage"}}, "roles": roles}


def b_case(name: str, path: str, expected: tuple[str, ...], **values: Any) -> Any:
    return pytest.param(values, path, expected, id=name)


THIRTY_THREE = "a" * 33
NINETY_NINE_AUDIENCES = [f"org{i}" for i in range(99)]

FORM_B_INVALID = [
    b_case(
        "top-level-role", "role", ("move this under roles.<key>",), roles={"deploy": DEPLOY_ROLE}, role={"name": "ci"}
    ),
    b_case(
        "accounts-without-roles",
        "accounts",
        ("accounts go with roles",),
        accounts={"prod": {}},
        deployments=[PROD],
    ),
    b_case(
        "top-level-deployments",
        "deployments",
        ("move this under roles.<key>.deployments",),
        roles={"deploy": DEPLOY_ROLE},
        deployments=[PROD],
    ),
    b_case(
        "top-level-environments",
        "environments",
        ("move this under roles.<key>.environments",),
        roles={"deploy": DEPLOY_ROLE},
        environments=[DEV],
    ),
    b_case(
        "top-level-oidc-provider-with-accounts",
        "oidcProvider",
        ("move this to accounts.<key>.oidcProvider",),
        oidcProvider={"protect": False},
        **in_accounts(deploy={**DEPLOY_ROLE, "account": "prod"}, ops={"environments": [DEV], "account": "stage"}),
    ),
    b_case(
        "top-level-trust-policy-max-chars-with-accounts",
        "trustPolicyMaxChars",
        ("move this to accounts.<key>.trustPolicyMaxChars",),
        trustPolicyMaxChars=4096,
        **in_accounts(deploy={**DEPLOY_ROLE, "account": "prod"}, ops={"environments": [DEV], "account": "stage"}),
    ),
    *(
        b_case(
            f"account-key-{key[:8]}",
            f"accounts.{key}",
            (f"{key!r} is not a valid accounts key", "1 to 32 of a-z, 0-9 and '-'"),
            accounts={key: {}},
            roles={"deploy": {**DEPLOY_ROLE, "account": key}},
        )
        for key in ("Prod", "-prod", "prod_eu", THIRTY_THREE)
    ),
    b_case(
        "role-key-uppercase",
        "roles.Deploy",
        ("'Deploy' is not a valid roles key",),
        roles={"Deploy": DEPLOY_ROLE},
    ),
    b_case(
        "role-without-entries",
        "roles.ops",
        ("lists no deployments and no environments",),
        roles={"deploy": DEPLOY_ROLE, "ops": {"name": "ops"}},
    ),
    b_case(
        "role-with-empty-entries",
        "roles.ops",
        ("lists no deployments and no environments",),
        roles={"deploy": DEPLOY_ROLE, "ops": {"deployments": [], "environments": []}},
    ),
    b_case(
        "account-without-roles",
        "accounts.stage",
        ("holds no role", "account: stage"),
        **in_accounts(deploy={**DEPLOY_ROLE, "account": "prod"}),
    ),
    b_case(
        "role-account-missing",
        "roles.deploy.account",
        ("missing", "one of: prod, stage"),
        **in_accounts(deploy=DEPLOY_ROLE, ops={"environments": [DEV], "account": "stage"}),
    ),
    b_case(
        "role-account-unknown",
        "roles.deploy.account",
        ('got "dev"', "expected a key of accounts: prod, stage"),
        **in_accounts(deploy={**DEPLOY_ROLE, "account": "dev"}, ops={"environments": [DEV], "account": "stage"}),
    ),
    b_case(
        "role-account-without-accounts",
        "roles.deploy.account",
        ('got "prod"', "only with accounts"),
        roles={"deploy": {**DEPLOY_ROLE, "account": "prod"}},
    ),
    b_case(
        "assume-role-and-profile",
        "accounts.prod.profile",
        ("give assumeRole or profile, not both",),
        accounts={"prod": {"assumeRole": assume(PROD_ID), "profile": "prod"}},
        roles={"deploy": {**DEPLOY_ROLE, "account": "prod"}},
    ),
    b_case(
        "two-accounts-on-the-default-provider",
        "accounts.stage",
        ("neither assumeRole nor profile, like accounts.prod", "at most one account uses the stack's default"),
        accounts={"prod": {}, "stage": {}},
        roles={"deploy": {**DEPLOY_ROLE, "account": "prod"}, "ops": {"environments": [DEV], "account": "stage"}},
    ),
    b_case(
        "id-and-assume-role-in-other-accounts",
        "accounts.prod.id",
        (f'got "{PROD_ID}"', f"assumeRole.roleArn is in account {STAGE_ID}"),
        accounts={"prod": {"id": PROD_ID, "assumeRole": assume(STAGE_ID)}},
        roles={"deploy": {**DEPLOY_ROLE, "account": "prod"}},
    ),
    b_case(
        "two-accounts-with-the-same-id",
        "accounts.stage",
        (f"reaches account {PROD_ID}, like accounts.prod", "list each account once"),
        accounts={"prod": {"id": PROD_ID}, "stage": {"id": PROD_ID, "profile": "stage"}},
        roles={"deploy": {**DEPLOY_ROLE, "account": "prod"}, "ops": {"environments": [DEV], "account": "stage"}},
    ),
    b_case(
        "an-id-and-an-assume-role-of-the-same-account",
        "accounts.stage",
        (f"reaches account {PROD_ID}, like accounts.prod",),
        accounts={"prod": {"id": PROD_ID}, "stage": {"assumeRole": assume(PROD_ID)}},
        roles={"deploy": {**DEPLOY_ROLE, "account": "prod"}, "ops": {"environments": [DEV], "account": "stage"}},
    ),
    b_case(
        "two-roles-manage-one-stacks-settings",
        "roles.ops.deployments[1]",
        ("manages the deployment settings of infra/prod, as roles.deploy.deployments[0] does", "manageSettings: false"),
        roles={"deploy": DEPLOY_ROLE, "ops": {"deployments": [{"project": "infra", "stack": "qa"}, PROD]}},
    ),
    b_case(
        "two-roles-in-two-accounts-manage-one-stacks-settings",
        "roles.ops.deployments[0]",
        ("as roles.deploy.deployments[0] does",),
        **in_accounts(deploy={**DEPLOY_ROLE, "account": "prod"}, ops={**DEPLOY_ROLE, "account": "stage"}),
    ),
    b_case(
        "two-roles-create-one-environment",
        "roles.ops.environments[0]",
        ("creates the ESC environment aws/dev, as roles.deploy.environments[0] does",),
        roles={"deploy": {"environments": [DEV]}, "ops": {"environments": [{**DEV, "region": "us-east-1"}]}},
    ),
    b_case(
        "role-names-equal-ignoring-case",
        "roles.ops.name",
        ('got "PULUMI-ci"', "roles.deploy.name names the same role in account default", "ignoring case"),
        roles={"deploy": {**DEPLOY_ROLE, "name": "pulumi-CI"}, "ops": {"environments": [DEV], "name": "PULUMI-ci"}},
    ),
    b_case(
        "role-names-equal-in-one-of-two-accounts",
        "roles.ops.name",
        ("roles.deploy.name names the same role in account prod",),
        **in_accounts(
            deploy={**DEPLOY_ROLE, "name": "ci", "account": "prod"},
            ops={"environments": [DEV], "name": "CI", "account": "prod"},
            other={"environments": [DEV_PATTERN], "name": "ci", "account": "stage"},
        ),
    ),
    b_case(
        "duration-over-the-roles-own-maximum",
        "roles.ops.environments[0].duration",
        ('got "2h"', "no longer than roles.ops.maxSessionDuration (1h;"),
        roles={
            "deploy": {**DEPLOY_ROLE, "maxSessionDuration": "2h"},
            "ops": {"environments": [{**DEV, "duration": "2h"}]},
        },
    ),
    b_case(
        "deployment-duration-over-the-roles-own-maximum",
        "roles.deploy.deployments[0].duration",
        ('got "3h"', "no longer than roles.deploy.maxSessionDuration (2h;"),
        roles={"deploy": {"deployments": [{**PROD, "duration": "3h"}], "maxSessionDuration": "2h"}},
    ),
    b_case(
        "role-max-session-duration-out-of-range",
        "roles.deploy.maxSessionDuration",
        ('got "30m"', "from 1h to 12h"),
        roles={"deploy": {**DEPLOY_ROLE, "maxSessionDuration": "30m"}},
    ),
    b_case(
        "client-ids-over-the-limit-in-an-account",
        "accounts.prod.oidcProvider.audiences",
        ("at most 100 client IDs, including the audiences its roles need",),
        accounts={"prod": {"oidcProvider": {"audiences": NINETY_NINE_AUDIENCES}}},
        roles={"deploy": {**DEPLOY_ROLE, "environments": [DEV], "account": "prod"}},
    ),
    b_case(
        "client-ids-over-the-limit-without-accounts",
        "oidcProvider.audiences",
        ("at most 100 client IDs",),
        oidcProvider={"audiences": NINETY_NINE_AUDIENCES},
        roles={"deploy": DEPLOY_ROLE, "ops": {"environments": [DEV]}},
    ),
    b_case(
        "unknown-account-field",
        "accounts.prod.assumeRoles",
        ("unknown key, did you mean `assumeRole`? (allowed: id, assumeRole, profile",),
        accounts={"prod": {"assumeRoles": [assume(PROD_ID)]}},
        roles={"deploy": {**DEPLOY_ROLE, "account": "prod"}},
    ),
    b_case(
        "unknown-role-field",
        "roles.deploy.deployment",
        ("unknown key, did you mean `deployments`? (allowed:", "account, deployments, environments"),
        roles={"deploy": {"deployment": [PROD], "environments": [DEV]}},
    ),
    b_case(
        "unknown-role-field-of-the-role-itself",
        "roles.deploy.maxSession",
        ("did you mean `maxSessionDuration`?",),
        roles={"deploy": {**DEPLOY_ROLE, "maxSession": "2h"}},
    ),
    b_case(
        "unknown-assume-role-field",
        "accounts.prod.assumeRole.roleARN",
        ("did you mean `roleArn`? (allowed: roleArn, sessionName, externalId)",),
        accounts={"prod": {"assumeRole": {"roleARN": "arn:aws:iam::111111111111:role/x"}}},
        roles={"deploy": {**DEPLOY_ROLE, "account": "prod"}},
    ),
    b_case(
        "unknown-account-provider-field",
        "accounts.prod.oidcProvider.audience",
        ("did you mean `audiences`?",),
        accounts={"prod": {"oidcProvider": {"audience": ["x"]}}},
        roles={"deploy": {**DEPLOY_ROLE, "account": "prod"}},
    ),
    b_case(
        "unknown-entry-field-of-a-role",
        "roles.deploy.environments[0].durations",
        ("did you mean `duration`?",),
        roles={"deploy": {"environments": [{**DEV, "durations": "1h"}]}},
    ),
    b_case(
        "role-account-misspelt",
        "roles.deploy.account",
        ('got "prdo"', "expected a key of accounts: prod, stage; did you mean `prod`?"),
        **in_accounts(deploy={**DEPLOY_ROLE, "account": "prdo"}, ops={"environments": [DEV], "account": "stage"}),
    ),
]


@pytest.mark.parametrize(("values", "path", "expected"), FORM_B_INVALID)
def test_form_b_rule_is_reported_with_its_key_path(
    values: dict[str, Any], path: str, expected: tuple[str, ...]
) -> None:
    error = errors_b(**values)

    message = issue_at(error, path).message
    assert f"  - {path}: " in str(error)
    for text in expected:
        assert text in message


@pytest.mark.parametrize("account", [["prod"], {"key": "prod"}], ids=["list", "object"])
def test_a_role_account_that_is_not_a_string_is_reported(account: Any) -> None:
    error = errors_b(accounts={"prod": {}}, roles={"deploy": {**DEPLOY_ROLE, "account": account}})

    assert "expected a key of accounts: prod" in issue_at(error, "roles.deploy.account").message


def test_a_role_account_is_judged_even_when_another_account_is_invalid() -> None:
    error = errors_b(
        accounts={"prod": {"id": "not-an-id"}, "stage": {"profile": "stage"}},
        roles={"deploy": {**DEPLOY_ROLE, "account": "dev"}, "ops": {"environments": [DEV]}},
    )

    # No role names prod or stage, so both are reported as holding none, next to the roles' own errors.
    assert {issue.path for issue in error.issues} == {
        "accounts.prod.id",
        "accounts.prod",
        "accounts.stage",
        "roles.deploy.account",
        "roles.ops.account",
    }
    assert "expected a key of accounts: prod, stage" in issue_at(error, "roles.deploy.account").message
    assert "one of: prod, stage" in issue_at(error, "roles.ops.account").message


def test_form_b_accepts_top_level_keys_left_at_their_empty_defaults() -> None:
    settings = load_b(
        role={},
        deployments=[],
        environments=[],
        oidcProvider={},
        trustPolicyMaxChars=2048,
        **in_accounts(deploy={**DEPLOY_ROLE, "account": "prod"}, ops={"environments": [DEV], "account": "stage"}),
    )

    assert settings.by_roles
    assert [r.key for r in settings.roles] == ["deploy", "ops"]


def test_a_stack_managed_by_two_roles_is_reported_once_at_the_second_entry() -> None:
    error = errors_b(roles={"deploy": DEPLOY_ROLE, "ops": {"deployments": [PROD]}})

    assert [issue.path for issue in error.issues] == ["roles.ops.deployments[0]"]


def test_form_b_with_accounts_is_read() -> None:
    settings = load_b(
        accounts={
            "prod": {"id": PROD_ID, "trustPolicyMaxChars": 4096},
            "stage": {
                "assumeRole": {**assume(STAGE_ID), "sessionName": "admin-stack", "externalId": "ext-1"},
                "region": "eu-west-1",
                "oidcProvider": {"arn": f"arn:aws:iam::{STAGE_ID}:oidc-provider/api.pulumi.com/oidc"},
            },
            "sandbox": {"profile": "sandbox"},
        },
        roles={
            "deploy": {"account": "prod", "maxSessionDuration": "2h", **DEPLOY_ROLE},
            "read": {"account": "prod", "name": "read-only", "environments": [DEV, DEV_PATTERN]},
            "ops": {"account": "stage", "deployments": [{**PROD, "manageSettings": False}]},
            "play": {"account": "sandbox", "environments": [{"project": "sandbox", "name": "dev"}]},
        },
    )

    assert settings.by_roles
    assert [a.key for a in settings.accounts] == ["prod", "sandbox", "stage"]
    prod, stage, sandbox = settings.account("prod"), settings.account("stage"), settings.account("sandbox")
    assert prod == AccountSettings(key="prod", id=PROD_ID, trust_policy_max_chars=4096, config_path="accounts.prod.")
    assert prod.uses_default_provider
    assert stage.assume_role == AssumeRole(assume(STAGE_ID)["roleArn"], "admin-stack", "ext-1")
    assert stage.id == STAGE_ID
    assert stage.oidc_provider.arn == f"arn:aws:iam::{STAGE_ID}:oidc-provider/api.pulumi.com/oidc"
    assert not stage.uses_default_provider
    assert (sandbox.id, sandbox.profile, sandbox.uses_default_provider) == (None, "sandbox", False)
    assert [r.key for r in settings.roles_of("prod")] == ["deploy", "read"]
    assert [r.key for r in settings.roles_of("stage")] == ["ops"]
    deploy = settings.roles_of("prod")[0]
    assert (deploy.account, deploy.config_path, deploy.max_session_duration) == ("prod", "roles.deploy", 7200)
    assert [d.path for d in deploy.managed_stacks] == ["roles.deploy.deployments[0]"]
    read = settings.roles_of("prod")[1]
    assert read.name == "read-only"
    assert [e.path for e in read.environments] == ["roles.read.environments[0]", "roles.read.environments[1]"]
    assert [e.identity for e in read.defined_environments] == ["aws/dev"]
    [ops] = settings.roles_of("stage")
    assert ops.managed_stacks == ()
    assert ops.deployments[0].identity == "infra/prod"


def test_form_b_without_accounts_has_one_account_with_the_top_level_provider_keys() -> None:
    settings = load_b(
        oidcProvider={"audiences": ["fabrikam"]},
        trustPolicyMaxChars=4096,
        roles={"deploy": DEPLOY_ROLE, "read": {"environments": [DEV]}},
    )

    assert settings.by_roles
    [account] = settings.accounts
    assert (account.key, account.config_path, account.trust_policy_max_chars) == (FORM_A_KEY, "", 4096)
    assert account.oidc_provider.audiences == ("fabrikam",)
    assert [(r.key, r.account, r.config_path) for r in settings.roles] == [
        ("deploy", FORM_A_KEY, "roles.deploy"),
        ("read", FORM_A_KEY, "roles.read"),
    ]


TRUST_ONLY = {
    "manage-settings-false": {"deployments": [{**PROD, "manageSettings": False, "operations": ["preview"]}]},
    "stack-pattern": {"deployments": [{"project": "infra", "stack": "*"}]},
    "project-pattern": {"deployments": [{"project": "infr?", "stack": "prod"}]},
    "environment-pattern": {"environments": [{"project": "aws", "name": "d*"}]},
    "legacy-wildcard-environment": {"environments": [{"project": "default", "name": "*"}]},
}


@pytest.mark.parametrize("ops", TRUST_ONLY.values(), ids=TRUST_ONLY.keys())
def test_a_role_may_trust_what_another_role_manages(ops: dict[str, Any]) -> None:
    settings = load_b(roles={"deploy": {"deployments": [PROD], "environments": [DEV]}, "ops": ops})

    deploy, other = settings.roles
    assert [d.identity for d in deploy.managed_stacks] == ["infra/prod"]
    assert [e.identity for e in deploy.defined_environments] == ["aws/dev"]
    assert other.managed_stacks == other.defined_environments == ()


def test_a_role_may_trust_what_a_role_of_another_account_manages() -> None:
    settings = load_b(
        **in_accounts(
            deploy={**DEPLOY_ROLE, "account": "prod"},
            ops={"deployments": [{**PROD, "manageSettings": False}], "account": "stage"},
        )
    )

    assert [(r.key, r.account, len(r.managed_stacks)) for r in settings.roles] == [
        ("deploy", "prod", 1),
        ("ops", "stage", 0),
    ]


def test_role_names_may_repeat_across_accounts() -> None:
    settings = load_b(
        **in_accounts(
            deploy={**DEPLOY_ROLE, "name": "pulumi-ci", "account": "prod"},
            ops={"environments": [DEV], "name": "Pulumi-CI", "account": "stage"},
        )
    )

    assert [(r.account, r.name) for r in settings.roles] == [("prod", "pulumi-ci"), ("stage", "Pulumi-CI")]


def test_each_role_is_held_to_its_own_max_session_duration() -> None:
    long = {**DEV, "duration": "2h"}
    settings = load_b(roles={"deploy": {"environments": [long], "maxSessionDuration": "2h"}, "ops": DEPLOY_ROLE})

    session = settings.roles[0].environments[0].session
    assert session is not None
    assert session.duration == "2h"
    error = errors_b(
        roles={
            "deploy": {"environments": [long], "maxSessionDuration": "2h"},
            "ops": {"environments": [{**long, "name": "qa"}]},
        }
    )
    assert [issue.path for issue in error.issues] == ["roles.ops.environments[0].duration"]
    assert "roles.ops.maxSessionDuration (1h;" in error.issues[0].message


def test_client_id_limit_holds_per_account() -> None:
    error = errors_b(
        accounts={
            "prod": {"oidcProvider": {"audiences": NINETY_NINE_AUDIENCES}},
            "stage": {"profile": "stage", "oidcProvider": {"audiences": NINETY_NINE_AUDIENCES}},
        },
        roles={
            "deploy": {"account": "prod", "deployments": [PROD], "environments": [DEV]},
            "ops": {"account": "stage", "deployments": [PROD | UNMANAGED]},
        },
    )

    # prod needs contoso and aws:contoso (101 client IDs); stage only contoso (100, the limit).
    assert [issue.path for issue in error.issues] == ["accounts.prod.oidcProvider.audiences"]


def test_client_id_limit_does_not_hold_for_a_reused_provider() -> None:
    arn = f"arn:aws:iam::{PROD_ID}:oidc-provider/api.pulumi.com/oidc"
    settings = load_b(
        accounts={"prod": {"oidcProvider": {"arn": arn}}}, roles={"deploy": {**DEPLOY_ROLE, "account": "prod"}}
    )

    assert settings.account("prod").oidc_provider.arn == arn


LEGACY_ENV = {"project": "default", "name": "legacy"}

CLIENT_IDS = {
    "deployments-only": ({"deployments": [PROD]}, (), ["contoso"]),
    "environments-only": ({"environments": [DEV]}, (), ["aws:contoso"]),
    "default-project-environment": ({"environments": [LEGACY_ENV]}, (), ["contoso"]),
    "environment-pattern": ({"environments": [DEV_PATTERN]}, (), ["aws:contoso"]),
    "trust-only-stack": ({"deployments": [PROD | UNMANAGED]}, (), ["contoso"]),
    "both": ({"deployments": [PROD], "environments": [DEV]}, (), ["aws:contoso", "contoso"]),
    "audiences-added": (
        {"environments": [DEV]},
        ("fabrikam", "aws:fabrikam"),
        ["aws:contoso", "aws:fabrikam", "fabrikam"],
    ),
    "audiences-overlap": ({"deployments": [PROD]}, ("contoso", "fabrikam"), ["contoso", "fabrikam"]),
}


@pytest.mark.parametrize(("role", "audiences", "expected"), CLIENT_IDS.values(), ids=CLIENT_IDS.keys())
def test_form_b_provider_registers_the_audiences_its_roles_need_and_its_extra_audiences(
    role: dict[str, Any], audiences: tuple[str, ...], expected: list[str]
) -> None:
    settings = load_b(oidcProvider={"audiences": list(audiences)}, roles={"only": role})

    [account] = settings.accounts
    assert provider_client_ids(settings.organization, account, settings.roles, settings.by_roles) == expected


def test_form_b_provider_client_ids_are_the_union_over_the_accounts_roles_only() -> None:
    settings = load_b(
        **in_accounts(
            deploy={"deployments": [PROD], "account": "prod"},
            read={"environments": [LEGACY_ENV], "account": "prod"},
            esc={"environments": [DEV], "account": "stage"},
        )
    )

    def client_ids(key: str) -> list[str]:
        return provider_client_ids(settings.organization, settings.account(key), settings.roles_of(key), True)

    assert client_ids("prod") == ["contoso"]
    assert client_ids("stage") == ["aws:contoso"]


def test_form_a_provider_registers_both_audiences_whatever_it_trusts() -> None:
    settings = load(environments=[DEV], oidcProvider={"audiences": ["fabrikam"]})

    account = account_of(settings)
    assert provider_client_ids(settings.organization, account, settings.roles, settings.by_roles) == [
        "aws:contoso",
        "contoso",
        "fabrikam",
    ]


def test_an_account_region_needs_a_provider_of_its_own() -> None:
    error = errors_b(accounts={"prod": {"region": "eu-west-1"}}, roles={"deploy": {**DEPLOY_ROLE, "account": "prod"}})

    message = issue_at(error, "accounts.prod.region").message
    assert '"eu-west-1"' in message
    assert "default AWS provider, whose region is aws:region" in message


def test_cross_role_conflicts_are_reported_with_another_roles_errors() -> None:
    error = errors_b(
        roles={
            "deploy": {"name": "r", "deployments": [PROD]},
            "ops": {"name": "R", "deployments": [PROD]},
            "typo": {"environments": [{**DEV, "durration": "1h"}]},
        }
    )

    assert {issue.path for issue in error.issues} == {
        "roles.ops.deployments[0]",
        "roles.ops.name",
        "roles.typo.environments[0].durration",
    }


def test_an_account_claimed_by_a_role_with_a_bad_key_is_not_reported_empty() -> None:
    error = errors_b(accounts={"main": {}}, roles={"Deploy": {**DEPLOY_ROLE, "account": "main"}})

    assert [issue.path for issue in error.issues] == ["roles.Deploy"]


def test_a_reused_provider_implies_the_account_id() -> None:
    arn = f"arn:aws:iam::{STAGE_ID}:oidc-provider/api.pulumi.com/oidc"
    settings = load_b(
        accounts={"stage": {"profile": "stage", "oidcProvider": {"arn": arn}}},
        roles={"deploy": {**DEPLOY_ROLE, "account": "stage"}},
    )

    assert settings.account("stage").id == STAGE_ID


@pytest.mark.parametrize(
    "account",
    [
        pytest.param({"id": "999999999999", "profile": "p"}, id="id"),
        pytest.param({"assumeRole": {"roleArn": "arn:aws:iam::999999999999:role/Admin"}}, id="assumeRole"),
    ],
)
def test_a_reused_provider_of_another_account_is_an_error(account: dict[str, Any]) -> None:
    arn = f"arn:aws:iam::{STAGE_ID}:oidc-provider/api.pulumi.com/oidc"
    error = errors_b(
        accounts={"stage": {**account, "oidcProvider": {"arn": arn}}},
        roles={"deploy": {**DEPLOY_ROLE, "account": "stage"}},
    )

    message = issue_at(error, "accounts.stage.oidcProvider.arn").message
    assert f"a provider of account {STAGE_ID}" in message
    assert "999999999999" in message


def test_the_admin_stacks_own_session_name_takes_no_placeholders() -> None:
    role = {"roleArn": f"arn:aws:iam::{STAGE_ID}:role/Admin", "sessionName": "admin-${stack.name}"}
    error = errors_b(accounts={"stage": {"assumeRole": role}}, roles={"deploy": {**DEPLOY_ROLE, "account": "stage"}})

    assert "no Pulumi placeholders" in issue_at(error, "accounts.stage.assumeRole.sessionName").message
