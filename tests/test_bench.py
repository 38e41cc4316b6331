"""The benchmark's config is a valid organization: ``make bench`` measures a stack that deploys."""

from __future__ import annotations

from bench import plan_bench
from oidc.cli import offline
from oidc.cli.evaluate import role_views
from oidc.settings import load_settings, parse_config
from tests.conftest import PROJECT_DIR


def test_the_benchmark_organization_has_the_entries_it_claims() -> None:
    config = offline.StackConfig("pulumi-aws-oidc", "bench", PROJECT_DIR, plan_bench.organization(100), ())
    settings = load_settings(parse_config(config.project_values))

    assert [role.key for role in settings.roles] == sorted(plan_bench.ROLES)
    assert sum(len(role.managed_stacks) for role in settings.roles) == 50
    assert sum(len(role.defined_environments) for role in settings.roles) == 50
    assert all(d.source is not None for role in settings.roles for d in role.managed_stacks)


def test_the_benchmark_organization_plans_with_its_patterns_covering_every_entry() -> None:
    config = offline.StackConfig("pulumi-aws-oidc", "bench", PROJECT_DIR, plan_bench.organization(100), ())
    recording = offline.run_stack(config, preview=True)

    for view in role_views(recording):
        statements = view.trust_policy.count('"Sid"')
        assert statements == 2, view.key  # one pattern statement for the stacks, one for the environments
