"""Two roles for Pulumi Cloud in one stack: previews of every `infra` stack, and deployments of `infra/prod`.

One `PulumiCloudOidc` declares both roles (`roles`), in the account the stack's AWS provider
reaches, and the one OIDC provider for Pulumi Cloud they both trust (IAM allows one provider per
issuer URL per account, so the component creates it once and names it in both trust policies):

- `deploy`: a role that every operation of infra/prod may assume, with PowerUserAccess. Its entry
  also manages infra/prod's deployment settings, which hand Pulumi Deployments that role.
- `preview`: a read-only role that previews of every infra stack may assume. A stack pattern
  trusts, but manages no settings: which role the other infra stacks' previews use is set elsewhere.

Each role needs its own name in the account; the component checks that before anything is declared.
"""

import sys
from pathlib import Path

import pulumi

# This example imports the repository's `oidc` package; a program of your own installs or vendors it.
REPOSITORY = str(Path(__file__).resolve().parents[2])
if REPOSITORY not in sys.path:
    sys.path.insert(0, REPOSITORY)

from oidc.package import PulumiCloudOidc  # noqa: E402

organization = pulumi.Config().require("organization")

access = PulumiCloudOidc(
    "pulumi-cloud",
    {
        "organization": organization,
        "roles": {
            "deploy": {
                "name": "pulumi-deploy-infra-prod",
                "policy_arns": ["arn:aws:iam::aws:policy/PowerUserAccess"],
                "deployments": [
                    {
                        "project": "infra",
                        "stack": "prod",
                        "manage_settings": True,
                        "source": {"repo_url": "https://github.com/acme/infra.git", "branch": "main"},
                    }
                ],
            },
            "preview": {
                # No policy_arns: the role gets the partition's ReadOnlyAccess.
                "name": "pulumi-preview-infra",
                "deployments": [{"project": "infra", "stack": "*", "operations": ["preview"]}],
            },
        },
    },
)

pulumi.export("roles", access.roles)
pulumi.export("oidcProviders", access.oidc_providers)
pulumi.export("deploymentStacks", access.deployment_stack_roles)
