"""Benchmark: ``python -m oidc discover`` end to end for an organization of 200 stacks and 3 AWS accounts.

The services are the test emulators on 127.0.0.1: moto's server (IAM, STS, Organizations; ``tests/aws_server.py``)
and the Pulumi Cloud server of ``tests/cloud_server.py`` (pages of 100 stacks). The organization is
``tests/discover_seed.py``'s with 200 stacks: ``infra/prod`` and ``apps/prod`` (settings naming the prod role),
``infra/staging``, ``infra/prod-eu``, 150 ``apps/dev-<n>`` (settings naming the dev role, whose trust policy then
needs a pattern) and 46 stacks without settings (each read twice: its settings, 404, then the stack itself).
``wall`` is one whole run of the command (lists, 200 settings read 8 at a time, 3 accounts, the proposal, the file
written), the median of 3 runs and the fastest; the phases are timed apart once. Loopback has no network latency:
against the real services each request costs a round trip more (so the figure is a floor, not a forecast).

Run: ``.venv/bin/python -m bench.discover_bench``.
"""

from __future__ import annotations

import io
import logging
import os
import statistics
import sys
import tempfile
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

from oidc import cli, cloud
from oidc.aws import discover as aws_discover
from oidc.cloud import inventory
from tests import discover_seed
from tests.aws_server import aws_server
from tests.cloud_server import serving

STACKS = 200
DEV_STACKS = 150
RUNS = 3


def main() -> int:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's server logs each request
    with aws_server() as aws, serving() as fake, tempfile.TemporaryDirectory() as home:
        os.environ.update(aws.environ())
        os.environ.update({"PULUMI_ACCESS_TOKEN": "pul-bench", "PULUMI_BACKEND_URL": fake.url, "PULUMI_HOME": home})
        seeded = discover_seed.seed_aws(dev_stacks=DEV_STACKS)
        discover_seed.seed_cloud(
            fake, seeded, dev_stacks=DEV_STACKS, other_stacks=STACKS - 4 - DEV_STACKS, page_size=100
        )
        out = Path(home) / "Pulumi.admin.yaml"
        walls = []
        for _ in range(RUNS):
            out.unlink(missing_ok=True)
            fake.requests.clear()
            started = time.perf_counter()
            with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()) as errors:
                code = cli.main(["discover", "--org", "acme", "--accounts-from-organizations", "--out", str(out)])
            walls.append(time.perf_counter() - started)
            if code != 0:
                print(f"discover failed (exit {code}): {errors.getvalue()}", file=sys.stderr)
                return 1
        requests = len(fake.requests)
        text = out.read_text(encoding="utf-8")
        credentials = cloud.find_credentials(None, os.environ)
        assert isinstance(credentials, cloud.Credentials)
        started = time.perf_counter()
        with cloud.PulumiCloud(credentials) as client:
            found = inventory.read_inventory(client, "acme")
        cloud_seconds = time.perf_counter() - started
        started = time.perf_counter()
        aws_discover.discover(discover_seed.ISSUER, from_organizations=True)
        aws_seconds = time.perf_counter() - started
    print(f"discover, {len(found.stacks)} stacks, {len(found.environments)} environments, 3 AWS accounts (loopback)")
    print(f"  wall (whole command)  median {statistics.median(walls):.2f} s, fastest {min(walls):.2f} s, {RUNS} runs")
    print(f"  Pulumi Cloud reads    {cloud_seconds:.2f} s ({requests} requests per run)")
    print(f"  AWS reads             {aws_seconds:.2f} s")
    print(f"  stack file            {len(text.encode())} bytes; its trust policies:")
    for line in text.splitlines():
        if line.startswith("#   roles."):
            print("   ", line.removeprefix("#   ").split(" (arn:")[0], line.partition("): ")[2].split(";")[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
