"""What the ``aws`` and ``yandex`` glance_store drivers share: locations, the bucket,
reading and writing objects, and cloud images that Glance holds no data of.

A location is either a cloud image registered by the Clouds service (its size is the
image's minimum disk; it cannot be read or deleted through Glance: the cloud keeps it) or an
object of the store's bucket (S3 for AWS, Object Storage for Yandex: both speak S3).
Every failure reaches Glance as a glance_store exception with one line naming what failed.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Callable, Iterator
from typing import Any

import glance_store
import glance_store.driver
import glance_store.location
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import BotoCoreError, ClientError
from glance_store import capabilities, exceptions
from glance_store.common import utils
from oslo_config import cfg

from clouds_drivers import service_conf
from clouds_drivers.clouds_api import CloudsClient, CloudsUnavailable, ProjectCloud
from clouds_drivers.glance import uris
from clouds_drivers.providers import aws
from clouds_drivers.providers.base import CloudError, Provider

LOG = logging.getLogger(__name__)
GIB = 1024**3
#: S3 parts of a multipart upload (S3's minimum is 5 MiB; 10,000 parts at most).
PART_SIZE = 64 * 1024**2
CHUNK = 1024**2
#: S3 error codes meaning the object or bucket is not there.
MISSING = {"404", "NoSuchKey", "NoSuchBucket", "NotFound"}

BUCKET_OPT = cfg.StrOpt("bucket", help="Bucket that receives the image data uploaded to "
                        "this store (it must exist).")


class StoreLocation(glance_store.location.StoreLocation):
    """A location of a cloud store; ``cloud`` is its plain-data form."""

    cloud: uris.CloudLocation

    def process_specs(self) -> None:
        self.cloud = self.specs["cloud"]

    def get_uri(self) -> str:
        return self.cloud.uri()

    def parse_uri(self, uri: str) -> None:
        try:
            self.cloud = uris.parse(uri)
        except uris.BadLocation as exc:
            LOG.info("not a cloud store location: %s", exc)
            raise exceptions.BadStoreUri(message=str(exc)) from None


class _Reader:
    """The image stream, hashed (md5 and Glance's multihash) and counted as S3 reads it."""

    def __init__(self, stream: Any, hashing_algo: str, verifier: Any, limit: int) -> None:
        self.stream, self.verifier, self.limit = stream, verifier, limit
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.multihash = utils.get_hasher(hashing_algo, False)
        self.size = 0

    def read(self, size: int | None = -1) -> bytes:
        """Glance's readers need a size (LimitingReader.read(i)): "all" is read in chunks."""
        if size is None or size < 0:
            return b"".join(iter(lambda: self._read(CHUNK), b""))
        return self._read(size)

    def _read(self, size: int) -> bytes:
        chunk = self.stream.read(size)
        self.size += len(chunk)
        if self.limit and self.size > self.limit:
            raise exceptions.Invalid(message=f"the image data exceeds the announced size of "
                                     f"{self.limit} bytes")
        self.md5.update(chunk)
        self.multihash.update(chunk)
        if self.verifier:
            self.verifier.update(chunk)
        return chunk


class _Body(glance_store.Indexable):
    def another(self) -> bytes:
        try:
            return next(self.wrapped)
        except StopIteration:
            return b""


class CloudStore(glance_store.driver.Store):
    """Base of the cloud stores; a subclass says how to reach its bucket and its images."""

    _CAPABILITIES = capabilities.BitMasks.RW_ACCESS
    SCHEME = ""
    PROVIDER = ""
    EXAMPLE_URL = "<scheme>://<region>/<bucket>/<key>"

    def get_schemes(self) -> tuple[str, ...]:
        return (self.SCHEME,)

    def get_store_location_class(self) -> type[StoreLocation]:
        return StoreLocation

    def _group(self) -> Any:
        return getattr(self.conf, self.backend_group) if self.backend_group \
            else self.conf.glance_store

    def _required(self, name: str) -> str:
        value = getattr(self._group(), name)
        if not value:
            raise exceptions.BadStoreConfiguration(
                store_name=self.SCHEME,
                reason=f"[{self.backend_group or 'glance_store'}] {name} is not set")
        return value

    def configure_add(self) -> None:
        # Glance finds the store of a location it is given without one by this prefix.
        self._url_prefix = f"{self.SCHEME}://"
        self.bucket = self._required("bucket")

    # --- what a subclass provides ---------------------------------------------------------

    def _object_client(self, project_id: str | None, writing: bool = False
                       ) -> tuple[Any, str]:
        """(S3 client, region) that reaches the bucket on behalf of ``project_id``."""
        raise NotImplementedError

    def _provider(self) -> Provider:
        raise NotImplementedError

    # --- the Clouds API -------------------------------------------------------------------

    def _clouds(self) -> CloudsClient:
        if getattr(self, "_clouds_client", None) is None:
            self._clouds_client = service_conf.clouds_client(self.conf)
        return self._clouds_client

    def _project_cloud(self, project_id: str | None, doing: str,
                       writing: bool = False) -> ProjectCloud:
        """The project's account with short-lived credentials; refused if not this cloud's
        (a write is denied, a read finds nothing)."""
        refuse: Callable[[str], Exception] = (
            (lambda text: exceptions.StorageWriteDenied(message=text)) if writing
            else (lambda text: exceptions.NotFound(message=text)))
        if not project_id:
            raise refuse(f"{doing}: no project in the request, so no cloud account to use")
        found = self._clouds().project_cloud(project_id)
        if found is None or found.provider != self.PROVIDER:
            raise refuse(f"{doing}: project {project_id} has no {self.PROVIDER} account "
                         "(openstack aos clouds add)")
        return found

    # --- the store operations -------------------------------------------------------------

    @capabilities.check
    def add(self, image_id: str, image_file: Any, image_size: int, hashing_algo: str,
            context: Any = None, verifier: Any = None) -> tuple[str, int, str, str, dict]:
        project_id = getattr(context, "project_id", None)
        doing = f"uploading image {image_id} to the {self.SCHEME} bucket {self.bucket}"
        with _errors(doing, writing=True):
            client, region = self._object_client(project_id, writing=True)
            if _head(client, self.bucket, image_id) is not None:
                raise exceptions.Duplicate(image=image_id)
            reader = _Reader(image_file, hashing_algo, verifier, image_size)
            client.upload_fileobj(reader, self.bucket, image_id, Config=TransferConfig(
                use_threads=False, multipart_threshold=PART_SIZE, multipart_chunksize=PART_SIZE))
            if image_size and reader.size != image_size:
                client.delete_object(Bucket=self.bucket, Key=image_id)
                raise exceptions.Invalid(message=f"{doing}: got {reader.size} bytes, "
                                         f"{image_size} announced")
        location = uris.stored_object(self.SCHEME, region, self.bucket, image_id,
                                      self._owner_in_uri(project_id))
        LOG.info("image %s: %d bytes in %s", image_id, reader.size, location.uri())
        metadata = {"store": self.backend_group} if self.backend_group else {}
        return (location.uri(), reader.size, reader.md5.hexdigest(),
                reader.multihash.hexdigest(), metadata)

    def _owner_in_uri(self, project_id: str | None) -> str | None:
        """Stores reading with the project's credentials keep it in the URI."""
        return project_id

    @capabilities.check
    def get(self, location: Any, offset: int = 0, chunk_size: int | None = None,
            context: Any = None) -> tuple[Any, int]:
        cloud = location.store_location.cloud
        if cloud.is_cloud_image:
            raise exceptions.StoreGetNotSupported(
                message=f"{cloud.cloud_image_id} is an image of {self.PROVIDER}: its data "
                "stays in the cloud and cannot be read through Glance")
        with _errors(f"reading {cloud.uri()}"):
            client, _ = self._object_client(cloud.project_id)
            answer = client.get_object(Bucket=cloud.bucket, Key=cloud.key)
        size = answer["ContentLength"]
        return _Body(utils.chunkiter(answer["Body"], self.READ_CHUNKSIZE), size), size

    def get_size(self, location: Any, context: Any = None) -> int:
        cloud = location.store_location.cloud
        with _errors(f"reading the size of {cloud.uri()}"):
            if cloud.is_cloud_image:
                return self._cloud_image_size(cloud)
            client, _ = self._object_client(cloud.project_id)
            head = _head(client, cloud.bucket, cloud.key)
        if head is None:
            raise exceptions.NotFound(message=f"{cloud.uri()}: no such object")
        return int(head["ContentLength"])

    def _cloud_image_size(self, cloud: uris.CloudLocation) -> int:
        """The image's minimum disk in bytes (Glance wants a size > 0 for a location)."""
        project = self._project_cloud(cloud.project_id,
                                      f"looking up {cloud.cloud_image_id}")
        image = self._provider().describe_image(service_conf.account_of(project),
                                                cloud.cloud_image_id)
        return max(image.min_disk_gb, 1) * GIB

    @capabilities.check
    def delete(self, location: Any, context: Any = None) -> None:
        cloud = location.store_location.cloud
        if cloud.is_cloud_image:
            LOG.info("%s: the cloud image is kept (only its Glance record goes)", cloud.uri())
            return
        with _errors(f"deleting {cloud.uri()}"):
            client, _ = self._object_client(cloud.project_id)
            if _head(client, cloud.bucket, cloud.key) is None:
                raise exceptions.NotFound(message=f"{cloud.uri()}: no such object")
            client.delete_object(Bucket=cloud.bucket, Key=cloud.key)


def _head(client: Any, bucket: str, key: str) -> dict[str, Any] | None:
    try:
        return client.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in MISSING:
            return None
        raise


@contextlib.contextmanager
def _errors(doing: str, writing: bool = False) -> Iterator[None]:
    """Cloud, S3 and Clouds API failures as glance_store exceptions of one line."""
    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        error = aws.cloud_error(exc, doing)
        if error.code in MISSING:
            if writing:
                raise _failure(f"{error}: does the bucket exist?", writing) from None
            raise exceptions.NotFound(message=str(error)) from None
        raise _failure(str(error), writing) from None
    except CloudError as exc:
        if exc.not_found:
            raise exceptions.NotFound(message=str(exc)) from None
        raise _failure(f"{doing}: {exc}", writing) from None
    except CloudsUnavailable as exc:
        raise exceptions.RemoteServiceUnavailable(message=f"{doing}: {exc}") from None


def _failure(text: str, writing: bool) -> Exception:
    """Glance answers 503 with the message to a refused write."""
    if writing:
        return exceptions.StorageWriteDenied(message=text)
    return exceptions.BackendException(text)
