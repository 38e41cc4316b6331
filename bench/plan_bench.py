"""Benchmark: ``make plan`` of the dev stack, and the program evaluated offline for 10, 100 and 1,000 entries.

``make plan`` (``python -m oidc plan --stack dev``) is timed whole, as a user waits for it, against its floor: a
process that imports what it imports (the SDK and the three provider packages) and runs an empty program under
the same offline runner; the difference is what this program costs on top of the SDK (the median of 7 runs each,
run in turn).

Half of the entries are stacks with managed settings and a git source, half ESC environments, spread
over 4 roles in 2 accounts; each role also trusts its projects with a pattern, which covers its
concrete stacks. Each run is a fresh interpreter, so that its peak memory is its own: ``wall`` is the evaluation
alone (imports excluded; the median of 3 runs, and the fastest), ``peak RSS`` the whole process's.
The ``floor`` row is as many bare resources as the 1,000-entry run declares, under the same runner:
the SDK's own cost, against which the program's is read (this machine's speed varies from run to run).

Run: ``make bench`` (or ``.venv/bin/python -m bench.plan_bench [--profile N]``).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent
SIZES = (10, 100, 1000)
RUNS = 3
ROLES = ("deploy", "ops", "dev", "data")


def organization(entries: int) -> dict[str, Any]:
    """Config of a form-B stack with ``entries`` entries over 4 roles in 2 accounts."""
    roles: dict[str, Any] = {}
    for index, key in enumerate(ROLES):
        project = f"{key}-apps"
        roles[key] = {
            "account": "prod" if index % 2 == 0 else "dev",
            "deployments": [{"project": project, "stack": "*"}],
            "environments": [],
        }
    for entry in range(entries):
        role = roles[ROLES[entry % len(ROLES)]]
        project = f"{ROLES[entry % len(ROLES)]}-apps"
        if entry % 2 == 0:
            role["deployments"].append(
                {
                    "project": project,
                    "stack": f"stack-{entry}",
                    "source": {"repoUrl": f"https://github.com/acme/{project}.git", "branch": "main"},
                }
            )
        else:
            role["environments"].append({"project": project, "name": f"env-{entry}"})
    for role in roles.values():
        role["environments"].append({"project": role["deployments"][0]["project"], "name": "*"})
    return {
        "pulumi-aws-oidc:organization": "acme",
        "pulumi-aws-oidc:accounts": {
            "prod": {"assumeRole": {"roleArn": "arn:aws:iam::111111111111:role/OrganizationAccountAccessRole"}},
            "dev": {"assumeRole": {"roleArn": "arn:aws:iam::222222222222:role/OrganizationAccountAccessRole"}},
        },
        "pulumi-aws-oidc:roles": roles,
    }


def _evaluate(entries: int) -> dict[str, Any]:
    sys.path.insert(0, str(PROJECT_DIR))
    import pulumi_aws  # noqa: PLC0415
    import pulumi_pulumiservice  # noqa: PLC0415

    from oidc import cloud  # noqa: PLC0415
    from oidc.cli import offline  # noqa: PLC0415
    from oidc.cli.evaluate import Evaluated, role_views  # noqa: PLC0415
    from oidc.cli.plan import plan_report, render_text  # noqa: PLC0415

    _ = (pulumi_aws.iam.Role, pulumi_aws.Provider, pulumi_pulumiservice.DeploymentSettings)  # load lazy modules
    config = offline.StackConfig("pulumi-aws-oidc", "bench", PROJECT_DIR, organization(entries), ())
    start = time.perf_counter()
    with cloud.offline():
        recording = offline.run_stack(config, preview=True)
    report = plan_report(Evaluated(config, recording, tuple(role_views(recording))))
    render_text(report)
    wall = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"entries": entries, "resources": len(recording.resources), "wall": wall, "peakMiB": peak_kib / 1024}


def _floor(resources: int) -> dict[str, Any]:
    """The SDK's own cost: ``resources`` bare DeploymentSettings (three string inputs) under the same offline runner."""
    import pulumi  # noqa: PLC0415
    import pulumi_pulumiservice  # noqa: PLC0415

    from oidc import cloud  # noqa: PLC0415
    from oidc.cli import offline  # noqa: PLC0415

    def program() -> None:
        for index in range(resources):
            pulumi_pulumiservice.DeploymentSettings(
                f"floor-{index}", organization="acme", project="p", stack=f"s{index}"
            )

    _ = pulumi.Output  # the SDK is loaded before timing
    start = time.perf_counter()
    with cloud.offline():
        offline.run_program(program, {}, preview=True)
    wall = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"entries": "floor", "resources": resources, "wall": wall, "peakMiB": peak_kib / 1024}


def _empty() -> None:
    """The floor of ``make plan``: the SDK's and the providers' imports, then an empty program under the runner."""
    sys.path.insert(0, str(PROJECT_DIR))
    import pulumi_aws  # noqa: PLC0415
    import pulumi_pulumiservice  # noqa: PLC0415
    import pulumi_tls  # noqa: PLC0415

    from oidc import cloud  # noqa: PLC0415
    from oidc.cli import offline  # noqa: PLC0415

    _ = (pulumi_aws.iam.Role, pulumi_aws.Provider, pulumi_pulumiservice.DeploymentSettings, pulumi_tls)
    with cloud.offline():
        offline.run_program(lambda: None, {}, preview=True)


def _process_walls(commands: list[list[str]], runs: int = 7) -> list[float]:
    """The median wall time of each command as a fresh process, over ``runs`` rounds that run each once in turn (so
    that the machine's changing speed weighs on each alike)."""
    walls: list[list[float]] = [[] for _ in commands]
    for _ in range(runs):
        for command, found in zip(commands, walls, strict=True):
            start = time.perf_counter()
            subprocess.run(command, cwd=PROJECT_DIR, check=True, capture_output=True)
            found.append(time.perf_counter() - start)
    return [statistics.median(found) for found in walls]


def _profile(entries: int) -> None:
    import cProfile  # noqa: PLC0415
    import pstats  # noqa: PLC0415

    profiler = cProfile.Profile()
    profiler.enable()
    _evaluate(entries)
    profiler.disable()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)


def _median(args: list[str]) -> dict[str, Any]:
    """The median wall time (and the fastest, and the highest peak) of :data:`RUNS` fresh runs."""
    runs = []
    for _ in range(RUNS):
        out = subprocess.run(
            [sys.executable, "-m", "bench.plan_bench", *args],
            cwd=PROJECT_DIR,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        runs.append(json.loads(out.strip().splitlines()[-1]))
    walls = sorted(run["wall"] for run in runs)
    return {**runs[0], "wall": statistics.median(walls), "min": walls[0], "peakMiB": max(r["peakMiB"] for r in runs)}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.plan_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--floor", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--empty", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--profile", type=int, metavar="N", help="profile one run of N entries instead")
    args = parser.parse_args()
    if args.empty:
        _empty()
        return 0
    if args.one is not None:
        print(json.dumps(_evaluate(args.one)))
        return 0
    if args.floor is not None:
        print(json.dumps(_floor(args.floor)))
        return 0
    if args.profile is not None:
        _profile(args.profile)
        return 0
    plan_command = [sys.executable, "-m", "oidc", "plan", "--stack", "dev"]
    plan, floor = _process_walls([plan_command, [sys.executable, "-m", "bench.plan_bench", "--empty"]])
    print("make plan (python -m oidc plan --stack dev), whole process, median of 7 runs")
    print(f"  plan {plan:.2f}s, floor {floor:.2f}s (imports and an empty program): {plan / floor:.2f}x the floor")
    rows = [_median(["--one", str(entries)]) for entries in SIZES]
    rows.append(_median(["--floor", str(rows[-1]["resources"])]))
    print(f"median of {RUNS} runs each, in fresh interpreters")
    print(f"{'entries':>8}  {'resources':>9}  {'wall':>8}  {'fastest':>8}  {'peak RSS':>9}")
    for row in rows:
        print(
            f"{row['entries']:>8}  {row['resources']:>9}  {row['wall']:>7.2f}s  {row['min']:>7.2f}s  "
            f"{row['peakMiB']:>7.0f}MiB"
        )
    by_size = {row["entries"]: row["wall"] for row in rows}
    print(f"t(1000)/t(100) = {by_size[1000] / by_size[100]:.1f}")
    print(
        f"t(1000)/floor = {by_size[1000] / by_size['floor']:.2f} (floor: as many bare resources, "
        "the SDK's own cost under the same runner)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
