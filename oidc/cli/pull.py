"""``python -m oidc settings pull ORG/PROJECT/STACK``: the ``deployments[]`` entry that keeps a stack's settings.

It reads the stack's deployment settings from Pulumi Cloud and prints the entry that keeps them, the commands that
set the values the API does not return, and what no config can keep.
"""

from __future__ import annotations

import os
import re
import sys

from oidc import cloud
from oidc.cli.evaluate import EXIT_INVALID, EXIT_OK, EXIT_USAGE, StackName, UsageError
from oidc.cloud import guard

_ENTRY_PATH = re.compile(r"^(?:roles\.[a-z0-9][a-z0-9-]*\.)?deployments\[\d+\]$")


def cloud_connection(timeout: cloud.Timeout | None) -> tuple[cloud.Credentials, cloud.Timeout] | int:
    """The token and deadline of a tool's Pulumi Cloud reads (the token as the environment gives it, the deadline
    ``timeout`` or ``PULUMI_AWS_OIDC_TIMEOUT``), or the exit code after saying in one line why there are none."""
    try:
        timeout = timeout or cloud.configured_timeout(os.environ)
    except cloud.CloudError as error:
        print(f"error: {error.detail}", file=sys.stderr)
        return EXIT_USAGE
    credentials = cloud.find_credentials(None, os.environ)
    if isinstance(credentials, cloud.NoToken):
        print(
            f"error: no Pulumi Cloud token: {credentials.reason}; {credentials.fix} "
            "(and PULUMI_BACKEND_URL for a self-hosted Pulumi Cloud)",
            file=sys.stderr,
        )
        return EXIT_INVALID
    return credentials, timeout


def settings_pull(stack: str, at: str, timeout: cloud.Timeout | None = None) -> int:
    """``settings pull``: print the entry that keeps ``stack``'s settings (``org/project/stack``).

    ``timeout`` bounds each request (default: ``PULUMI_AWS_OIDC_TIMEOUT``, else 30 s).
    """
    try:
        name = StackName.parse(stack)
    except UsageError:
        name = StackName(stack)
    if name.organization is None or name.project is None:
        print(f"error: got {stack!r}; expected ORG/PROJECT/STACK, e.g. acme/infra/prod", file=sys.stderr)
        return EXIT_USAGE
    if not _ENTRY_PATH.fullmatch(at):
        print(
            f"error: --at got {at!r}; expected deployments[N] or roles.<key>.deployments[N]",
            file=sys.stderr,
        )
        return EXIT_USAGE
    connection = cloud_connection(timeout)
    if isinstance(connection, int):
        return connection
    credentials, timeout = connection
    org, project = name.organization, name.project
    try:
        with cloud.PulumiCloud(credentials, timeout=timeout) as client:
            body = client.deployment_settings(org, project, name.name)
    except cloud.CloudError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INVALID
    if body is None:
        print(f"# {stack} has no deployment settings: an entry of project and stack keeps nothing more")
        print(guard.dump([{"project": project, "stack": name.name}]), end="")
        return EXIT_OK
    print(guard.pulled_entry(project, name.name, guard.current_settings(body), at), end="")
    return EXIT_OK
