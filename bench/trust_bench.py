"""Benchmark: a role trusting thousands of entries ends in the trust-policy size error, and how fast.

No quota (at most 4,096 characters) holds more than about 60 subjects, so a role of 1,000, 4,300 or
10,000 entries can only fail its size check; this measures how long that takes and how much memory it
needs, two ways:

- ``admissions``: :func:`oidc.trust.admissions` and the rendered policy's size check alone, in this
  process (wall time of the call, peak of Python allocations by ``tracemalloc``);
- ``plan``: ``python -m oidc plan`` of a generated stack file in a temporary project, in a fresh process
  under ``/usr/bin/time -v`` (wall time and peak RSS of the whole process, imports included), with a
  time limit.

Two shapes of entries in project ``p``: ``patterns``, every entry a pattern (``s-00001-*``, ...) that
covers no other; ``mixed``, every other entry a pattern and the one after it a concrete stack it covers
(``s-00001-*`` and ``s-00001-prod``, with ``manageSettings: false``).

Run: ``.venv/bin/python -m bench.trust_bench [--sizes 1000 4300 10000] [--timeout 150]``.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent
SIZES = (1000, 4300, 10000)
SHAPES = ("patterns", "mixed")


def entries(count: int, shape: str) -> list[dict[str, Any]]:
    """``count`` deployments entries of project ``p`` in ``shape``."""
    if shape == "patterns":
        return [{"project": "p", "stack": f"s-{index:05d}-*"} for index in range(count)]
    return [
        {"project": "p", "stack": f"s-{index // 2:05d}-*"}
        if index % 2 == 0
        else {"project": "p", "stack": f"s-{index // 2:05d}-prod", "manageSettings": False}
        for index in range(count)
    ]


def _admissions(count: int, shape: str) -> dict[str, Any]:
    sys.path.insert(0, str(PROJECT_DIR))
    from oidc import trust  # noqa: PLC0415
    from oidc.model import DeploymentStack  # noqa: PLC0415

    deployments = [DeploymentStack(entry["project"], entry["stack"]) for entry in entries(count, shape)]
    provider = "arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/oidc"
    tracemalloc.start()
    start = time.perf_counter()
    admitted = trust.admissions("acme", deployments, [])
    policy = trust.render(trust.trust_policy("https://api.pulumi.com/oidc", provider, admitted))
    problem = trust.size_problem(policy, 2048, "trustPolicyMaxChars")
    wall = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    return {
        "wall": wall,
        "peakMiB": peak / 2**20,
        "subjects": sum(len(a.subjects) for a in admitted),
        "chars": len(policy),
        "fails": problem is not None,
    }


def _plan(count: int, shape: str, timeout: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        project = Path(folder)
        for name in ("Pulumi.yaml", "__main__.py"):
            shutil.copy(PROJECT_DIR / name, project / name)
        config = {
            "config": {
                "aws:region": "us-west-2",
                "pulumi-aws-oidc:organization": "acme",
                "pulumi-aws-oidc:deployments": entries(count, shape),
            }
        }
        # JSON is YAML: no YAML emitter needed, and the file is read by the same reader.
        (project / "Pulumi.bench.yaml").write_text(json.dumps(config, indent=1), encoding="utf-8")
        command = ["/usr/bin/time", "-v", sys.executable, "-m", "oidc", "plan", "--stack", "bench", "--cwd", folder]
        start = time.perf_counter()
        try:
            result = subprocess.run(
                command, cwd=PROJECT_DIR, capture_output=True, text=True, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired:
            return {"wall": time.perf_counter() - start, "timedOut": True}
        wall = time.perf_counter() - start
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr)
    errors = [line for line in result.stderr.splitlines() if "trust policy" in line]
    return {
        "wall": wall,
        "peakMiB": int(rss.group(1)) / 1024 if rss else None,
        "exit": result.returncode,
        "message": errors[0][:160] if errors else result.stderr[:160],
    }


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.trust_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--shapes", nargs="+", default=list(SHAPES), choices=SHAPES)
    parser.add_argument("--timeout", type=float, default=150.0, help="seconds a run may take (default 150)")
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(_admissions(int(args.one[0]), args.one[1])))
        return 0
    print(
        f"{'shape':>8}  {'entries':>7}  {'admissions':>10}  {'peak':>8}  {'subjects':>8}  {'plan':>8}  {'peak RSS':>8}"
    )
    for shape in args.shapes:
        for count in args.sizes:
            try:
                out = subprocess.run(
                    [sys.executable, "-m", "bench.trust_bench", "--one", str(count), shape],
                    cwd=PROJECT_DIR,
                    capture_output=True,
                    text=True,
                    check=True,
                    timeout=args.timeout,
                ).stdout
                alone = json.loads(out)
                alone_text = f"{alone['wall']:>9.2f}s  {alone['peakMiB']:>6.1f}MiB  {alone['subjects']:>8}"
            except subprocess.TimeoutExpired:
                alone_text = f"{'>' + str(int(args.timeout)) + 's':>10}  {'-':>8}  {'-':>8}"
            planned = _plan(count, shape, args.timeout)
            if planned.get("timedOut"):
                plan_text = f"{'>' + str(int(args.timeout)) + 's':>8}  {'-':>8}"
            else:
                plan_text = f"{planned['wall']:>7.2f}s  {planned['peakMiB']:>5.0f}MiB  exit {planned['exit']}"
            print(f"{shape:>8}  {count:>7}  {alone_text}  {plan_text}", flush=True)
            if not planned.get("timedOut"):
                print(f"{'':>10}{planned['message']}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
