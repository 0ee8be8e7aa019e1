"""What the EBS and Yandex volume drivers share: a Cinder VolumeDriver whose volumes and
snapshots live in the volume's project's cloud account.

Each call gets the project's short-lived credentials from the Clouds API, works in the
account's zone, tags what it creates with its OpenStack ids and records it in the Clouds
resource map (kinds ``volume``, ``snapshot``). A cloud failure raises Cinder's
VolumeBackendAPIException with the cloud's one-line message, which Cinder turns into the
object's ``error`` status; the line is also kept in the object's ``aos_cloud_error``
metadata, where the project's members see it.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

from cinder import exception
from cinder.volume import driver
from oslo_config import cfg

from clouds_drivers.cinder import decide
from clouds_drivers.cinder.cloud import VolumeCloud
from clouds_drivers.clouds_api import CloudsUnavailable, ProjectCloud
from clouds_drivers.providers.base import CloudError
from clouds_drivers.providers.volumes import CloudVolumes, VolumeSource
from clouds_drivers.tags import openstack_tags

LOG = logging.getLogger(__name__)


class CloudVolumeDriver(driver.VolumeDriver):
    """A backend in one public cloud (``cloud`` is the provider name, set by subclasses)."""

    VERSION = decide.DRIVER_VERSION
    cloud: str = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._edge: VolumeCloud | None = None

    # --- set-up and reports -----------------------------------------------------------------

    def do_setup(self, context: Any) -> None:
        """Clients only (no call): the clouds and the Clouds API are asked per request."""
        self._edge = VolumeCloud(cfg.CONF, self.cloud)

    def check_for_setup_error(self) -> None:
        if self._edge is None:
            raise exception.VolumeDriverException(message="do_setup was not run")

    @property
    def edge(self) -> VolumeCloud:
        if self._edge is None:
            self.do_setup(None)
        assert self._edge is not None
        return self._edge

    def _update_volume_stats(self) -> None:
        name = self.configuration.safe_get("volume_backend_name") or type(self).__name__
        self._stats = decide.stats(name, self.cloud)

    # --- the cloud, with errors as Cinder's ----------------------------------------------------

    @contextlib.contextmanager
    def _in_cloud(self, doing: str, owner: Any = None) -> Iterator[None]:
        """Failures as VolumeBackendAPIException with one line; noted on ``owner``."""
        try:
            yield
        except (CloudError, CloudsUnavailable, decide.Refused) as exc:
            line = decide.one_line(f"{doing}: {exc}")
            LOG.error("%s", line)
            if owner is not None:
                _note_error(owner, line)
            raise exception.VolumeBackendAPIException(data=line) from None

    def _project(self, project_id: str) -> tuple[ProjectCloud, CloudVolumes]:
        project = self.edge.project(project_id)
        return project, self.edge.volumes(project)

    def _create(self, volume: Any, source: VolumeSource | None, doing: str
                ) -> dict[str, Any]:
        with self._in_cloud(doing, volume):
            project, volumes = self._project(volume.project_id)
            cloud_id = volumes.create(decide.cloud_name("volume", volume.id), volume.size,
                                      openstack_tags("volume", volume.id, volume.project_id),
                                      source)
            self.edge.record(project, "volume", volume.id, cloud_id,
                             undo=lambda: volumes.delete(cloud_id),
                             data={"size_gb": volume.size, "zone": project.zone})
        LOG.info("volume %s is %s %s in %s", volume.id, self.cloud, cloud_id, project.zone)
        return {"provider_id": cloud_id}

    def _cloud_id(self, obj: Any, kind: str) -> str | None:
        return obj.provider_id or self.edge.mapped(obj.project_id, kind, obj.id)

    # --- volumes ------------------------------------------------------------------------------

    def create_volume(self, volume: Any) -> dict[str, Any]:
        return self._create(volume, None, f"creating volume {volume.id}")

    def create_volume_from_snapshot(self, volume: Any, snapshot: Any) -> dict[str, Any]:
        doing = f"creating volume {volume.id} from snapshot {snapshot.id}"
        with self._in_cloud(doing, volume):
            snapshot_id = self._cloud_id(snapshot, "snapshot")
            if not snapshot_id:
                raise decide.Refused(f"snapshot {snapshot.id} has no {self.cloud} snapshot")
        return self._create(volume, VolumeSource(snapshot_id=snapshot_id), doing)

    def clone_image(self, context: Any, volume: Any, image_location: Any, image_meta: Any,
                    image_service: Any) -> tuple[dict[str, Any] | None, bool]:
        """A volume from an image registered from this cloud is made by the cloud itself."""
        doing = f"creating volume {volume.id} from image {image_meta.get('id')}"
        with self._in_cloud(doing, volume):
            image_id = decide.cloud_image(image_meta, self.cloud)
        if image_id is None:
            return None, False
        return self._create(volume, VolumeSource(image_id=image_id), doing), True

    def copy_image_to_volume(self, context: Any, volume: Any, image_service: Any,
                             image_id: str, disable_sparse: bool = False) -> None:
        line = (f"image {image_id} is not registered from {decide.CLOUD_NAMES[self.cloud]}: "
                "a cloud volume is made only from the cloud's own images "
                "(openstack aos clouds images register)")
        _note_error(volume, line)
        raise exception.VolumeBackendAPIException(data=line)

    def copy_volume_to_image(self, context: Any, volume: Any, image_service: Any,
                             image_meta: Any) -> None:
        raise exception.VolumeBackendAPIException(
            data=f"volume {volume.id} lives in {decide.CLOUD_NAMES[self.cloud]}: uploading "
            "it to Glance is not supported")

    def delete_volume(self, volume: Any) -> None:
        with self._in_cloud(f"deleting volume {volume.id}", volume):
            cloud_id = self._cloud_id(volume, "volume")
            if not cloud_id:
                LOG.info("volume %s never reached %s: nothing to delete", volume.id, self.cloud)
                return
            _, volumes = self._project(volume.project_id)
            volumes.delete(cloud_id)
            self.edge.forget(volume.project_id, "volume", volume.id)

    def extend_volume(self, volume: Any, new_size: int) -> None:
        with self._in_cloud(f"extending volume {volume.id} to {new_size} GiB", volume):
            _, volumes = self._project(volume.project_id)
            volumes.extend(volume.provider_id, new_size)

    # --- snapshots ------------------------------------------------------------------------------

    def create_snapshot(self, snapshot: Any) -> dict[str, Any]:
        with self._in_cloud(f"creating snapshot {snapshot.id}", snapshot):
            project, volumes = self._project(snapshot.project_id)
            source = self._cloud_id(snapshot.volume, "volume")
            if not source:
                raise decide.Refused(f"volume {snapshot.volume_id} has no {self.cloud} volume")
            cloud_id = volumes.snapshot(
                source, decide.cloud_name("snapshot", snapshot.id),
                openstack_tags("snapshot", snapshot.id, snapshot.project_id))
            self.edge.record(project, "snapshot", snapshot.id, cloud_id,
                             undo=lambda: volumes.delete_snapshot(cloud_id),
                             data={"volume_id": snapshot.volume_id})
        return {"provider_id": cloud_id}

    def delete_snapshot(self, snapshot: Any) -> None:
        with self._in_cloud(f"deleting snapshot {snapshot.id}", snapshot):
            cloud_id = self._cloud_id(snapshot, "snapshot")
            if not cloud_id:
                return
            _, volumes = self._project(snapshot.project_id)
            volumes.delete_snapshot(cloud_id)
            self.edge.forget(snapshot.project_id, "snapshot", snapshot.id)

    # --- attachments: the compute driver attaches with the instance's cloud id ------------------

    def initialize_connection(self, volume: Any, connector: Any, **kwargs: Any
                              ) -> dict[str, Any]:
        if not volume.provider_id:
            raise exception.VolumeBackendAPIException(
                data=f"volume {volume.id} has no {self.cloud} volume to attach")
        return decide.connection_info(self.cloud, volume.provider_id)

    def terminate_connection(self, volume: Any, connector: Any, **kwargs: Any) -> None:
        """Nothing here: the compute driver detaches it in the cloud."""

    def create_export(self, context: Any, volume: Any, connector: Any) -> None:
        """No export: the cloud attaches its volumes itself."""

    def ensure_export(self, context: Any, volume: Any) -> None:
        """No export: the cloud attaches its volumes itself."""

    def remove_export(self, context: Any, volume: Any) -> None:
        """No export: the cloud attaches its volumes itself."""


def _note_error(owner: Any, line: str) -> None:
    """The cloud's message in the volume's or snapshot's metadata (best effort)."""
    try:
        owner.metadata = {**(owner.metadata or {}), decide.ERROR_METADATA: line}
        owner.save()
    except Exception:  # noqa: BLE001 - the error being reported matters more
        LOG.warning("could not note the error on %s", getattr(owner, "id", owner))
