"""Client IDs this stack adds to an IAM OIDC provider it does not own (``oidcProvider.addAudiences``).

IAM has no API object for one client ID of a provider, and pulumi-aws no resource for it
(terraform-provider-aws PR #48315, ``aws_iam_openid_connect_provider_client_id``, is still open).
So this module is a Pulumi dynamic provider on boto3, one resource per client ID.

Several admin stacks of this program may reuse one provider and need the same client ID, so the
provider's tags say who needs what (at most 50 tags per provider, IAM's quota):

- a *claim* per admin stack and client ID: key ``pulumi-aws-oidc/<S>/<C>``, value the stack's
  ``org/project/stack``, where ``<S>`` and ``<C>`` are the first 16 hex digits of the SHA-256 of
  ``org/project/stack`` and of the client ID (:func:`claim_key`). One key per resource, so the
  resources of one stack, which the engine runs in parallel, never rewrite each other's tags;
- an *added* marker per client ID this program added: key ``pulumi-aws-oidc/added/<C>``, value the
  client ID (:func:`added_key`). Any stack that adds the client ID writes it (two stacks adding at
  once write the same tag), and the last stack out removes it with the client ID. It belongs to
  the client ID, not to a stack, so no stack ever rewrites another stack's tag to hand it over.

The lifecycle:

- create and update: claim first, then read the client IDs; a missing one gets the marker, then
  ``AddClientIDToOpenIDConnectProvider``. The output ``added`` says whether this resource added
  it. An update whose admin stack changed (a renamed stack) moves the claim; one whose state
  says ``added`` writes a missing marker again (a resource created before tags, or tags
  stripped by the provider's owner).
- delete: remove this stack's claim, then read the tags. Another stack's claim for the client ID
  keeps it. With none left, it is removed only when the marker says this program added it (for
  a resource created before tags, which has no admin stack in its state: when its state
  says ``added``): the marker first, then the client ID (a remove that fails puts the marker back,
  for the delete that tries again). A client ID the provider had before any
  stack of this program has no marker and is never removed. The tags are then read once more:
  a claim that appeared meanwhile (another stack's create, which may have found the client ID
  still there) gets the marker and the client ID back.
- read (``pulumi refresh``): ``present`` says whether the provider still lists the client ID and
  ``claimed`` whether this stack's claim is there; a refresh changes nothing in AWS (``pulumi
  preview --refresh`` must not), and an ``up`` after one that found either gone adds it again.

Races that remain. Create (claim, then read) against delete (remove, then read the claims) leaves
no gap if IAM's reads see every earlier write; but IAM is eventually consistent, so a destroy and
another stack's create of the same client ID within the seconds a change takes to propagate can
still end with it removed while that stack's state says ``present``: its ``pulumi refresh`` shows
``present: false`` and its next ``pulumi up`` adds it back. Two destroys at once may each still
see the other's claim and both keep the client ID (it stays, never the other way round). A create
that fails after claiming removes its claim; one killed in between leaves it, which only keeps
the client ID. Stacks that have not run ``pulumi up`` since tags came hold no claim, and nothing
sees them. An owner of the provider that writes its tags back (a Pulumi or Terraform stack, after
a refresh) removes every claim: it must ignore tags under ``pulumi-aws-oidc/``.

Every call first checks, with ``sts:GetCallerIdentity``, that the credentials reach the provider's
account, and gets them as the account's AWS provider does: the ambient chain, a named
``profile``, or ``assumeRole`` on top of the ambient chain, in the account's region. The engine runs
this code in its own process, from a pickled provider object (pickled by reference: the engine
imports this module, so a resource created by an earlier build runs this code): boto3 clients are
made inside each method, never kept on the object.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import re
from dataclasses import asdict, dataclass
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, ResourceProvider, UpdateResult

MAX_CLIENT_IDS = 100
"""IAM's quota of client IDs per OIDC provider (not adjustable)."""
DEFAULT_SESSION_NAME = "pulumi-aws-oidc"
"""The STS session name of ``assumeRole`` when the config names none."""

INPUTS: tuple[str, ...] = ("providerArn", "clientId", "configPath", "accountId", "region", "profile", "roleArn")
INPUTS += ("sessionName", "externalId", "adminStack")
"""Every input of the resource; ``added``, ``present`` and ``claimed`` are its outputs."""
SECRET_INPUTS = frozenset({"region", "profile", "sessionName", "externalId"})
"""The inputs sent as secrets when the account's config key is secret; the ARNs, the account ID, the admin stack
and the client ID (which names the resource) stay plain."""
_REPLACING = ("providerArn", "clientId")
"""Inputs that name another client ID: changing one replaces the resource (``adminStack`` updates it)."""

_READABLE_NAME = re.compile(r"^[A-Za-z0-9._:@+=,/-]{1,100}$")
READ_ACTIONS = "iam:GetOpenIDConnectProvider, iam:ListOpenIDConnectProviderTags"
WRITE_ACTIONS = (
    "iam:AddClientIDToOpenIDConnectProvider, iam:RemoveClientIDFromOpenIDConnectProvider, "
    "iam:TagOpenIDConnectProvider, iam:UntagOpenIDConnectProvider"
)

TAG_PREFIX = "pulumi-aws-oidc/"
"""The prefix of every tag this program writes on a provider it does not own."""
MAX_TAGS = 50
"""IAM's quota of tags per OIDC provider."""
_MAX_TAG_VALUE = 256


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def claim_key(admin_stack: str, client_id: str) -> str:
    """The tag by which the admin stack ``org/project/stack`` says it needs ``client_id``."""
    return f"{TAG_PREFIX}{_digest(admin_stack)}/{_digest(client_id)}"


def added_key(client_id: str) -> str:
    """The tag that says a stack of this program added ``client_id`` (``added`` is no 16-hex digest)."""
    return f"{TAG_PREFIX}added/{_digest(client_id)}"


def _claims(tags: dict[str, str], client_id: str, *, but: str | None) -> set[str]:
    """The keys of the claims on ``client_id`` among ``tags`` (keys in lower case), but the claim ``but``."""
    pattern = re.compile(rf"{re.escape(TAG_PREFIX)}[0-9a-f]{{16}}/{_digest(client_id)}")
    return {key for key in tags if pattern.fullmatch(key) and key != but}


def _tag_value(text: str) -> str:
    """``text`` as a tag value: IAM allows letters, digits, spaces and ``_.:/=+-@``, up to 256 of them."""
    return "".join(c if c.isalnum() or c in " _.:/=+-@" else "_" for c in text)[:_MAX_TAG_VALUE]


def logical_name(prefix: str, client_id: str) -> str:
    """The logical name of the resource for ``client_id``: ``<prefix>-client-id-<client ID>``.

    A client ID of up to 100 of letters, digits and ``._:@+=,/-`` (``acme``, ``aws:acme``,
    ``sts.amazonaws.com``) is used as it is; any other (longer, spaces, ``::``, which URNs use as
    separator) by the first 16 hex digits of its SHA-256. Either way the name depends on the
    client ID alone.
    """
    if _READABLE_NAME.fullmatch(client_id) and "::" not in client_id:
        return f"{prefix}-client-id-{client_id}"
    return f"{prefix}-client-id-{hashlib.sha256(client_id.encode()).hexdigest()[:16]}"


@dataclass(frozen=True)
class Credentials:
    """How to reach the account of a provider: as that account's AWS provider does."""

    account_id: str
    """The account the credentials must reach, checked before every call."""
    region: str | None = None
    profile: str | None = None
    role_arn: str | None = None
    session_name: str | None = None
    external_id: str | None = None

    def inputs(self) -> dict[str, str | None]:
        names = {"account_id": "accountId", "role_arn": "roleArn", "session_name": "sessionName"}
        names["external_id"] = "externalId"
        return {names.get(key, key): value for key, value in asdict(self).items()}

    @classmethod
    def of(cls, props: dict[str, Any]) -> Credentials:
        return cls(
            account_id=str(props["accountId"]),
            region=props.get("region") or None,
            profile=props.get("profile") or None,
            role_arn=props.get("roleArn") or None,
            session_name=props.get("sessionName") or None,
            external_id=props.get("externalId") or None,
        )


class ClientIdError(Exception):
    """A call to IAM or STS failed; the message names the config key, the client ID and what to do."""


def _error_code(error: Exception) -> str:
    response = getattr(error, "response", None)
    return str(response.get("Error", {}).get("Code", "")) if isinstance(response, dict) else ""


def _aws_message(error: Exception) -> str:
    response = getattr(error, "response", None)
    if isinstance(response, dict) and response.get("Error", {}).get("Message"):
        return str(response["Error"]["Message"])
    return str(error)


class _Call:
    """One operation on one client ID: its credentials, checked, and the errors of IAM as clear messages."""

    def __init__(self, props: dict[str, Any]) -> None:
        self.arn = str(props["providerArn"])
        self.client_id = str(props["clientId"])
        self.path = str(props["configPath"])
        self.credentials = Credentials.of(props)
        self.admin_stack: str | None = props.get("adminStack") or None
        """``org/project/stack``; ``None`` in the state of a resource created before tags (no claim)."""
        self.claim = claim_key(self.admin_stack, self.client_id) if self.admin_stack else None
        self.marker = added_key(self.client_id)

    def what(self) -> str:
        return f"client ID {self.client_id!r} of {self.arn}"

    def iam(self) -> Any:
        """An IAM client with the account's credentials, once STS says they reach the provider's account."""
        import boto3  # type: ignore[import-untyped]  # noqa: PLC0415 (imported where the engine runs the provider)
        import botocore.exceptions  # type: ignore[import-untyped]  # noqa: PLC0415

        c = self.credentials
        try:
            session = boto3.Session(botocore_session=_botocore_session(), profile_name=c.profile, region_name=c.region)
            if c.role_arn is not None:
                assume = {"RoleArn": c.role_arn, "RoleSessionName": c.session_name or DEFAULT_SESSION_NAME}
                if c.external_id is not None:
                    assume["ExternalId"] = c.external_id
                granted = session.client("sts").assume_role(**assume)["Credentials"]
                session = boto3.Session(
                    botocore_session=_botocore_session(),
                    aws_access_key_id=granted["AccessKeyId"],
                    aws_secret_access_key=granted["SecretAccessKey"],
                    aws_session_token=granted["SessionToken"],
                    region_name=c.region,
                )
            identity = session.client("sts").get_caller_identity()
        except botocore.exceptions.ClientError as error:
            how = f"assume {c.role_arn}" if c.role_arn else "read the caller's identity"
            key = f"{self._account_path()}assumeRole.roleArn" if c.role_arn else self.path + ".addAudiences"
            raise ClientIdError(
                f"{key}: STS refused to {how} ({_error_code(error)}: {_aws_message(error)}), so the {self.what()} "
                "was not changed"
            ) from None
        except botocore.exceptions.BotoCoreError as error:  # no credentials, unknown profile, no network
            raise ClientIdError(
                f"{self.path}.addAudiences: no AWS credentials for account {c.account_id} "
                f"({'profile ' + repr(c.profile) if c.profile else 'the ambient chain'}): {error}; the "
                f"{self.what()} was not changed"
            ) from None
        if identity["Account"] != c.account_id:
            raise ClientIdError(
                f"{self.path}.addAudiences: the credentials reach account {identity['Account']} "
                f"({identity['Arn']}), not {c.account_id}, the account of the provider; nothing was changed. "
                "Give the account the credentials its AWS provider uses (assumeRole, profile, or the ambient "
                "AWS_* variables)"
            )
        return session.client("iam")

    def _account_path(self) -> str:
        return self.path.removesuffix("oidcProvider")

    def client_ids(self, iam: Any) -> list[str] | None:
        """The provider's client IDs; ``None`` when the provider does not exist."""
        try:
            found = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=self.arn)
        except Exception as error:
            if _error_code(error) == "NoSuchEntity":
                return None
            raise self.failed("read", error) from None
        return list(found.get("ClientIDList", []))

    def existing(self, iam: Any) -> list[str]:
        found = self.client_ids(iam)
        if found is None:
            raise ClientIdError(
                f"{self.path}.arn: {self.arn} does not exist in account {self.credentials.account_id}, so the "
                f"client ID {self.client_id!r} cannot be added; fix the ARN (aws iam "
                "list-open-id-connect-providers lists them), or remove arn to let this stack create the provider"
            )
        return found

    def tags(self, iam: Any) -> dict[str, str] | None:
        """The provider's tags, keys in lower case (as this program writes its own); ``None`` when the provider
        does not exist."""
        tags: dict[str, str] = {}
        page: dict[str, Any] = {}
        try:
            while True:
                marker = {"Marker": page["Marker"]} if page.get("IsTruncated") and page.get("Marker") else {}
                page = iam.list_open_id_connect_provider_tags(OpenIDConnectProviderArn=self.arn, **marker)
                tags.update({str(tag["Key"]).lower(): str(tag["Value"]) for tag in page.get("Tags", [])})
                if not (page.get("IsTruncated") and page.get("Marker")):
                    return tags
        except Exception as error:
            if _error_code(error) == "NoSuchEntity":
                return None
            raise self.failed("read the tags for", error) from None

    def tag(self, iam: Any, tags: dict[str, str], key: str, value: str, doing: str) -> bool:
        """Tag the provider with ``key``; ``tags`` (the provider's, as read) gets it too. Whether it was new."""
        new = key not in tags
        if new and len(tags) >= MAX_TAGS:
            raise self.full(doing, len(tags))
        try:
            iam.tag_open_id_connect_provider(OpenIDConnectProviderArn=self.arn, Tags=[{"Key": key, "Value": value}])
        except Exception as error:
            if _error_code(error) == "LimitExceeded":  # another writer took the last tag since the read
                raise self.full(doing, None, _aws_message(error)) from None
            raise self.failed(doing, error) from None
        tags[key] = value
        return new

    def untag(self, iam: Any, key: str, doing: str) -> bool:
        """Remove the tag ``key`` (IAM: removing one the provider lacks changes nothing); false when the
        provider does not exist."""
        try:
            iam.untag_open_id_connect_provider(OpenIDConnectProviderArn=self.arn, TagKeys=[key])
        except Exception as error:
            if _error_code(error) == "NoSuchEntity":
                return False
            raise self.failed(doing, error) from None
        return True

    def untag_quietly(self, iam: Any, key: str) -> None:
        """Undo a tag of a call that failed, whose own error is the one to report."""
        with contextlib.suppress(ClientIdError):
            self.untag(iam, key, "remove the tag of")

    def full(self, doing: str, count: int | None, aws_message: str = "") -> ClientIdError:
        """The provider has no room for a tag: ``count`` tags as read, or ``None`` when IAM said so."""
        if count is None:
            full = f"the provider holds the most tags IAM allows, {MAX_TAGS} per provider ({aws_message})"
        else:
            full = f"the provider holds {count} tags, and IAM allows at most {MAX_TAGS} per provider"
        return ClientIdError(
            f"{self.path}.addAudiences: could not {doing} the {self.what()}: {full}. This program keeps one tag "
            f"per admin stack and client ID ({TAG_PREFIX}<stack>/<client ID>, its value names the stack) and one "
            f"per client ID it added "
            f"({TAG_PREFIX}added/<client ID>): remove tags the provider no longer needs, such as those of admin stacks "
            f"that no longer exist (aws iam list-open-id-connect-provider-tags --open-id-connect-provider-arn "
            f"{self.arn} lists them), then run the command again"
        )

    def add(self, iam: Any) -> None:
        try:
            iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=self.arn, ClientID=self.client_id)
        except Exception as error:
            raise self.failed("add", error) from None

    def remove(self, iam: Any) -> None:
        try:
            iam.remove_client_id_from_open_id_connect_provider(
                OpenIDConnectProviderArn=self.arn, ClientID=self.client_id
            )
        except Exception as error:
            if _error_code(error) == "NoSuchEntity":  # the provider is gone, and its client IDs with it
                return
            raise self.failed("remove", error) from None

    def failed(self, verb: str, error: Exception) -> ClientIdError:
        code = _error_code(error)
        if code == "NoSuchEntity":
            return ClientIdError(
                f"{self.path}.arn: {self.arn} does not exist in account {self.credentials.account_id}; could not "
                f"{verb} the client ID {self.client_id!r}"
            )
        if code in {"AccessDenied", "AccessDeniedException"}:
            return ClientIdError(
                f"{self.path}.addAudiences: access denied to {verb} the {self.what()} ({_aws_message(error)}); the "
                f"account's credentials need {READ_ACTIONS}, {WRITE_ACTIONS} on it"
            )
        if code == "LimitExceeded":
            return ClientIdError(
                f"{self.path}.addAudiences: could not add {self.client_id!r}: {self.arn} already holds the most "
                f"client IDs IAM allows, {MAX_CLIENT_IDS} per provider (not adjustable); remove one it no longer "
                f"needs ({_aws_message(error)})"
            )
        return ClientIdError(
            f"{self.path}.addAudiences: could not {verb} the {self.what()}: {code or type(error).__name__}: "
            f"{_aws_message(error)}"
        )


@functools.cache
def _service_models() -> Any:
    """botocore's loader of service models, shared: each new session would parse the models' JSON again."""
    import botocore.loaders  # type: ignore[import-untyped]  # noqa: PLC0415

    return botocore.loaders.create_loader()


def _botocore_session() -> Any:
    """A new botocore session (its own credentials) that reads service models through the shared loader."""
    import botocore.session  # type: ignore[import-untyped]  # noqa: PLC0415

    session = botocore.session.get_session()
    session.register_component("data_loader", _service_models())
    return session


class ClientIdProvider(ResourceProvider):
    """The dynamic provider of :class:`OpenIdConnectProviderClientId`."""

    serialize_as_secret_always = False

    def create(self, props: dict[str, Any]) -> CreateResult:
        call = _Call(props)
        added = _ensure(call, call.iam(), added=False, former_stack=None)
        outs = {**_inputs(props), "added": added, "present": True, "claimed": call.claim is not None}
        return CreateResult(f"{call.arn}|{call.client_id}", outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        # Reads only: `pulumi refresh` (and `preview --refresh`) must not change AWS. A claim found gone is
        # written again by the next `up`, as a client ID found gone is added again.
        call = _Call(props)
        iam = call.iam()
        found = call.client_ids(iam)
        tags = call.tags(iam) if found is not None and call.claim is not None else None
        claimed = tags is not None and call.claim in tags
        return ReadResult(id_, {**props, "present": call.client_id in (found or []), "claimed": claimed})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [key for key in _REPLACING if olds.get(key) != news.get(key)]
        changed = [key for key in INPUTS if olds.get(key) != news.get(key)]
        # A refresh found the client ID removed, or this stack's claim: the update adds it again.
        gone = olds.get("present") is False or (olds.get("claimed") is False and bool(news.get("adminStack")))
        return DiffResult(changes=bool(changed) or gone, replaces=replaces, stables=[], delete_before_replace=False)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        call = _Call(news)
        former = olds.get("adminStack") or None
        added = _ensure(call, call.iam(), added=bool(olds.get("added")), former_stack=former)
        return UpdateResult({**_inputs(news), "added": added, "present": True, "claimed": call.claim is not None})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        call = _Call(props)
        iam = call.iam()
        if call.claim is not None and not call.untag(iam, call.claim, "remove this stack's claim on"):
            return  # the provider is gone, and its client IDs and tags with it
        tags = call.tags(iam)
        if tags is None:
            return
        # Without an admin stack the resource was created before tags: its state says whether it added it.
        added_before_tags = call.claim is None and props.get("added") is True
        if _claims(tags, call.client_id, but=call.claim):
            if added_before_tags and call.marker not in tags:  # hand it over: the last stack out removes it
                call.tag(iam, tags, call.marker, _tag_value(call.client_id), "write the added marker of")
            return  # another admin stack still needs it
        if call.marker not in tags and not added_before_tags:
            return  # there before any stack of this program: not ours to remove
        if call.marker in tags:
            call.untag(iam, call.marker, "remove the added marker of")
        try:
            call.remove(iam)
        except ClientIdError:  # still there: so is the marker, for the destroy that tries again
            if call.marker in tags:
                with contextlib.suppress(ClientIdError):
                    call.tag(iam, {}, call.marker, _tag_value(call.client_id), "write the added marker of")
            raise
        # Another stack's create may have claimed it meanwhile and found it still there: give it back.
        after = call.tags(iam) or {}
        if _claims(after, call.client_id, but=call.claim):
            call.tag(iam, after, call.marker, _tag_value(call.client_id), "write the added marker of")
            call.add(iam)


def _ensure(call: _Call, iam: Any, *, added: bool, former_stack: str | None) -> bool:
    """Claim the client ID for this stack, then add it if the provider lacks it; whether this resource added it.

    ``added`` is what the state says so far; ``former_stack`` the admin stack in the state, whose claim
    moves to this one (a renamed stack). A call that fails takes back the tags it wrote.
    """
    tags = call.tags(iam)
    if tags is None:
        call.existing(iam)  # the provider does not exist: raises the error that says so
        tags = {}
    written: list[str] = []
    try:
        if call.claim is not None and call.claim not in tags:
            call.tag(iam, tags, call.claim, _tag_value(str(call.admin_stack)), "write this stack's claim on")
            written.append(call.claim)
        had_marker = call.marker in tags
        # Read after the claim: a destroy that removes the client ID after this read sees the claim and puts
        # it back (see the module's docstring).
        if call.client_id not in call.existing(iam):
            call.tag(iam, tags, call.marker, _tag_value(call.client_id), "write the added marker of")
            written += [] if had_marker else [call.marker]
            call.add(iam)
            added = True
        elif added and not had_marker:  # added before tags existed, or the tags were stripped since
            call.tag(iam, tags, call.marker, _tag_value(call.client_id), "write the added marker of")
    except ClientIdError:
        for key in written:
            call.untag_quietly(iam, key)
        raise
    if former_stack is not None and former_stack != call.admin_stack:
        call.untag(iam, claim_key(former_stack, call.client_id), "remove the former stack's claim on")
    return added


def _inputs(props: dict[str, Any]) -> dict[str, Any]:
    return {key: props.get(key) for key in INPUTS}


class OpenIdConnectProviderClientId(Resource, module="iam", name="OpenIdConnectProviderClientId"):
    """One client ID (audience) this stack adds to an OIDC provider it does not own, and removes on delete when
    no other admin stack claims it."""

    added: pulumi.Output[bool]
    """Whether this resource added the client ID (false: the provider had it already). Either way the delete
    removes it only when no other admin stack claims it and the added marker says this program added it."""
    present: pulumi.Output[bool]
    """Whether the provider lists the client ID, as of the last create, update or refresh."""
    claimed: pulumi.Output[bool]
    """Whether the provider holds this stack's claim on the client ID, as of the last create, update or refresh."""

    def __init__(
        self,
        name: str,
        *,
        provider_arn: str,
        client_id: str,
        credentials: Credentials,
        config_path: str,
        admin_stack: str,
        secret: bool = False,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """Add ``client_id`` to the provider at ``provider_arn``; ``config_path`` (``oidcProvider`` or
        ``accounts.<key>.oidcProvider``) prefixes the key paths of its error messages, and ``admin_stack``
        (``org/project/stack``) names the stack whose claim on the client ID keeps it (:func:`claim_key`). With
        ``secret`` (the account's config key is secret), the credentials' session name, external ID, profile and
        region are secrets, and so are the outputs of the same names (the engine marks an output secret when its
        input is)."""
        inputs: dict[str, Any] = credentials.inputs()
        if secret:
            inputs = {
                key: pulumi.Output.secret(value) if key in SECRET_INPUTS and value is not None else value
                for key, value in inputs.items()
            }
        props: dict[str, Any] = {
            "providerArn": provider_arn,
            "clientId": client_id,
            "configPath": config_path,
            **inputs,
            "adminStack": admin_stack,
            "added": None,
            "present": None,
            "claimed": None,
        }
        super().__init__(ClientIdProvider(), name, props, opts)


TYPE = f"pulumi-python:{OpenIdConnectProviderClientId._resource_type_name}"
