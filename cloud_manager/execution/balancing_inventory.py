"""Reads the model a balancing plan is made from: the aggregates, their hosts' RAM load and
free capacity (Placement), their instances and the server groups (Nova), and what our
database says of each node (maintenance, an HA incident).

Capacities, zones and instances come from CloudManager's inventory when it is fresh (else
from Placement and one server listing per host); aggregates, server groups and services are
read from Nova each time. Each live migration is checked against Nova before it is sent
(``cloud_manager.execution.live_migrations``).

HA always wins: a node that is not ``up`` in the node state machine, is in maintenance or has
an active host task is left out with the reason, so it is never a source or a target.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from cloud_manager.db import api as db_api
from cloud_manager.execution.stored_inventory import stored_instances, stored_view
from cloud_manager.ha.node_state import NodeState
from cloud_manager.heartbeat import Heartbeats
from cloud_manager.model.cloud import Aggregate, CloudModel, Instance, ServerGroup, TargetHost
from cloud_manager.model.inventory import InstanceRecord
from cloud_manager.nova import HostAggregate, Server
from cloud_manager.runtime import Runtime

# A PCI device passed through pins an instance to its host's hardware.
PCI_ALIAS_SPEC = "pci_passthrough:alias"


@dataclass(frozen=True)
class BalancingInputs:
    model: CloudModel
    nova_migration_mark: int


def node_exclusions(runtime: Runtime) -> dict[str, str]:
    """Why each node CloudManager must not balance is left out (HA first)."""
    with runtime.transaction() as session:
        out: dict[str, str] = {}
        for node in db_api.nodes(session):
            if node.maintenance:
                out[node.hostname] = "in maintenance"
            elif node.state != NodeState.UP:
                out[node.hostname] = f"HA: node is {node.state}"
            else:
                task = db_api.active_task(session, node.hostname)
                if task is not None:
                    out[node.hostname] = f"HA: host task {task.id} ({task.kind}) active"
        return out


def why_not_movable(server: Server) -> str:
    """Why Nova would not live-migrate the server (empty: it would)."""
    return _why_not(server.status, server.task_state, server.flavor_extra_specs)


def _why_not(status: str, task_state: str | None, extra_specs: dict[str, str]) -> str:
    if status != "ACTIVE":
        return f"status {status}: only ACTIVE instances are live-migrated"
    if task_state:
        return f"busy: task_state {task_state}"
    if extra_specs.get(PCI_ALIAS_SPEC):
        return f"PCI device passed through (flavor {PCI_ALIAS_SPEC})"
    return ""


#: Nova's API status of a vm_state where the two differ (nova.api.openstack.common), so that
#: a reason reads the same whichever source the instance came from.
_API_STATUS = {"stopped": "SHUTOFF", "building": "BUILD", "rescued": "RESCUE",
               "resized": "VERIFY_RESIZE"}


def _stored_instance(record: InstanceRecord) -> Instance:
    status = _API_STATUS.get(record.state, record.state.upper())
    return Instance(id=record.id, name=record.name, host=record.host or "", priority=0,
                    ram_mb=record.ram_mb, vcpus=record.vcpus, disk_gb=record.disk_gb,
                    az=record.az or None,
                    not_movable=_why_not(status, record.task_state,
                                         dict(record.flavor_extra_specs)))


def read_balancing_model(runtime: Runtime, heartbeats: Heartbeats,
                         clock: Callable[[], float], aggregate: str | None = None
                         ) -> BalancingInputs:
    """Every aggregate; hosts and instances of ``aggregate`` only (all when None)."""
    nova = runtime.nova
    excluded = node_exclusions(runtime)
    with ThreadPoolExecutor(max_workers=6) as pool:  # independent reads, at once
        aggregates = pool.submit(nova.aggregates)
        services = pool.submit(nova.compute_services)
        groups = pool.submit(nova.server_groups)
        mark = pool.submit(nova.newest_live_migration_id)
        stored = stored_view(runtime, clock)
        if stored is None:
            capacities, zones = pool.submit(nova.capacities), pool.submit(nova.host_zones)
        last_seen = heartbeats.last_seen()
        found: list[HostAggregate] = aggregates.result()
        wanted = {h for a in found if aggregate is None or a.name == aggregate for h in a.hosts}
        if stored is None:
            listed = dict(zip(sorted(wanted), pool.map(nova.servers_on_host, sorted(wanted)),
                              strict=True))
            capacity_of, zone_of = capacities.result(), zones.result()
            instances = tuple(
                Instance(id=s.id, name=s.name, host=host, priority=0, ram_mb=s.ram_mb,
                         vcpus=s.vcpus, disk_gb=s.disk_gb, az=s.az or None,
                         not_movable=why_not_movable(s))
                for host, servers in listed.items() for s in servers)
        else:
            capacity_of, zone_of = stored.capacities, stored.zones
            instances = tuple(_stored_instance(record) for records in
                              stored_instances(runtime, wanted).values() for record in records)
    now = db_api.from_timestamp(clock())
    hosts = []
    for service in services.result():
        capacity = capacity_of.get(service.host)
        if service.host not in wanted or capacity is None:
            continue
        hosts.append(TargetHost(
            name=service.host, free_ram_mb=capacity.free_ram_mb,
            free_vcpus=capacity.free_vcpus, free_disk_gb=capacity.free_disk_gb,
            enabled=service.enabled, up=heartbeats.usable_by_nova(service, last_seen, now),
            ram_mb=capacity.totals.get("MEMORY_MB", 0),
            used_ram_mb=capacity.used.get("MEMORY_MB", 0), az=zone_of.get(service.host),
            excluded=excluded.get(service.host, "")))
    model = CloudModel(
        hosts=tuple(hosts), instances=instances,
        aggregates=tuple(Aggregate(a.name, a.hosts, a.metadata) for a in found),
        server_groups=tuple(ServerGroup(g.id, g.name, g.policy, g.members)
                            for g in groups.result()))
    return BalancingInputs(model, mark.result())
