from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from oidc.cli import offline
from oidc.components.organization import PulumiCloudOidc
from oidc.model import Settings
from oidc.settings import load_settings, raw_text
from tests.aws_server import AwsServer, aws_server

PROJECT_DIR = Path(__file__).resolve().parent.parent

# A failed Output makes asyncio report "exception was never retrieved" after pytest's summary.
logging.getLogger("asyncio").setLevel(logging.CRITICAL)


@pytest.fixture(autouse=True)
def no_pulumi_cloud(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No test finds a token of this machine's Pulumi CLI, or reaches a Pulumi Cloud it did not start."""
    for name in ("PULUMI_ACCESS_TOKEN", "PULUMI_BACKEND_URL", "PULUMI_API"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PULUMI_HOME", str(tmp_path_factory.mktemp("pulumi-home")))


def run_component(settings: Settings, **mock_options: Any) -> offline.Recording:
    """Declare the component for ``settings`` under recording mocks."""

    def program() -> None:
        PulumiCloudOidc("pulumi-cloud", settings)

    return offline.run_program(program, {}, **mock_options)


def raw_config(values: dict[str, Any]) -> dict[str, str]:
    """Config as Pulumi keeps it: strings as they are, anything else as JSON text."""
    return {key: raw_text(value) for key, value in values.items()}


def settings(**values: Any) -> Settings:
    """Settings of the organization ``acme`` from config ``values``.

    A form-A config (no ``roles``) without ``deployments`` trusts the stack infra/prod.
    """
    raw = {"organization": "acme", **values}
    if "roles" not in raw:
        raw.setdefault("deployments", [{"project": "infra", "stack": "prod"}])
    return load_settings(raw)


def project_config(values: dict[str, Any], project: str = "pulumi-aws-oidc") -> dict[str, Any]:
    """Config keys of the project namespace, qualified as the stack file would give them."""
    return {f"{project}:{key}": value for key, value in values.items()}


# Hypothesis profiles: "default" keeps `make test` fast; "ci" runs more examples and is loaded
# when CI is set (as CI does); HYPOTHESIS_PROFILE names another registered profile.
import os  # noqa: E402

from hypothesis import settings as hypothesis_settings  # noqa: E402

hypothesis_settings.register_profile(
    "default", hypothesis_settings.get_profile("default"), max_examples=100, deadline=None
)
hypothesis_settings.register_profile("ci", hypothesis_settings.get_profile("ci"), max_examples=500, deadline=None)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "default"))


@pytest.fixture(scope="session")
def aws_endpoint() -> Iterator[AwsServer]:
    """moto's AWS server on 127.0.0.1, one per test process; each test using :func:`aws` starts it empty."""
    with aws_server() as server:
        yield server


@pytest.fixture
def aws(aws_endpoint: AwsServer, monkeypatch: pytest.MonkeyPatch) -> AwsServer:
    """An empty AWS (moto's server) that boto3 in this process and in subprocesses given its environ reaches."""
    aws_endpoint.reset()
    for name, value in aws_endpoint.environ().items():
        monkeypatch.setenv(name, value)
    return aws_endpoint


@pytest.fixture
def retries_without_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Pulumi Cloud client retries as it does, without waiting between attempts: for tests of what a failure
    ends in (tests/test_cloud_hardening.py tests the waits)."""
    from oidc import cloud  # noqa: PLC0415

    monkeypatch.setattr(cloud, "BACKOFF_SECONDS", (0.0, 0.0))
