"""Providers against the doubles in-process: moto (with IAM auth on) and the Yandex double."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from datetime import UTC, datetime

import boto3
import pytest
from moto import mock_aws
from moto.core import set_initial_no_auth_action_count

from clouds_drivers.providers import aws, yandex
from clouds_drivers.providers.base import Account, CloudError
from tests.unit.clouds.doubles import aws_keys, yandex_double


def test_providers_import_no_service_stack():
    code = ("import sys, clouds_drivers.providers.aws, clouds_drivers.providers.yandex; "
            "print(sorted(m for m in ('flask', 'celery', 'sqlalchemy', 'oslo_config') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


# --- AWS ------------------------------------------------------------------------------------

@pytest.fixture
def aws_account():
    with mock_aws():
        yield Account("aws", "us-east-2a", "us-east-2", aws_keys())


def test_aws_validate_and_session_credentials(aws_account):
    provider = aws.AwsProvider(aws.Settings(session_duration=900))
    who = provider.validate(aws_account)
    assert who.principal.endswith(":user/aos")
    creds = provider.issue_credentials(aws_account)
    assert set(creds.secrets) == {"access_key", "secret_key", "session_token"}
    assert creds.secrets["access_key"] != aws_account.secrets["access_key"]
    assert creds.expires_at > datetime.now(UTC)


@set_initial_no_auth_action_count(3)  # aws_keys() makes 3 calls; then IAM auth is on
@mock_aws
def test_aws_bad_keys_name_the_wrong_part():
    provider = aws.AwsProvider()
    keys = aws_keys()
    unknown = Account("aws", "us-east-2a", "us-east-2",
                      {"access_key": "AKIAIOSFODNN7EXAMPLE", "secret_key": keys["secret_key"]})
    with pytest.raises(CloudError) as bad_key:
        provider.validate(unknown)
    assert bad_key.value.field == "access_key"
    assert "InvalidClientTokenId" in str(bad_key.value)
    wrong_secret = Account("aws", "us-east-2a", "us-east-2", dict(keys, secret_key="nope"))
    with pytest.raises(CloudError) as bad_secret:
        provider.validate(wrong_secret)
    assert bad_secret.value.field == "secret_key"
    assert provider.validate(Account("aws", "us-east-2a", "us-east-2", keys)).principal


def test_aws_unknown_region_and_zone(aws_account):
    provider = aws.AwsProvider()
    with pytest.raises(CloudError) as region:
        provider.validate(dataclasses.replace(aws_account, region="us-nowhere-1"))
    assert region.value.field == "region"
    with pytest.raises(CloudError) as zone:
        provider.validate(dataclasses.replace(aws_account, zone="us-east-2z"))
    assert zone.value.field == "az"
    assert "us-east-2a, us-east-2b" in str(zone.value)


def test_aws_describe_image(aws_account):
    ec2 = boto3.client("ec2", region_name="us-east-2")
    image_id = ec2.describe_images(Filters=[{"Name": "architecture",
                                             "Values": ["x86_64"]}])["Images"][0]["ImageId"]
    image = aws.AwsProvider().describe_image(aws_account, image_id)
    assert image.id == image_id and image.architecture == "x86_64" and image.min_disk_gb > 0
    with pytest.raises(CloudError) as missing:
        aws.AwsProvider().describe_image(aws_account, "ami-0123456789abcdef0")
    assert missing.value.not_found and missing.value.field == "cloud_image_id"
    assert "InvalidAMIID.NotFound" in str(missing.value)
    assert missing.value.request_id


def test_aws_instance_types_offered_in_the_zone(aws_account):
    types = aws.AwsProvider().instance_types(aws_account)
    ec2 = boto3.client("ec2", region_name="us-east-2")
    offered = {o["InstanceType"] for page in ec2.get_paginator(
        "describe_instance_type_offerings").paginate(
        LocationType="availability-zone",
        Filters=[{"Name": "location", "Values": ["us-east-2a"]}])
        for o in page["InstanceTypeOfferings"]}
    assert {t.name for t in types} == offered
    micro = next(t for t in types if t.name == "t3.micro")
    assert (micro.vcpus, micro.ram_mb) == (2, 1024)


def test_aws_unreachable_endpoint_is_a_cloud_error():
    provider = aws.AwsProvider(aws.Settings(endpoint_url="http://127.0.0.1:9", max_attempts=1,
                                            connect_timeout=1, read_timeout=1))
    account = Account("aws", "us-east-2a", "us-east-2", {"access_key": "a", "secret_key": "b"})
    with pytest.raises(CloudError, match="cannot reach AWS"):
        provider.validate(account)


# --- Yandex ---------------------------------------------------------------------------------

def test_yandex_validate_token_image_types(yc):
    provider, account, double = yc
    assert provider.validate(account).principal == double["service_account_id"]
    token = provider.issue_credentials(account)
    assert token.secrets["iam_token"].startswith("t1.")
    assert token.expires_at > datetime.now(UTC)
    image = provider.describe_image(account, double["image_id"])
    assert (image.name, image.min_disk_gb) == ("ubuntu-22-04-lts-v20260101", 8)
    types = provider.instance_types(account)
    assert "s3-c2-m4" in {t.name for t in types}
    assert all(t.ram_mb % 1024 == 0 and t.vcpus >= 2 for t in types)


@pytest.mark.parametrize(("change", "field"), [
    ({"zone": "ru-central1-z"}, "az"),
    ({"options": {"folder_id": "b1gnosuchfolder00000"}}, "folder_id"),
    ({"secrets": {"key_id": "ajenosuchkey00000000"}}, "service_account_key"),
    ({"secrets": {"private_key": "-----BEGIN PRIVATE KEY-----\nnot a key\n"}}, "private_key"),
])
def test_yandex_bad_input_names_the_wrong_part(yc, change, field):
    provider, account, _ = yc
    if "secrets" in change:
        change = {"secrets": {**account.secrets, **change["secrets"]}}
    with pytest.raises(CloudError) as error:
        provider.validate(dataclasses.replace(account, **change))
    assert error.value.field == field


def test_yandex_unknown_image(yc):
    provider, account, _ = yc
    with pytest.raises(CloudError) as missing:
        provider.describe_image(account, "fd8nosuchimage000000")
    assert missing.value.not_found


def test_yandex_pkcs1_key_is_accepted(yc):
    from cryptography.hazmat.primitives import serialization

    provider, account, _ = yc
    key = serialization.load_pem_private_key(account.secrets["private_key"].encode(), None)
    pkcs1 = key.private_bytes(serialization.Encoding.PEM,
                              serialization.PrivateFormat.TraditionalOpenSSL,
                              serialization.NoEncryption()).decode()
    assert provider.validate(dataclasses.replace(
        account, secrets={**account.secrets, "private_key": pkcs1})).principal


def test_yandex_unreachable_endpoint_times_out(tmp_path):
    provider = yandex.YandexProvider(yandex.Settings(endpoint="127.0.0.1:9", timeout=1))
    with yandex_double(tmp_path) as double:
        account = Account("yandex", "ru-central1-a", None,
                          {k: double[k] for k in ("service_account_id", "key_id",
                                                  "private_key")}, {"folder_id": "x"})
    started = datetime.now(UTC)
    with pytest.raises(CloudError):
        provider.validate(account)
    assert (datetime.now(UTC) - started).total_seconds() < 10
