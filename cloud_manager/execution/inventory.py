"""Reads the cloud model a planner decides on, from Nova, Placement and our database.

The reads are independent, so they are sent at once: when a node has just been fenced, the
plan is ready about when Nova has been told, and the first evacuation follows at once.

Targets' capacities and zones come from CloudManager's inventory when it is fresh (else from
Placement: two requests per provider). The failed host's instances, the services' state and
the migration mark are always read from Nova: a stale view may misjudge a target's room (Nova's
scheduler checks the target), never which instances must leave the host.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from cloud_manager.db import api as db_api
from cloud_manager.execution.stored_inventory import stored_view
from cloud_manager.ha.priority import resolve_priority
from cloud_manager.heartbeat import Heartbeats
from cloud_manager.model.cloud import CloudModel, Instance, TargetHost
from cloud_manager.runtime import Runtime


@dataclass(frozen=True)
class EvacuationInputs:
    """What planning a host's evacuation needs, and the node's newest Nova evacuation record
    before any request of this task (newer records are the task's own)."""

    model: CloudModel
    strategy: str
    nova_migration_mark: int


def read_evacuation_inputs(runtime: Runtime, task_id: str, heartbeats: Heartbeats,
                           default_priority: int, clock: Callable[[], float]
                           ) -> EvacuationInputs | None:
    """The model for evacuating the task's host; None when the task has a plan already."""
    with runtime.transaction() as session:
        task = db_api.task(session, task_id)
        if db_api.items(session, task_id):
            return None
        host, strategy = task.hostname, task.strategy
        nodes = {n.hostname: (n.reserve, n.maintenance) for n in db_api.nodes(session)}
        devices = {d.hostname for d in db_api.power_devices(session) if d.hostname}
    nova = runtime.nova
    with ThreadPoolExecutor(max_workers=5) as pool:  # independent reads, at once
        servers = pool.submit(nova.servers_on_host, host)
        services = pool.submit(nova.compute_services)
        migration_mark = pool.submit(nova.newest_evacuation_id, host)
        stored = stored_view(runtime, clock)
        if stored is None:
            zones, capacities = pool.submit(nova.host_zones), pool.submit(nova.capacities)
        last_seen = heartbeats.last_seen()
        if stored is None:
            zones, capacities = zones.result(), capacities.result()
        else:
            zones, capacities = stored.zones, stored.capacities
    instances, warnings = [], []
    for server in servers.result():
        priority = resolve_priority(server.metadata, server.flavor_extra_specs,
                                    default_priority)
        if priority.warning:
            warnings.append(f"{server.id}: {priority.warning}")
        instances.append(Instance(id=server.id, name=server.name, host=host,
                                  priority=priority.value, ram_mb=server.ram_mb,
                                  vcpus=server.vcpus, disk_gb=server.disk_gb,
                                  az=server.az or None))
    now = db_api.from_timestamp(clock())
    targets = []
    for service in services.result():
        reserve, maintenance = nodes.get(service.host, (False, False))
        capacity = capacities.get(service.host)
        if service.host == host or capacity is None or maintenance:
            continue
        usable = heartbeats.usable_by_nova(service, last_seen, now)
        targets.append(TargetHost(
            name=service.host, free_ram_mb=capacity.free_ram_mb,
            free_vcpus=capacity.free_vcpus, free_disk_gb=capacity.free_disk_gb,
            reserve=reserve, enabled=service.enabled,
            up=usable or (reserve and service.host in devices),
            az=zones.get(service.host)))
    model = CloudModel(hosts=tuple(targets), instances=tuple(instances),
                       warnings=tuple(warnings))
    return EvacuationInputs(model, strategy, migration_mark.result())
