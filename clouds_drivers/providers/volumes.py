"""Block storage of one cloud account, for the Cinder drivers: the contract over plain data.

Kept beside the Provider contract (not in it): only the volume drivers need it, and the Clouds
service never creates volumes. Every call has the provider's timeout; every failure is a
CloudError; deleting what is already gone is not an error, so a retried delete is safe.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from clouds_drivers.providers.base import CloudError


@dataclass(frozen=True)
class CloudVolume:
    id: str
    size_gb: int
    zone: str
    status: str
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class VolumeSource:
    """Where a new volume's data comes from: nothing, a cloud snapshot or a cloud image."""

    snapshot_id: str | None = None
    image_id: str | None = None


class CloudVolumes(abc.ABC):
    """Volumes and snapshots of one account, created in the account's zone."""

    @abc.abstractmethod
    def create(self, name: str, size_gb: int, tags: dict[str, str],
               source: VolumeSource | None = None) -> str:
        """A new volume, ready to attach; its cloud id."""

    @abc.abstractmethod
    def delete(self, volume_id: str) -> None: ...

    @abc.abstractmethod
    def extend(self, volume_id: str, size_gb: int) -> None: ...

    @abc.abstractmethod
    def snapshot(self, volume_id: str, name: str, tags: dict[str, str]) -> str:
        """A completed snapshot of the volume; its cloud id."""

    @abc.abstractmethod
    def delete_snapshot(self, snapshot_id: str) -> None: ...

    @abc.abstractmethod
    def describe(self, volume_id: str) -> CloudVolume | None:
        """The volume as the cloud has it; None when it does not exist."""


def gone_ok(delete: Callable[[], Any]) -> None:
    """Run a delete; the object being gone already is what was wanted."""
    try:
        delete()
    except CloudError as exc:
        if not exc.not_found:
            raise
