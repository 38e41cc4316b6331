"""The program's config: each key declared once (:mod:`.models`, with the checks of :mod:`.fields`), and the loader
that turns a stack's config into the domain of :mod:`oidc.model` (:mod:`.loader`). This is the only package that
reads config."""

from oidc.settings.loader import (
    KEYS,
    hidden_settings,
    load_settings,
    namespace_values,
    parse_config,
    raw_text,
    read_aws_region,
    read_pulumi_config,
    read_pulumiservice_config,
    read_secret_keys,
)
from oidc.settings.models import VCS_PROVIDERS

__all__ = [
    "KEYS",
    "VCS_PROVIDERS",
    "hidden_settings",
    "load_settings",
    "namespace_values",
    "parse_config",
    "raw_text",
    "read_aws_region",
    "read_pulumi_config",
    "read_pulumiservice_config",
    "read_secret_keys",
]
