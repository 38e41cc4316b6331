"""The emulated AWS the discover and doctor tests run against answers as boto3 expects, across accounts."""

from __future__ import annotations

import boto3

from tests.aws_server import AwsServer


def test_boto3_reaches_the_server_through_the_environment(aws: AwsServer) -> None:
    iam = boto3.client("iam")
    iam.create_role(RoleName="probe", AssumeRolePolicyDocument="{}")
    assert [r["RoleName"] for r in iam.list_roles()["Roles"]] == ["probe"]
    assert boto3.client("sts").get_caller_identity()["Account"].isdigit()


def test_reset_forgets_what_the_last_test_created(aws: AwsServer) -> None:
    assert boto3.client("iam").list_roles()["Roles"] == []


def test_an_assumed_role_in_a_member_account_sees_that_account(aws: AwsServer) -> None:
    organizations = boto3.client("organizations")
    organizations.create_organization(FeatureSet="ALL")
    created = organizations.create_account(Email="dev@example.com", AccountName="dev")
    account = organizations.describe_create_account_status(CreateAccountRequestId=created["CreateAccountStatus"]["Id"])[
        "CreateAccountStatus"
    ]["AccountId"]
    credentials = boto3.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole", RoleSessionName="probe"
    )["Credentials"]
    member = boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
    assert member.client("sts").get_caller_identity()["Account"] == account
    member.client("iam").create_role(RoleName="in-member", AssumeRolePolicyDocument="{}")
    assert [r["RoleName"] for r in boto3.client("iam").list_roles()["Roles"]] == []
