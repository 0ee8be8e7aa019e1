"""Reads of CloudManager's own inventory that stand in for Nova and Placement when it is
fresh (``cloud_manager.inventory.freshness``): capacities by service host and zones.

At failure time this replaces two Placement requests per resource provider (2,000 for 1,000
hosts) with two queries of our database.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from cloud_manager.db import api as db_api
from cloud_manager.inventory.capacity import free, load
from cloud_manager.inventory.freshness import freshness
from cloud_manager.model.inventory import InstanceRecord
from cloud_manager.nova import HostCapacity
from cloud_manager.runtime import Runtime

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoredView:
    capacities: dict[str, HostCapacity]
    zones: dict[str, str]
    hypervisor_hostnames: dict[str, str]


def stored_view(runtime: Runtime, clock: Callable[[], float]) -> StoredView | None:
    """Capacities and zones of every host from the inventory; None when it is empty or
    stale (the caller reads Nova and Placement then), with the reason logged."""
    conf = runtime.conf.node_sync
    with runtime.transaction() as session:
        last = db_api.last_sync(session)
        hosts = db_api.inventory_hosts(session)
        verdict = freshness(last.finished_at if last else None, len(hosts),
                            db_api.from_timestamp(clock()), conf.sync_interval, conf.enabled)
        if not verdict.usable:
            LOG.info("not planning from the inventory (%s): reading Nova and Placement",
                     verdict.reason)
            return None
        held = db_api.instance_totals(session)
    capacities, zones, names = {}, {}, {}
    for name, host in hosts.items():
        if host.az:
            zones[name] = host.az
        if host.hypervisor_hostname:
            names[name] = host.hypervisor_hostname
        if not host.resources:
            continue  # no provider in Placement: no capacity known, not a target
        room = free(host, held.get(name))
        capacities[name] = HostCapacity(
            host=name, free_ram_mb=room.get("MEMORY_MB", 0), free_vcpus=room.get("VCPU", 0),
            free_disk_gb=room.get("DISK_GB", 0),
            totals={rc: r.total for rc, r in host.resources.items()},
            used=load(host, held.get(name)), hypervisor_hostname=host.hypervisor_hostname)
    return StoredView(capacities, zones, names)


def stored_instances(runtime: Runtime, hosts: set[str]) -> dict[str, list[InstanceRecord]]:
    """The inventory's instances of ``hosts`` (deleted ones left out), by host."""
    with runtime.transaction() as session:
        everything = db_api.inventory_instances(session)
    out: dict[str, list[InstanceRecord]] = {host: [] for host in hosts}
    for record in everything.values():
        if record.host in out and not record.deleted:
            out[record.host].append(record)
    return out
