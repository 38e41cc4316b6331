"""Command line: ``python -m oidc plan``, ``explain``, ``settings pull``, ``discover`` and ``doctor``.

The tools live here, apart from what a program declaring the component needs at run time.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from oidc import cloud
from oidc.cli.evaluate import EXIT_DENY, EXIT_INVALID, EXIT_OK, EXIT_USAGE
from oidc.cli.explain import TOKEN_VARIABLE, explain_command
from oidc.cli.plan import plan

__all__ = ["EXIT_DENY", "EXIT_INVALID", "EXIT_OK", "EXIT_USAGE", "main", "parser"]
"""The exit codes are the commands' interface: 0 done or allowed, 1 invalid or denied, 2 bad usage."""


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m oidc", description=__doc__.splitlines()[0] if __doc__ else None)
    commands = root.add_subparsers(dest="command", required=True)
    plan_parser = commands.add_parser(
        "plan", help="evaluate the program offline against Pulumi.yaml and Pulumi.<stack>.yaml"
    )
    explain_parser = commands.add_parser(
        "explain",
        help="would this token be let in by the stack's trust policy, and if not, why?",
        description=(
            "Decode an OIDC token without verifying it and evaluate it against the trust policy of the stack's "
            f"config. Exit 0 allow, 1 deny, 2 bad usage or input. Without --token or --aud/--sub, reads "
            f"${TOKEN_VARIABLE} (Pulumi Deployments also writes the token to /mnt/pulumi/pulumi.oidc)."
        ),
    )
    for sub in (plan_parser, explain_parser):
        sub.add_argument(
            "--stack",
            default="dev",
            metavar="[ORG/[PROJECT/]]NAME",
            help="the stack, named as Pulumi names it; its config is Pulumi.<NAME>.yaml (default: dev)",
        )
        sub.add_argument("--json", action="store_true", help="print one JSON document (errors too, on standard output)")
        sub.add_argument(
            "--strict",
            action="store_true",
            help="exit 1 on any warning of the stack's evaluation (notes, such as offline or not guarded, do not "
            "count)",
        )
        sub.add_argument(
            "--cwd", type=Path, default=Path.cwd(), help="project folder, or a folder below it (default: here)"
        )
    explain_parser.add_argument("--token", metavar="FILE", help="file holding the token, or - for standard input")
    explain_parser.add_argument("--aud", help="evaluate this audience instead of a token (with --sub)")
    explain_parser.add_argument("--sub", help="evaluate this subject instead of a token (with --aud)")
    explain_parser.add_argument("--iss", help="with --aud/--sub: the issuer (default: the configured one)")
    explain_parser.add_argument(
        "--role",
        metavar="KEY",
        help="evaluate only this role (default: the role the token's stack or environment uses, else every role)",
    )
    explain_parser.add_argument(
        "--verbose", action="store_true", help="with several roles: every role's statements, hints and nearest subject"
    )
    settings_parser = commands.add_parser("settings", help="a stack's deployment settings in Pulumi Cloud")
    settings_commands = settings_parser.add_subparsers(dest="settings_command", required=True)
    pull_parser = settings_commands.add_parser(
        "pull",
        help="print the deployments[] entry that keeps a stack's current settings",
        description=(
            "Read GET /api/stacks/ORG/PROJECT/STACK/deployments/settings with the token the pulumiservice provider "
            "would use (PULUMI_ACCESS_TOKEN, else the token the Pulumi CLI stored for that API; PULUMI_BACKEND_URL "
            "for another API) and print the deployments[] entry that keeps those settings. Exit 0 printed, 1 Pulumi "
            "Cloud failed, does not hold the stack, or no token was found, 2 bad usage."
        ),
    )
    pull_parser.add_argument("stack", metavar="ORG/PROJECT/STACK", help="the stack whose settings to keep")
    pull_parser.add_argument(
        "--at",
        default="deployments[0]",
        metavar="KEY_PATH",
        help="where the entry goes in the config, for the commands that set its secrets (default: deployments[0]; "
        "e.g. roles.deploy.deployments[3])",
    )
    pull_parser.add_argument(
        "--timeout",
        type=_timeout_option,
        metavar="SECONDS",
        help=f"the deadline of each request to Pulumi Cloud, retries and the whole answer included (default: "
        f"${cloud.TIMEOUT_VARIABLE}, else {cloud.DEFAULT_TIMEOUT_SECONDS:g})",
    )
    doctor_parser = commands.add_parser(
        "doctor",
        help="check the live AWS and Pulumi Cloud state against the stack's config (read-only)",
        description=(
            "Read each account's OIDC provider and roles (boto3, with the credentials each account's AWS provider "
            "would use), each managed stack's deployment settings and each created ESC environment (definition, "
            "and an open through ESC's open endpoint), and say where they differ from what the config renders, "
            "with what to do. Exit 0 every check holds, 1 findings, 2 bad usage or a config it cannot check."
        ),
    )
    doctor_parser.add_argument(
        "--stack",
        default="dev",
        metavar="[ORG/[PROJECT/]]NAME",
        help="the admin stack, named as Pulumi names it; its config is Pulumi.<NAME>.yaml (default: dev)",
    )
    doctor_parser.add_argument("--json", action="store_true", help="print one JSON document on standard output")
    doctor_parser.add_argument(
        "--cwd", type=Path, default=Path.cwd(), help="project folder, or a folder below it (default: here)"
    )
    doctor_parser.add_argument(
        "--timeout",
        type=_timeout_option,
        metavar="SECONDS",
        help=f"the deadline of each request to AWS, Pulumi Cloud and the issuer (default: "
        f"${cloud.TIMEOUT_VARIABLE}, else {cloud.DEFAULT_TIMEOUT_SECONDS:g})",
    )
    discover_parser = commands.add_parser(
        "discover",
        help="propose an admin stack file from the stacks, environments, accounts and roles that exist",
        description=(
            "Read the organization's stacks, ESC environments and deployment settings from Pulumi Cloud (the token as "
            "settings pull finds it), and from AWS (boto3's credentials) the issuer's IAM OIDC provider and the roles "
            "that trust it, in the credentials' account or every account of its AWS organization; print or write the "
            "admin stack file that keeps them, with the pulumi import commands that adopt them. Writes nothing to AWS "
            "or Pulumi Cloud. Exit 0 proposed, 1 a service failed or nothing to propose, 2 bad usage."
        ),
    )
    discover_parser.add_argument("--org", required=True, help="the Pulumi organization (its lowercase login)")
    discover_parser.add_argument(
        "--accounts-from-organizations",
        action="store_true",
        help="read every active account of the credentials' AWS organization (default: the credentials' account)",
    )
    discover_parser.add_argument(
        "--assume-role-name",
        default="OrganizationAccountAccessRole",
        metavar="NAME",
        help="the role assumed in each member account (default: OrganizationAccountAccessRole)",
    )
    discover_parser.add_argument(
        "--out", type=Path, metavar="Pulumi.<stack>.yaml", help="write the stack file here (default: print it)"
    )
    discover_parser.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    discover_parser.add_argument(
        "--timeout",
        type=_timeout_option,
        metavar="SECONDS",
        help=f"the deadline of each request (default: ${cloud.TIMEOUT_VARIABLE}, else "
        f"{cloud.DEFAULT_TIMEOUT_SECONDS:g})",
    )
    return root


def _timeout_option(text: str) -> cloud.Timeout:
    try:
        return cloud.parse_timeout(text, "--timeout")
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error).removeprefix("--timeout is ")) from None


def main(argv: Sequence[str] | None = None, stdin: TextIO | None = None) -> int:
    args = parser().parse_args(argv)
    # A failed Output makes asyncio log the same error again as "exception was never retrieved".
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    if args.command == "plan":
        return plan(args.stack, args.json, args.cwd, strict=args.strict)
    # The commands that read AWS or Pulumi Cloud are imported when run: `make plan` does not wait for boto3.
    if args.command == "doctor":
        from oidc.cli.doctor import doctor  # noqa: PLC0415

        return doctor(args.stack, args.json, args.cwd, args.timeout)
    if args.command == "discover":
        from oidc.cli.discover import discover_command  # noqa: PLC0415

        return discover_command(
            args.org,
            from_organizations=args.accounts_from_organizations,
            assume_role_name=args.assume_role_name,
            out=args.out,
            force=args.force,
            timeout=args.timeout,
            argv=list(argv) if argv is not None else sys.argv[1:],
        )
    if args.command == "settings":
        from oidc.cli.pull import settings_pull  # noqa: PLC0415

        return settings_pull(args.stack, args.at, args.timeout)
    return explain_command(args, stdin or sys.stdin)
