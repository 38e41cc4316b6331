"""The component in a user's own program, as a user's unit test meets it.

A user's test sets ``pulumi.runtime.set_mocks`` with mocks of their own (or :class:`oidc.testing.OidcMocks`),
declares the component and checks its outputs under ``@pulumi.runtime.test``. It must not send a request
anywhere, even with a Pulumi Cloud token in the environment, and an unanswered look-up must say what is
missing instead of failing inside the package.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pulumi
import pytest

from oidc import testing
from oidc.cli import offline
from oidc.model import ConfigError
from oidc.package import PulumiCloudOidc
from tests.cloud_server import FakeCloud, serving
from tests.conftest import run_component, settings

ARGS: dict[str, Any] = {
    "organization": "acme",
    "deployments": [{"project": "infra", "stack": "prod"}],
    "environments": [{"project": "aws", "name": "dev"}],
}


class UsersMocks(pulumi.runtime.Mocks):
    """What a user writes: answers for the AWS look-ups they know of, nothing for the rest."""

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": "111111111111", "arn": "arn:aws:iam::111111111111:user/me", "userId": "me"}, []
        if args.token == "aws:index/getPartition:getPartition":
            return {"partition": "aws", "dnsSuffix": "amazonaws.com"}, []
        return {}, []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        return f"{args.name}-id", {**args.inputs, "arn": f"arn:aws:iam::111111111111:role/{args.name}"}


@pytest.fixture
def pulumi_cloud_that_must_not_be_called(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeCloud]:
    """A token in the environment and a Pulumi Cloud on 127.0.0.1 that records every request it gets."""
    with serving() as server:
        monkeypatch.setenv("PULUMI_ACCESS_TOKEN", "pul-users-token-0000")
        monkeypatch.setenv("PULUMI_BACKEND_URL", server.url)
        yield server
        assert server.requests == [], "a unit test under mocks must send no request"


def test_a_users_unit_test_with_a_token_set_sends_no_request(pulumi_cloud_that_must_not_be_called: FakeCloud) -> None:
    pulumi.runtime.set_mocks(UsersMocks(), preview=False)

    component = PulumiCloudOidc("oidc", {**ARGS, "oidc_provider": {"thumbprints": []}})

    @pulumi.runtime.test
    def check(_: Any) -> None:
        def roles(value: dict[str, dict[str, str]]) -> None:
            assert value["default"]["arn"] == "arn:aws:iam::111111111111:role/oidc-role"

        return component.roles.apply(roles)

    check(None)


def test_an_unanswered_certificate_look_up_says_what_to_answer() -> None:
    pulumi.runtime.set_mocks(UsersMocks(), preview=False)
    component = PulumiCloudOidc("oidc", ARGS)
    provider = component.providers["default"].resource
    assert provider is not None

    @pulumi.runtime.test
    def check(_: Any) -> Any:
        return provider.thumbprint_lists

    with pytest.raises(pulumi.RunError) as raised:
        check(None)

    assert str(raised.value).startswith(
        "tls:getCertificate gave no certificates for https://api.pulumi.com/oidc, so the OIDC provider's "
        "thumbprint cannot be chosen. Under pulumi.runtime.set_mocks, answer tls:index/getCertificate:getCertificate"
    )


def test_the_shipped_mocks_answer_every_look_up_of_the_component(
    pulumi_cloud_that_must_not_be_called: FakeCloud,
) -> None:
    mocks = testing.OidcMocks(account_id="222222222222")
    pulumi.runtime.set_mocks(mocks, preview=False)
    component = PulumiCloudOidc("oidc", ARGS)
    provider = component.providers["default"].resource
    assert provider is not None

    @pulumi.runtime.test
    def check(_: Any) -> Any:
        def thumbprints(value: list[str]) -> None:
            # The top intermediate of the shipped chain (its issuing CA), as thumbprint() picks it.
            assert value == [testing.CERTIFICATES[0]["sha1Fingerprint"]]

        return provider.thumbprint_lists.apply(thumbprints)

    check(None)
    assert {token for token, _ in mocks.calls} == {
        "aws:index/getPartition:getPartition",
        "aws:index/getCallerIdentity:getCallerIdentity",
        testing.CERTIFICATE_TOKEN,
    }


def test_the_shipped_chain_is_the_one_the_test_suite_generates() -> None:
    from tests import certs  # noqa: PLC0415 (cryptography: a test dependency only)

    assert certs.wire_certificates(certs.pulumi_tls_order(certs.chain(1))) == testing.CERTIFICATES


# --- two components in one program -----------------------------------------------------------------------


def two_components(first: dict[str, Any], second: dict[str, Any]) -> ConfigError:
    recording = offline.Recording()

    def program() -> None:
        PulumiCloudOidc("team-a", {"organization": "acme", **first})
        PulumiCloudOidc("team-b", {"organization": "acme", **second})

    with pytest.raises(ConfigError) as raised:
        offline.run_program(program, {}, recording=recording)
    assert not [r for r in recording.resources if r.name.startswith("team-b")], "the second declares nothing"
    return raised.value


def test_two_components_that_manage_one_stack_are_an_error_naming_both() -> None:
    reused = {"oidc_provider": {"arn": "arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/oidc"}}

    error = two_components(
        {"deployments": [{"project": "infra", "stack": "prod"}]},
        {**reused, "deployments": [{"project": "apps", "stack": "prod"}, {"project": "infra", "stack": "prod"}]},
    )

    [issue] = error.issues
    assert issue.path == "deployments[1]"
    assert issue.message.startswith(
        "manages the deployment settings of acme/infra/prod in PulumiCloudOidc 'team-b', as deployments[0] of "
        "PulumiCloudOidc 'team-a' does"
    )


def test_two_components_that_create_one_environment_are_an_error_naming_both() -> None:
    reused = {"oidc_provider": {"arn": "arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/oidc"}}

    error = two_components(
        {"environments": [{"project": "aws", "name": "dev"}]},
        {**reused, "environments": [{"project": "aws", "name": "dev"}]},
    )

    [issue] = error.issues
    assert issue.message.startswith(
        "creates the ESC environment acme/aws/dev in PulumiCloudOidc 'team-b', as environments[0] of "
        "PulumiCloudOidc 'team-a' does"
    )


def test_two_components_that_create_a_provider_for_one_issuer_in_one_account_are_an_error() -> None:
    error = two_components(
        {"deployments": [{"project": "a", "stack": "*"}]}, {"deployments": [{"project": "b", "stack": "*"}]}
    )

    [issue] = error.issues
    assert issue.path == "oidc_provider"
    assert issue.message.startswith(
        f"creates the OIDC provider of https://api.pulumi.com/oidc in account {testing.PLACEHOLDER_ACCOUNT} in "
        "PulumiCloudOidc 'team-b', as oidcProvider of PulumiCloudOidc 'team-a' does"
    )


def test_trusting_one_stack_from_two_components_is_no_conflict() -> None:
    reused = {"oidc_provider": {"arn": "arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/oidc"}}

    def program() -> None:
        PulumiCloudOidc("team-a", {"organization": "acme", "deployments": [{"project": "infra", "stack": "*"}]})
        PulumiCloudOidc(
            "team-b", {"organization": "acme", **reused, "deployments": [{"project": "infra", "stack": "*"}]}
        )

    recording = offline.run_program(program, {})

    assert len(recording.of_type("aws:iam/role:Role")) == 2


def test_each_program_run_starts_with_nothing_claimed() -> None:
    loaded = settings()

    run_component(loaded)
    run_component(loaded)  # another run of the same program: no conflict with the first
