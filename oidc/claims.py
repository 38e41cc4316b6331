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

import re
from dataclasses import dataclass
from typing import Literal

DEFAULT_ISSUER = "https://api.pulumi.com/oidc"

OPERATIONS = ("preview", "update", "refresh", "destroy", "detect-drift", "remediate-drift")
"""Operation kinds a Deployments token can name in its subject."""

LEGACY_ESC_PROJECT = "default"
"""ESC's legacy project: its environments get the bare org audience and no project in ``sub``."""

ESC_SUBJECT_ATTRIBUTE = "currentEnvironment.name"
"""The one ``subjectAttributes`` entry every environment written by this program sets."""

ESC_AUDIENCE_PREFIX = "aws:"

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


@dataclass(frozen=True)
class Subject:
    """What a Pulumi Cloud ``sub`` says about where a token comes from."""

    kind: Literal["deployments", "environments"]
    org: str
    project: str | None
    name: str | None
    """The stack (Deployments) or environment (ESC); ``None`` for the unpinned ``<yaml>`` subject."""
    operation: str | None = None
    pinned: bool = True
    """ESC only: ``False`` for the default subject (no ``subjectAttributes``)."""
    attributes: tuple[str, ...] = ()
    """ESC only: the ``subjectAttributes`` the subject names, in order."""

    @property
    def audience(self) -> str | None:
        """The ``aud`` Pulumi Cloud sends with this subject; ``None`` when the subject hides the project."""
        if self.kind == "deployments":
            return deployments_audience(self.org)
        if self.project is None:
            return None
        return esc_audience(self.org, self.project)


_DEPLOY_SUBJECT = re.compile(
    r"^pulumi:deploy:org:(?P<org>[^:]+):project:(?P<project>[^:]+):stack:(?P<stack>[^:]+)"
    r":operation:(?P<operation>[^:]+):scope:write$"
)
_ESC_ATTRIBUTES_SUBJECT = re.compile(
    r"^pulumi:environments:pulumi\.organization\.login:(?P<org>[^:]+)(?P<pairs>(?::[^:]+:[^:]+)+)$"
)
_ESC_DEFAULT_SUBJECT = re.compile(r"^pulumi:environments:org:(?P<org>[^:]+):env:(?P<env>[^:]+)$")


def _environment(org: str, path: str | None, pinned: bool, attributes: tuple[str, ...] = ()) -> Subject:
    if path is None or path == "<yaml>":
        return Subject("environments", org, None, None, pinned=pinned, attributes=attributes)
    project, _, name = path.rpartition("/")
    return Subject("environments", org, project or LEGACY_ESC_PROJECT, name, pinned=pinned, attributes=attributes)


def parse_subject(sub: str) -> Subject | None:
    """Read a Deployments or ESC subject; ``None`` for any other form."""
    if match := _DEPLOY_SUBJECT.fullmatch(sub):
        return Subject("deployments", match["org"], match["project"], match["stack"], match["operation"])
    if match := _ESC_ATTRIBUTES_SUBJECT.fullmatch(sub):
        parts = match["pairs"][1:].split(":")
        values = dict(zip(parts[::2], parts[1::2], strict=True))
        return _environment(match["org"], values.get(ESC_SUBJECT_ATTRIBUTE), True, tuple(parts[::2]))
    if match := _ESC_DEFAULT_SUBJECT.fullmatch(sub):
        return _environment(match["org"], match["env"], pinned=False)
    return None
