"""Uploading an existing Glance image to its project's cloud, as a worker task.

The image file is streamed from Glance into the cloud's bucket (``[images] aws_bucket`` in S3,
``yandex_bucket`` in Yandex Object Storage), the cloud imports it (AWS VM Import; Yandex
Compute's image create from the object), and the cloud image is registered back in Glance the
way ``images register`` does it (a private image with the cloud's location and properties).
The request is checked before anything is queued (an image not active, not the project's, of a
format the cloud cannot import or over the size limit is refused with the reason); a second
request for the same image returns the same upload.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from clouds.accounts import Accounts, BadRequest
from clouds.db import api as db
from clouds.db.models import Cloud, ImageUpload
from clouds.openstack_adapter import OpenStackError
from clouds.runtime import Runtime
from clouds_drivers.providers.base import Account, CloudError
from clouds_drivers.providers.image_import import ImageImport

LOG = logging.getLogger(__name__)
UPLOAD_TASK = "clouds.upload_image"
ACTIVE = ("pending", "uploading", "importing", "registering")
GIB = 1024**3
#: Seconds between two writes of the bytes uploaded so far.
PROGRESS_EVERY = 1.0
#: Seconds a worker holds an upload past its last write (every PROGRESS_EVERY while bytes
#: flow, at every import poll); after that a worker that died is taken over.
UPLOAD_LEASE = 300.0
#: What ``run`` answers when another worker holds the upload: the task is retried later.
HELD = "held"


class NoSuchImage(LookupError):
    pass


class LeaseLost(RuntimeError):
    """Another worker took the upload over (this one stalled past its lease): stop."""


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


# --- pure decisions -------------------------------------------------------------------------

def formats(provider: str) -> dict[str, str]:
    """Glance disk formats the cloud imports."""
    if provider == "aws":
        from clouds_drivers.providers.aws_image_import import AwsImageImport

        return AwsImageImport.FORMATS
    from clouds_drivers.providers.yandex_image_import import YandexImageImport

    return YandexImageImport.FORMATS


def check_uploadable(image: dict[str, Any] | None, image_ref: str, project_id: str,
                     provider: str, max_size_gb: int) -> int:
    """The image's size in bytes if it can go to ``provider``; the reason why not if not."""
    if image is None:
        raise NoSuchImage(f"no Glance image {image_ref}")
    if image.get("owner") != project_id:
        raise BadRequest(f"image {image_ref} belongs to project {image.get('owner')}, not to "
                         f"{project_id}: only a project's own images go to its cloud")
    if image.get("status") != "active":
        raise db.Conflict(f"image {image_ref} is {image.get('status')}: only an active image "
                          "(with its data in Glance) can be uploaded")
    accepted = formats(provider)
    if image.get("disk_format") not in accepted:
        raise BadRequest(f"image {image_ref} is {image.get('disk_format')}: {provider} imports "
                         f"{', '.join(sorted(accepted))} (convert it first)")
    size = int(image.get("size") or 0)
    if size > max_size_gb * GIB:
        raise BadRequest(f"image {image_ref} is {size / GIB:.1f} GiB, over the limit of "
                         f"{max_size_gb} GiB ([images] max_size_gb in clouds.conf)")
    return size


def percent(state: str, bytes_done: int, size: int, import_progress: int) -> int:
    """Upload and import each make half of the bar; registering is the last step."""
    if state == "done":
        return 100
    if state == "registering":
        return 99
    upload = 50 * min(bytes_done, size) // size if size else 0
    if state in ("importing", "failed") and import_progress:
        return 50 + min(import_progress, 100) // 2
    return 50 if state == "importing" else upload


def view(row: ImageUpload, project_id: str) -> dict[str, Any]:
    return {"id": row.id, "project_id": project_id, "image_id": row.image_id,
            "state": row.state, "size": row.size, "bytes_uploaded": row.bytes_done,
            "progress": percent(row.state, row.bytes_done, row.size, row.import_progress),
            "import_task_id": row.import_task_id, "cloud_image_id": row.cloud_image_id,
            "glance_image_id": row.glance_image_id, "error": row.error,
            "created_at": row.created_at.isoformat() + "Z",
            "updated_at": row.updated_at.isoformat() + "Z"}


# --- the service ----------------------------------------------------------------------------

@dataclass
class ImageUploads:
    runtime: Runtime
    dispatch: Callable[[int], None] | None = None
    owner: str = field(default_factory=worker_id)

    def request(self, project: str, image_id: str) -> tuple[dict[str, Any], bool]:
        """(the upload, whether it was queued now). A failed one is started again."""
        accounts = Accounts(self.runtime)
        with self.runtime.transaction() as session:
            row, _ = accounts.row_of(session, project)
            cloud_id, project_id, provider = row.id, row.project_id, row.provider
            existing = db.find_upload(session, cloud_id, image_id)
            if existing is not None and existing.state != "failed":
                return view(existing, project_id), False
        size = check_uploadable(self.runtime.openstack.image(image_id), image_id, project_id,
                                provider, self.runtime.conf.images.max_size_gb)
        self._bucket(provider)
        with self.runtime.transaction() as session:
            found = db.find_upload(session, cloud_id, image_id)
            if found is None:
                found = db.add_upload(session, cloud_id, image_id, size)
            elif found.state == "failed":
                found.state, found.error, found.size = "pending", None, size
                found.bytes_done = found.import_progress = 0
                found.import_task_id = None
            else:
                return view(found, project_id), False
            session.flush()
            result, upload_id = view(found, project_id), found.id
        if self.dispatch is not None:
            self.dispatch(upload_id)
        return result, True

    def show(self, project: str, upload_id: int) -> dict[str, Any]:
        with self.runtime.transaction() as session:
            row, _ = Accounts(self.runtime).row_of(session, project)
            found = db.upload(session, upload_id)
            if found.cloud_id != row.id:
                raise db.NotFound(f"no image upload {upload_id} for project {project}")
            return view(found, row.project_id)

    def list(self, project: str) -> list[dict[str, Any]]:
        with self.runtime.transaction() as session:
            row, _ = Accounts(self.runtime).row_of(session, project)
            return [view(u, row.project_id) for u in db.uploads(session, row.id)]

    # --- the worker -------------------------------------------------------------------------

    def run(self, upload_id: int, sleep: Callable[[float], None] = time.sleep,
            clock: Callable[[], float] = time.monotonic) -> str:
        """Carry the upload on from the step it reached; its final state, or HELD while
        another worker holds it."""
        accounts = Accounts(self.runtime)
        with self.runtime.transaction() as session:
            row = db.upload(session, upload_id)
            if row.state not in ACTIVE:
                return row.state
            if not db.claim_upload(session, upload_id, self.owner, UPLOAD_LEASE):
                LOG.info("upload %s is carried on by worker %s", upload_id, row.owner)
                return HELD
            cloud = row.cloud_id
            account = accounts.account(session.get(Cloud, cloud))
            project_id = session.get(Cloud, cloud).project_id
            image_id, task_id = row.image_id, row.import_task_id
        try:
            image = self.runtime.openstack.image(image_id)
            if image is None:
                raise NoSuchImage(f"Glance image {image_id} is gone")
            importer = self._importer(account)
            if task_id is None:
                task_id = self._upload(upload_id, importer, image, account.provider)
            ami = self._wait_import(upload_id, importer, task_id, sleep, clock)
            self._save(upload_id, state="registering", cloud_image_id=ami)
            registered = accounts.register_image(project_id, ami, image.get("name"))
            with self.runtime.transaction() as session:
                db.record(session, cloud, "image", image_id, ami,
                          {"glance_image_id": registered["image_id"]})
            self._save(upload_id, release=True, state="done",
                       glance_image_id=registered["image_id"])
            LOG.info("image %s of project %s is AMI %s, registered as Glance image %s",
                     image_id, project_id, ami, registered["image_id"])
            return "done"
        except LeaseLost as exc:
            LOG.warning("upload %s of image %s: %s; this worker stops", upload_id, image_id,
                        exc)
            return HELD
        except (CloudError, OpenStackError, NoSuchImage, db.NotFound, db.Conflict,
                TimeoutError) as exc:
            LOG.warning("upload %s of image %s failed: %s", upload_id, image_id, exc)
            try:
                self._save(upload_id, release=True, state="failed", error=str(exc))
            except LeaseLost:
                return HELD
            return "failed"

    def _bucket(self, provider: str) -> str:
        option = f"{provider}_bucket"
        bucket = getattr(self.runtime.conf.images, option)
        if not bucket:
            raise BadRequest(f"no bucket to upload to: set [images] {option} in clouds.conf")
        return bucket

    def _importer(self, account: Account) -> ImageImport:
        provider = self.runtime.provider(account.provider)
        if account.provider == "aws":
            from clouds_drivers.providers.aws_image_import import AwsImageImport

            return AwsImageImport(provider, account)
        from clouds_drivers.providers.yandex_image_import import YandexImageImport

        conf = self.runtime.conf.images
        if not (conf.yandex_access_key_id and conf.yandex_secret_access_key):
            raise CloudError("no Object Storage key: set [images] yandex_access_key_id and "
                             "yandex_secret_access_key in clouds.conf")
        return YandexImageImport(provider, account, conf.yandex_storage_endpoint,
                                 conf.yandex_access_key_id, conf.yandex_secret_access_key)

    def _save(self, upload_id: int, release: bool = False, **values: Any) -> None:
        """Write progress and extend this worker's lease (``release``: the final write)."""
        with self.runtime.transaction() as session:
            if not db.save_upload(session, upload_id, self.owner,
                                  None if release else UPLOAD_LEASE, **values):
                raise LeaseLost(f"upload {upload_id} was taken over by another worker")

    def _upload(self, upload_id: int, importer: ImageImport, image: dict[str, Any],
                provider: str) -> str:
        conf = self.runtime.conf.images
        bucket = self._bucket(provider)
        key = f"{conf.key_prefix}{image['id']}"
        self._save(upload_id, state="uploading", bytes_done=0)
        sent, last = [0], [time.monotonic()]

        def on_bytes(count: int) -> None:
            sent[0] += count
            if time.monotonic() - last[0] >= PROGRESS_EVERY:
                last[0] = time.monotonic()
                self._save(upload_id, bytes_done=sent[0])

        with self.runtime.openstack.image_data(image["id"]) as stream:
            importer.put(bucket, key, stream, on_bytes)
        task_id = importer.start(bucket, key, image["disk_format"], _cloud_name(image),
                                 f"Glance image {image['id']} ({image.get('name') or ''})")
        self._save(upload_id, state="importing", bytes_done=sent[0], import_task_id=task_id)
        return task_id

    def _wait_import(self, upload_id: int, importer: ImageImport, task_id: str,
                     sleep: Callable[[float], None], clock: Callable[[], float]) -> str:
        conf = self.runtime.conf.images
        deadline = clock() + conf.import_timeout
        while True:
            status = importer.status(task_id)
            self._save(upload_id, import_progress=status.progress)
            if status.ended:
                if status.image_id:
                    return status.image_id
                raise CloudError(f"import {task_id} ended without an image: "
                                 f"{status.message or 'no reason given'}")
            if clock() >= deadline:
                raise TimeoutError(f"import {task_id} not finished after "
                                   f"{conf.import_timeout} s ([images] import_timeout)")
            sleep(conf.poll_interval)


def _cloud_name(image: dict[str, Any]) -> str:
    """A name Yandex accepts ([a-z][-a-z0-9]{1,61}[a-z0-9]), unique per Glance image."""
    return f"glance-{image['id']}"[:63]
