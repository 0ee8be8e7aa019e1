"""node_sync: every ``sync_interval`` the inventory is made what Nova and Placement say, and
free hypervisors join the reserve pool if the operator opted in; on the leader only.

Between two syncs the listener keeps the inventory current; a sync repairs what it missed
(a lost notification, the listener stopped) and records each repair as an event, so a gap in
the listener is visible. The reads go out at once; the decisions are pure
(``cloud_manager.inventory``); the writes happen in one transaction.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from aos import periodic
from cloud_manager import nodes
from cloud_manager.db import api as db_api
from cloud_manager.ha.node_state import NodeState
from cloud_manager.inventory.capacity import instance_sums
from cloud_manager.inventory.reserve import HostView, free_since, to_reserve
from cloud_manager.inventory.sync import Repair, sync_changes
from cloud_manager.model.inventory import HostRecord, InstanceRecord, Resource, ServiceRecord
from cloud_manager.nova import ComputeService, HostCapacity, Server
from cloud_manager.runtime import Runtime

LOG = logging.getLogger(__name__)

# Repairs recorded one event each; past that one event sums the rest up.
REPAIR_EVENTS = 50
# The name node_sync acts under in events, and the reason a reserve node is disabled in Nova
# for (the tracker keeps returned reserve nodes disabled with the same words).
BY = "node_sync"
RESERVE_REASON = "aos: reserve node"


@dataclass(frozen=True)
class SyncResult:
    hosts: int
    instances: int
    repairs: tuple[Repair, ...]
    reserved: tuple[str, ...] = ()


def instance_record(server: Server, read_at: datetime) -> InstanceRecord:
    return InstanceRecord(
        id=server.id, name=server.name, host=server.host, node=server.node,
        state=server.vm_state or server.status.lower(), task_state=server.task_state,
        ram_mb=server.ram_mb, vcpus=server.vcpus, disk_gb=server.disk_gb, az=server.az,
        metadata=dict(server.metadata), flavor_extra_specs=dict(server.flavor_extra_specs),
        changed_at=read_at)


def _resources(capacity: HostCapacity | None) -> dict[str, Resource]:
    if capacity is None:
        return {}
    return {rc: Resource(total=int(inv.get("total", 0)), reserved=int(inv.get("reserved", 0)),
                         allocation_ratio=float(inv.get("allocation_ratio", 1.0)),
                         used=int(capacity.used.get(rc, 0)))
            for rc, inv in capacity.inventories.items()}


def host_record(service: ComputeService, capacity: HostCapacity | None, zone: str | None,
                aggregates: tuple[str, ...], read_at: datetime,
                known_free_since: datetime | None, instances: int) -> HostRecord:
    return HostRecord(
        hostname=service.host,
        hypervisor_hostname=capacity.hypervisor_hostname if capacity else None,
        enabled=service.enabled, forced_down=service.forced_down,
        disabled_reason=service.disabled_reason, az=zone, aggregates=aggregates,
        resources=_resources(capacity), changed_at=read_at,
        free_since=free_since(known_free_since, instances, read_at))


class NodeSync:
    def __init__(self, runtime: Runtime, clock: Callable[[], float] = time.time,
                 still_leader: Callable[[], bool] = lambda: True) -> None:
        self.runtime = runtime
        self.conf = runtime.conf.node_sync
        self.clock = clock
        self.still_leader = still_leader

    def sync(self) -> SyncResult | None:
        """One sync (and the reserve pool after it); None when leadership was lost."""
        read_at = db_api.from_timestamp(self.clock())
        nova = self.runtime.nova
        with ThreadPoolExecutor(max_workers=5) as pool:  # independent reads, at once
            services = pool.submit(nova.compute_services)
            capacities = pool.submit(nova.capacities)
            zones = pool.submit(nova.host_zones)
            aggregates = pool.submit(nova.aggregates)
            servers = pool.submit(nova.all_servers)
            live_instances = {s.id: instance_record(s, read_at) for s in servers.result()}
            member_of: dict[str, list[str]] = {}
            for aggregate in aggregates.result():
                for host in aggregate.hosts:
                    member_of.setdefault(host, []).append(aggregate.name)
            capacity_of, zone_of = capacities.result(), zones.result()
            compute = services.result()
        held = instance_sums(live_instances.values())
        if not self.still_leader():
            LOG.error("node_sync: no longer the leader; this sync writes nothing")
            return None
        with self.runtime.transaction() as session:
            # Node rows too (the tracker adds them as well): `node show` and the reserve
            # pool know every host the sync found, even before the tracker's first loop.
            db_api.ensure_nodes(session, sorted(s.host for s in compute))
            stored_hosts = db_api.inventory_hosts(session)
            stored_instances = db_api.inventory_instances(session)
            live_hosts = {}
            for service in compute:
                known = stored_hosts.get(service.host)
                live_hosts[service.host] = host_record(
                    service, capacity_of.get(service.host), zone_of.get(service.host),
                    tuple(sorted(member_of.get(service.host, ()))), read_at,
                    known.free_since if known else None,
                    sum(held.get(service.host, {}).values()))
            changes = sync_changes(stored_instances, live_instances, stored_hosts, live_hosts,
                                   read_at)
            db_api.write_instances(session, changes.instances)
            db_api.remove_instances(session, changes.removed)
            db_api.write_hosts(session, changes.hosts)
            db_api.remove_hosts(session, changes.removed_hosts)
            self._record_repairs(session, changes.repairs)
            db_api.add_sync(session, started_at=read_at, hosts=len(live_hosts),
                            instances=len(live_instances), repairs=len(changes.repairs),
                            summary=_summary(changes.repairs))
        LOG.info("node_sync: %d hosts, %d instances; %s", len(live_hosts), len(live_instances),
                 _summary(changes.repairs))
        reserved: tuple[str, ...] = ()
        if self.conf.auto_reserve and self.still_leader():
            reserved = tuple(self.fill_reserve_pool())
        return SyncResult(len(live_hosts), len(live_instances), changes.repairs, reserved)

    @staticmethod
    def _record_repairs(session: Session, repairs: tuple[Repair, ...]) -> None:
        for repair in repairs[:REPAIR_EVENTS]:
            LOG.warning("node_sync repaired: %s", repair.message)
            db_api.add_event(session, repair.host, "sync",
                             f"node_sync repaired: {repair.message}")
        if len(repairs) > REPAIR_EVENTS:
            db_api.add_event(session, None, "sync", f"node_sync repaired {len(repairs)} "
                             f"differences; the first {REPAIR_EVENTS} are listed")

    def fill_reserve_pool(self) -> list[str]:
        """Move each host free of instances for ``reserve_interval`` to the reserve pool
        (disabled in Nova, left powered); the hosts moved."""
        now = db_api.from_timestamp(self.clock())
        with self.runtime.transaction() as session:
            hosts = db_api.inventory_hosts(session)
            counts = db_api.instance_counts(session)
            views = {}
            for row in db_api.nodes(session):
                host = hosts.get(row.hostname)
                if host is None:
                    continue
                views[row.hostname] = HostView(
                    hostname=row.hostname, instances=counts.get(row.hostname, 0),
                    free_since=host.free_since, up=row.state == NodeState.UP,
                    enabled=host.enabled and not host.forced_down, reserve=row.reserve,
                    maintenance=row.maintenance,
                    busy=db_api.active_task(session, row.hostname) is not None)
        moved = []
        for host, why in to_reserve(views, now, self.conf.reserve_interval):
            if not self.still_leader():
                break
            if self.runtime.nova.servers_on_host(host):
                LOG.info("node_sync: %s has instances again (Nova); it stays in service", host)
                continue
            # Disabled in Nova first: if that fails nothing changed; if the node changed
            # meanwhile (the row below refuses), it is enabled again unless it is a reserve
            # node by now.
            self.runtime.nova.set_enabled(host, False, RESERVE_REASON)
            with self.runtime.transaction() as session:
                row = db_api.node(session, host, lock=True)
                already = row.reserve  # the operator's own move: it stays disabled
                taken = not (already or row.state != NodeState.UP or row.maintenance
                             or db_api.active_task(session, host))
                if taken:
                    nodes.set_reserve(session, row, True, why, BY)
                    db_api.write_service_states(session, [ServiceRecord(
                        host, enabled=False, forced_down=False, disabled_reason=RESERVE_REASON,
                        changed_at=db_api.from_timestamp(self.clock()))])
            if not taken:
                if not already:
                    self.runtime.nova.set_enabled(host, True)
                continue
            LOG.info("node %s: %s", host, why)
            moved.append(host)
        return moved


def _summary(repairs: tuple[Repair, ...]) -> str:
    if not repairs:
        return "nothing to repair"
    kinds: dict[str, int] = {}
    for repair in repairs:
        kinds[repair.kind] = kinds.get(repair.kind, 0) + 1
    return "repaired " + ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))


def run_forever(sync: NodeSync, is_leader: Callable[[], bool],
                stopped: Callable[[], bool] = lambda: False,
                sleep: Callable[[float], None] = time.sleep,
                monotonic: Callable[[], float] = time.monotonic) -> None:
    """``[node_sync] enabled``: a sync every ``sync_interval`` while this is the leader."""
    periodic.run_on_leader(sync.sync, sync.conf.sync_interval, is_leader, stopped, LOG,
                           "node_sync", sleep, monotonic)
