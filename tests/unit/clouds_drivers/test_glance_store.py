"""The aws and yandex glance_store drivers against moto's S3 and EC2 in-process.

The stores are glance_store's real Store subclasses, loaded through the entry points glance
uses; only the Clouds API (short-lived credentials) is a stand-in.
"""

from __future__ import annotations

import io

import boto3
import pytest
from glance_store import exceptions, location
from moto import mock_aws
from oslo_config import cfg
from stevedore import driver as stevedore_driver

from clouds_drivers.clouds_api import CloudsUnavailable, ProjectCloud
from clouds_drivers.glance import uris
from clouds_drivers.glance.store import GIB, StoreLocation

REGION = "us-east-2"
AMI = "ami-0f7919c33c90f5b58"
AWS_PROJECT = "p-aws"


class Clouds:
    """The Clouds API as the drivers see it: one AWS-bound project."""

    def __init__(self) -> None:
        self.down = False

    def project_cloud(self, project_id: str) -> ProjectCloud | None:
        if self.down:
            raise CloudsUnavailable("getting the cloud credentials: connection refused")
        if project_id != AWS_PROJECT:
            return None
        return ProjectCloud(project_id, "aws", REGION, "us-east-2a",
                            {"access_key": "testing", "secret_key": "testing",
                             "session_token": "token"})


class Context:
    def __init__(self, project_id: str) -> None:
        self.project_id = project_id


def _store(kind: str, **options: str):
    conf = cfg.ConfigOpts()
    conf([], project="glance")
    group = f"{kind}_store"
    store_class = stevedore_driver.DriverManager("glance_store.drivers", kind).driver
    store = store_class(conf, backend=group)
    for name, value in options.items():
        conf.set_override(name, value, group=group)
    store.configure(re_raise_bsc=True)
    store._clouds_client = Clouds()
    return store


def _location(store, uri: str) -> location.Location:
    return location.Location(store.SCHEME, store.get_store_location_class(), store.conf,
                             uri=uri, backend=store.backend_group)


@pytest.fixture
def aws_store():
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket="images",
                         CreateBucketConfiguration={"LocationConstraint": REGION})
        store = _store("aws", bucket="images")
        store.s3 = s3
        yield store


def test_upload_lands_in_the_bucket_and_reads_back(aws_store):
    data = b"\x00image" * 1000
    uri, size, md5, multihash, metadata = aws_store.add(
        "img-1", io.BytesIO(data), len(data), "sha512", context=Context(AWS_PROJECT))
    assert uri == f"aws://{REGION}/images/img-1?project={AWS_PROJECT}"
    assert size == len(data) and metadata == {"store": "aws_store"}
    assert md5 == __import__("hashlib").md5(data).hexdigest()
    assert multihash == __import__("hashlib").sha512(data).hexdigest()
    assert aws_store.s3.get_object(Bucket="images", Key="img-1")["Body"].read() == data

    loc = _location(aws_store, uri)
    assert aws_store.get_size(loc) == len(data)
    body, length = aws_store.get(loc)
    assert length == len(data) and b"".join(body) == data

    with pytest.raises(exceptions.Duplicate):
        aws_store.add("img-1", io.BytesIO(data), len(data), "sha512",
                      context=Context(AWS_PROJECT))
    aws_store.delete(loc)
    assert aws_store.s3.list_objects_v2(Bucket="images").get("KeyCount") == 0
    with pytest.raises(exceptions.NotFound):
        aws_store.get_size(loc)
    with pytest.raises(exceptions.NotFound):
        aws_store.delete(loc)


class SizedReader:
    """Like Glance's LimitingReader: read() needs a size."""

    def __init__(self, data: bytes) -> None:
        self.stream = io.BytesIO(data)

    def read(self, size: int) -> bytes:
        return self.stream.read(size)


def test_glance_readers_that_need_a_size(aws_store):
    data = b"x" * (3 * 1024**2 + 5)
    uri, size, *_ = aws_store.add("img-sized", SizedReader(data), len(data), "sha512",
                                  context=Context(AWS_PROJECT))
    assert size == len(data)
    assert aws_store.s3.get_object(Bucket="images", Key="img-sized")["Body"].read() == data


def test_size_mismatch_leaves_nothing(aws_store):
    with pytest.raises(exceptions.Invalid, match="announced"):
        aws_store.add("img-2", io.BytesIO(b"abc"), 5, "sha512", context=Context(AWS_PROJECT))
    assert aws_store.s3.list_objects_v2(Bucket="images").get("KeyCount") == 0


def test_project_without_aws_account_is_refused_in_one_line(aws_store):
    with pytest.raises(exceptions.StorageWriteDenied,
                       match="project other has no aws account"):
        aws_store.add("img-3", io.BytesIO(b"abc"), 3, "sha512", context=Context("other"))


def test_missing_bucket_is_named(aws_store):
    aws_store.bucket = "no-such-bucket"
    with pytest.raises(exceptions.StorageWriteDenied, match="no-such-bucket"):
        aws_store.add("img-4", io.BytesIO(b"abc"), 3, "sha512", context=Context(AWS_PROJECT))


def test_clouds_api_down_is_remote_unavailable(aws_store):
    aws_store._clouds_client.down = True
    loc = _location(aws_store, f"aws://{REGION}/images/x?project={AWS_PROJECT}")
    with pytest.raises(exceptions.RemoteServiceUnavailable, match="connection refused"):
        aws_store.get_size(loc)


def test_cloud_image_location_sizes_from_the_ami_and_keeps_it(aws_store):
    ec2 = boto3.client("ec2", region_name=REGION)
    ami = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    uri = uris.cloud_image("aws", REGION, ami, AWS_PROJECT).uri()
    loc = _location(aws_store, uri)
    assert aws_store.get_size(loc) % GIB == 0 and aws_store.get_size(loc) >= GIB
    with pytest.raises(exceptions.StoreGetNotSupported, match=ami):
        aws_store.get(loc)
    aws_store.delete(loc)  # the Glance record goes, the AMI stays
    assert ec2.describe_images(ImageIds=[ami])["Images"]
    unknown = _location(aws_store, uris.cloud_image("aws", REGION, "ami-12345678",
                                                    AWS_PROJECT).uri())
    with pytest.raises(exceptions.NotFound):
        aws_store.get_size(unknown)


def test_unset_bucket_disables_writes_with_the_option_named():
    conf = cfg.ConfigOpts()
    conf([], project="glance")
    store_class = stevedore_driver.DriverManager("glance_store.drivers", "aws").driver
    store = store_class(conf, backend="aws_store")
    with pytest.raises(exceptions.BadStoreConfiguration, match=r"\[aws_store\] bucket"):
        store.configure(re_raise_bsc=True)


def test_yandex_store_uses_its_static_key_and_region():
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="yc-images")
        store = _store("yandex", bucket="yc-images", access_key_id="gUC7Dgk2ckZJTJ-2G7fm",
                       secret_access_key="m0BLkc8smdvqrQvuZzjxSEQoxLYkxxUxjAawcBfA",
                       endpoint="https://s3.amazonaws.com", region_name="us-east-1")
        uri, size, *_ = store.add("img-y", io.BytesIO(b"yandex"), 6, "sha512",
                                  context=Context("anyone"))
        assert uri == "yandex://us-east-1/yc-images/img-y"
        assert s3.get_object(Bucket="yc-images", Key="img-y")["Body"].read() == b"yandex"
        assert store.get_size(_location(store, uri)) == 6
        assert "m0BLkc8smdvqrQvuZzjxSEQoxLYkxxUxjAawcBfA" not in repr(store.conf.yandex_store)


@pytest.mark.parametrize("uri, message", [
    ("aws://us-east-2/ami-1", r"needs \?project="),
    ("s3://us-east-2/b/k", "scheme"),
    ("aws:///b/k", "region"),
])
def test_bad_uris_are_bad_store_uris(uri, message):
    with pytest.raises(uris.BadLocation, match=message):
        uris.parse(uri)
    with pytest.raises(exceptions.BadStoreUri, match=message):
        StoreLocation({}, cfg.ConfigOpts()).parse_uri(uri)


def test_uris_round_trip():
    for loc in (uris.cloud_image("yandex", "ru-central1", "fd8abc", "p1"),
                uris.stored_object("aws", "us-east-2", "b", "k/1", "p1"),
                uris.stored_object("yandex", "ru-central1", "b", "k", None)):
        assert uris.parse(loc.uri()) == loc
