"""Pulumi program: IAM OIDC providers and roles for Pulumi Cloud, wired into Deployments and ESC."""

import pulumi

from oidc.cloud import CloudError
from oidc.components.organization import ProgramError, PulumiCloudOidc
from oidc.model import ConfigError
from oidc.settings import load_settings, read_aws_region, read_pulumi_config, read_secret_keys

try:
    settings = load_settings(read_pulumi_config(), aws_region=read_aws_region(), secret_keys=read_secret_keys())
    access = PulumiCloudOidc("pulumi-cloud", settings)
except ConfigError as error:
    raise ProgramError(error) from None
except CloudError as error:
    raise pulumi.RunError(str(error)) from None

for output, value in access.stack_outputs.items():
    pulumi.export(output, value)
