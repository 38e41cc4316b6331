"""Policy pack: run with `pulumi preview --policy-pack policy` or publish it to an organization."""

from pulumi_policy import EnforcementLevel, PolicyPack

from policies import POLICIES

PolicyPack(
    name="pulumi-cloud-oidc",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=POLICIES,
)
