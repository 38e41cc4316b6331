"""Pulumi ESC environment definitions that log in to AWS with ``fn::open::aws-login``.

Every definition sets ``subjectAttributes: [currentEnvironment.name]``, so the token's
subject names the environment whether it is opened directly or imported into a stack's
config (where the default subject would be the same literal ``...:env:<yaml>`` for every
environment). Pure functions only: no Pulumi imports.
"""

from __future__ import annotations

from typing import Any

import yaml

from oidc import claims
from oidc.model import EscEnvironment

CREDENTIAL_VARIABLES = {
    "AWS_ACCESS_KEY_ID": "${aws.login.accessKeyId}",
    "AWS_SECRET_ACCESS_KEY": "${aws.login.secretAccessKey}",
    "AWS_SESSION_TOKEN": "${aws.login.sessionToken}",
}


def definition(environment: EscEnvironment, role_arn: str) -> dict[str, Any]:
    """The environment's definition (as data) that assumes ``role_arn``."""
    if environment.session is None:
        raise ValueError(f"{environment.identity} is a pattern: it names no environment to define")
    session = environment.session
    oidc: dict[str, Any] = {
        "roleArn": role_arn,
        "sessionName": session.session_name,
        "duration": session.duration,
        "subjectAttributes": [claims.ESC_SUBJECT_ATTRIBUTE],
    }
    if session.policy_arns:
        oidc["policyArns"] = list(session.policy_arns)
    variables = dict(CREDENTIAL_VARIABLES)
    values: dict[str, Any] = {
        "aws": {"login": {"fn::open::aws-login": {"oidc": oidc}}},
        "environmentVariables": variables,
    }
    if environment.region is not None:
        variables["AWS_REGION"] = environment.region
        values["pulumiConfig"] = {"aws:region": environment.region}
    return {"values": values}


_DUMPER: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
"""libyaml's emitter where PyYAML was built with it (about 10 times faster); the same text either way."""


def render(document: dict[str, Any]) -> str:
    """YAML text of a definition, keys in the order they were built."""
    return yaml.dump(document, Dumper=_DUMPER, sort_keys=False, default_flow_style=False)
