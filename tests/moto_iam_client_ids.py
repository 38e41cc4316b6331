"""The two IAM actions moto 5.2.5 lacks, and the tag quota it does not enforce, added to its IAM backend for
the test suite.

What is moto's own (read in moto/iam/models.py and moto/iam/responses.py of 5.2.5): creating,
reading, listing, tagging and deleting OIDC providers; ``get_open_id_connect_provider`` raising
``NoSuchEntity`` for an unknown ARN; the limit of 100 client IDs when a provider is *created*;
STS ``AssumeRole`` into any account and ``GetCallerIdentity`` answering for it.
``TagOpenIDConnectProvider`` (adding tags, overwriting a key's value), ``UntagOpenIDConnectProvider``
(removing keys, an absent key a no-op) and ``ListOpenIDConnectProviderTags`` (sorted by key, paged with
``Marker``) are moto's, used as they are; so are their checks of one request (at most 50 tags, key
length and characters, value length) and ``NoSuchEntity`` for an unknown provider. It answers
``AddClientIDToOpenIDConnectProvider`` and ``RemoveClientIDFromOpenIDConnectProvider`` with
``NotImplementedError`` ("The add_client_id_to_open_id_connect_provider action has not been
implemented").

What is this extension's, following IAM's API reference (botocore's IAM model repeats it):
- ``AddClientIDToOpenIDConnectProvider`` appends the client ID; adding one the provider lists is a
  no-op ("This operation is idempotent"); an unknown provider is ``NoSuchEntity`` (moto's lookup);
  a 101st client ID is ``LimitExceeded`` with moto's message for the same quota at create.
- ``RemoveClientIDFromOpenIDConnectProvider`` removes it; removing one the provider does not list
  is a no-op (idempotent); an unknown provider is ``NoSuchEntity``.
- ``TagOpenIDConnectProvider`` that would leave a provider with more than 50 tags is
  ``LimitExceeded`` (IAM: "if you exceed the allowed maximum number of tags, then the entire request
  fails"; 50 tags per resource; ``LimitExceededException`` is among the action's errors in
  botocore's model). moto checks only the tags of one request. Overwriting a key the provider has
  adds no tag. The message is this extension's: IAM's wording was not checked against the service,
  and the program does not depend on it.

:func:`install` adds both only where moto has none, so a moto release that implements them is
used as it is (:data:`INSTALLED` then says so). Request validation (lengths, required members) is
botocore's, on the client side, as against AWS.
"""

from __future__ import annotations

from typing import Any

from moto.iam.exceptions import LimitExceededException
from moto.iam.models import IAMBackend
from moto.iam.responses import IamResponse

MAX_CLIENT_IDS = 100
MAX_TAGS = 50
ACTIONS = ("add_client_id_to_open_id_connect_provider", "remove_client_id_from_open_id_connect_provider")


def _backend_add(self: IAMBackend, arn: str, client_id: str) -> None:
    provider = self.get_open_id_connect_provider(arn)  # moto: NoSuchEntity for an unknown ARN
    if client_id in provider.client_id_list:
        return
    if len(provider.client_id_list) >= MAX_CLIENT_IDS:
        raise LimitExceededException(f"Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: {MAX_CLIENT_IDS}")
    provider.client_id_list.append(client_id)


def _backend_remove(self: IAMBackend, arn: str, client_id: str) -> None:
    provider = self.get_open_id_connect_provider(arn)
    if client_id in provider.client_id_list:
        provider.client_id_list.remove(client_id)


def _with_tag_quota(moto_tag: Any) -> Any:
    """moto's ``tag_open_id_connect_provider``, refusing to leave the provider with more than 50 tags."""

    def tag(self: IAMBackend, arn: str, tags: list[dict[str, str]]) -> None:
        provider = self.get_open_id_connect_provider(arn)  # moto: NoSuchEntity for an unknown ARN
        keys = set(provider.tags) | {str(given["Key"]).lower() for given in tags}  # moto keys them in lower case
        # A request of more than 50 tags gets moto's own error.
        if len(tags) <= MAX_TAGS < len(keys):
            raise LimitExceededException(f"Cannot exceed quota for TagsPerOpenIdConnectProvider: {MAX_TAGS}")
        moto_tag(self, arn, tags)

    tag.quota = MAX_TAGS  # type: ignore[attr-defined]
    return tag


def _response(action: str) -> Any:
    def handler(self: IamResponse) -> Any:
        from moto.core.responses import EmptyResult  # noqa: PLC0415

        getattr(self.backend, action)(self._get_param("OpenIDConnectProviderArn"), self._get_param("ClientID"))
        return EmptyResult()

    handler.__name__ = action
    return handler


def install() -> tuple[str, ...]:
    """Give moto the actions it lacks and the tag quota; the names of the actions this extension provides."""
    moto_tag = IAMBackend.tag_open_id_connect_provider
    if not hasattr(moto_tag, "quota"):
        IAMBackend.tag_open_id_connect_provider = _with_tag_quota(moto_tag)  # type: ignore[method-assign]
    provided = []
    for action, backend in zip(ACTIONS, (_backend_add, _backend_remove), strict=True):
        if hasattr(IamResponse, action):
            continue
        setattr(IAMBackend, action, backend)
        setattr(IamResponse, action, _response(action))
        provided.append(action)
    return tuple(provided)


INSTALLED = install()
"""The actions this extension provides (both, on moto 5.2.5)."""
