"""Two roles for Pulumi Cloud in one stack: previews of every `infra` stack, and deployments of `infra/prod`.

- `prod` creates the account's OIDC provider for Pulumi Cloud, and a role that every operation of
  infra/prod may assume, with PowerUserAccess. It also declares infra/prod's deployment settings,
  which hand Pulumi Deployments that role.
- `previews` reuses that provider and adds a read-only role that previews of every infra stack may
  assume. IAM names a provider after its issuer, so `oidc_provider_arn()` knows its ARN before it
  exists; `lookup: False` skips reading it from AWS (it does not exist yet in the first preview), and
  `depends_on=[prod]` creates this role only once the provider its trust policy names exists.

Both components need their own name and role name, and only one may create the provider: IAM allows
one provider per issuer URL per account. The stack's deployment settings for the other infra stacks
(which role their previews use) are set elsewhere: a stack pattern trusts, but manages no settings.
"""

import sys
from pathlib import Path

import pulumi

# This example imports the repository's `oidc` package; a program of your own installs or vendors it.
REPOSITORY = str(Path(__file__).resolve().parents[2])
if REPOSITORY not in sys.path:
    sys.path.insert(0, REPOSITORY)

from oidc.package import PulumiCloudOidc, oidc_provider_arn  # noqa: E402

organization = pulumi.Config().require("organization")

prod = PulumiCloudOidc(
    "prod",
    {
        "organization": organization,
        "role": {
            "name": "pulumi-deploy-infra-prod",
            "policy_arns": ["arn:aws:iam::aws:policy/PowerUserAccess"],
        },
        "deployments": [
            {
                "project": "infra",
                "stack": "prod",
                "source": {"repo_url": "https://github.com/acme/infra.git", "branch": "main"},
            }
        ],
    },
)

previews = PulumiCloudOidc(
    "previews",
    {
        "organization": organization,
        "oidc_provider": {"arn": oidc_provider_arn(), "lookup": False},
        # No policy_arns: the role gets the partition's ReadOnlyAccess.
        "role": {"name": "pulumi-preview-infra"},
        "deployments": [{"project": "infra", "stack": "*", "operations": ["preview"]}],
    },
    opts=pulumi.ResourceOptions(depends_on=[prod]),
)

pulumi.export("oidcProviderArn", prod.oidc_provider_arn)
pulumi.export("deployRoleArn", prod.role_arn)
pulumi.export("previewRoleArn", previews.role_arn)
