"""Cinder's storage pools as CloudManager keeps them, as plain data.

storage_sync fills them from Cinder every ``[storage_sync] sync_interval``. A capacity is
a number of GiB, or Cinder's own word for it (``infinite``, ``unknown``) when the driver
reports no figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

Capacity = float | str | None


class PoolState(StrEnum):
    UP = "up"          # reported by Cinder, its cinder-volume service up
    DOWN = "down"      # its cinder-volume service is down
    GONE = "gone"      # Cinder no longer knows the pool (backend removed or reconfigured)


@dataclass(frozen=True)
class PoolReport:
    """One pool as Cinder's scheduler reports it now (``get_pools?detail=true``)."""

    name: str                       # host@backend#pool
    volume_backend_name: str | None
    total_gb: Capacity
    free_gb: Capacity
    allocated_gb: Capacity

    @property
    def backend(self) -> str:
        return backend_of(self.name)


@dataclass(frozen=True)
class VolumeService:
    """A cinder-volume service: one per backend (``host@backend``)."""

    backend: str
    up: bool
    enabled: bool
    disabled_reason: str | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class PoolRecord:
    """A pool as stored: its last reported figures, its state and since when, and the
    compute hosts with a volume of the pool attached at the last sync."""

    name: str
    backend: str
    volume_backend_name: str | None
    total_gb: Capacity
    free_gb: Capacity
    allocated_gb: Capacity
    enabled: bool
    state: PoolState
    state_reason: str
    state_since: datetime
    hosts: tuple[str, ...]
    reported_at: datetime


def backend_of(pool_or_host: str) -> str:
    """``host@backend`` of ``host@backend#pool`` (Cinder's volume host names)."""
    return pool_or_host.partition("#")[0]
