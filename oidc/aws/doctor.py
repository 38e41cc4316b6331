"""The AWS half of ``python -m oidc doctor``: each account's provider and roles, read live with boto3 and compared
with what the config renders.

For each account, with the credentials its AWS provider would use (the ambient chain, a ``profile``, or
``assumeRole`` on top of it):

- ``sts:GetCallerIdentity``: the account the credentials reach (and its partition), checked against ``id``;
- ``iam:GetOpenIDConnectProvider``: the provider exists, its client IDs include every audience the account's
  roles need (and, for a provider this stack creates, every client ID it registers), and its thumbprints match
  the issuer's current TLS chain (:func:`issuer_thumbprint`, the choice :mod:`oidc.thumbprint` makes);
- for each role, ``iam:GetRole``: the trust policy equals the one :mod:`oidc.trust` renders for the config
  (compared as normalized JSON documents: key order, statement order and a one-item list against its item do
  not count), and the maximum session is not shorter than any duration of its stacks and environments;
  ``iam:ListAttachedRolePolicies``: the managed policies of the config are attached, and no other.

Every call has a deadline (connect and each read; at most :data:`ATTEMPTS` attempts, botocore's standard
retries), and an error of AWS (no credentials, access denied, unreachable, no answer in time) is one line that
says what to do, as a finding of its account or role. Nothing is written.
"""

from __future__ import annotations

import hashlib
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from cryptography import x509

from oidc import claims, durations, thumbprint, trust
from oidc.aws.client_ids import DEFAULT_SESSION_NAME
from oidc.model import AccountSettings, Finding, RoleSettings, Settings, provider_client_ids

ATTEMPTS = 3
"""Attempts of one AWS call (botocore's ``standard`` retry mode: throttling, 5xx and connection errors)."""
READ_ACTIONS = (
    "sts:GetCallerIdentity, iam:GetOpenIDConnectProvider, iam:GetRole, iam:ListAttachedRolePolicies "
    "(the AWS managed policy SecurityAudit or ReadOnlyAccess holds them)"
)
"""What the doctor's credentials need in each account."""

ChainReader = Callable[[str, float], list[thumbprint.Certificate]]
"""Reads the issuer's TLS chain: ``(issuer URL, deadline in seconds)`` -> the certificates the server sent."""


class AwsError(Exception):
    """A call to AWS failed; the message (``aws: ...``) says which, why, and what to do."""

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(f"aws: {detail}")


# --- the issuer's chain --------------------------------------------------------------------------


def issuer_chain(issuer: str, seconds: float) -> list[thumbprint.Certificate]:
    """The certificates the issuer's TLS server sends (leaf first), read within ``seconds`` in all.

    Nothing is sent but the TLS handshake; the chain is not verified (the thumbprint IAM keeps is of what the
    server sends, trusted or not). :class:`ssl.SSLError` and :class:`OSError` (no answer in time included,
    as :class:`TimeoutError`) say why it could not be read.
    """
    parts = urlsplit(issuer)
    host, port = parts.hostname or "", parts.port or 443
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    deadline = time.monotonic() + seconds
    sock = socket.create_connection((host, port), timeout=seconds)
    # The socket's timeout bounds each read; the timer bounds the whole handshake (a server trickling bytes).
    timer = threading.Timer(seconds, lambda: _shut(sock))
    timer.daemon = True
    timer.start()
    try:
        with context.wrap_socket(sock, server_hostname=host) as tls:
            if time.monotonic() >= deadline:
                raise TimeoutError(f"no complete TLS handshake with {host}:{port} within {seconds:g} s")
            return [_certificate(der) for der in _unverified_chain(tls)]
    except OSError:
        if time.monotonic() >= deadline:
            raise TimeoutError(f"no complete TLS handshake with {host}:{port} within {seconds:g} s") from None
        raise
    finally:
        timer.cancel()
        sock.close()


def _shut(sock: socket.socket) -> None:
    with suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def _unverified_chain(tls: ssl.SSLSocket) -> list[bytes]:
    """The DER certificates the server sent, leaf first.

    Python 3.13 has ``SSLSocket.get_unverified_chain`` (DER bytes); 3.11 and 3.12 have the same method only on the
    private ``_sslobj`` (CPython's ``_ssl``, since 3.10), whose certificates give DER with ``_ssl.ENCODING_DER``.
    No public hook gives the chain before 3.13.
    """
    public = getattr(tls, "get_unverified_chain", None)
    if public is not None:
        return [bytes(der) for der in public() or []]
    import _ssl  # noqa: PLC0415  (see above: no public hook on 3.11 and 3.12)

    private = tls._sslobj.get_unverified_chain()  # type: ignore[attr-defined]
    return [bytes(cert.public_bytes(_ssl.ENCODING_DER)) for cert in private or []]


def _certificate(der: bytes) -> thumbprint.Certificate:
    cert = x509.load_der_x509_certificate(der)
    try:
        is_ca = bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        is_ca = False
    return thumbprint.Certificate(
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        is_ca=is_ca,
        sha1_fingerprint=hashlib.sha1(der).hexdigest(),  # IAM's thumbprint is SHA-1
    )


def issuer_thumbprint(issuer: str, seconds: float, read: ChainReader = issuer_chain) -> str:
    """The thumbprint IAM wants for ``issuer``: of the top intermediate CA of the chain its server sends now.

    :class:`AwsError` (its message says why) when the chain cannot be read or holds no CA."""
    host = urlsplit(issuer).hostname
    try:
        return thumbprint.thumbprint(read(issuer, seconds))
    except thumbprint.ThumbprintError as error:
        raise AwsError(f"the TLS chain of {host} has no certificate to take a thumbprint of: {error}") from None
    except TimeoutError:
        raise AwsError(f"no TLS handshake with {host} within {seconds:g} s; check the network") from None
    except (OSError, ssl.SSLError, ValueError) as error:
        raise AwsError(f"cannot read the TLS chain of {host}: {error or type(error).__name__}") from None


# --- the comparison of trust policies ------------------------------------------------------------


def normalized(value: Any) -> Any:
    """A policy document as IAM reads it: maps by key, lists as sets (a one-item list as its item)."""
    if isinstance(value, Mapping):
        return {key: normalized(value[key]) for key in sorted(value)}
    if isinstance(value, list | tuple):
        items = [normalized(item) for item in value]
        if len(items) == 1:
            return items[0]
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))
    return value


def policy_differences(live: Mapping[str, Any], rendered: Mapping[str, Any]) -> list[str]:
    """What differs between two trust policies, statement by statement (by ``Sid``); empty when they are equal."""
    if normalized(live) == normalized(rendered):
        return []

    def statements(document: Mapping[str, Any]) -> dict[str, Any]:
        found = document.get("Statement", [])
        found = found if isinstance(found, list) else [found]
        return {
            str(s.get("Sid") or f"#{index}") if isinstance(s, Mapping) else f"#{index}": normalized(s)
            for index, s in enumerate(found)
        }

    have, want = statements(live), statements(rendered)
    differences = [f"statement {sid} is not in the config" for sid in have if sid not in want]
    differences += [f"statement {sid} is missing" for sid in want if sid not in have]
    for sid in (sid for sid in want if sid in have and have[sid] != want[sid]):
        fields = sorted(
            key
            for key in {*have[sid], *want[sid]}
            if not isinstance(have[sid], Mapping) or have[sid].get(key) != want[sid].get(key)
        )
        differences.append(f"statement {sid} differs in {', '.join(fields)}")
    rest = sorted(key for key in {*live, *rendered} - {"Statement"} if live.get(key) != rendered.get(key))
    differences += [f"{key} differs" for key in rest]
    return differences or ["the statements differ"]


# --- boto3 ---------------------------------------------------------------------------------------


def _error_code(error: Exception) -> str:
    response = getattr(error, "response", None)
    return str(response.get("Error", {}).get("Code", "")) if isinstance(response, dict) else ""


def _aws_message(error: Exception) -> str:
    response = getattr(error, "response", None)
    if isinstance(response, dict) and response.get("Error", {}).get("Message"):
        return " ".join(str(response["Error"]["Message"]).split())[:300]
    return " ".join(str(error).split())[:300] or type(error).__name__


def _failure(doing: str, error: Exception, account: str, seconds: float) -> AwsError:
    """One line for a failed call: what was asked, why it failed, and what to do."""
    import botocore.exceptions  # type: ignore[import-untyped]  # noqa: PLC0415

    code = _error_code(error)
    if isinstance(error, botocore.exceptions.NoCredentialsError | botocore.exceptions.ProfileNotFound):
        return AwsError(
            f"no AWS credentials for {account} ({_aws_message(error)}): sign in (aws sso login, AWS_PROFILE, or "
            "the AWS_* variables), or give the account the profile or assumeRole its AWS provider uses"
        )
    if code in {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}:
        return AwsError(
            f"{doing}: access denied ({_aws_message(error)}); the credentials of {account} need {READ_ACTIONS}"
        )
    if code in {"ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId", "SignatureDoesNotMatch"}:
        return AwsError(
            f"{doing}: AWS refused the credentials of {account} ({code}: {_aws_message(error)}); sign in again"
        )
    if isinstance(error, botocore.exceptions.ReadTimeoutError | botocore.exceptions.ConnectTimeoutError):
        return AwsError(f"{doing}: no answer within {seconds:g} s on each of {ATTEMPTS} attempts; try again later")
    if isinstance(error, botocore.exceptions.EndpointConnectionError | botocore.exceptions.ConnectionError):
        return AwsError(f"{doing}: cannot reach AWS ({_aws_message(error)}); check the network and AWS_ENDPOINT_URL")
    return AwsError(f"{doing}: {code or type(error).__name__}: {_aws_message(error)}")


@dataclass
class _Account:
    """One account's clients, and the errors of its calls as :class:`AwsError`."""

    settings: AccountSettings
    label: str
    seconds: float
    iam: Any = None
    account_id: str = ""
    partition: str = "aws"

    def call(self, doing: str, operation: Callable[..., Any], **arguments: Any) -> Any:
        try:
            return operation(**arguments)
        except Exception as error:
            raise _failure(doing, error, self.label, self.seconds) from None


def _connect(account: AccountSettings, label: str, region: str | None, seconds: float) -> _Account:
    """Clients for ``account`` with the credentials its AWS provider would use, once STS says whose they are."""
    import boto3  # type: ignore[import-untyped]  # noqa: PLC0415
    import botocore.config  # type: ignore[import-untyped]  # noqa: PLC0415

    from oidc.aws.client_ids import _botocore_session  # noqa: PLC0415  (the shared loader of service models)

    config = botocore.config.Config(
        connect_timeout=seconds, read_timeout=seconds, retries={"max_attempts": ATTEMPTS, "mode": "standard"}
    )
    state = _Account(account, label, seconds)
    region = account.region or region
    session = state.call(
        "open a session",
        boto3.Session,
        botocore_session=_botocore_session(),
        profile_name=account.profile,
        region_name=region,
    )
    if account.assume_role is not None:
        assume = account.assume_role
        arguments = {"RoleArn": assume.role_arn, "RoleSessionName": assume.session_name or DEFAULT_SESSION_NAME}
        if assume.external_id is not None:
            arguments["ExternalId"] = assume.external_id
        sts = session.client("sts", config=config)
        granted = state.call(f"sts:AssumeRole {assume.role_arn}", sts.assume_role, **arguments)["Credentials"]
        session = boto3.Session(
            botocore_session=_botocore_session(),
            aws_access_key_id=granted["AccessKeyId"],
            aws_secret_access_key=granted["SecretAccessKey"],
            aws_session_token=granted["SessionToken"],
            region_name=region,
        )
    identity = state.call("sts:GetCallerIdentity", session.client("sts", config=config).get_caller_identity)
    state.account_id = str(identity["Account"])
    state.partition = str(identity["Arn"]).split(":")[1]
    state.iam = session.client("iam", config=config)
    return state


# --- the checks ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoleTarget:
    """A role of the config and the name it has in AWS: ``role.name``, else the one ``pulumi up`` generated."""

    settings: RoleSettings
    name: str


@dataclass
class AccountReport:
    """What the AWS checks of one account found, and the ARNs the Pulumi Cloud checks compare with."""

    key: str
    account_id: str | None = None
    provider_arn: str | None = None
    role_arns: dict[str, str] = field(default_factory=dict)
    """Role key -> the role's ARN (as AWS says, or as it would be for a role that is missing)."""
    checked: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


def check_account(
    settings: Settings,
    account: AccountSettings,
    roles: Sequence[RoleTarget],
    *,
    region: str | None,
    seconds: float,
    issuer_thumbprint_of: Callable[[], str],
) -> AccountReport:
    """Every AWS check of ``account``: its provider and ``roles``.

    ``issuer_thumbprint_of`` gives the issuer's current thumbprint (read once for all accounts) or raises
    :class:`AwsError`.
    """
    label = f"account {account.key}" + (f" ({account.id})" if account.id else "")
    report = AccountReport(account.key)
    try:
        state = _connect(account, label, region, seconds)
    except AwsError as error:
        report.findings.append(Finding("aws-error", label, error.detail, "fix the access, then run doctor again"))
        return report
    report.account_id = state.account_id
    label = f"account {account.key} ({state.account_id})"
    state.label = label
    if account.id is not None and account.id != state.account_id:
        report.findings.append(
            Finding(
                "account-mismatch",
                f"account {account.key}",
                f"the credentials reach account {state.account_id}, not {account.id}",
                f"give {account.config_path or ''}assumeRole or profile credentials of account {account.id}",
            )
        )
        return report
    admitted = {
        r.settings.key: trust.admissions(settings.organization, r.settings.deployments, r.settings.environments)
        for r in roles
    }
    provider_arn = account.oidc_provider.arn or claims.provider_arn(state.partition, state.account_id, settings.issuer)
    report.provider_arn = provider_arn
    report.findings += _check_provider(settings, account, state, provider_arn, roles, admitted, issuer_thumbprint_of)
    report.checked.append(f"{label}: OIDC provider {provider_arn}")
    for role in roles:
        findings, arn = _check_role(settings, state, provider_arn, role, admitted[role.settings.key])
        report.findings += findings
        report.role_arns[role.settings.key] = arn
        report.checked.append(f"{label}: role {role.settings.key} ({arn})")
    return report


def _check_provider(  # noqa: PLR0917
    settings: Settings,
    account: AccountSettings,
    state: _Account,
    arn: str,
    roles: Sequence[RoleTarget],
    admitted: Mapping[str, Sequence[trust.Admission]],
    issuer_thumbprint_of: Callable[[], str],
) -> list[Finding]:
    import botocore.exceptions  # noqa: PLC0415

    oidc = account.oidc_provider
    created = oidc.arn is None
    subject = f"OIDC provider {arn}"
    key = f"{account.config_path}oidcProvider"
    try:
        found = state.iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    except botocore.exceptions.ClientError as error:
        if _error_code(error) != "NoSuchEntity":
            return [
                Finding(
                    "aws-error",
                    subject,
                    _failure(f"iam:GetOpenIDConnectProvider {arn}", error, state.label, state.seconds).detail,
                    "fix the access, then run doctor again",
                )
            ]
        fix = "run pulumi up to create it" if created else f"fix {key}.arn (aws iam list-open-id-connect-providers)"
        return [Finding("provider-missing", subject, f"does not exist in {state.label}", fix)]
    except Exception as error:
        return [
            Finding(
                "aws-error",
                subject,
                _failure(f"iam:GetOpenIDConnectProvider {arn}", error, state.label, state.seconds).detail,
                "fix the access, then run doctor again",
            )
        ]
    findings: list[Finding] = []
    client_ids = [str(c) for c in found.get("ClientIDList", [])]
    needed = {a.audience for role in roles for a in admitted[role.settings.key]}
    wanted = set(needed)
    if created:
        wanted |= set(
            provider_client_ids(settings.organization, account, settings.roles_of(account.key), settings.by_roles)
        )
    for audience in sorted(wanted - set(client_ids)):
        why = "its roles' tokens carry it, so STS refuses them" if audience in needed else "the config registers it"
        fix = (
            "pulumi up --refresh puts it back (a plain pulumi up compares with the recorded inputs and does not see "
            "the change)"
            if created
            else f"aws iam add-client-id-to-open-id-connect-provider --open-id-connect-provider-arn {arn} "
            f"--client-id {audience} (or set {key}.addAudiences: true)"
        )
        findings.append(
            Finding(
                "provider-audience",
                subject,
                f"lacks the client ID {audience!r} ({why}); it has {sorted(client_ids)}",
                fix,
                {"missing": audience, "clientIds": client_ids},
            )
        )
    findings += _check_thumbprints(
        settings, account, arn, [str(t).lower() for t in found.get("ThumbprintList", [])], issuer_thumbprint_of
    )
    return findings


def _check_thumbprints(
    settings: Settings, account: AccountSettings, arn: str, live: list[str], issuer_thumbprint_of: Callable[[], str]
) -> list[Finding]:
    """The provider's thumbprints against the issuer's chain, and against the config's list where it gives one."""
    oidc = account.oidc_provider
    subject = f"OIDC provider {arn}"
    key = f"{account.config_path}oidcProvider.thumbprints"
    configured = None if oidc.thumbprints == "auto" else sorted(thumbprint.normalize(t) for t in oidc.thumbprints)
    if configured == [] or (oidc.arn is not None and not live):
        return []  # none kept: IAM checks the chain against its own trusted CAs
    findings: list[Finding] = []
    if oidc.arn is None and configured is not None and sorted(live) != configured:
        findings.append(
            Finding(
                "provider-thumbprint",
                subject,
                f"holds the thumbprints {live}, not {configured} of {key}",
                "pulumi up --refresh puts back the list of the config",
                {"live": live, "config": configured},
            )
        )
    try:
        current = issuer_thumbprint_of()
    except AwsError as error:
        return [
            *findings,
            Finding("issuer-unreachable", settings.issuer, error.detail, "check the network, then run doctor again"),
        ]
    if current not in live:
        update = (
            f"aws iam update-open-id-connect-provider-thumbprint --open-id-connect-provider-arn {arn} "
            f"--thumbprint-list {' '.join([current, *live][:5])}"
        )
        if oidc.arn is None and configured is None:
            fix = f"pulumi up reads the chain again and updates the provider (or: {update})"
        elif oidc.arn is None:
            fix = f"add {current} to {key}, then pulumi up"
        else:
            fix = update
        findings.append(
            Finding(
                "provider-thumbprint",
                subject,
                f"its thumbprints {live or '(none)'} do not include {current}, the top intermediate CA of the chain "
                f"{urlsplit(settings.issuer).hostname} sends now; IAM falls back on thumbprints when the chain is "
                "not one of its trusted CAs",
                fix,
                {"live": live, "issuerChain": current},
            )
        )
    return findings


def _check_role(
    settings: Settings,
    state: _Account,
    provider_arn: str,
    target: RoleTarget,
    admitted: Sequence[trust.Admission],
) -> tuple[list[Finding], str]:
    import botocore.exceptions  # noqa: PLC0415

    role = target.settings
    expected_arn = f"arn:{state.partition}:iam::{state.account_id}:role{role.path}{target.name}"
    subject = f"role {role.key} ({target.name})"
    refresh = (
        "pulumi up --refresh puts back what the config declares (a plain pulumi up compares with the recorded "
        "inputs and does not see a change made in the console)"
    )

    def error_finding(doing: str, error: Exception) -> Finding:
        return Finding(
            "aws-error",
            subject,
            _failure(doing, error, state.label, state.seconds).detail,
            "fix the access, then run doctor again",
        )

    try:
        found = state.iam.get_role(RoleName=target.name)["Role"]
    except botocore.exceptions.ClientError as error:
        if _error_code(error) == "NoSuchEntity":
            return [
                Finding("role-missing", subject, f"does not exist in {state.label}", "run pulumi up to create it")
            ], expected_arn
        return [error_finding(f"iam:GetRole {target.name}", error)], expected_arn
    except Exception as error:
        return [error_finding(f"iam:GetRole {target.name}", error)], expected_arn
    arn = str(found.get("Arn") or expected_arn)
    findings: list[Finding] = []
    document = found.get("AssumeRolePolicyDocument")
    if isinstance(document, str):  # botocore decodes it; an older one, or another client, leaves it URL-encoded
        document = json.loads(unquote(document))
    rendered = trust.trust_policy(settings.issuer, provider_arn, admitted)
    differences = policy_differences(document or {}, rendered)
    if differences:
        findings.append(
            Finding(
                "trust-policy",
                subject,
                "the trust policy is not the one this config renders (edited outside this stack?): "
                + "; ".join(differences),
                refresh,
                {"live": document, "rendered": rendered},
            )
        )
    durations_needed = [(e.session.duration, e.path) for e in role.managed_stacks if e.session is not None]
    durations_needed += [(e.session.duration, e.path) for e in role.defined_environments if e.session is not None]
    maximum = int(found.get("MaxSessionDuration") or 3600)
    longest = max(durations_needed, key=lambda pair: durations.parse_duration(pair[0]), default=None)
    if longest is not None and durations.parse_duration(longest[0]) > maximum:
        findings.append(
            Finding(
                "max-session",
                subject,
                f"its maximum session is {durations.format_duration(maximum)}, shorter than the duration {longest[0]} "
                f"of {longest[1]}, so STS refuses those sessions",
                f"{refresh}; or aws iam update-role --role-name {target.name} --max-session-duration "
                f"{role.max_session_duration}",
                {"maxSessionDuration": maximum, "longest": longest[0]},
            )
        )
    wanted = set(
        role.policy_arns if role.policy_arns is not None else (f"arn:{state.partition}:iam::aws:policy/ReadOnlyAccess",)
    )
    try:
        attached = set(_attached(state, target.name))
    except AwsError as error:
        return [*findings, Finding("aws-error", subject, error.detail, "fix the access, then run doctor again")], arn
    for policy in sorted(wanted - attached):
        findings.append(
            Finding(
                "policy-detached",
                subject,
                f"the managed policy {policy} of {role.config_path}.policyArns is not attached",
                f"{refresh}; or aws iam attach-role-policy --role-name {target.name} --policy-arn {policy}",
                {"policyArn": policy},
            )
        )
    for policy in sorted(attached - wanted):
        findings.append(
            Finding(
                "policy-extra",
                subject,
                f"the managed policy {policy} is attached, but {role.config_path}.policyArns does not list it",
                f"aws iam detach-role-policy --role-name {target.name} --policy-arn {policy}, or add it to "
                f"{role.config_path}.policyArns",
                {"policyArn": policy},
            )
        )
    return findings, arn


def _attached(state: _Account, name: str) -> Iterator[str]:
    marker: dict[str, str] = {}
    while True:
        page = state.call(
            f"iam:ListAttachedRolePolicies {name}", state.iam.list_attached_role_policies, RoleName=name, **marker
        )
        yield from (str(p["PolicyArn"]) for p in page.get("AttachedPolicies", []))
        if not (page.get("IsTruncated") and page.get("Marker")):
            return
        marker = {"Marker": str(page["Marker"])}
