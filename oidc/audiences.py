"""Client IDs this stack adds to an IAM OIDC provider it does not own (``oidcProvider.addAudiences``).

IAM has no API object for one client ID of a provider, and pulumi-aws no resource for it
(terraform-provider-aws PR #48315, ``aws_iam_openid_connect_provider_client_id``, is still open).
So this module is a Pulumi dynamic provider on boto3, one resource per client ID:

- create: ``AddClientIDToOpenIDConnectProvider``, unless the provider already lists the client ID;
  the output ``added`` records which it was.
- delete: ``RemoveClientIDFromOpenIDConnectProvider``, only when ``added`` is true: a client ID that
  was there before this stack stays.
- read (``pulumi refresh``): ``present`` says whether the provider still lists it; an ``up`` after a
  refresh that found it gone adds it again.

Every call first checks, with ``sts:GetCallerIdentity``, that the credentials reach the provider's
account, and gets them as the account's AWS provider does: the ambient chain, a named
``profile``, or ``assumeRole`` on top of the ambient chain, in the account's region. The engine runs
this code in its own process, from a pickled provider object: boto3 clients are made inside each
method, never kept on the object.
"""

from __future__ import annotations

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
INPUTS += ("sessionName", "externalId")
"""Every input of the resource; ``added`` and ``present`` are its outputs."""
SECRET_INPUTS = frozenset({"region", "profile", "sessionName", "externalId"})
"""The inputs sent as secrets when the account's config key is secret; the ARNs, the account ID and the client
ID (which names the resource) stay plain."""
_REPLACING = ("providerArn", "clientId")
"""Inputs that name another client ID: changing one replaces the resource."""

_READABLE_NAME = re.compile(r"^[A-Za-z0-9._:@+=,/-]{1,100}$")
READ_ACTIONS = "iam:GetOpenIDConnectProvider"
WRITE_ACTIONS = "iam:AddClientIDToOpenIDConnectProvider, iam:RemoveClientIDFromOpenIDConnectProvider"


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
            raise self.failed("read", READ_ACTIONS, error) from None
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

    def add(self, iam: Any) -> None:
        try:
            iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=self.arn, ClientID=self.client_id)
        except Exception as error:
            raise self.failed("add", "iam:AddClientIDToOpenIDConnectProvider", error) from None

    def remove(self, iam: Any) -> None:
        try:
            iam.remove_client_id_from_open_id_connect_provider(
                OpenIDConnectProviderArn=self.arn, ClientID=self.client_id
            )
        except Exception as error:
            if _error_code(error) == "NoSuchEntity":  # the provider is gone, and its client IDs with it
                return
            raise self.failed("remove", "iam:RemoveClientIDFromOpenIDConnectProvider", error) from None

    def failed(self, verb: str, action: str, error: Exception) -> ClientIdError:
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
        iam = call.iam()
        present = call.client_id in call.existing(iam)
        if not present:
            call.add(iam)
        outs = {**_inputs(props), "added": not present, "present": True}
        return CreateResult(f"{call.arn}|{call.client_id}", outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        call = _Call(props)
        found = call.client_ids(call.iam()) or []
        return ReadResult(id_, {**props, "present": call.client_id in found})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [key for key in _REPLACING if olds.get(key) != news.get(key)]
        changed = [key for key in INPUTS if olds.get(key) != news.get(key)]
        gone = olds.get("present") is False  # a refresh found the client ID removed: add it again
        return DiffResult(changes=bool(changed) or gone, replaces=replaces, stables=[], delete_before_replace=False)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        call = _Call(news)
        iam = call.iam()
        added = bool(olds.get("added"))
        if call.client_id not in call.existing(iam):
            call.add(iam)
            added = True
        return UpdateResult({**_inputs(news), "added": added, "present": True})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        if not props.get("added"):
            return  # there before this stack: not ours to remove
        call = _Call(props)
        call.remove(call.iam())


def _inputs(props: dict[str, Any]) -> dict[str, Any]:
    return {key: props.get(key) for key in INPUTS}


class OpenIdConnectProviderClientId(Resource, module="iam", name="OpenIdConnectProviderClientId"):
    """One client ID (audience) this stack adds to an OIDC provider it does not own, and removes on delete."""

    added: pulumi.Output[bool]
    """Whether this resource added the client ID (false: the provider had it already, and keeps it on delete)."""
    present: pulumi.Output[bool]
    """Whether the provider lists the client ID, as of the last create, update or refresh."""

    def __init__(
        self,
        name: str,
        *,
        provider_arn: str,
        client_id: str,
        credentials: Credentials,
        config_path: str,
        secret: bool = False,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """Add ``client_id`` to the provider at ``provider_arn``; ``config_path`` (``oidcProvider`` or
        ``accounts.<key>.oidcProvider``) prefixes the key paths of its error messages. With ``secret`` (the
        account's config key is secret), the credentials' session name, external ID, profile and region are
        secrets, and so are the outputs of the same names (the engine marks an output secret when its input is)."""
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
            "added": None,
            "present": None,
        }
        super().__init__(ClientIdProvider(), name, props, opts)


TYPE = f"pulumi-python:{OpenIdConnectProviderClientId._resource_type_name}"
