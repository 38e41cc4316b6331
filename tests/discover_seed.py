"""An organization to discover: three AWS accounts in moto (an AWS organization, OUs, OIDC providers, roles) and
its Pulumi Cloud (stacks, ESC environments, deployment settings) on the local server of ``tests/cloud_server.py``.

- the management account (moto's ``123456789012``, the credentials' own): a provider with an extra client ID
  (``sts.amazonaws.com``), the role ``pulumi-esc`` trusting the ESC environments ``aws/dev`` and ``default/legacy``,
  and a role that trusts something else;
- ``Prod`` (OU ``workloads/prod``): a provider, the role ``pulumi-deploy`` (a policy of its own, 2h, tagged) trusting
  ``infra/prod`` (every operation), ``apps/prod`` (preview and update) and the pattern ``infra/prod-*``;
  the settings of ``infra/prod`` and ``apps/prod`` name it;
- ``Dev`` (OU ``workloads``): a provider, the role ``pulumi-dev`` that the settings of ``dev_stacks`` stacks
  ``apps/dev-<n>`` name, too many for one trust policy of 2,048 characters without a pattern.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import boto3  # type: ignore[import-untyped]

from tests.cloud_server import FakeCloud

ORG = "acme"
ISSUER = "https://api.pulumi.com/oidc"
ISSUER_HOST = "api.pulumi.com/oidc"
THUMBPRINT = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"


@dataclass(frozen=True)
class Seeded:
    management: str
    prod: str
    dev: str


def _statement(provider_arn: str, audience: str, subjects: list[str], like: bool = False) -> dict[str, Any]:
    operator = "StringLike" if like else "StringEquals"
    condition: dict[str, Any] = {"StringEquals": {f"{ISSUER_HOST}:aud": audience}}
    condition.setdefault(operator, {})[f"{ISSUER_HOST}:sub"] = subjects if len(subjects) > 1 else subjects[0]
    return {
        "Effect": "Allow",
        "Principal": {"Federated": provider_arn},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": condition,
    }


def _deploy(project: str, stack: str, operation: str = "*") -> str:
    return f"pulumi:deploy:org:{ORG}:project:{project}:stack:{stack}:operation:{operation}:scope:write"


def _member(account_id: str) -> Any:
    granted = boto3.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole", RoleSessionName="seed"
    )["Credentials"]
    return boto3.Session(
        aws_access_key_id=granted["AccessKeyId"],
        aws_secret_access_key=granted["SecretAccessKey"],
        aws_session_token=granted["SessionToken"],
        region_name="us-east-1",
    )


def _provider(iam: Any, client_ids: list[str]) -> str:
    created = iam.create_open_id_connect_provider(
        Url=f"https://{ISSUER_HOST}", ClientIDList=client_ids, ThumbprintList=[THUMBPRINT]
    )
    return str(created["OpenIDConnectProviderArn"])


def _policy(iam: Any, name: str) -> str:
    """A customer managed policy (moto's server holds no AWS managed ones)."""
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:List*", "Resource": "*"}]}
    return str(iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(document))["Policy"]["Arn"])


def _role(iam: Any, name: str, statements: list[dict[str, Any]], **extra: Any) -> str:
    document = {"Version": "2012-10-17", "Statement": statements}
    return str(iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(document), **extra)["Role"]["Arn"])


def seed_aws(dev_stacks: int = 40) -> Seeded:
    """The three accounts, in the AWS organization of the credentials' account."""
    organizations = boto3.client("organizations")
    organizations.create_organization(FeatureSet="ALL")
    root = organizations.list_roots()["Roots"][0]["Id"]
    workloads = organizations.create_organizational_unit(ParentId=root, Name="workloads")["OrganizationalUnit"]["Id"]
    prod_unit = organizations.create_organizational_unit(ParentId=workloads, Name="prod")["OrganizationalUnit"]["Id"]
    ids = {}
    for name, unit in (("Prod", prod_unit), ("Dev", workloads)):
        created = organizations.create_account(Email=f"{name.lower()}@example.com", AccountName=name)
        account = organizations.describe_create_account_status(
            CreateAccountRequestId=created["CreateAccountStatus"]["Id"]
        )["CreateAccountStatus"]["AccountId"]
        organizations.move_account(AccountId=account, SourceParentId=root, DestinationParentId=unit)
        ids[name] = account
    management = boto3.client("sts").get_caller_identity()["Account"]

    iam = boto3.client("iam")
    arn = _provider(iam, [ORG, f"aws:{ORG}", "sts.amazonaws.com"])
    esc = [
        f"pulumi:environments:pulumi.organization.login:{ORG}:currentEnvironment.name:aws/dev",
    ]
    _role(
        iam,
        "pulumi-esc",
        [
            _statement(arn, f"aws:{ORG}", esc),
            _statement(
                arn, ORG, [f"pulumi:environments:pulumi.organization.login:{ORG}:currentEnvironment.name:legacy"]
            ),
        ],
        Description="ESC credentials",
    )
    iam.attach_role_policy(RoleName="pulumi-esc", PolicyArn=_policy(iam, "esc-read"))
    _role(
        iam,
        "ci-runner",
        [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    )

    prod_iam = _member(ids["Prod"]).client("iam")
    prod_arn = _provider(prod_iam, [ORG])
    _role(
        prod_iam,
        "pulumi-deploy",
        [
            _statement(
                prod_arn,
                ORG,
                [_deploy("infra", "prod"), _deploy("apps", "prod", "preview"), _deploy("apps", "prod", "update")],
            ),
            _statement(prod_arn, ORG, [_deploy("infra", "prod-*")], like=True),
        ],
        MaxSessionDuration=7200,
        Tags=[{"Key": "team", "Value": "platform"}],
    )
    prod_iam.attach_role_policy(RoleName="pulumi-deploy", PolicyArn=_policy(prod_iam, "deploy"))

    dev_iam = _member(ids["Dev"]).client("iam")
    dev_arn = _provider(dev_iam, [ORG, f"aws:{ORG}"])
    _role(
        dev_iam,
        "pulumi-dev",
        [_statement(dev_arn, ORG, [_deploy("apps", f"dev-{n}") for n in range(min(dev_stacks, 5))])],
        Path="/pulumi/",
    )
    dev_iam.attach_role_policy(RoleName="pulumi-dev", PolicyArn=_policy(dev_iam, "dev/deploy"))
    return Seeded(management, ids["Prod"], ids["Dev"])


def _settings(role_arn: str, **extra: Any) -> dict[str, Any]:
    aws = {"roleArn": role_arn, **{k: v for k, v in extra.items() if k in {"sessionName", "duration", "policyArns"}}}
    body: dict[str, Any] = {
        "version": 3,
        "source": "console",
        "operationContext": {"oidc": {"aws": aws}},
        "executorContext": {"executorImage": {"reference": "pulumi/pulumi:latest", "isDefault": True}},
    }
    body.update({k: v for k, v in extra.items() if k not in aws})
    return body


def seed_cloud(
    fake: FakeCloud, seeded: Seeded, dev_stacks: int = 40, other_stacks: int = 0, page_size: int = 25
) -> None:
    """The organization's stacks, environments and settings, naming the seeded roles."""
    deploy = f"arn:aws:iam::{seeded.prod}:role/pulumi-deploy"
    dev = f"arn:aws:iam::{seeded.dev}:role/pulumi/pulumi-dev"
    stacks = [("infra", "prod"), ("apps", "prod"), ("infra", "staging"), ("infra", "prod-eu")]
    stacks += [("apps", f"dev-{n}") for n in range(dev_stacks)]
    stacks += [("misc", f"s{n}") for n in range(other_stacks)]
    fake.stacks(ORG, stacks, page_size=page_size)
    fake.stacks("other-org", [("infra", "prod")], page_size=page_size)
    fake.environments(
        ORG, [("aws", "dev"), ("default", "legacy"), ("aws", "prod")], page_size=2, deleted=[("aws", "old")]
    )
    for project, stack in stacks:
        fake.stack(ORG, project, stack)
    fake.settings(
        ORG,
        "infra",
        "prod",
        _settings(
            deploy,
            sessionName="deploy-infra",
            duration="2h0m0s",
            gitHub={"repository": "acme/infra", "deployCommits": True, "previewPullRequests": True},
            sourceContext={"git": {"branch": "refs/heads/main", "repoDir": "infra"}},
            operationContext={
                "oidc": {"aws": {"roleArn": deploy, "sessionName": "deploy-infra", "duration": "2h0m0s"}},
                "environmentVariables": {"STAGE": "prod", "TOKEN": {"ciphertext": "AAAA"}},
            },
        ),
    )
    fake.settings(ORG, "apps", "prod", _settings(deploy, duration="1h0m0s"))
    for n in range(dev_stacks):
        fake.settings(ORG, "apps", f"dev-{n}", _settings(dev, duration="1h0m0s"))
