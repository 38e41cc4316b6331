"""``oidcProvider.addAudiences``: the client-ID resources, against moto's IAM and STS, botocore's Stubber and
the Pulumi mocks.

moto answers IAM and STS in process (``mock_aws``); :mod:`tests.moto_iam_client_ids` gives it the two
actions it lacks and IAM's quota of 50 tags per provider. moto does not evaluate trust or identity policies:
who may call what stays untested here (the trust side is the evaluator's, in test_trust.py). Two admin
stacks sharing a provider are two sets of calls on one moto provider; where their steps could interleave, a
test runs one stack's step inside the other's (by wrapping a method of ``_Call``). moto's reads see every
earlier write: IAM's eventual consistency, the race the module's docstring leaves, stays untested.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws
from pulumi.dynamic.dynamic import serialize_provider

from oidc import cli
from oidc.aws import client_ids
from oidc.aws.client_ids import ClientIdError, ClientIdProvider, Credentials
from oidc.cli import offline
from oidc.cli.plan import ADD_AUDIENCES_NOTE
from oidc.components.organization import PulumiCloudOidc
from oidc.model import ConfigError, Settings
from tests import moto_iam_client_ids
from tests.conftest import PROJECT_DIR, run_component, settings

ISSUER = "https://api.pulumi.com/oidc"
MOTO_ACCOUNT = "123456789012"
"""The account moto's default credentials reach."""
OTHER_ACCOUNT = "210987654321"
ADMIN_ROLE = f"arn:aws:iam::{OTHER_ACCOUNT}:role/OrganizationAccountAccessRole"


def provider_arn(account: str = MOTO_ACCOUNT) -> str:
    return f"arn:aws:iam::{account}:oidc-provider/api.pulumi.com/oidc"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")
    with mock_aws():
        yield
    _IAM_CLIENTS.clear()


_IAM_CLIENTS: dict[str, Any] = {}
"""The test's own IAM client of each moto account (making clients costs more than moto's calls)."""


def iam_in(account: str) -> Any:
    """An IAM client in moto's ``account``: moto's own account, or another reached by assuming a role there."""
    if account in _IAM_CLIENTS:
        return _IAM_CLIENTS[account]
    if account == MOTO_ACCOUNT:
        client = boto3.client("iam", region_name="us-east-1")
    else:
        granted = boto3.client("sts", region_name="us-east-1").assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/setup", RoleSessionName="setup"
        )["Credentials"]
        client = boto3.client(
            "iam",
            aws_access_key_id=granted["AccessKeyId"],
            aws_secret_access_key=granted["SecretAccessKey"],
            aws_session_token=granted["SessionToken"],
            region_name="us-east-1",
        )
    return _IAM_CLIENTS.setdefault(account, client)


def make_provider(client_ids: list[str], account: str = MOTO_ACCOUNT) -> str:
    created = iam_in(account).create_open_id_connect_provider(Url=ISSUER, ClientIDList=client_ids)
    return str(created["OpenIDConnectProviderArn"])


def listed_client_ids(account: str = MOTO_ACCOUNT) -> list[str]:
    found = iam_in(account).get_open_id_connect_provider(OpenIDConnectProviderArn=provider_arn(account))
    return list(found["ClientIDList"])


STACK_A = "acme/pulumi-aws-oidc/shared"
STACK_B = "acme/pulumi-aws-oidc/team"
"""Two admin stacks of this program that reuse one provider."""


def props(client_id: str, account: str = MOTO_ACCOUNT, admin: str = STACK_A, **credentials: Any) -> dict[str, Any]:
    """The inputs the program gives the resource of ``client_id`` (config path of form B's account prod)."""
    given = Credentials(account_id=account, region="us-east-1", **credentials)
    return {
        "providerArn": provider_arn(account),
        "clientId": client_id,
        "configPath": "accounts.prod.oidcProvider",
        **given.inputs(),
        "adminStack": admin,
    }


def tags(account: str = MOTO_ACCOUNT) -> dict[str, str]:
    found = iam_in(account).list_open_id_connect_provider_tags(OpenIDConnectProviderArn=provider_arn(account))
    return {tag["Key"]: tag["Value"] for tag in found["Tags"]}


def other_tags(count: int) -> list[dict[str, str]]:
    """``count`` tags of someone else."""
    return [{"Key": f"team-{n}", "Value": "x"} for n in range(count)]


def outs(result: Any) -> dict[str, Any]:
    """The state a create or update leaves: its outputs."""
    assert result.outs is not None
    return dict(result.outs)


# --- the moto extension ---------------------------------------------------------------------------


def test_moto_lacks_the_two_actions_and_the_extension_provides_exactly_them() -> None:
    import moto.iam.responses  # noqa: PLC0415

    moto_source = Path(moto.iam.responses.__file__).read_text()
    lacking = tuple(a for a in moto_iam_client_ids.ACTIONS if f"def {a}(" not in moto_source)

    assert lacking == moto_iam_client_ids.INSTALLED
    assert lacking == moto_iam_client_ids.ACTIONS  # moto 5.2.x: neither is implemented
    tagging = ("tag_open_id_connect_provider", "untag_open_id_connect_provider", "list_open_id_connect_provider_tags")
    assert all(f"def {action}(" in moto_source for action in tagging)  # moto's own, used as they are


@pytest.mark.usefixtures("aws")
def test_extension_refuses_a_51st_tag_and_overwrites_one_at_50() -> None:
    arn = make_provider([])
    iam = iam_in(MOTO_ACCOUNT)
    iam.tag_open_id_connect_provider(OpenIDConnectProviderArn=arn, Tags=other_tags(50))

    iam.tag_open_id_connect_provider(OpenIDConnectProviderArn=arn, Tags=[{"Key": "team-7", "Value": "y"}])
    with pytest.raises(iam.exceptions.LimitExceededException):
        iam.tag_open_id_connect_provider(OpenIDConnectProviderArn=arn, Tags=[{"Key": "one-more", "Value": ""}])
    assert len(tags()) == 50
    assert tags()["team-7"] == "y"


@pytest.mark.usefixtures("aws")
def test_extension_add_and_remove_are_idempotent() -> None:
    arn = make_provider(["acme"])
    iam = iam_in(MOTO_ACCOUNT)

    for _ in range(2):
        iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="aws:acme")
    assert listed_client_ids() == ["acme", "aws:acme"]
    for _ in range(2):
        iam.remove_client_id_from_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="acme")
    assert listed_client_ids() == ["aws:acme"]


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize("action", moto_iam_client_ids.ACTIONS)
def test_extension_unknown_provider_is_no_such_entity(action: str) -> None:
    iam = iam_in(MOTO_ACCOUNT)

    with pytest.raises(iam.exceptions.NoSuchEntityException):
        getattr(iam, action)(OpenIDConnectProviderArn=provider_arn(), ClientID="acme")


@pytest.mark.usefixtures("aws")
def test_extension_refuses_a_101st_client_id() -> None:
    arn = make_provider([f"id-{n}" for n in range(100)])
    iam = iam_in(MOTO_ACCOUNT)

    iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="id-7")  # present: no-op
    with pytest.raises(iam.exceptions.LimitExceededException):
        iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="one-more")
    assert len(listed_client_ids()) == 100


# --- the dynamic provider against moto ---------------------------------------------------------


@pytest.mark.usefixtures("aws")
def test_create_adds_exactly_the_missing_ids_and_a_second_run_adds_nothing() -> None:
    make_provider(["acme"])
    provider = ClientIdProvider()

    created = {c: provider.create(props(c)) for c in ("acme", "aws:acme")}

    assert listed_client_ids() == ["acme", "aws:acme"]
    assert {c: r.outs["added"] for c, r in created.items() if r.outs} == {"acme": False, "aws:acme": True}
    # The second `pulumi up` declares the same resources with the same inputs: no change, no call.
    for client_id, result in created.items():
        assert result.outs is not None
        diff = provider.diff(result.id, result.outs, props(client_id))
        assert (diff.changes, diff.replaces) == (False, [])
    # Created again (another stack, or state lost): nothing to add, and it records that it added nothing.
    again = provider.create(props("aws:acme"))
    assert again.outs is not None
    assert again.outs["added"] is False
    assert listed_client_ids() == ["acme", "aws:acme"]


@pytest.mark.usefixtures("aws")
def test_delete_removes_only_what_was_added_and_a_client_id_there_before_survives() -> None:
    make_provider(["acme", "other-org"])
    provider = ClientIdProvider()
    created = [provider.create(props(c)) for c in ("acme", "aws:acme")]

    for result in created:
        assert result.outs is not None
        provider.delete(result.id, result.outs)

    assert listed_client_ids() == ["acme", "other-org"]


@pytest.mark.usefixtures("aws")
def test_refresh_reports_a_client_id_removed_outside_and_the_next_up_adds_it_again() -> None:
    arn = make_provider([])
    provider = ClientIdProvider()
    created = provider.create(props("aws:acme"))
    assert created.outs is not None
    assert provider.read(created.id, created.outs).outs == {**created.outs, "present": True}

    iam_in(MOTO_ACCOUNT).remove_client_id_from_open_id_connect_provider(
        OpenIDConnectProviderArn=arn, ClientID="aws:acme"
    )
    refreshed = provider.read(created.id, created.outs).outs
    assert refreshed is not None
    assert refreshed["present"] is False

    diff = provider.diff(created.id, refreshed, props("aws:acme"))
    assert (diff.changes, diff.replaces) == (True, [])
    updated = provider.update(created.id, refreshed, props("aws:acme")).outs
    assert updated is not None
    assert (updated["added"], updated["present"]) == (True, True)
    assert listed_client_ids() == ["aws:acme"]


@pytest.mark.usefixtures("aws")
def test_a_provider_that_does_not_exist_is_a_clear_error() -> None:
    with pytest.raises(ClientIdError) as raised:
        ClientIdProvider().create(props("aws:acme"))

    assert str(raised.value) == (
        f"accounts.prod.oidcProvider.arn: {provider_arn()} does not exist in account {MOTO_ACCOUNT}, so the client "
        "ID 'aws:acme' cannot be added; fix the ARN (aws iam list-open-id-connect-providers lists them), or remove "
        "arn to let this stack create the provider"
    )


@pytest.mark.usefixtures("aws")
def test_at_100_client_ids_the_error_names_the_limit() -> None:
    make_provider([f"id-{n}" for n in range(100)])

    with pytest.raises(ClientIdError) as raised:
        ClientIdProvider().create(props("aws:acme"))

    message = str(raised.value)
    assert message.startswith("accounts.prod.oidcProvider.addAudiences: could not add 'aws:acme': ")
    assert "the most client IDs IAM allows, 100 per provider (not adjustable)" in message
    assert "Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: 100" in message


@pytest.mark.usefixtures("aws")
def test_a_deleted_provider_takes_its_client_ids_with_it_so_delete_succeeds() -> None:
    arn = make_provider([])
    provider = ClientIdProvider()
    created = provider.create(props("aws:acme"))
    assert created.outs is not None
    iam_in(MOTO_ACCOUNT).delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)

    provider.delete(created.id, created.outs)  # no error


# --- admin stacks sharing a client ID: claims on the provider's tags ------------------------------


def ours(account: str = MOTO_ACCOUNT) -> dict[str, str]:
    """The provider's tags this program wrote."""
    return {key: value for key, value in tags(account).items() if key.startswith(client_ids.TAG_PREFIX)}


@pytest.mark.usefixtures("aws")
def test_destroying_the_stack_that_added_it_keeps_it_for_a_stack_that_found_it_present() -> None:
    make_provider(["acme"])
    provider = ClientIdProvider()
    a = outs(provider.create(props("aws:acme", admin=STACK_A)))
    b = outs(provider.create(props("aws:acme", admin=STACK_B)))
    assert (a["added"], b["added"]) == (True, False)
    assert ours() == {
        client_ids.claim_key(STACK_A, "aws:acme"): STACK_A,
        client_ids.claim_key(STACK_B, "aws:acme"): STACK_B,
        client_ids.added_key("aws:acme"): "aws:acme",
    }

    provider.delete("a", a)
    assert listed_client_ids() == ["acme", "aws:acme"]  # B's roles still need it

    provider.delete("b", b)
    assert listed_client_ids() == ["acme"]  # the last stack out removes what this program added
    assert ours() == {}


@pytest.mark.usefixtures("aws")
def test_the_stack_that_found_it_present_leaving_first_keeps_it_for_the_stack_that_added_it() -> None:
    make_provider([])
    provider = ClientIdProvider()
    a = outs(provider.create(props("aws:acme", admin=STACK_A)))
    b = outs(provider.create(props("aws:acme", admin=STACK_B)))

    provider.delete("b", b)
    assert listed_client_ids() == ["aws:acme"]

    provider.delete("a", a)
    assert listed_client_ids() == []
    assert ours() == {}


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize("first_out", [STACK_A, STACK_B])
def test_two_stacks_adding_it_at_once_both_record_added_and_only_the_last_destroy_removes_it(
    monkeypatch: pytest.MonkeyPatch, first_out: str
) -> None:
    make_provider(["acme"])
    provider = ClientIdProvider()
    add = client_ids._Call.add
    b: dict[str, Any] = {}

    def add_after_b(call: Any, iam: Any) -> None:
        # A has read the client IDs (missing) and is about to add: B's whole create runs now.
        if call.admin_stack == STACK_A and not b:
            b.update(outs(provider.create(props("aws:acme", admin=STACK_B))))
        add(call, iam)

    monkeypatch.setattr(client_ids._Call, "add", add_after_b)
    a = outs(provider.create(props("aws:acme", admin=STACK_A)))

    assert (a["added"], b["added"]) == (True, True)  # both found it missing
    assert listed_client_ids() == ["acme", "aws:acme"]
    first, last = (a, b) if first_out == STACK_A else (b, a)
    provider.delete("first", first)
    assert listed_client_ids() == ["acme", "aws:acme"]
    provider.delete("last", last)
    assert listed_client_ids() == ["acme"]
    assert ours() == {}


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize("order", ["AB", "BA"])
def test_a_client_id_there_before_any_stack_of_this_program_is_never_removed(order: str) -> None:
    make_provider(["acme", "aws:acme"])
    provider = ClientIdProvider()
    states = {s: outs(provider.create(props("aws:acme", admin=s))) for s in (STACK_A, STACK_B)}
    assert [state["added"] for state in states.values()] == [False, False]

    for key in order:
        provider.delete(key, states[STACK_A if key == "A" else STACK_B])

    assert listed_client_ids() == ["acme", "aws:acme"]
    assert ours() == {}


@pytest.mark.usefixtures("aws")
def test_a_destroy_that_removes_it_while_another_stack_claims_it_gives_it_back(monkeypatch: pytest.MonkeyPatch) -> None:
    """B's create runs inside A's destroy, after A found no other claim: B finds the client ID still there and
    adds nothing. A's destroy reads the claims again after removing it, and puts it back."""
    make_provider([])
    provider = ClientIdProvider()
    a = outs(provider.create(props("aws:acme", admin=STACK_A)))
    remove = client_ids._Call.remove
    b: dict[str, Any] = {}

    def b_creates_first(call: Any, iam: Any) -> None:
        if not b:
            b.update(outs(provider.create(props("aws:acme", admin=STACK_B))))
        remove(call, iam)

    monkeypatch.setattr(client_ids._Call, "remove", b_creates_first)
    provider.delete("a", a)

    assert b["added"] is False
    assert listed_client_ids() == ["aws:acme"]
    assert ours() == {client_ids.claim_key(STACK_B, "aws:acme"): STACK_B, client_ids.added_key("aws:acme"): "aws:acme"}
    provider.delete("b", b)  # the last stack out: it was added by this program
    assert listed_client_ids() == []


@pytest.mark.usefixtures("aws")
def test_a_destroy_between_another_stacks_claim_and_its_read_keeps_the_client_id(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A's whole destroy runs inside B's create, after B's claim and read: A sees the claim and keeps the client
    ID that B found present (a create that read before claiming would find it present, then lose it)."""
    make_provider([])
    provider = ClientIdProvider()
    a = outs(provider.create(props("aws:acme", admin=STACK_A)))
    existing = client_ids._Call.existing
    destroyed: list[str] = []

    def a_destroys_after_the_read(call: Any, iam: Any) -> list[str]:
        found = existing(call, iam)
        if call.admin_stack == STACK_B and not destroyed:
            provider.delete("a", a)
            destroyed.append(STACK_A)
        return found

    monkeypatch.setattr(client_ids._Call, "existing", a_destroys_after_the_read)
    b = outs(provider.create(props("aws:acme", admin=STACK_B)))

    assert destroyed == [STACK_A]
    assert b["added"] is False
    assert listed_client_ids() == ["aws:acme"]
    provider.delete("b", b)
    assert listed_client_ids() == []


@pytest.mark.usefixtures("aws")
def test_a_destroy_whose_remove_fails_keeps_the_marker_so_the_next_destroy_removes_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    make_provider([])
    provider = ClientIdProvider()
    a = outs(provider.create(props("aws:acme")))
    remove = client_ids._Call.remove

    def denied(call: Any, iam: Any) -> None:
        raise ClientIdError("access denied to remove")

    monkeypatch.setattr(client_ids._Call, "remove", denied)
    with pytest.raises(ClientIdError, match="access denied to remove"):
        provider.delete("a", a)
    assert listed_client_ids() == ["aws:acme"]
    assert client_ids.added_key("aws:acme") in ours()

    monkeypatch.setattr(client_ids._Call, "remove", remove)
    provider.delete("a", a)  # the engine keeps the resource after a failed delete, and deletes it again
    assert listed_client_ids() == []
    assert ours() == {}


def created_before_tags(client_id: str, *, added: bool) -> dict[str, Any]:
    """The state of a client-ID resource created before tags (by an earlier build): no ``adminStack`` or ``claimed``."""
    state = {key: value for key, value in props(client_id).items() if key != "adminStack"}
    return {**state, "added": added, "present": True}


@pytest.mark.usefixtures("aws")
def test_a_resource_created_before_tags_removes_what_it_added_when_alone() -> None:
    make_provider(["acme", "aws:acme"])

    ClientIdProvider().delete("old", created_before_tags("aws:acme", added=True))
    ClientIdProvider().delete("old", created_before_tags("acme", added=False))

    assert listed_client_ids() == ["acme"]
    assert ours() == {}


@pytest.mark.usefixtures("aws")
def test_a_resource_created_before_tags_keeps_what_another_stack_claims_and_hands_it_over() -> None:
    make_provider(["aws:acme"])  # added by A's resource created before tags
    provider = ClientIdProvider()
    b = outs(provider.create(props("aws:acme", admin=STACK_B)))
    assert b["added"] is False

    provider.delete("old", created_before_tags("aws:acme", added=True))
    assert listed_client_ids() == ["aws:acme"]
    assert client_ids.added_key("aws:acme") in ours()  # B, the last stack out, removes it

    provider.delete("b", b)
    assert listed_client_ids() == []


@pytest.mark.usefixtures("aws")
def test_a_resource_created_before_tags_is_updated_never_replaced_and_claims_it() -> None:
    make_provider(["aws:acme"])
    provider = ClientIdProvider()
    old = created_before_tags("aws:acme", added=True)

    diff = provider.diff("old", old, props("aws:acme"))
    assert (diff.changes, diff.replaces) == (True, [])
    updated = outs(provider.update("old", old, props("aws:acme")))

    assert (updated["added"], updated["claimed"], updated["adminStack"]) == (True, True, STACK_A)
    assert ours() == {client_ids.claim_key(STACK_A, "aws:acme"): STACK_A, client_ids.added_key("aws:acme"): "aws:acme"}
    diff = provider.diff("old", updated, props("aws:acme"))
    assert (diff.changes, diff.replaces) == (False, [])
    provider.delete("old", updated)
    assert listed_client_ids() == []


@pytest.mark.usefixtures("aws")
def test_refresh_reports_a_stripped_claim_and_the_next_up_claims_again() -> None:
    """An owner of the provider that writes its own tags back removes the claims: the refresh says so, and the
    next `up` writes them again, with the marker of a client ID this stack added."""
    arn = make_provider([])
    provider = ClientIdProvider()
    created = outs(provider.create(props("aws:acme")))
    iam_in(MOTO_ACCOUNT).untag_open_id_connect_provider(OpenIDConnectProviderArn=arn, TagKeys=list(ours()))

    refreshed = provider.read("a", created).outs
    assert refreshed is not None
    assert (refreshed["present"], refreshed["claimed"]) == (True, False)
    assert ours() == {}  # a refresh changes nothing in AWS

    diff = provider.diff("a", refreshed, props("aws:acme"))
    assert (diff.changes, diff.replaces) == (True, [])
    updated = outs(provider.update("a", refreshed, props("aws:acme")))
    assert (updated["added"], updated["claimed"]) == (True, True)
    assert ours() == {client_ids.claim_key(STACK_A, "aws:acme"): STACK_A, client_ids.added_key("aws:acme"): "aws:acme"}


@pytest.mark.usefixtures("aws")
def test_a_renamed_admin_stack_moves_its_claim() -> None:
    make_provider([])
    provider = ClientIdProvider()
    created = outs(provider.create(props("aws:acme", admin=STACK_A)))
    renamed = "acme/pulumi-aws-oidc/renamed"

    diff = provider.diff("a", created, props("aws:acme", admin=renamed))
    assert (diff.changes, diff.replaces) == (True, [])
    updated = outs(provider.update("a", created, props("aws:acme", admin=renamed)))

    assert ours() == {client_ids.claim_key(renamed, "aws:acme"): renamed, client_ids.added_key("aws:acme"): "aws:acme"}
    provider.delete("a", updated)
    assert listed_client_ids() == []


@pytest.mark.usefixtures("aws")
def test_a_provider_with_50_tags_refuses_the_claim_with_a_clear_error_and_nothing_changes() -> None:
    arn = make_provider(["acme"])
    iam_in(MOTO_ACCOUNT).tag_open_id_connect_provider(OpenIDConnectProviderArn=arn, Tags=other_tags(50))

    with pytest.raises(ClientIdError) as raised:
        ClientIdProvider().create(props("aws:acme"))

    assert str(raised.value) == (
        "accounts.prod.oidcProvider.addAudiences: could not write this stack's claim on the client ID 'aws:acme' of "
        f"{arn}: the provider holds 50 tags, and IAM allows at most 50 per provider. This program keeps one tag per "
        "admin stack and client ID (pulumi-aws-oidc/<stack>/<client ID>, its value names the stack) and one per "
        "client ID it added (pulumi-aws-oidc/added/<client ID>): remove tags the provider no longer needs, such as "
        "those of admin stacks that no longer exist (aws iam list-open-id-connect-provider-tags "
        f"--open-id-connect-provider-arn {arn} lists them), then run the command again"
    )
    assert listed_client_ids() == ["acme"]
    assert len(tags()) == 50
    assert ours() == {}


@pytest.mark.usefixtures("aws")
def test_a_provider_with_room_for_the_claim_but_not_the_marker_is_left_as_it_was() -> None:
    arn = make_provider(["acme"])
    iam_in(MOTO_ACCOUNT).tag_open_id_connect_provider(OpenIDConnectProviderArn=arn, Tags=other_tags(49))

    with pytest.raises(ClientIdError, match="could not write the added marker of the client ID 'aws:acme'"):
        ClientIdProvider().create(props("aws:acme"))

    assert listed_client_ids() == ["acme"]
    assert ours() == {}  # the claim it wrote is taken back


@pytest.mark.usefixtures("aws")
def test_the_last_tag_taken_by_another_writer_after_the_read_is_the_same_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    arn = make_provider(["acme"])
    iam_in(MOTO_ACCOUNT).tag_open_id_connect_provider(OpenIDConnectProviderArn=arn, Tags=other_tags(49))
    read = client_ids._Call.tags

    def read_then_another_writer(call: Any, iam: Any) -> dict[str, str] | None:
        found = read(call, iam)
        iam_in(MOTO_ACCOUNT).tag_open_id_connect_provider(
            OpenIDConnectProviderArn=arn, Tags=[{"Key": "late", "Value": ""}]
        )
        return found

    monkeypatch.setattr(client_ids._Call, "tags", read_then_another_writer)
    with pytest.raises(ClientIdError) as raised:
        ClientIdProvider().create(props("aws:acme"))

    assert "could not write this stack's claim on the client ID 'aws:acme'" in str(raised.value)
    assert "the provider holds the most tags IAM allows, 50 per provider (Cannot exceed quota" in str(raised.value)
    assert listed_client_ids() == ["acme"]


def test_tag_keys_fit_iam_and_name_the_stack_and_the_client_id() -> None:
    key_rule = re.compile(r"[\w .:/=+\-@]{1,128}")
    odd = "x" * 255
    keys = [client_ids.claim_key(s, c) for s in (STACK_A, STACK_B) for c in ("acme", "aws:acme", odd)]
    keys += [client_ids.added_key(c) for c in ("acme", "aws:acme", odd)]

    assert all(key_rule.fullmatch(k) and k.startswith("pulumi-aws-oidc/") for k in keys)
    assert len(set(keys)) == len(keys)
    assert client_ids.claim_key(STACK_A, "aws:acme") == "pulumi-aws-oidc/{}/{}".format(
        hashlib.sha256(STACK_A.encode()).hexdigest()[:16], hashlib.sha256(b"aws:acme").hexdigest()[:16]
    )


# --- credentials: assumeRole, profile, and the account check --------------------------------------


@pytest.mark.usefixtures("aws")
def test_assume_role_reaches_the_account_and_changes_only_its_provider() -> None:
    make_provider(["acme"], OTHER_ACCOUNT)
    make_provider(["acme"], MOTO_ACCOUNT)
    provider = ClientIdProvider()

    created = provider.create(
        props("aws:acme", OTHER_ACCOUNT, role_arn=ADMIN_ROLE, session_name="pulumi-admin", external_id="acme-ext")
    )

    assert created.outs is not None
    assert created.outs["added"] is True
    assert listed_client_ids(OTHER_ACCOUNT) == ["acme", "aws:acme"]
    assert listed_client_ids(MOTO_ACCOUNT) == ["acme"]
    provider.delete(created.id, created.outs)
    assert listed_client_ids(OTHER_ACCOUNT) == ["acme"]


@pytest.mark.usefixtures("aws")
def test_a_named_profile_reaches_its_account(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "config").write_text(
        f"[profile staging]\nrole_arn = {ADMIN_ROLE}\nsource_profile = base\nregion = us-east-1\n"
    )
    (tmp_path / "credentials").write_text("[base]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = x\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    make_provider([], OTHER_ACCOUNT)

    ClientIdProvider().create(props("aws:acme", OTHER_ACCOUNT, profile="staging"))

    assert listed_client_ids(OTHER_ACCOUNT) == ["aws:acme"]


@pytest.mark.usefixtures("aws")
def test_credentials_of_another_account_are_refused_before_anything_changes() -> None:
    make_provider(["acme"], OTHER_ACCOUNT)
    make_provider(["acme"], MOTO_ACCOUNT)

    with pytest.raises(ClientIdError) as raised:
        ClientIdProvider().create(props("aws:acme", OTHER_ACCOUNT))  # ambient: moto's own account

    assert str(raised.value) == (
        f"accounts.prod.oidcProvider.addAudiences: the credentials reach account {MOTO_ACCOUNT} "
        f"(arn:aws:sts::{MOTO_ACCOUNT}:user/moto), not {OTHER_ACCOUNT}, the account of the provider; nothing was "
        "changed. Give the account the credentials its AWS provider uses (assumeRole, profile, or the ambient AWS_* "
        "variables)"
    )
    assert listed_client_ids(OTHER_ACCOUNT) == ["acme"]
    assert listed_client_ids(MOTO_ACCOUNT) == ["acme"]


@pytest.mark.usefixtures("aws")
def test_delete_with_credentials_of_another_account_is_refused() -> None:
    make_provider(["acme"], OTHER_ACCOUNT)
    make_provider(["acme", "aws:acme"], MOTO_ACCOUNT)
    outs = {**props("aws:acme", OTHER_ACCOUNT), "added": True, "present": True}

    with pytest.raises(ClientIdError, match="nothing was changed"):
        ClientIdProvider().delete(f"{provider_arn(OTHER_ACCOUNT)}|aws:acme", outs)

    assert listed_client_ids(MOTO_ACCOUNT) == ["acme", "aws:acme"]


# --- every call once through botocore's Stubber (AWS's API model) -------------------------------


class StubbedClients:
    """``boto3.Session.client`` answering from Stubbers that check each request against the service model."""

    def __init__(self) -> None:
        self.clients = {name: boto3.client(name, region_name="us-east-1") for name in ("sts", "iam")}
        self.stubbers = {name: Stubber(client) for name, client in self.clients.items()}

    def client(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Replaces the method on the class: called as ``session.client(name)``, so without the session."""
        return self.clients[name]


def granted() -> dict[str, Any]:
    from datetime import UTC, datetime  # noqa: PLC0415

    return {
        "Credentials": {
            "AccessKeyId": "ASIAEXAMPLEEXAMPLE01",
            "SecretAccessKey": "secret",
            "SessionToken": "token",
            "Expiration": datetime(2030, 1, 1, tzinfo=UTC),
        }
    }


def identity(account: str) -> dict[str, str]:
    return {"UserId": "AROAEXAMPLE:pulumi-admin", "Account": account, "Arn": f"arn:aws:sts::{account}:x/y"}


def test_every_call_matches_the_api_model(monkeypatch: pytest.MonkeyPatch) -> None:
    stubbed = StubbedClients()
    monkeypatch.setattr(boto3.Session, "client", stubbed.client)
    sts, iam = stubbed.stubbers["sts"], stubbed.stubbers["iam"]
    arn = provider_arn(OTHER_ACCOUNT)
    assume = {"RoleArn": ADMIN_ROLE, "RoleSessionName": "pulumi-admin", "ExternalId": "acme-ext"}
    by_arn = {"OpenIDConnectProviderArn": arn}
    for _ in range(2):  # create, then delete
        sts.add_response("assume_role", granted(), assume)
        sts.add_response("get_caller_identity", identity(OTHER_ACCOUNT), {})
    claim = {"Key": client_ids.claim_key(STACK_A, "aws:acme"), "Value": STACK_A}
    marker = {"Key": client_ids.added_key("aws:acme"), "Value": "aws:acme"}
    # create: the claim, then the read, then the marker and the client ID
    iam.add_response("list_open_id_connect_provider_tags", {"Tags": [], "IsTruncated": False}, by_arn)
    iam.add_response("tag_open_id_connect_provider", {}, {**by_arn, "Tags": [claim]})
    iam.add_response("get_open_id_connect_provider", {"Url": "api.pulumi.com/oidc", "ClientIDList": ["acme"]}, by_arn)
    iam.add_response("tag_open_id_connect_provider", {}, {**by_arn, "Tags": [marker]})
    iam.add_response("add_client_id_to_open_id_connect_provider", {}, {**by_arn, "ClientID": "aws:acme"})
    # delete: the claim, then the read of the tags, the marker and the client ID, and the read again
    iam.add_response("untag_open_id_connect_provider", {}, {**by_arn, "TagKeys": [claim["Key"]]})
    iam.add_response("list_open_id_connect_provider_tags", {"Tags": [marker], "IsTruncated": False}, by_arn)
    iam.add_response("untag_open_id_connect_provider", {}, {**by_arn, "TagKeys": [marker["Key"]]})
    iam.add_response("remove_client_id_from_open_id_connect_provider", {}, {**by_arn, "ClientID": "aws:acme"})
    iam.add_response("list_open_id_connect_provider_tags", {"Tags": [], "IsTruncated": False}, by_arn)
    given = props("aws:acme", OTHER_ACCOUNT, role_arn=ADMIN_ROLE, session_name="pulumi-admin", external_id="acme-ext")

    with sts, iam:
        created = ClientIdProvider().create(given)
        assert created.outs is not None
        ClientIdProvider().delete(created.id, created.outs)

    sts.assert_no_pending_responses()
    iam.assert_no_pending_responses()


def test_access_denied_names_the_key_and_the_actions(monkeypatch: pytest.MonkeyPatch) -> None:
    stubbed = StubbedClients()
    monkeypatch.setattr(boto3.Session, "client", stubbed.client)
    stubbed.stubbers["sts"].add_response("get_caller_identity", identity(MOTO_ACCOUNT), {})
    stubbed.stubbers["iam"].add_client_error(
        "list_open_id_connect_provider_tags",
        "AccessDenied",
        "User is not authorized to perform ListOpenIDConnectProviderTags",
    )

    with stubbed.stubbers["sts"], stubbed.stubbers["iam"], pytest.raises(ClientIdError) as raised:
        ClientIdProvider().create(props("aws:acme"))

    assert str(raised.value) == (
        "accounts.prod.oidcProvider.addAudiences: access denied to read the tags for the client ID 'aws:acme' of "
        f"{provider_arn()} (User is not authorized to perform ListOpenIDConnectProviderTags); the account's "
        "credentials need iam:GetOpenIDConnectProvider, iam:ListOpenIDConnectProviderTags, "
        "iam:AddClientIDToOpenIDConnectProvider, iam:RemoveClientIDFromOpenIDConnectProvider, "
        "iam:TagOpenIDConnectProvider, iam:UntagOpenIDConnectProvider on it"
    )


def test_a_refused_assume_role_names_the_role_key(monkeypatch: pytest.MonkeyPatch) -> None:
    stubbed = StubbedClients()
    monkeypatch.setattr(boto3.Session, "client", stubbed.client)
    stubbed.stubbers["sts"].add_client_error("assume_role", "AccessDenied", "not authorized to perform sts:AssumeRole")

    with stubbed.stubbers["sts"], pytest.raises(ClientIdError) as raised:
        ClientIdProvider().create(props("aws:acme", OTHER_ACCOUNT, role_arn=ADMIN_ROLE))

    assert str(raised.value).startswith(
        f"accounts.prod.assumeRole.roleArn: STS refused to assume {ADMIN_ROLE} (AccessDenied: not authorized"
    )


# --- the provider as the engine runs it: pickled, in another process ------------------------------

ENGINE_SIDE = """
import base64, json, sys
import dill
from moto import mock_aws
import boto3
import tests.moto_iam_client_ids
from oidc import cli
from oidc.cli import offline
with mock_aws():
    boto3.client("iam", region_name="us-east-1").create_open_id_connect_provider(
        Url="https://api.pulumi.com/oidc", ClientIDList=["acme"])
    provider = dill.loads(base64.b64decode(sys.stdin.read()))
    print(json.dumps(provider.create(json.loads(sys.argv[1])).outs))
"""


def test_the_pickled_provider_works_in_a_fresh_process() -> None:
    pickled = serialize_provider(ClientIdProvider())
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "PATH": "/usr/bin:/bin"}

    done = subprocess.run(
        [sys.executable, "-c", ENGINE_SIDE, json.dumps(props("aws:acme"))],
        input=pickled,
        capture_output=True,
        text=True,
        cwd=PROJECT_DIR,
        env={**env, "AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent"},
        check=False,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["added"] is True
    assert base64.b64decode(pickled)  # the engine keeps it as base64 text in the state


# --- logical names -------------------------------------------------------------------------------


def test_logical_names_come_from_the_client_id() -> None:
    assert client_ids.logical_name("pulumi-cloud", "aws:acme") == "pulumi-cloud-client-id-aws:acme"
    assert client_ids.logical_name("pulumi-cloud-prod", "sts.amazonaws.com") == (
        "pulumi-cloud-prod-client-id-sts.amazonaws.com"
    )
    odd = ["a::b", "with space", "x" * 101]
    names = [client_ids.logical_name("p", c) for c in odd]
    assert all(n.startswith("p-client-id-") and len(n) == len("p-client-id-") + 16 for n in names)
    assert len(set(names)) == 3
    assert names == [client_ids.logical_name("p", c) for c in odd]  # the same on every run


# --- the program under Pulumi mocks -------------------------------------------------------------

EXISTING_ARN = provider_arn(OTHER_ACCOUNT)
REUSED = {"arn": EXISTING_ARN, "addAudiences": True}
BOTH = {"environments": [{"project": "aws", "name": "dev"}]}


def client_id_resources(recording: offline.Recording) -> dict[str, offline.RecordedResource]:
    return {str(r.inputs["clientId"]): r for r in recording.of_type(client_ids.TYPE)}


def run_keeping(configured: Settings, **mocks: Any) -> tuple[offline.Recording, list[PulumiCloudOidc]]:
    kept: list[PulumiCloudOidc] = []

    def program() -> None:
        kept.append(PulumiCloudOidc("pulumi-cloud", configured))

    return offline.run_program(program, {}, **mocks), kept


def test_the_program_declares_a_resource_per_audience_and_marks_the_missing_ones() -> None:
    recording, [declared] = run_keeping(
        settings(oidcProvider=REUSED, **BOTH), account_id=OTHER_ACCOUNT, existing_client_ids=["acme"]
    )

    resources = client_id_resources(recording)
    assert sorted(resources) == ["acme", "aws:acme"]
    assert declared.providers["default"].missing_client_ids == ("aws:acme",)
    parent = recording.named("pulumi-cloud", "pulumi-aws-oidc:index:OidcProvider")
    for client_id, resource in resources.items():
        assert resource.name == f"pulumi-cloud-client-id-{client_id}"
        assert resource.parent_urn == parent.urn
        assert resource.inputs["providerArn"] == EXISTING_ARN
        assert resource.inputs["accountId"] == OTHER_ACCOUNT
        assert resource.inputs["configPath"] == "oidcProvider"
        assert resource.inputs["adminStack"] == "organization/pulumi-aws-oidc/dev"  # the engine's names of the stack


def test_nothing_missing_adds_nothing_and_keeps_the_same_resources() -> None:
    """After the first `up` added them, the provider lists every audience: the same resources stay, adding
    nothing. Declaring none would delete them, and their delete would remove the client IDs the roles need."""
    first = client_id_resources(
        run_component(settings(oidcProvider=REUSED, **BOTH), account_id=OTHER_ACCOUNT, existing_client_ids=["acme"])
    )
    recording, [declared] = run_keeping(
        settings(oidcProvider=REUSED, **BOTH), account_id=OTHER_ACCOUNT, existing_client_ids=["acme", "aws:acme"]
    )

    assert declared.providers["default"].missing_client_ids == ()
    again = client_id_resources(recording)
    assert {c: r.urn for c, r in again.items()} == {c: r.urn for c, r in first.items()}
    assert {c: dict(r.inputs) for c, r in again.items()} == {c: dict(r.inputs) for c, r in first.items()}


def test_without_add_audiences_no_resource_is_declared_and_a_missing_audience_stops_the_run() -> None:
    reused = {"arn": EXISTING_ARN}
    complete = run_component(
        settings(oidcProvider=reused, **BOTH), account_id=OTHER_ACCOUNT, existing_client_ids=["acme", "aws:acme"]
    )
    assert client_id_resources(complete) == {}

    with pytest.raises(ConfigError) as raised:
        run_component(settings(oidcProvider=reused, **BOTH), account_id=OTHER_ACCOUNT, existing_client_ids=["acme"])
    assert "(or set oidcProvider.addAudiences: true to let this stack add them)" in str(raised.value)


def test_a_created_provider_declares_no_client_id_resource() -> None:
    assert client_id_resources(run_component(settings(**BOTH))) == {}


def test_adding_past_100_client_ids_fails_before_anything_is_declared() -> None:
    recording = offline.Recording()
    with pytest.raises(ConfigError) as raised:
        run_component(
            settings(oidcProvider=REUSED, **BOTH),
            account_id=OTHER_ACCOUNT,
            existing_client_ids=["acme", *(f"id-{n}" for n in range(99))],
            recording=recording,
        )

    [issue] = raised.value.issues
    assert issue.path == "oidcProvider.addAudiences"
    assert issue.message == (
        f"{EXISTING_ARN} holds 100 client IDs; adding ['aws:acme'] would make 101, and IAM allows at most 100 per "
        "provider (not adjustable): remove client IDs it no longer needs"
    )
    assert recording.resources == []


def test_form_b_accounts_get_their_own_resources_and_credentials() -> None:
    configured = settings(
        accounts={
            "prod": {
                "assumeRole": {"roleArn": ADMIN_ROLE, "sessionName": "pulumi-admin", "externalId": "acme-ext"},
                "region": "eu-west-1",
                "oidcProvider": REUSED,
            },
            "tools": {"profile": "tools", "id": "333333333333"},
        },
        roles={
            "deploy": {"account": "prod", "deployments": [{"project": "infra", "stack": "prod"}]},
            "tools": {"account": "tools", "environments": [{"project": "aws", "name": "tools"}]},
        },
    )

    resources = client_id_resources(run_component(configured, existing_client_ids=[]))

    [resource] = resources.values()
    assert resource.name == "pulumi-cloud-prod-client-id-acme"
    assert {k: resource.inputs.get(k) for k in ("configPath", "accountId", "region", "roleArn", "sessionName")} == {
        "configPath": "accounts.prod.oidcProvider",
        "accountId": OTHER_ACCOUNT,
        "region": "eu-west-1",
        "roleArn": ADMIN_ROLE,
        "sessionName": "pulumi-admin",
    }
    assert resource.inputs["externalId"] == "acme-ext"


def test_settings_refuse_add_audiences_without_arn_or_not_a_bool() -> None:
    with pytest.raises(ConfigError) as raised:
        settings(oidcProvider={"addAudiences": True})
    [issue] = raised.value.issues
    assert issue.path == "oidcProvider.addAudiences"
    assert "only with arn" in issue.message

    with pytest.raises(ConfigError) as raised:
        settings(oidcProvider={"arn": EXISTING_ARN, "addAudiences": "yes"})
    assert [i.path for i in raised.value.issues] == ["oidcProvider.addAudiences"]
    assert settings(oidcProvider={"arn": EXISTING_ARN, "addAudiences": True}).accounts[0].oidc_provider.add_audiences


def test_plan_shows_what_the_stack_adds(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    for name in ("Pulumi.yaml", "__main__.py"):
        (tmp_path / name).write_text((PROJECT_DIR / name).read_text())
    (tmp_path / "Pulumi.shared.yaml").write_text(
        "config:\n  pulumi-aws-oidc:organization: acme\n"
        f"  pulumi-aws-oidc:oidcProvider:\n    arn: {EXISTING_ARN}\n    addAudiences: true\n"
        "  pulumi-aws-oidc:environments:\n    - project: aws\n      name: dev\n"
        "  pulumi-aws-oidc:deployments:\n    - project: infra\n      stack: prod\n"
    )

    assert cli.main(["plan", "--stack", "shared", "--cwd", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    assert cli.main(["plan", "--stack", "shared", "--cwd", str(tmp_path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)

    assert "    adds client ID aws:acme (pulumi-cloud-client-id-aws:acme)\n" in text
    assert ADD_AUDIENCES_NOTE in text
    [account] = report["accounts"]
    assert account["oidcProvider"]["addsClientIds"] == [
        {"clientId": "acme", "name": "pulumi-cloud-client-id-acme"},
        {"clientId": "aws:acme", "name": "pulumi-cloud-client-id-aws:acme"},
    ]
