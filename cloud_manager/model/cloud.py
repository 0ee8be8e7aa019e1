"""The cloud model a planner decides on: compute hosts with their free capacity, and instances.

Built by ``cloud_manager.execution.inventory`` from Nova, Placement and our database; planners
(``cloud_manager.ha.evacuation_planner``, balancing next) take it and return actions.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Instance:
    id: str
    name: str
    host: str
    priority: int
    ram_mb: int
    vcpus: int
    disk_gb: int
    az: str | None = None


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


@dataclass(frozen=True)
class CloudModel:
    """One snapshot: the hosts instances may go to, the instances concerned, and what reading
    them found worth telling (e.g. an unreadable recovery priority)."""

    hosts: tuple[TargetHost, ...]
    instances: tuple[Instance, ...]
    warnings: tuple[str, ...] = ()
