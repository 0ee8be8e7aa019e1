"""An in-memory stand-in for ``cloud_manager.nova.Nova`` (the adapter, not Nova itself).

It keeps just enough state to let the tracker and the evacuator run their whole logic in unit
tests: services that report or not, servers that move when evacuated, migration records.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from cloud_manager.nova import ComputeService, Evacuation, HostCapacity, NovaError, Server


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class FakeNova:
    def __init__(self, hosts: list[str], ram_mb: int = 8192) -> None:
        self.services = {h: ComputeService(id=h, host=h, up=True, enabled=True,
                                           forced_down=False, disabled_reason=None,
                                           updated_at=now()) for h in hosts}
        self.ram_mb = ram_mb
        self.servers: dict[str, Server] = {}
        self.migrations: list[dict] = []
        self.evacuate_calls: list[tuple[str, str | None]] = []
        self.fail_evacuate: set[str] = set()
        # Accepted by the API, then the rebuild fails on the target: server ERROR on its host.
        self.rebuild_fails: set[str] = set()
        # Deleted by its owner while Nova rebuilds it.
        self.deleted_during_rebuild: set[str] = set()
        # Status of the migration record an evacuation creates: "done" = rebuilt at once.
        self.evacuation_status = "done"
        # How far Nova's clock (its records' timestamps) is off CloudManager's.
        self.clock_skew = timedelta(0)
        # Hypervisor hostname (Placement's provider name) of each service host.
        self.node_names = {h: h for h in hosts}
        self.aggregate_list: list = []

    # test controls
    def add_server(self, server_id: str, host: str, priority: int | None = None,
                   ram_mb: int = 512) -> None:
        metadata = {} if priority is None else {"aos:recovery_priority": str(priority)}
        self.servers[server_id] = Server(
            id=server_id, name=server_id, status="ACTIVE", host=host, task_state=None,
            metadata=metadata, flavor_extra_specs={}, ram_mb=ram_mb, vcpus=1, disk_gb=1,
            az="nova", node=self.node_names.get(host, host), vm_state="active")

    def move_server(self, server_id: str, host: str) -> None:
        self.servers[server_id] = replace(self.servers[server_id], host=host,
                                          node=self.node_names.get(host, host))

    def delete_server(self, server_id: str) -> None:
        """Deleted while being evacuated: the rebuild on the new host fails, as in Nova."""
        self.servers[server_id] = replace(self.servers[server_id], status="DELETED", host=None)
        for migration in self.migrations:
            if migration["instance_uuid"] == server_id and migration["status"] != "done":
                migration["status"] = "failed"

    def kill(self, host: str, seconds_ago: int = 3600) -> None:
        self.services[host] = replace(self.services[host], up=False,
                                      updated_at=now() - timedelta(seconds=seconds_ago))

    def revive(self, host: str, heartbeating: bool = True) -> None:
        """The host's nova-compute runs again; until ``heartbeating`` Nova's API says down."""
        self.services[host] = replace(self.services[host], up=heartbeating, updated_at=now())

    # adapter interface
    def compute_services(self) -> list[ComputeService]:
        return [self.service(host) for host in self.services]

    def service(self, host: str) -> ComputeService:
        service = self.services[host]
        return replace(service, up=service.up and not service.forced_down)

    def set_forced_down(self, host: str, forced_down: bool) -> None:
        # Like Nova, any change of the service row moves its updated_at.
        self.services[host] = replace(self.services[host], forced_down=forced_down,
                                      updated_at=now())

    def set_enabled(self, host: str, enabled: bool, reason: str | None = None) -> None:
        self.services[host] = replace(self.services[host], enabled=enabled,
                                      disabled_reason=None if enabled else reason,
                                      updated_at=now())

    def force_down_and_disable(self, host: str, reason: str) -> None:
        self.set_forced_down(host, True)
        self.set_enabled(host, False, reason)

    def servers_on_host(self, host: str) -> list[Server]:
        return [s for s in self.servers.values() if s.host == host and s.status != "DELETED"]

    def server(self, server_id: str) -> Server | None:
        server = self.servers.get(server_id)
        return None if server is None or server.status == "DELETED" else server

    def evacuations_from(self, host: str, since: datetime) -> dict[str, Evacuation]:
        return {m["instance_uuid"]: Evacuation(m["id"], m["instance_uuid"], m["status"],
                                               m["dest_compute"])
                for m in self.migrations if m["source_compute"] == host
                and datetime.fromisoformat(m["created_at"]) >= since}

    def newest_evacuation_id(self, host: str) -> int:
        return max((m["id"] for m in self.migrations if m["source_compute"] == host), default=0)

    def evacuate(self, server_id: str, target_host: str | None) -> None:
        self.evacuate_calls.append((server_id, target_host))
        if server_id in self.fail_evacuate:
            raise NovaError("POST evacuate: HTTP 409: conflict")
        source = self.servers[server_id].host
        if not self.services[source].forced_down:
            raise NovaError("POST evacuate: HTTP 409: compute service is still in use")
        migration = {"id": len(self.migrations) + 1, "instance_uuid": server_id,
                     "source_compute": source, "dest_compute": target_host,
                     "status": self.evacuation_status,
                     "created_at": (now() + self.clock_skew).isoformat()}
        self.migrations.append(migration)
        if server_id in self.rebuild_fails:
            migration["status"] = "failed"
            self.servers[server_id] = replace(self.servers[server_id], status="ERROR")
        elif server_id in self.deleted_during_rebuild:
            migration["status"] = "pre-migrating"
            self.delete_server(server_id)
        else:
            self.servers[server_id] = replace(self.servers[server_id], host=target_host,
                                              node=target_host)

    def unfinished_evacuations_from(self, host: str) -> list[dict]:
        return [m for m in self.migrations if m["source_compute"] == host
                and m["status"] == "done"]

    def all_servers(self) -> list[Server]:
        return [s for s in self.servers.values() if s.status != "DELETED"]

    def hypervisor_hosts(self) -> dict[str, str]:
        return {node: host for host, node in self.node_names.items() if host in self.services}

    def aggregates(self) -> list:
        return list(self.aggregate_list)

    def host_zones(self) -> dict[str, str]:
        return dict.fromkeys(self.services, "nova")

    def capacities(self) -> dict[str, HostCapacity]:
        used: dict[str, int] = {}
        for server in self.servers.values():
            if server.status != "DELETED":
                used[server.host] = used.get(server.host, 0) + server.ram_mb
        inventories = {"MEMORY_MB": {"total": self.ram_mb, "reserved": 0,
                                     "allocation_ratio": 1.0},
                       "VCPU": {"total": 8, "reserved": 0, "allocation_ratio": 1.0},
                       "DISK_GB": {"total": 100, "reserved": 0, "allocation_ratio": 1.0}}
        return {h: HostCapacity(h, self.ram_mb - used.get(h, 0), 8, 100,
                                totals={"MEMORY_MB": self.ram_mb, "VCPU": 8, "DISK_GB": 100},
                                used={"MEMORY_MB": used.get(h, 0)}, inventories=inventories,
                                hypervisor_hostname=self.node_names[h])
                for h in self.services}
