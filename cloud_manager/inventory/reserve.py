"""Which free hypervisors join the reserve pool.

A host with no instance for ``reserve_interval`` seconds is kept for failovers instead
(disabled in Nova, left powered). Only a host that is up, in service, enabled in Nova and not
worked on qualifies, and at least one host stays in service: the pool is for spare hosts, not
for emptying the cloud.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class HostView:
    """What the decision needs of one host (from the inventory and the nodes table)."""

    hostname: str
    instances: int
    free_since: datetime | None
    up: bool
    enabled: bool
    reserve: bool
    maintenance: bool
    busy: bool  # a host task is active


def free_since(known: datetime | None, instances: int, read_at: datetime) -> datetime | None:
    """Since when the host has been free of instances (None: it has some)."""
    if instances:
        return None
    return known or read_at


def to_reserve(hosts: Mapping[str, HostView], now: datetime, reserve_interval: float
               ) -> list[tuple[str, str]]:
    """(host, why) of each host to move to the reserve pool now."""
    in_service = {h for h, v in hosts.items()
                  if not v.reserve and not v.maintenance and v.up and v.enabled}
    chosen: list[tuple[str, str]] = []
    for name in sorted(hosts):
        view = hosts[name]
        if name not in in_service or view.busy or view.instances or view.free_since is None:
            continue
        free_for = (now - view.free_since).total_seconds()
        if free_for < reserve_interval:
            continue
        if len(in_service) - len(chosen) <= 1:
            break  # the last host in service stays there
        chosen.append((name, f"free of instances for {free_for:.0f}s (reserve_interval "
                       f"{reserve_interval:.0f}s): moved to the reserve pool by node_sync"))
    return chosen
