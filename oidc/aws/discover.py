"""What exists in AWS for Pulumi Cloud's issuer: the accounts, each one's IAM OIDC provider, the roles that trust it.

Read-only, on boto3, for ``python -m oidc discover``: the account the credentials reach (``sts:GetCallerIdentity``),
or with ``from_organizations`` every active account of its AWS organization (``organizations:ListAccounts``) and the
organizational unit each is in (``ListRoots``, ``ListOrganizationalUnitsForParent``, ``ListAccountsForParent``). A
member account is read by assuming ``arn:<partition>:iam::<id>:role/<assume_role_name>`` (by default
``OrganizationAccountAccessRole``, the role AWS Organizations creates in the accounts it creates). In each account:
the OIDC provider of the issuer (``iam:ListOpenIDConnectProviders``, ``GetOpenIDConnectProvider``), every role whose
trust policy names it as ``Federated`` principal (``iam:ListRoles``, ``GetRole``, ``ListAttachedRolePolicies``) and
the account's quota for a trust policy (``iam:GetAccountSummary``: ``AssumeRolePolicySizeQuota``).

Every call has a deadline (the connection and each read: ``PULUMI_AWS_OIDC_TIMEOUT``, else 30 s) and botocore's
standard retries (3 attempts). A failure is an :class:`AwsError` of one line (``aws: ...``): the call, the account,
AWS's code and message, and what to do. A member account whose role cannot be assumed is not a failure of the
whole run: it is reported as not reached, with the reason.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import unquote

from oidc import claims

DEFAULT_ASSUME_ROLE_NAME = "OrganizationAccountAccessRole"
SESSION_NAME = "pulumi-aws-oidc-discover"
PARALLEL_ACCOUNTS = 8
"""How many accounts are read at once."""
DEFAULT_QUOTA = 2048

_T = TypeVar("_T")


class AwsError(Exception):
    """AWS could not be read; the message (``aws: ...``) says which call failed, where, and what to do."""

    def __init__(self, detail: str, code: str = "") -> None:
        self.detail = detail
        self.code = code
        """AWS's error code (``AccessDenied``), when AWS answered with one."""
        super().__init__(f"aws: {detail}")


@dataclass(frozen=True)
class Account:
    """An AWS account to read, and how it is reached."""

    id: str
    name: str
    organizational_unit: str | None = None
    """The path of its organizational unit (``Root/workloads/prod``), when read from AWS Organizations."""
    assume_role_arn: str | None = None
    """The role assumed to read it; ``None`` for the account of the credentials themselves."""


@dataclass(frozen=True)
class Provider:
    """The issuer's IAM OIDC provider in an account."""

    arn: str
    client_ids: tuple[str, ...]
    thumbprints: tuple[str, ...]


@dataclass(frozen=True)
class Role:
    """An IAM role whose trust policy names the issuer's provider."""

    name: str
    arn: str
    path: str
    trust_policy: Mapping[str, Any]
    max_session_duration: int = 3600
    description: str | None = None
    permissions_boundary: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    policy_arns: tuple[str, ...] = ()


@dataclass(frozen=True)
class Found:
    """What one account holds for the issuer; ``unreached`` says why it could not be read (then nothing else)."""

    account: Account
    provider: Provider | None = None
    roles: tuple[Role, ...] = ()
    trust_policy_quota: int = DEFAULT_QUOTA
    unreached: str | None = None


@dataclass(frozen=True)
class Discovered:
    """The accounts read, the account and partition of the credentials, and the region of the session."""

    caller_account: str
    partition: str
    region: str | None
    accounts: tuple[Found, ...]
    from_organizations: bool = False


# --- boto3 ----------------------------------------------------------------------------------------


@functools.cache
def _service_models() -> Any:
    import botocore.loaders  # type: ignore[import-untyped]  # noqa: PLC0415

    return botocore.loaders.create_loader()


def _session(**credentials: Any) -> Any:
    """A boto3 session of its own (sessions are not shared across threads) reading the shared service models."""
    import boto3  # type: ignore[import-untyped]  # noqa: PLC0415
    import botocore.session  # type: ignore[import-untyped]  # noqa: PLC0415

    core = botocore.session.get_session()
    core.register_component("data_loader", _service_models())
    return boto3.Session(botocore_session=core, **credentials)


def _client(session: Any, service: str, timeout: float) -> Any:
    from botocore.config import Config  # type: ignore[import-untyped]  # noqa: PLC0415

    config = Config(
        connect_timeout=timeout,
        read_timeout=timeout,
        retries={"max_attempts": 3, "mode": "standard"},
        user_agent_extra="pulumi-aws-oidc-discover",
    )
    region = session.region_name or "us-east-1"  # IAM, STS and Organizations answer from us-east-1 too
    return session.client(service, config=config, region_name=region)


def _call(what: str, where: str, function: Callable[[], _T]) -> _T:
    """``function()``, its failure turned into one :class:`AwsError` line."""
    import botocore.exceptions  # type: ignore[import-untyped]  # noqa: PLC0415

    try:
        return function()
    except botocore.exceptions.ClientError as error:
        response = error.response.get("Error", {})
        code, message = response.get("Code", "?"), response.get("Message", "")
        raise AwsError(f"{what} in {where} failed ({code}: {message})", str(code)) from None
    except botocore.exceptions.NoCredentialsError:
        raise AwsError(
            f"{what} in {where}: no AWS credentials were found; sign in (aws sso login, AWS_PROFILE, or the AWS_* "
            "variables) with credentials that may read IAM (and AWS Organizations with --accounts-from-organizations)"
        ) from None
    except (botocore.exceptions.ConnectTimeoutError, botocore.exceptions.ReadTimeoutError) as error:
        raise AwsError(
            f"{what} in {where}: no answer in time ({error}); AWS may be slow or unreachable from here"
        ) from None
    except botocore.exceptions.EndpointConnectionError as error:
        raise AwsError(
            f"{what} in {where}: cannot reach AWS ({error}); check the network and AWS_ENDPOINT_URL"
        ) from None
    except botocore.exceptions.BotoCoreError as error:
        raise AwsError(f"{what} in {where}: {error}") from None


def _all(client: Any, operation: str, key: str, where: str, **arguments: Any) -> list[Any]:
    """Every item of a paginated listing."""

    def read() -> list[Any]:
        items: list[Any] = []
        for page in client.get_paginator(operation).paginate(**arguments):
            items.extend(page.get(key, []))
        return items

    return _call(operation, where, read)


# --- accounts -------------------------------------------------------------------------------------


def _organization_accounts(organizations: Any, caller: str, partition: str, assume_role_name: str) -> list[Account]:
    where = f"the AWS organization of account {caller}"
    try:
        listed = _all(organizations, "list_accounts", "Accounts", where)
    except AwsError as error:
        if error.code == "AWSOrganizationsNotInUseException":
            raise AwsError(
                f"account {caller} is not in an AWS organization, so --accounts-from-organizations finds no accounts; "
                "run without it to read this account only"
            ) from None
        raise
    active = [a for a in listed if a.get("Status", "ACTIVE") == "ACTIVE"]
    if not active:
        raise AwsError(f"{where} lists no active account; run without --accounts-from-organizations")
    units = _units(organizations, where)
    return [
        Account(
            id=str(a["Id"]),
            name=str(a.get("Name") or a["Id"]),
            organizational_unit=units.get(str(a["Id"])),
            assume_role_arn=None if a["Id"] == caller else f"arn:{partition}:iam::{a['Id']}:role/{assume_role_name}",
        )
        for a in sorted(active, key=lambda a: str(a["Id"]))
    ]


def _units(organizations: Any, where: str) -> dict[str, str]:
    """Account ID -> the path of its organizational unit, from the root down."""
    found: dict[str, str] = {}
    pending = [
        (str(root["Id"]), str(root.get("Name") or "Root")) for root in _all(organizations, "list_roots", "Roots", where)
    ]
    while pending:
        parent, path = pending.pop()
        for account in _all(organizations, "list_accounts_for_parent", "Accounts", where, ParentId=parent):
            found[str(account["Id"])] = path
        for unit in _all(
            organizations, "list_organizational_units_for_parent", "OrganizationalUnits", where, ParentId=parent
        ):
            pending.append((str(unit["Id"]), f"{path}/{unit.get('Name') or unit['Id']}"))
    return found


# --- one account ----------------------------------------------------------------------------------


def federated_principals(statement: Mapping[str, Any]) -> list[str]:
    """The ``Principal.Federated`` values of a trust-policy statement (a string or a list of them)."""
    principal = statement.get("Principal")
    federated = principal.get("Federated") if isinstance(principal, Mapping) else None
    if isinstance(federated, str):
        return [federated]
    return [f for f in federated if isinstance(f, str)] if isinstance(federated, list) else []


def trust_document(value: Any) -> dict[str, Any]:
    """A role's trust policy as IAM returns it: a JSON object (boto3 decodes it), or URL-encoded JSON text."""
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, str):
        try:
            parsed = json.loads(unquote(value))
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return {}


def trusts(document: Mapping[str, Any], provider_arn: str) -> bool:
    """Whether a statement of ``document`` admits web identities of ``provider_arn``."""
    statements = document.get("Statement", [])
    if isinstance(statements, Mapping):
        statements = [statements]
    return any(
        isinstance(s, Mapping) and s.get("Effect") == "Allow" and provider_arn in federated_principals(s)
        for s in statements
        if isinstance(statements, list)
    )


def _read_account(account: Account, issuer: str, partition: str, timeout: float, base: Any) -> Found:
    where = f"account {account.id} ({account.name})"
    session = base
    if account.assume_role_arn is not None:
        sts = _client(base, "sts", timeout)
        try:
            granted = _call(
                "sts:AssumeRole",
                where,
                lambda: sts.assume_role(RoleArn=account.assume_role_arn, RoleSessionName=SESSION_NAME)["Credentials"],
            )
        except AwsError as error:
            if error.code in {"AccessDenied", "AccessDeniedException", "NoSuchEntity"}:
                return Found(account, unreached=f"{error.detail}; use --assume-role-name for another role")
            raise
        session = _session(
            aws_access_key_id=granted["AccessKeyId"],
            aws_secret_access_key=granted["SecretAccessKey"],
            aws_session_token=granted["SessionToken"],
            region_name=base.region_name,
        )
        identity = _call("sts:GetCallerIdentity", where, _client(session, "sts", timeout).get_caller_identity)
        if identity.get("Account") != account.id:
            raise AwsError(
                f"assuming {account.assume_role_arn} reached account {identity.get('Account')}, not {account.id}"
            )
    iam = _client(session, "iam", timeout)
    quota = _call("iam:GetAccountSummary", where, iam.get_account_summary).get("SummaryMap", {})
    expected = claims.provider_arn(partition, account.id, issuer)
    listed = _call("iam:ListOpenIDConnectProviders", where, iam.list_open_id_connect_providers)
    arns = [str(p["Arn"]) for p in listed.get("OpenIDConnectProviderList", [])]
    provider = None
    if expected in arns:
        got = _call(
            "iam:GetOpenIDConnectProvider",
            where,
            lambda: iam.get_open_id_connect_provider(OpenIDConnectProviderArn=expected),
        )
        provider = Provider(
            expected,
            tuple(sorted(got.get("ClientIDList", []))),
            tuple(sorted(t.lower() for t in got.get("ThumbprintList", []))),
        )
    roles: list[Role] = []
    if provider is not None:
        for listed_role in _all(iam, "list_roles", "Roles", where):
            document = trust_document(listed_role.get("AssumeRolePolicyDocument"))
            if not trusts(document, expected):
                continue
            name = str(listed_role["RoleName"])
            full: dict[str, Any] = _call("iam:GetRole", where, functools.partial(_get_role, iam, name))
            attached = _all(iam, "list_attached_role_policies", "AttachedPolicies", where, RoleName=name)
            boundary = full.get("PermissionsBoundary") or {}
            roles.append(
                Role(
                    name=name,
                    arn=str(full["Arn"]),
                    path=str(full.get("Path") or "/"),
                    trust_policy=document,
                    max_session_duration=int(full.get("MaxSessionDuration") or 3600),
                    description=full.get("Description") or None,
                    permissions_boundary=boundary.get("PermissionsBoundaryArn"),
                    tags={str(t["Key"]): str(t["Value"]) for t in full.get("Tags") or []},
                    policy_arns=tuple(sorted(str(p["PolicyArn"]) for p in attached)),
                )
            )
    return Found(
        account,
        provider,
        tuple(sorted(roles, key=lambda r: r.name.lower())),
        int(quota.get("AssumeRolePolicySizeQuota") or DEFAULT_QUOTA),
    )


def _get_role(iam: Any, name: str) -> dict[str, Any]:
    role: dict[str, Any] = iam.get_role(RoleName=name)["Role"]
    return role


def discover(
    issuer: str,
    *,
    from_organizations: bool = False,
    assume_role_name: str = DEFAULT_ASSUME_ROLE_NAME,
    timeout: float = 30.0,
    session: Any = None,
) -> Discovered:
    """Read every account (the credentials' own, or with ``from_organizations`` every active account of its
    organization) for ``issuer``'s provider and the roles that trust it; :class:`AwsError` when AWS cannot be read."""
    base = session or _session()
    identity = _call(
        "sts:GetCallerIdentity", "the credentials' account", _client(base, "sts", timeout).get_caller_identity
    )
    caller, partition = str(identity["Account"]), str(identity["Arn"]).split(":")[1]
    if from_organizations:
        organizations = _client(base, "organizations", timeout)
        accounts = _organization_accounts(organizations, caller, partition, assume_role_name)
    else:
        accounts = [Account(caller, caller)]
    found = _parallel(lambda account: _read_account(account, issuer, partition, timeout, base), accounts)
    return Discovered(caller, partition, base.region_name, tuple(found), from_organizations)


def _parallel(function: Callable[[Account], Found], accounts: Sequence[Account]) -> list[Found]:
    if len(accounts) <= 1:
        return [function(a) for a in accounts]
    with ThreadPoolExecutor(max_workers=min(PARALLEL_ACCOUNTS, len(accounts))) as pool:
        return list(pool.map(function, accounts))
