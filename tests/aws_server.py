"""AWS on 127.0.0.1 for the tests: moto's server (IAM, STS, Organizations) in a thread of the test process.

A command the tests run as a subprocess reaches it as it would reach AWS: boto3 reads the endpoint from
``AWS_ENDPOINT_URL`` and credentials from the environment (:func:`AwsServer.environ`), and signs its requests;
moto answers from its own backends. Emulated, as moto 5.2 implements it: IAM (OIDC providers, roles, attached
policies, tags), STS (``GetCallerIdentity``, ``AssumeRole`` into any account: moto keys its backends by the
account of the caller's credentials) and Organizations (the organization, accounts, OUs). Not emulated: IAM's
eventual consistency, quotas moto does not enforce, authorization (moto admits every signed request), and
the real service's error wording.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache

import httpx
import pytest
from moto.iam import aws_managed_policies, models
from moto.server import ThreadedMotoServer

REGION = "us-east-1"


@dataclass(frozen=True)
class AwsServer:
    endpoint: str

    def environ(self) -> dict[str, str]:
        """What a subprocess needs in its environment to use this server as AWS, and nothing of this machine's."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        }

    def reset(self) -> None:
        """Forget every resource (moto's reset endpoint)."""
        httpx.post(f"{self.endpoint}/moto-api/reset", timeout=10).raise_for_status()


@contextmanager
def aws_server() -> Iterator[AwsServer]:
    """Start moto's server on a free port of 127.0.0.1; stop it on exit."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield AwsServer(f"http://{host}:{port}")
    finally:
        server.stop()


@cache
def _aws_managed_policies() -> dict[str, object]:
    parsed: dict[str, object] = json.loads(aws_managed_policies.aws_managed_policies_data)
    return parsed


def with_managed_policies(monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    """moto's IAM with the AWS managed policies ``names`` (``ReadOnlyAccess``), as AWS defines them, and no other.

    Loading them all (``MOTO_IAM_LOAD_MANAGED_POLICIES``) parses about 1,300 documents at each reset: a second per
    test. The server runs in this process, so the data its IAM backends read is narrowed here.
    """
    every = _aws_managed_policies()
    monkeypatch.setattr(models, "aws_managed_policies_data", json.dumps({name: every[name] for name in names}))
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
