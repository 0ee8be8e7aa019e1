"""The cloud model a planner decides on: compute hosts with their free capacity, and instances.

Built by ``cloud_manager.execution.inventory`` from Nova, Placement and our database; planners
(``cloud_manager.ha.evacuation_planner``, balancing next) take it and return actions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Instance:
    """``not_movable``: why it cannot live-migrate (empty: it can), e.g. not ACTIVE."""

    id: str
    name: str
    host: str
    priority: int
    ram_mb: int
    vcpus: int
    disk_gb: int
    az: str | None = None
    not_movable: str = ""


@dataclass(frozen=True)
class TargetHost:
    """A candidate target host; reserve hosts are kept disabled in Nova, so `enabled` is ignored."""

    name: str
    free_ram_mb: int
    free_vcpus: int
    free_disk_gb: int
    reserve: bool = False
    enabled: bool = True
    up: bool = True
    az: str | None = None
    # RAM load (balancing): physical RAM (Placement's MEMORY_MB total) and what instances use.
    ram_mb: int = 0
    used_ram_mb: int = 0
    # Why no planner may touch the host besides HA's own (maintenance, an HA incident); empty:
    # nothing.
    excluded: str = ""


@dataclass(frozen=True)
class Aggregate:
    """A Nova host aggregate; its metadata says whether it is balanced."""

    name: str
    hosts: tuple[str, ...]
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ServerGroup:
    """A Nova server group: ``policy`` is affinity, anti-affinity, soft-affinity or
    soft-anti-affinity; ``members`` are instance ids."""

    id: str
    name: str
    policy: str
    members: tuple[str, ...] = ()


@dataclass(frozen=True)
class CloudModel:
    """One snapshot: the hosts instances may go to, the instances concerned, and what reading
    them found worth telling (e.g. an unreadable recovery priority)."""

    hosts: tuple[TargetHost, ...]
    instances: tuple[Instance, ...]
    warnings: tuple[str, ...] = ()
    aggregates: tuple[Aggregate, ...] = ()
    server_groups: tuple[ServerGroup, ...] = ()
