"""The Clouds API through Flask's test client: moto and the Yandex double in-process, an
in-memory OpenStack (tests/unit/clouds/fake_openstack.py), a migrated SQLite database."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from moto.core import set_initial_no_auth_action_count
from oslo_config import cfg
from oslo_policy import policy as oslo_policy

from clouds.accounts import Accounts
from clouds.api.policies import RULES
from clouds.db.models import Cloud
from tests.unit.clouds.doubles import aws_keys

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYUNITTEST"
ACCESS_KEY = "AKIAAOSUNITTEST00001"


def error_of(response, status: int) -> str:
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()["error"]["message"]


def aws_body(**changes):
    return {"provider": "aws", "project": "aws", "access_key": ACCESS_KEY,
            "secret_key": SECRET, "region": "us-east-2", "az": "us-east-2a", **changes}


def yandex_body(yc, **changes):
    return {"provider": "yandex", "project": "yandex",
            "service_account_id": yc["service_account_id"], "key_id": yc["key_id"],
            "private_key": yc["private_key"], "folder_id": yc["folder_id"],
            "az": yc["zone"], **changes}


def stored(runtime) -> list[Cloud]:
    with runtime.transaction() as session:
        return list(session.scalars(sa.select(Cloud)))


def test_add_aws_account_keeps_the_secret_encrypted(client, runtime, caplog):
    caplog.set_level(logging.DEBUG)
    response = client.post("/v1/clouds", json=aws_body())
    assert response.status_code == 201, response.get_data(as_text=True)
    account = response.get_json()
    assert account["provider"] == "aws" and account["availability_zone"] == "us-east-2a"
    assert account["credentials"] == "***" and account["project_name"] == "aws"
    (row,) = stored(runtime)
    assert SECRET not in row.credentials and ACCESS_KEY not in row.credentials
    assert SECRET in runtime.secrets.decrypt(row.credentials)
    for path in ("/v1/clouds", "/v1/clouds/aws", f"/v1/clouds/{row.project_id}"):
        text = client.get(path).get_data(as_text=True)
        assert SECRET not in text and ACCESS_KEY not in text
    assert client.get("/v1/clouds/aws").get_json()["project_id"] == row.project_id
    assert SECRET not in caplog.text
    checked = client.post("/v1/clouds/aws/check").get_json()
    assert checked["status"] == "ok" and checked["account"] == "123456789012"


def test_second_account_unknown_project_bad_input(client, runtime):
    assert client.post("/v1/clouds", json=aws_body()).status_code == 201
    assert "already has a aws account" in error_of(
        client.post("/v1/clouds", json=aws_body()), 409)
    assert "no project 'nope'" in error_of(
        client.post("/v1/clouds", json=aws_body(project="nope")), 404)
    assert "az" in error_of(client.post("/v1/clouds", json=aws_body(project="other",
                                                                    az="us-east-2z")), 400)
    assert "region" in error_of(client.post("/v1/clouds", json=aws_body(
        project="other", region="mars-1")), 400)
    message = error_of(client.post("/v1/clouds", json={"provider": "aws", "project": "other"}),
                       400)
    assert "access_key" in message
    assert "provider" in error_of(client.post("/v1/clouds", json={"provider": "gcp"}), 400)
    assert len(stored(runtime)) == 1
    assert "has no cloud account" in error_of(client.get("/v1/clouds/other"), 404)


@set_initial_no_auth_action_count(3)
def test_wrong_aws_keys_store_nothing(client, runtime):
    keys = aws_keys()
    message = error_of(client.post("/v1/clouds", json=aws_body(
        access_key=keys["access_key"], secret_key="wrong")), 400)
    assert message.startswith("secret_key: ") and "SignatureDoesNotMatch" in message
    assert stored(runtime) == []
    assert client.post("/v1/clouds", json=aws_body(**keys)).status_code == 201


def test_yandex_account_and_its_errors(client, runtime, yc):
    assert "private_key" in error_of(client.post("/v1/clouds", json=yandex_body(
        yc, private_key="-----BEGIN PRIVATE KEY-----\ngarbage\n")), 400)
    assert "folder_id" in error_of(client.post("/v1/clouds", json=yandex_body(
        yc, folder_id="b1gnosuchfolder00000")), 400)
    assert "az" in error_of(client.post("/v1/clouds", json=yandex_body(
        yc, az="ru-central1-z")), 400)
    assert "service_account_key" in error_of(client.post("/v1/clouds", json=yandex_body(
        yc, key_id="ajenosuchkey00000000")), 400)
    assert stored(runtime) == []
    created = client.post("/v1/clouds", json=yandex_body(yc))
    assert created.status_code == 201
    assert created.get_json()["folder_id"] == yc["folder_id"]
    assert "BEGIN" not in created.get_data(as_text=True)
    moved = client.patch("/v1/clouds/yandex", json={"az": "ru-central1-b"})
    assert moved.get_json()["availability_zone"] == "ru-central1-b"
    assert "az" in error_of(client.patch("/v1/clouds/yandex", json={"az": "nowhere"}), 400)
    assert client.get("/v1/clouds/yandex").get_json()["availability_zone"] == "ru-central1-b"


def test_short_lived_credentials_are_cached_until_the_margin(client, runtime, yc):
    client.post("/v1/clouds", json=aws_body())
    first = client.post("/v1/clouds/aws/credentials").get_json()
    assert not first["cached"] and first["credentials"]["session_token"]
    assert first["credentials"]["access_key"] != ACCESS_KEY
    again = client.post("/v1/clouds/aws/credentials").get_json()
    assert again["cached"] and again["credentials"] == first["credentials"]
    (row,) = stored(runtime)
    assert first["credentials"]["secret_key"] not in row.session_credentials
    expires = datetime.fromisoformat(first["expires_at"])
    late = expires - timedelta(seconds=runtime.conf.credentials.refresh_margin - 1)
    renewed = Accounts(runtime).credentials("aws", now=late)
    assert not renewed["cached"] and renewed["expires_at"] >= first["expires_at"]

    client.post("/v1/clouds", json=yandex_body(yc))
    token = client.post("/v1/clouds/yandex/credentials").get_json()
    assert token["credentials"]["iam_token"].startswith("t1.")
    assert datetime.fromisoformat(token["expires_at"]) > datetime.now(UTC)


def test_image_register_is_idempotent(client, runtime):
    client.post("/v1/clouds", json=aws_body())
    fake = runtime.openstack
    ami = "ami-03cf127a"  # one of moto's default AMIs
    first = client.post("/v1/clouds/aws/images", json={"cloud_image_id": ami})
    assert first.status_code == 200, first.get_data(as_text=True)
    image = fake.images[first.get_json()["image_id"]]
    assert image["owner"] == fake.project_id("aws") and image["visibility"] == "private"
    assert (image["aos_cloud"], image["aos_cloud_image_id"]) == ("aws", ami)
    assert image["min_disk"] == 15 and image["architecture"] == "x86_64"
    location = f"aws://us-east-2/{ami}?project={fake.project_id('aws')}"
    assert first.get_json()["location"] == location and image["status"] == "active"
    assert [loc["url"] for loc in image["locations"]] == [location]
    second = client.post("/v1/clouds/aws/images", json={"cloud_image_id": ami}).get_json()
    assert second["image_id"] == first.get_json()["image_id"] and not second["created"]
    assert second["location"] == location and len(image["locations"]) == 1
    assert len(fake.images) == 1
    assert "InvalidAMIID.NotFound" in error_of(client.post(
        "/v1/clouds/aws/images", json={"cloud_image_id": "ami-0123456789abcdef0"}), 404)
    assert len(fake.images) == 1
    listed = client.get("/v1/clouds/aws/images").get_json()
    assert [i["cloud_image_id"] for i in listed] == [ami]
    assert client.delete(f"/v1/clouds/aws/images/{ami}").status_code == 204
    assert fake.images == {} and client.get("/v1/clouds/aws/images").get_json() == []
    assert error_of(client.delete(f"/v1/clouds/aws/images/{ami}"), 404)


def test_image_register_without_the_glance_store_says_why(client, runtime):
    client.post("/v1/clouds", json=aws_body())
    runtime.openstack.refuse_locations = "Glance answered 400: Invalid location"
    answer = client.post("/v1/clouds/aws/images", json={"cloud_image_id": "ami-03cf127a"})
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["location"] is None and "Invalid location" in body["location_error"]
    image = runtime.openstack.images[body["image_id"]]
    assert image["aos_cloud_image_id"] == "ami-03cf127a" and image["status"] == "queued"


def test_flavors_register_filter_dry_run_idempotent(client, runtime, yc):
    client.post("/v1/clouds", json=aws_body())
    fake = runtime.openstack
    dry = client.post("/v1/clouds/aws/flavors", json={"filter": ["t3.*"], "dry_run": True})
    planned = dry.get_json()["flavors"]
    assert planned and {f["status"] for f in planned} == {"would create"}
    assert fake.flavors == {}
    done = client.post("/v1/clouds/aws/flavors", json={"filter": ["t3.*"]}).get_json()
    names = sorted(f["name"] for f in done["flavors"])
    assert "aws.t3.micro" in names and len(names) == len(planned)
    project_id, micro = next(v for v in fake.flavors.values() if v[1].name == "aws.t3.micro")
    assert project_id == fake.project_id("aws")
    assert (micro.vcpus, micro.ram_mb, micro.disk_gb) == (2, 1024, 20)  # never 0: see below
    assert micro.extra_specs == {"aos:cloud": "aws", "aos:cloud_instance_type": "t3.micro"}
    again = client.post("/v1/clouds/aws/flavors", json={"filter": ["t3.*"]}).get_json()
    assert {f["status"] for f in again["flavors"]} == {"exists"}
    assert len(fake.flavors) == len(planned)
    # Nova lets only admins boot an image on a zero-disk flavor: the root disk is the boot
    # volume's size; a flavor that exists keeps (and shows) the size it was made with.
    for bad in (0, -1, "big", 10**6):
        assert "root_disk_gb" in error_of(client.post(
            "/v1/clouds/aws/flavors", json={"filter": ["m5.*"], "root_disk_gb": bad}), 400)
    big = client.post("/v1/clouds/aws/flavors",
                      json={"filter": ["m5.large", "t3.micro"], "root_disk_gb": 30}).get_json()
    disks = {f["cloud_type"]: (f["root_disk_gb"], f["status"]) for f in big["flavors"]}
    assert disks == {"m5.large": (30, "created"), "t3.micro": (20, "exists")}

    client.post("/v1/clouds", json=yandex_body(yc))
    presets = client.post("/v1/clouds/yandex/flavors", json={}).get_json()
    assert presets["matched"] == presets["offered"] == 30
    assert "yandex.s3-c2-m4" in {f["name"] for f in presets["flavors"]}


def test_resource_map_and_delete_guard(client, runtime):
    client.post("/v1/clouds", json=aws_body())
    mapping = {"kind": "instance", "openstack_id": "vm-1", "cloud_resource_id": "i-0abc"}
    assert client.post("/v1/clouds/aws/resources", json=mapping).status_code == 201
    assert client.post("/v1/clouds/aws/resources", json=mapping).status_code == 201
    assert "already mapped to i-0abc" in error_of(client.post(
        "/v1/clouds/aws/resources", json={**mapping, "cloud_resource_id": "i-0def"}), 409)
    assert client.get("/v1/clouds/aws/resources/instance/vm-1").get_json()[
        "cloud_resource_id"] == "i-0abc"
    (found,) = client.get("/v1/clouds/aws/resources?kind=instance&cloud_resource_id=i-0abc"
                          ).get_json()
    assert found["openstack_id"] == "vm-1"
    assert error_of(client.post("/v1/clouds/aws/resources", json={**mapping, "kind": "cat"}),
                    400)
    assert "1 instance" in error_of(client.delete("/v1/clouds/aws"), 409)
    assert len(stored(runtime)) == 1
    assert client.delete("/v1/clouds/aws/resources/instance/vm-1").status_code == 204
    client.post("/v1/clouds/aws/resources", json=mapping)
    forced = client.delete("/v1/clouds/aws?force=true").get_json()
    assert forced["forgotten"] == {"instance": 1} and stored(runtime) == []


def test_openapi_covers_every_route(client):
    from clouds.api.routes import API

    document = client.get("/openapi.json").get_json()
    for route in API.routes:
        assert route.method.lower() in document["paths"][route.path]


@pytest.mark.parametrize(("rule", "roles", "allowed"), [
    ("clouds:credentials:issue", ["member"], False),
    ("clouds:credentials:issue", ["service"], True),
    ("clouds:credentials:issue", ["admin"], True),
    ("clouds:account:create", ["service"], False),
    ("clouds:account:create", ["member", "reader"], False),
    ("clouds:account:create", ["admin"], True),
    ("clouds:resource:record", ["service"], True),
    ("clouds:image:register", ["member"], False),
])
def test_policy_defaults(rule, roles, allowed):
    conf = cfg.ConfigOpts()
    conf(args=[], default_config_files=[], default_config_dirs=[])
    enforcer = oslo_policy.Enforcer(conf)
    enforcer.register_defaults(RULES)
    creds = {"roles": roles, "project_id": "p", "user_id": "u"}
    assert enforcer.authorize(rule, {"project_id": "p"}, creds) is allowed


def test_drift_reports_mapped_objects_gone_from_the_cloud(client, runtime, yc):
    import boto3

    from clouds.accounts import drift

    client.post("/v1/clouds", json=aws_body())
    ec2 = boto3.client("ec2", region_name="us-east-2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    volume = ec2.create_volume(AvailabilityZone="us-east-2a", Size=1)["VolumeId"]
    gone = ec2.create_volume(AvailabilityZone="us-east-2a", Size=1)["VolumeId"]
    ec2.delete_volume(VolumeId=gone)
    ami = ec2.describe_images()["Images"][0]["ImageId"]
    instance = ec2.run_instances(ImageId=ami, MinCount=1, MaxCount=1)["Instances"][0]
    ec2.terminate_instances(InstanceIds=[instance["InstanceId"]])
    for kind, openstack_id, cloud_id in [("network", "net-1", vpc), ("volume", "vol-1", volume),
                                         ("volume", "vol-2", gone),
                                         ("instance", "vm-1", instance["InstanceId"])]:
        client.post("/v1/clouds/aws/resources", json={
            "kind": kind, "openstack_id": openstack_id, "cloud_resource_id": cloud_id})
    found = client.get("/v1/clouds/aws/drift").get_json()
    assert sorted(d["openstack_id"] for d in found) == ["vm-1", "vol-2"]
    assert {d["drift"] for d in found} == {"missing in the cloud"}
    assert [d["openstack_id"] for d in client.get("/v1/clouds/aws/drift?kind=volume")
            .get_json()] == ["vol-2"]
    assert len(client.get("/v1/clouds/aws/resources").get_json()) == 4  # nothing deleted
    assert ec2.describe_volumes(VolumeIds=[volume])["Volumes"]

    client.post("/v1/clouds", json=yandex_body(yc))
    client.post("/v1/clouds/yandex/resources", json={
        "kind": "network", "openstack_id": "net-y", "cloud_resource_id": "enpnosuchnet00000000"})
    (missing,) = client.get("/v1/clouds/yandex/drift").get_json()
    assert missing["cloud_resource_id"] == "enpnosuchnet00000000"
    assert drift([("router", "r-1", "x")], {"router": None}) == []


def test_worker_reconcile_reports_drift_of_every_account(client, runtime, caplog):
    from clouds.tasks import reconcile

    client.post("/v1/clouds", json=aws_body())
    client.post("/v1/clouds/aws/resources", json={
        "kind": "subnet", "openstack_id": "sub-1", "cloud_resource_id": "subnet-0deadbeef"})
    caplog.set_level(logging.WARNING, logger="clouds.tasks")
    (report,) = reconcile(runtime).values()
    assert [d["openstack_id"] for d in report] == ["sub-1"]
    assert "sub-1 is mapped to subnet-0deadbeef" in caplog.text
    assert len(client.get("/v1/clouds/aws/resources").get_json()) == 1
    (stored_drift,) = client.get("/v1/clouds/aws/resources?drift=true").get_json()
    assert stored_drift["drift"] == "missing in the cloud" and stored_drift["drift_since"]
    reconcile(runtime)  # seen again: still drifting since the first time
    assert client.get("/v1/clouds/aws/resources?drift=true").get_json() == [stored_drift]


def test_stored_drift_clears_when_the_object_is_back(client, runtime):
    import boto3

    client.post("/v1/clouds", json=aws_body())
    ec2 = boto3.client("ec2", region_name="us-east-2")
    vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    client.post("/v1/clouds/aws/resources", json={
        "kind": "network", "openstack_id": "net-1", "cloud_resource_id": vpc})
    client.post("/v1/clouds/aws/resources", json={
        "kind": "volume", "openstack_id": "vol-1", "cloud_resource_id": "vol-0feedbeef"})
    client.get("/v1/clouds/aws/drift")
    drifted = client.get("/v1/clouds/aws/resources?drift=true").get_json()
    assert [d["openstack_id"] for d in drifted] == ["vol-1"]
    ec2.delete_vpc(VpcId=vpc)
    client.get("/v1/clouds/aws/drift?kind=network")  # a check of networks keeps vol-1's
    drifted = client.get("/v1/clouds/aws/resources?drift=true").get_json()
    assert [d["openstack_id"] for d in drifted] == ["net-1", "vol-1"]
    client.delete("/v1/clouds/aws/resources/volume/vol-1")
    volume = ec2.create_volume(AvailabilityZone="us-east-2a", Size=1)["VolumeId"]
    client.post("/v1/clouds/aws/resources", json={
        "kind": "volume", "openstack_id": "vol-2", "cloud_resource_id": volume})
    client.get("/v1/clouds/aws/drift")
    assert [d["openstack_id"] for d in client.get(
        "/v1/clouds/aws/resources?drift=true").get_json()] == ["net-1"]
    assert error_of(client.get("/v1/clouds/aws/resources?drift=maybe"), 400)


def test_unreachable_keystone_is_a_502_not_a_500(client, runtime, aos_env):
    import openstack as sdk

    from clouds.openstack_adapter import OpenStack

    runtime.openstack = OpenStack(sdk.connect(
        auth_url="http://127.0.0.1:9/v3", username="aos", password="x", project_name="service",
        user_domain_name="Default", project_domain_name="Default", api_timeout=2,
        load_yaml_config=False, load_envvars=False))
    message = error_of(client.post("/v1/clouds", json=aws_body()), 502)
    assert message.startswith("looking up project aws in Keystone")
    assert stored(runtime) == []
