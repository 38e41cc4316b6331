"""The config keys, each declared once: its type (with the check and the words of its error), default, description.

These models are the program's interface. The loader (:mod:`oidc.settings.loader`) validates config with them and
builds the domain types of :mod:`oidc.model`; ``make docs`` (:mod:`oidc.cli.docs`) generates from them the config
reference, the declarations of ``Pulumi.yaml`` and the package's argument types; a test runs each key's ``example``
and checks that it reaches the resource its ``to`` names (:func:`key`). A field's alias is its config key
(camelCase), its name the package's argument (snake_case).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticUndefined

from oidc import claims
from oidc.durations import MAX_SESSION_SECONDS, MIN_ROLE_MAX_SECONDS, MIN_SESSION_SECONDS, format_duration
from oidc.model import (
    DEFAULT_DURATION,
    DEFAULT_ESC_SESSION_NAME,
    DEFAULT_TRUST_POLICY_MAX_CHARS,
    MAX_ROLE_POLICIES,
    MAX_SESSION_POLICIES,
    MAX_THUMBPRINTS,
    MAX_TRUST_POLICY_CHARS,
)
from oidc.settings import fields as f

VCS_PROVIDERS = ("github", "gitlab", "bitbucket", "azure_devops", "custom")
"""The ``vcs.provider`` values the pulumiservice provider maps to the service's VCS kinds."""


ROLE = "aws:iam/role:Role"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
OIDC_PROVIDER = "aws:iam/openIdConnectProvider:OpenIdConnectProvider"
AWS_PROVIDER = "pulumi:providers:aws"
CLIENT_ID = "pulumi-python:dynamic/iam:OpenIdConnectProviderClientId"
SETTINGS = "pulumiservice:index:DeploymentSettings"
ENVIRONMENT = "pulumiservice:index:Environment"
TEAM_PERMISSION = "pulumiservice:index:TeamEnvironmentPermission"
ENVIRONMENT_SETTINGS = "pulumiservice:api/esc:EnvironmentSettings"
GATE = "pulumiservice:api:Gate"
CHECK = "check"
"""A key no resource takes: the checks read it (a quota, the guard's leave to replace)."""
WARNING = "warning"
"""A key the resource cannot take: the program declares it and warns."""
_UNSET = object()


def key(
    description: str,
    default: Any = PydanticUndefined,
    *,
    shown: str | None = None,
    type: str | None = None,
    missing: str | None = None,
    to: str | None = None,
    example: Any = _UNSET,
    also: dict[str, Any] | None = None,
    secret: Literal["always", "key"] | None = None,
    factory: Any = None,
) -> Any:
    """A key: its description, default and metadata.

    ``shown``: the default as the reference shows it, when it is a phrase; ``type``: the type as the reference shows
    it, when the Python type says too little; ``missing``: what a missing required key is told. ``to``: the resource
    type whose inputs the value reaches (or :data:`CHECK`, :data:`WARNING`), and ``example``: a valid value other
    than the default (with ``also``: the other keys of its object it needs, ``None`` to leave one out), with which a
    test proves that the value reaches it. ``secret``: ``always`` for a credential (sent as a secret, from secure
    config only), ``key`` for a value sent as a secret when its config key is secret (a user name, environment
    variables).
    """
    pairs = (("shown", shown), ("type", type), ("missing", missing), ("to", to), ("secret", secret))
    extra: dict[str, Any] = {name: value for name, value in pairs if value}
    if example is not _UNSET:
        extra["example"] = example
    if also:
        extra["also"] = also
    if factory is not None:
        return Field(default_factory=factory, description=description, json_schema_extra=extra)
    return Field(default=default, description=description, json_schema_extra=extra)


class Keys(BaseModel):
    """An object of config keys: camelCase, each once, no other."""

    model_config = ConfigDict(extra="forbid", frozen=True, alias_generator=to_camel, strict=False)


_SERVICE = "the service's"
_RESOURCE_TRUE = "true, the resource's default"
_RESOURCE_FALSE = "false, the resource's default"
_CREDENTIAL = "from secure config only: `pulumi config set --secret --path '<key path>' <value>`"
_SESSION_DURATION = (
    f"session duration, {format_duration(MIN_SESSION_SECONDS)} to {format_duration(MAX_SESSION_SECONDS)}, and no "
    "longer than the role's `maxSessionDuration`"
)
_SESSION_POLICIES = f"session policies (at most {MAX_SESSION_POLICIES})"

Arn = Annotated[str, BeforeValidator(f.policy_arn)]
NonEmpty = Annotated[str, BeforeValidator(f.text(None, "expected a non-empty string"))]


# --- the OIDC provider --------------------------------------------------------------------------------


ProviderArn = Annotated[
    str,
    BeforeValidator(
        f.text(f.PROVIDER_ARN, "expected an IAM OIDC provider ARN: arn:aws:iam::<account-id>:oidc-provider/<host/path>")
    ),
]


class OidcProvider(Keys):
    """The issuer's IAM OIDC provider: created by the component, or an existing one reused by its ARN."""

    arn: ProviderArn | None = key(
        "an existing provider to reuse instead of creating one (IAM holds one per issuer and account)",
        None,
        type="ARN",
        shown="none",
        to=OIDC_PROVIDER,
        example="arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/oidc",
    )
    thumbprints: f.Thumbprints = key(
        "`auto`: SHA-1 of the issuer's top intermediate CA, from pulumi-tls; a list of up to "
        f"{MAX_THUMBPRINTS} hex SHA-1 values; `[]` for none (AWS then relies on its own trusted CAs)",
        "auto",
        type='`"auto"` or list',
        shown='`"auto"`',
        to=OIDC_PROVIDER,
        example=["0123456789abcdef0123456789abcdef01234567"],
    )
    audiences: f.Audiences = key(
        "extra client IDs (e.g. other organizations) besides `<org>` and `aws:<org>` (in form B: besides the "
        "audiences the account's roles need)",
        factory=list,
        type="list of strings",
        to=OIDC_PROVIDER,
        example=["sts.amazonaws.com"],
    )
    protect: f.Bool = key(
        "protect the created provider from `pulumi destroy`, as the whole account may rely on it",
        True,
        to=OIDC_PROVIDER,
        example=False,
    )
    add_audiences: f.Bool = key(
        "with `arn`: one resource per audience the roles need, which claims it for this stack with a tag on the "
        "provider and adds it if the provider lacks it; `pulumi destroy` removes a client ID only when no other "
        "admin stack claims it and a stack of this program added it. `false`: a missing audience stops the run "
        "with the command that adds it",
        False,
        to=CLIENT_ID,
        example=True,
        also={"arn": "arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/oidc"},
    )


# --- a role's own keys -----------------------------------------------------------------------------------


RoleName = Annotated[
    str, BeforeValidator(f.text(f.ROLE_NAME, "expected an IAM role name: 1 to 64 of letters, digits and _+=,.@-"))
]
RolePath = Annotated[
    str, BeforeValidator(f.text(f.ROLE_PATH, "expected an IAM path: '/' or '/segment/.../' of printable ASCII", 512))
]
RoleDescription = Annotated[str, BeforeValidator(f.text(f.DESCRIPTION, "expected text of Latin-1 characters", 1000))]


class RoleKeys(Keys):
    """The IAM role Pulumi Cloud assumes."""

    name: RoleName | None = key(
        "IAM role name (1-64 of letters, digits and `_+=,.@-`)",
        None,
        shown="auto-named",
        to=ROLE,
        example="pulumi-example",
    )
    path: RolePath = key("IAM path", "/", to=ROLE, example="/ci/")
    description: RoleDescription | None = key(
        "role description",
        None,
        shown="`Assumed by Pulumi Cloud for <org> through OIDC`",
        to=ROLE,
        example="an example role",
    )
    policy_arns: (
        Annotated[list[str], BeforeValidator(f.items(f.policy_arn, MAX_ROLE_POLICIES, "policy ARNs"))] | None
    ) = key(
        f"managed policies attached to the role: at most {MAX_ROLE_POLICIES}, and AWS's default quota is 10 per "
        'role (raise "Managed policies per role" in Service Quotas for more)',
        None,
        shown="`[arn:<partition>:iam::aws:policy/ReadOnlyAccess]`",
        type="list of ARNs",
        to=ATTACHMENT,
        example=["arn:aws:iam::aws:policy/SecurityAudit"],
    )
    permissions_boundary: Arn | None = key(
        "ARN of the role's permissions boundary",
        None,
        type="ARN",
        shown="none",
        to=ROLE,
        example="arn:aws:iam::aws:policy/PowerUserAccess",
    )
    max_session_duration: f.RoleMaxSession = key(
        f"the role's maximum session, {format_duration(MIN_ROLE_MAX_SECONDS)} to "
        f"{format_duration(MAX_SESSION_SECONDS)}; the `duration` of each of its entries must fit in it",
        3600,
        type="duration",
        shown=f"`{DEFAULT_DURATION}`",
        to=ROLE,
        example="2h",
    )
    tags: f.Tags = key("role tags", factory=dict, type="map", to=ROLE, example={"team": "platform"})


# --- deployment settings ----------------------------------------------------------------------------------


class CacheOptions(Keys):
    """Dependency caching of a stack's deployments."""

    enable: f.Bool = key("cache dependencies", to=SETTINGS, example=True)


class ExecutorCredentials(Keys):
    """Registry credentials."""

    username: NonEmpty = key(
        "registry user (secret when set with `--secret`)", secret="key", to=SETTINGS, example="bot"
    )
    password: f.Credential = key(_CREDENTIAL, secret="always", to=SETTINGS, example="example-password")


class ExecutorContext(Keys):
    """The image a stack's deployments run in."""

    executor_image: NonEmpty = key(
        "image reference, e.g. `pulumi/pulumi:latest`", to=SETTINGS, example="pulumi/pulumi:latest"
    )
    credentials: ExecutorCredentials | None = key("registry credentials for the image", None, shown="none")


class GithubSettings(Keys):
    """A stack's GitHub integration."""

    repository: NonEmpty | None = key("`owner/repo`", None, shown=_SERVICE, to=SETTINGS, example="acme/infra")
    deploy_commits: f.Bool | None = key(
        "run `pulumi up` on each push to the branch", None, shown=_RESOURCE_TRUE, to=SETTINGS, example=False
    )
    preview_pull_requests: f.Bool | None = key(
        "run `pulumi preview` on pull requests", None, shown=_RESOURCE_TRUE, to=SETTINGS, example=False
    )
    pull_request_template: f.Bool | None = key(
        "use the pull-request template for review stacks", None, shown=_RESOURCE_FALSE, to=SETTINGS, example=True
    )
    paths: f.Strings | None = key(
        "paths whose changes trigger deployments",
        None,
        shown=_SERVICE,
        type="list of strings",
        to=SETTINGS,
        example=["infra/**"],
    )


class VcsSettings(Keys):
    """A stack's VCS integration."""

    provider: Annotated[str, BeforeValidator(f.choice(VCS_PROVIDERS))] = key(
        "one of " + ", ".join(f"`{p}`" for p in VCS_PROVIDERS), to=SETTINGS, example="gitlab"
    )
    repository: NonEmpty | None = key(
        "the repository, as the provider names it", None, shown=_SERVICE, to=SETTINGS, example="acme/infra"
    )
    deploy_commits: f.Bool | None = key(
        "run `pulumi up` on each push to the branch", None, shown=_RESOURCE_TRUE, to=SETTINGS, example=False
    )
    preview_pull_requests: f.Bool | None = key(
        "run `pulumi preview` on pull requests", None, shown=_RESOURCE_TRUE, to=SETTINGS, example=False
    )
    pull_request_template: f.Bool | None = key(
        "use the pull-request template for review stacks", None, shown=_RESOURCE_FALSE, to=SETTINGS, example=True
    )
    paths: f.Strings | None = key(
        "paths whose changes trigger deployments",
        None,
        shown=_SERVICE,
        type="list of strings",
        to=SETTINGS,
        example=["infra/**"],
    )
    installation_id: NonEmpty | None = key(
        "the integration, where the organization has several", None, shown=_SERVICE, to=SETTINGS, example="42"
    )
    deploy_pull_request: f.WholeNumber | None = key(
        "deploy this pull request", None, shown=_SERVICE, type="int", to=SETTINGS, example=7
    )


class OperationOptions(Keys):
    """Options of a deployment."""

    delete_after_destroy: f.Bool | None = key(
        "delete the stack after `pulumi destroy`", None, shown=_SERVICE, to=SETTINGS, example=True
    )
    shell: NonEmpty | None = key(
        'never sent: the provider reads it under the key `Shell` (docs/adopting.md, "What cannot be kept")',
        None,
        shown=_SERVICE,
        to=WARNING,
        example="/bin/zsh",
    )
    skip_install_dependencies: f.Bool | None = key(
        "skip installing the program's dependencies", None, shown=_SERVICE, to=SETTINGS, example=True
    )
    skip_intermediate_deployments: f.Bool | None = key(
        "skip queued deployments but the newest", None, shown=_SERVICE, to=SETTINGS, example=True
    )


class OperationContext(Keys):
    """What a stack's deployments run with."""

    environment_variables: f.Variables | None = key(
        "variables of the deployment; all secret when the config key holding them is (any value set with `pulumi "
        "config set --secret --path`)",
        None,
        shown=_SERVICE,
        type="map",
        secret="key",
        to=SETTINGS,
        example={"LOG_LEVEL": "debug"},
    )
    options: OperationOptions | None = key("options of the operation", None, shown=_SERVICE)
    pre_run_commands: f.Strings | None = key(
        "commands run before Pulumi", None, shown=_SERVICE, type="list of strings", to=SETTINGS, example=["make deps"]
    )


class BasicAuth(Keys):
    """A user name and password."""

    username: NonEmpty = key("user (secret when set with `--secret`)", secret="key", to=SETTINGS, example="bot")
    password: f.Credential = key(_CREDENTIAL, secret="always", to=SETTINGS, example="example-password")


class SshAuth(Keys):
    """An SSH private key."""

    ssh_private_key: f.Credential = key(_CREDENTIAL, secret="always", to=SETTINGS, example="example-key")
    password: f.Credential | None = key(
        "passphrase of the key, from secure config as the key is",
        None,
        shown="none",
        secret="always",
        to=SETTINGS,
        example="example-passphrase",
    )


class GitAuth(Keys):
    """Credentials for a git repository."""

    basic_auth: BasicAuth | None = key("user name and password", None, shown="none")
    ssh_auth: SshAuth | None = key("SSH private key", None, shown="none")


class GitSourceContext(Keys):
    """A git source, in full."""

    model_config = ConfigDict(json_schema_extra={"example": {"branch": "main"}})

    repo_url: NonEmpty | None = key(
        "URL of the repository (not with a `github` integration)",
        None,
        shown="none",
        to=SETTINGS,
        example="https://github.com/acme/infra.git",
    )
    branch: NonEmpty | None = key(
        "branch to deploy; exactly one of `branch` and `commit`", None, shown="none", to=SETTINGS, example="develop"
    )
    commit: NonEmpty | None = key(
        "commit to deploy", None, shown="none", to=SETTINGS, example="0a1b2c3", also={"branch": None}
    )
    repo_dir: NonEmpty | None = key(
        "the project's folder in the repository", None, shown="the repository's root", to=SETTINGS, example="infra"
    )
    git_auth: GitAuth | None = key("credentials for the repository: one of its keys", None, shown="none")


class SourceContext(Keys):
    """Where a stack's program comes from."""

    git: GitSourceContext = key("the git source")


class StackSettings(Keys):
    """The other inputs of a stack's deployment settings."""

    agent_pool_id: NonEmpty | None = key(
        "ID of the agent pool that runs the stack's deployments", None, shown=_SERVICE, to=SETTINGS, example="pool-1"
    )
    cache_options: CacheOptions | None = key("dependency caching", None, shown=_SERVICE)
    executor_context: ExecutorContext | None = key("the image the deployments run in", None, shown=_SERVICE)
    github: GithubSettings | None = key(
        "the GitHub integration (push-to-deploy, pull-request previews)", None, shown=_SERVICE
    )
    vcs: VcsSettings | None = key(
        "a VCS integration: the newer form of `github`, for any provider", None, shown=_SERVICE
    )
    operation_context: OperationContext | None = key(
        "environment variables, options and pre-run commands (its `oidc` is this program's own)", None, shown=_SERVICE
    )
    source_context: SourceContext | None = key("the git source, in full (instead of `source`)", None, shown=_SERVICE)


SourceRepoUrl = Annotated[str, BeforeValidator(f.text(None, "expected the git repository URL"))]
SourceBranch = Annotated[str, BeforeValidator(f.text(None, "expected the branch to deploy, e.g. main"))]
SourceRepoDir = Annotated[str, BeforeValidator(f.text(None, "expected the project's folder in the repository"))]


class GitSource(Keys):
    """The git source of a stack's deployment settings."""

    repo_url: SourceRepoUrl = key("URL of the git repository", to=SETTINGS, example="https://github.com/acme/other.git")
    branch: SourceBranch = key("branch to deploy, e.g. `main`", to=SETTINGS, example="develop")
    repo_dir: SourceRepoDir | None = key(
        "the project's folder in the repository", None, shown="the repository's root", to=SETTINGS, example="infra"
    )


# --- entries ----------------------------------------------------------------------------------------------

_NAME_ALLOWED = "expected a Pulumi name of letters, digits, '-', '_' and '.', or a pattern with * and ?"


ProjectName = Annotated[str, BeforeValidator(f.text(f.PROJECT_OR_STACK, _NAME_ALLOWED))]
StackName = Annotated[str, BeforeValidator(f.text(f.PROJECT_OR_STACK, _NAME_ALLOWED))]


class Deployment(Keys):
    """A Pulumi Deployments stack, or a pattern of stacks, that the role trusts."""

    project: ProjectName = key(
        "project name; `*`/`?` patterns allowed (they trust, but manage no settings)", to=SETTINGS, example="apps"
    )
    stack: StackName = key("stack name; patterns allowed as for `project`", to=SETTINGS, example="staging")
    operations: f.Operations | None = key(
        "any of " + ", ".join(f"`{operation}`" for operation in claims.OPERATIONS),
        None,
        shown="all, as one pattern",
        type="list of strings",
        to=ROLE,
        example=["preview"],
    )
    manage_settings: f.Bool | None = key(
        "declare the stack's `DeploymentSettings`; `false` only trusts it",
        None,
        shown="`true` for a concrete stack",
        to=SETTINGS,
        example=False,
    )
    session_name: f.SessionName | None = key(
        "STS session name (2-64 of letters, digits and `_+=,.@-`; `${...}` placeholders allowed)",
        None,
        shown="`pulumi-deploy-<project>-<stack>`",
        to=SETTINGS,
        example="deploy-example",
    )
    duration: f.Duration = key(_SESSION_DURATION, DEFAULT_DURATION, type="duration", to=SETTINGS, example="30m")
    policy_arns: f.SessionPolicies = key(
        _SESSION_POLICIES,
        factory=list,
        type="list of ARNs",
        to=SETTINGS,
        example=["arn:aws:iam::aws:policy/ReadOnlyAccess"],
    )
    source: GitSource | None = key(
        "the git source of the stack's `DeploymentSettings`: the short form of `settings.sourceContext.git`",
        None,
        shown="none",
    )
    settings: StackSettings = key(
        "every other input of the stack's `DeploymentSettings`, named as the resource names them; `python -m oidc "
        "settings pull` prints what keeps a stack's current settings",
        factory=StackSettings,
        shown="`{}`",
    )
    replace_settings: f.Bool = key(
        "write the settings even where that erases what the stack has now and the entry does not declare",
        False,
        to=CHECK,
        example=True,
    )


EscProject = Annotated[
    str,
    BeforeValidator(
        f.text(
            f.ESC_PROJECT,
            "expected an ESC project name of letters, digits, '-', '_' and '.' (no pattern: the project decides the "
            "token's audience)",
        )
    ),
]
EscName = Annotated[
    str,
    BeforeValidator(
        f.text(
            f.ESC_NAME,
            "expected an ESC environment name of letters, digits, '-', '_' and '.', or a pattern with * and ?",
        )
    ),
]


_TEAMS = (
    "who may open the environment, and so get the role's credentials: team name (not display name) to `none`, "
    "`read` (the definition only), `open`, `write` or `admin`, or to `{permission, maxOpenDuration}`; one "
    "`TeamEnvironmentPermission` each. Team permissions need Pulumi Enterprise or Business Critical "
    "([who can get the credentials](access.md))"
)


class Approvers(Keys):
    """Who may approve a gated action: any of these."""

    teams: f.TeamNames = key(
        "members of these teams", factory=list, type="list of strings", to=GATE, example=["platform"]
    )
    users: f.UserLogins = key("these users, by login", factory=list, type="list of strings", to=GATE, example=["alice"])
    permissions: f.ApproverPermissions = key(
        "whoever holds one of these permissions on the environment ("
        + ", ".join(f"`{p}`" for p in f.APPROVER_PERMISSIONS)
        + "); when no approver is given at all: `environment:write`",
        factory=list,
        type="list of strings",
        to=GATE,
        example=["environment:open"],
    )


class Approval(Keys):
    """An ``approval_required`` change gate: how many approvals, and from whom."""

    num_approvals_required: f.WholeNumber = key(
        "approvals needed before the action proceeds", 1, type="int", to=GATE, example=2
    )
    eligible_approvers: Approvers = key(
        "who may approve", factory=Approvers, shown="whoever holds `environment:write` on the environment"
    )
    allow_self_approval: f.Bool = key(
        "the author of the change may approve it (when eligible)", False, to=GATE, example=True
    )
    require_reapproval_on_change: f.Bool = key(
        "a change to a request withdraws its approvals", True, to=GATE, example=False
    )


class Approvals(Keys):
    """Change gates on a created environment, one per action (Pulumi Cloud gates one action each)."""

    update: Approval | None = key(
        "changes to the environment (its definition, including this stack's own writes) need approval",
        None,
        shown="none",
    )
    open: Approval | None = key(
        "opening the environment (and so getting the credentials) needs approval; a deployment or stack that "
        "opens it without an approved grant fails",
        None,
        shown="none",
    )


class Environment(Keys):
    """A Pulumi ESC environment, or a pattern of environments, that the role trusts."""

    project: EscProject = key("ESC project (no pattern: it decides the audience)", to=ENVIRONMENT, example="platform")
    name: EscName = key(
        "environment name (letters, digits, `-`, `_`, `.`); a `*`/`?` pattern trusts matching environments that "
        "set `subjectAttributes: [currentEnvironment.name]` themselves, and creates none",
        to=ENVIRONMENT,
        example="staging",
    )
    session_name: f.SessionName = key(
        "STS session name", DEFAULT_ESC_SESSION_NAME, to=ENVIRONMENT, example="esc-example"
    )
    duration: f.Duration = key(_SESSION_DURATION, DEFAULT_DURATION, type="duration", to=ENVIRONMENT, example="30m")
    policy_arns: f.SessionPolicies = key(
        _SESSION_POLICIES,
        factory=list,
        type="list of ARNs",
        to=ENVIRONMENT,
        example=["arn:aws:iam::aws:policy/ReadOnlyAccess"],
    )
    region: f.Region | None = key(
        "adds `AWS_REGION` and `pulumiConfig: aws:region` to the environment",
        None,
        shown="none",
        to=ENVIRONMENT,
        example="us-east-1",
    )
    teams: f.Teams = key(
        _TEAMS + "; only for an environment this stack creates",
        factory=dict,
        type="map",
        shown="`{}`: the organization's default environment permission decides",
        to=TEAM_PERMISSION,
        example={"platform": "open"},
    )
    deletion_protected: f.Bool = key(
        "Pulumi Cloud refuses to delete the environment until this is false (one `api.esc.EnvironmentSettings`; "
        "set false and `pulumi up` before removing the environment); only for an environment this stack creates",
        True,
        to=ENVIRONMENT_SETTINGS,
        example=False,
    )
    approvals: Approvals | None = key(
        "change gates (`api.Gate`) on the created environment: `update` and `open`, each with the keys below; "
        "needs Pulumi Enterprise or Business Critical",
        None,
        shown="none",
    )


# --- accounts and roles -----------------------------------------------------------------------------------


AssumedRoleArn = Annotated[
    str,
    BeforeValidator(
        f.text(
            f.ROLE_ARN,
            "expected the ARN of the role to assume, e.g. arn:aws:iam::123456789012:role/OrganizationAccountAccessRole",
        )
    ),
]
AdminSessionName = Annotated[
    str,
    BeforeValidator(
        f.text(
            f.ADMIN_SESSION_NAME,
            "expected an STS role session name: 2 to 64 of letters, digits and _+=,.@- (the admin stack's own session: "
            "no Pulumi placeholders)",
        )
    ),
]
ExternalId = Annotated[
    str, BeforeValidator(f.text(f.EXTERNAL_ID, "expected an external ID: 2 to 1224 of letters, digits and _+=,.@:/-"))
]


class AssumeRole(Keys):
    """The role the admin stack's AWS provider assumes to reach an account."""

    role_arn: AssumedRoleArn = key(
        "the role to assume, e.g. `arn:aws:iam::<id>:role/OrganizationAccountAccessRole`",
        type="ARN",
        to=AWS_PROVIDER,
        example="arn:aws:iam::222222222222:role/Admin",
    )
    session_name: AdminSessionName | None = key(
        "STS session name of the stack's own session (2-64 of letters, digits and `_+=,.@-`)",
        None,
        shown="none",
        to=AWS_PROVIDER,
        example="admin-session",
    )
    external_id: ExternalId | None = key(
        "the external ID the role's trust policy asks for (2-1224 of letters, digits and `_+=,.@:/-`)",
        None,
        shown="none",
        to=AWS_PROVIDER,
        example="example-external-id",
    )


def account_id(value: Any) -> str:
    """An account ID; an unquoted one, which YAML reads as a number that drops leading zeros, is told how to quote."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**12:
        raise f.invalid(
            "expected a 12-digit AWS account ID as text: YAML reads an unquoted one as a number, dropping any "
            f'leading zero; write it in quotes, "{value:012d}"'
        )
    return f.text(f.ACCOUNT_ID, "expected a 12-digit AWS account ID")(value)


_QUOTA = f'the account\'s IAM quota "Role trust policy length" (adjustable up to {MAX_TRUST_POLICY_CHARS})'


def max_chars(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_TRUST_POLICY_CHARS:
        raise f.invalid(
            f"expected a whole number up to {MAX_TRUST_POLICY_CHARS}: the account's IAM quota 'Role trust policy "
            f"length' (default {DEFAULT_TRUST_POLICY_MAX_CHARS})"
        )
    return value


MaxChars = Annotated[int, BeforeValidator(max_chars)]


AccountProfile = Annotated[str, BeforeValidator(f.text(f.PROFILE, "expected a named AWS profile"))]


class Account(Keys):
    """An AWS account the component reaches, and the issuer's OIDC provider in it."""

    id: Annotated[str, BeforeValidator(account_id)] | None = key(
        "12-digit AWS account ID (quote it in YAML); when given, the run fails unless the credentials reach it",
        None,
        shown="the account of `assumeRole.roleArn` or of `oidcProvider.arn`, else none",
        to=AWS_PROVIDER,
        example="222222222222",
        also={"assumeRole": None, "profile": "audit"},
    )
    assume_role: AssumeRole | None = key(
        "the role this account's AWS provider assumes with the stack's credentials (not with `profile`)",
        None,
        shown="none",
    )
    profile: AccountProfile | None = key(
        "a named AWS profile for this account's AWS provider, instead of `assumeRole`; at most one account has "
        "neither, and it uses the stack's default AWS provider",
        None,
        shown="none",
        to=AWS_PROVIDER,
        example="audit",
        also={"assumeRole": None},
    )
    region: f.Region | None = key(
        "region of this account's AWS provider (only with `assumeRole` or `profile`: the default AWS provider has "
        "`aws:region`)",
        None,
        shown="the stack's `aws:region`",
        to=AWS_PROVIDER,
        example="us-east-1",
    )
    oidc_provider: OidcProvider = key(
        "the issuer's IAM OIDC provider in this account, with the keys of `oidcProvider`",
        factory=OidcProvider,
        shown="`{}`",
    )
    trust_policy_max_chars: MaxChars = key(_QUOTA, DEFAULT_TRUST_POLICY_MAX_CHARS, type="int", to=CHECK, example=4096)


AccountKey = Annotated[str, BeforeValidator(f.text(None, "expected a key of accounts"))]


class Role(RoleKeys):
    """An IAM role of roles: the keys of role, the account it is in, and what it trusts."""

    account: AccountKey | None = key(
        "the key of the role's account in `accounts` (an error without `accounts`); role names are unique within "
        "an account",
        None,
        shown="required with `accounts`",
        to=ROLE,
        example="other",
    )
    deployments: list[Any] = key(
        "Pulumi Deployments stacks the role trusts, one item each, with the keys of `deployments[]`",
        factory=list,
        type="list",
    )
    environments: list[Any] = key(
        "ESC environments the role trusts, one item each, with the keys of `environments[]`", factory=list, type="list"
    )
    environment_teams: f.Teams = key(
        "team permissions for every environment the role creates, as `environments[].teams`; an environment's own "
        "`teams` wins for a team both name",
        factory=dict,
        type="map",
        shown="`{}`",
        to=TEAM_PERMISSION,
        example={"platform": "read"},
    )


# --- the top level ----------------------------------------------------------------------------------------


Organization = Annotated[
    str,
    BeforeValidator(f.text(f.ORG, "expected a Pulumi organization login: lowercase letters, digits, '-', '_' and '.'")),
]
Issuer = Annotated[
    str,
    BeforeValidator(
        f.text(
            f.ISSUER,
            "expected an https:// URL with a host and optional path, no port, query or trailing slash, at most 255 "
            f"characters (Pulumi Cloud: {claims.DEFAULT_ISSUER})",
            255,
        )
    ),
]


class Program(Keys):
    """The arguments of PulumiCloudOidc: the admin stack's config keys, in snake_case."""

    organization: Organization = key(
        "Pulumi organization login, lowercase",
        type="string",
        missing="missing; set it to your Pulumi organization login: pulumi config set organization <org>",
        to=ROLE,
        example="contoso",
    )
    issuer: Issuer = key(
        "OIDC issuer; self-hosted Pulumi Cloud has its own. Condition keys are `<issuer without https://>:aud` and "
        "`:sub`",
        claims.DEFAULT_ISSUER,
        type="string",
        to=OIDC_PROVIDER,
        example="https://pulumi.example.com/oidc",
    )
    oidc_provider: OidcProvider = key(
        "the issuer's IAM OIDC provider, created by this stack or reused", factory=OidcProvider, type="object"
    )
    role: RoleKeys = key("the IAM role Pulumi Cloud assumes", factory=RoleKeys, type="object")
    deployments: list[Any] = key("Pulumi Deployments stacks the role trusts, one item each", factory=list, type="list")
    environments: list[Any] = key("ESC environments the role trusts, one item each", factory=list, type="list")
    trust_policy_max_chars: MaxChars = key(
        'the account\'s IAM quota "Role trust policy length" (adjustable up to 4096)',
        DEFAULT_TRUST_POLICY_MAX_CHARS,
        type="int",
        to=CHECK,
        example=4096,
    )
    accounts: dict[str, Any] = key(
        "the AWS accounts the roles are in, by key (1-32 of `a-z`, `0-9`, `-`); only with roles. Without it, the "
        "roles are in the account the default AWS provider reaches",
        factory=dict,
        type="map",
    )
    roles: dict[str, Any] = key(
        "the IAM roles of the whole organization, by key (1-32 of `a-z`, `0-9`, `-`), instead of role, deployments "
        "and environments",
        factory=dict,
        type="map",
    )


ITEMS: dict[tuple[type[Keys], str], type[Keys]] = {
    (Program, "deployments"): Deployment,
    (Program, "environments"): Environment,
    (Program, "accounts"): Account,
    (Program, "roles"): Role,
    (Role, "deployments"): Deployment,
    (Role, "environments"): Environment,
}
"""The model of each item of a list or map key: the loader validates items one by one (each error at its path,
and the rules across keys judged on the items that are valid), so the declaration of the container names ``Any``."""

Kind = Literal["list", "map"]
