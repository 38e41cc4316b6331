"""The claims Pulumi Cloud puts in the OIDC tokens it sends to AWS.

Two token families reach the role:

* Pulumi Deployments: ``aud`` is the bare organization login and ``sub`` is
  ``pulumi:deploy:org:<org>:project:<project>:stack:<stack>:operation:<op>:scope:write``.
* Pulumi ESC ``fn::open::aws-login``: ``aud`` is ``aws:<org>`` (the bare ``<org>`` in the
  legacy ``default`` project). The environments this program writes set
  ``subjectAttributes: [currentEnvironment.name]``, so ``sub`` is
  ``pulumi:environments:pulumi.organization.login:<org>:currentEnvironment.name:<project>/<name>``
  (only ``<name>`` in the ``default`` project).

Pure functions only: no Pulumi imports.
"""

from __future__ import annotations

DEFAULT_ISSUER = "https://api.pulumi.com/oidc"

OPERATIONS = ("preview", "update", "refresh", "destroy", "detect-drift", "remediate-drift")
"""Operation kinds a Deployments token can name in its subject."""

LEGACY_ESC_PROJECT = "default"
"""ESC's legacy project: its environments get the bare org audience and no project in ``sub``."""

ESC_SUBJECT_ATTRIBUTE = "currentEnvironment.name"
"""The one ``subjectAttributes`` entry every environment written by this program sets."""

ESC_AUDIENCE_PREFIX = "aws:"

ESC_UNPINNED_SUBJECT_MARK = ":env:<yaml>"
"""Ending of the default ESC subject when an environment is imported into stack config."""

WILDCARDS = frozenset("*?")


def is_pattern(value: str) -> bool:
    """True when ``value`` holds an IAM ``StringLike`` wildcard (``*`` or ``?``)."""
    return any(char in WILDCARDS for char in value)


def condition_prefix(issuer: str) -> str:
    """The IAM condition-key prefix for ``issuer``: its URL without the ``https://`` scheme."""
    return issuer.removeprefix("https://").rstrip("/")


def provider_arn(partition: str, account_id: str, issuer: str) -> str:
    """The ARN IAM gives the OIDC provider registered for ``issuer``."""
    return f"arn:{partition}:iam::{account_id}:oidc-provider/{condition_prefix(issuer)}"


def deployments_audience(org: str) -> str:
    """``aud`` of a Pulumi Deployments token: the bare organization login."""
    return org


def esc_audience(org: str, project: str) -> str:
    """``aud`` of an ESC ``aws-login`` token for an environment in ``project``."""
    if project == LEGACY_ESC_PROJECT:
        return org
    return f"{ESC_AUDIENCE_PREFIX}{org}"


def provider_client_ids(org: str, extra: tuple[str, ...] = ()) -> list[str]:
    """Client IDs a provider created for ``org`` registers: both audiences, plus ``extra``."""
    return sorted({deployments_audience(org), f"{ESC_AUDIENCE_PREFIX}{org}", *extra})


def deployments_subject(org: str, project: str, stack: str, operation: str) -> str:
    """``sub`` of a Deployments token; ``operation`` may be ``*`` to stand for every operation."""
    return f"pulumi:deploy:org:{org}:project:{project}:stack:{stack}:operation:{operation}:scope:write"


def esc_environment_path(project: str, name: str) -> str:
    """How ESC names an environment in ``currentEnvironment.name``."""
    if project == LEGACY_ESC_PROJECT:
        return name
    return f"{project}/{name}"


def esc_subject(org: str, project: str, name: str) -> str:
    """``sub`` of an ESC token from an environment with ``subjectAttributes: [currentEnvironment.name]``."""
    return (
        f"pulumi:environments:pulumi.organization.login:{org}"
        f":{ESC_SUBJECT_ATTRIBUTE}:{esc_environment_path(project, name)}"
    )
