"""Pulumi program: an IAM OIDC provider and role for Pulumi Cloud, wired into Deployments and ESC."""

import pulumi

from oidc.component import PulumiCloudOidc
from oidc.settings import ConfigError, load_settings, read_pulumi_config

try:
    access = PulumiCloudOidc("pulumi-cloud", load_settings(read_pulumi_config()))
except ConfigError as error:
    raise pulumi.RunError(str(error)) from None

pulumi.export("roleArn", access.role_arn)
pulumi.export("roleName", access.role_name)
pulumi.export("oidcProviderArn", access.oidc_provider_arn)
pulumi.export("audiences", access.audiences)
pulumi.export("trustPolicy", access.trust_policy)
pulumi.export("deploymentStacks", access.deployment_stacks)
pulumi.export("environments", access.environments)
