"""What CloudManager asks of Nova and Placement, over their REST APIs (openstacksdk session).

Microversions are pinned per call on purpose: evacuate at 2.29 (target host checked by the
scheduler; from 2.95 on an evacuated instance would stay stopped), services at 2.53 (UUID ids,
``forced_down`` through PUT), servers at 2.47 (flavor with extra specs embedded).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from keystoneauth1 import exceptions as ksa_exc
from openstack import connection
from openstack import exceptions as sdk_exc

EVACUATE_MICROVERSION = "2.29"
SERVICES_MICROVERSION = "2.53"
SERVERS_MICROVERSION = "2.47"
MIGRATIONS_MICROVERSION = "2.59"
# Live migration with a target host the scheduler checks (no "force"), block migration
# chosen by Nova ("auto").
LIVE_MIGRATE_MICROVERSION = "2.30"
# Server groups of all projects with one "policy" field.
SERVER_GROUPS_MICROVERSION = "2.64"
AGGREGATES_MICROVERSION = "2.41"
#: Placement: ``required=in:`` (any of) needs 1.39; forbidden traits (``!T``) 1.22.
TRAITS_MICROVERSION = "1.39"
#: Traits the clouds compute drivers (EC2Driver, YandexDriver) report on their host. Such a
#: host's instances live in a public cloud: CloudManager neither watches, fences nor
#: evacuates it, and never places instances there (evacuation or balancing).
CLOUD_TRAITS = ("CUSTOM_CLOUD_AWS", "CUSTOM_CLOUD_YANDEX")
# Hypervisors with their service's host embedded (and UUID ids, paged with marker).
HYPERVISORS_MICROVERSION = "2.53"
# Largest page Nova returns by default ([api] max_limit); lists are read page by page.
PAGE_SIZE = 1000
# Requests one call sends at once (reading many hosts' capacities).
PARALLEL_REQUESTS = 8


class NovaError(Exception):
    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


@dataclass(frozen=True)
class ComputeService:
    id: str
    host: str
    up: bool
    enabled: bool
    forced_down: bool
    disabled_reason: str | None
    updated_at: datetime | None = None

    def report_age(self, now: datetime) -> float | None:
        """Seconds since nova-compute last reported (it keeps reporting while forced down)."""
        return None if self.updated_at is None else (now - self.updated_at).total_seconds()


@dataclass(frozen=True)
class Server:
    id: str
    name: str
    status: str
    host: str | None
    task_state: str | None
    metadata: dict[str, str]
    flavor_extra_specs: dict[str, str]
    ram_mb: int
    vcpus: int
    disk_gb: int
    az: str | None
    node: str | None = None
    vm_state: str | None = None


@dataclass(frozen=True)
class Evacuation:
    """A migration record of type evacuation: ``status`` is done, failed, error or in progress."""

    id: int
    instance_id: str
    status: str
    dest_host: str | None


@dataclass(frozen=True)
class HostCapacity:
    host: str
    free_ram_mb: int
    free_vcpus: int
    free_disk_gb: int
    totals: dict[str, int] = field(default_factory=dict)
    used: dict[str, int] = field(default_factory=dict)
    # Placement's inventory records per resource class (total, reserved, allocation_ratio…).
    inventories: dict[str, dict[str, Any]] = field(default_factory=dict)
    hypervisor_hostname: str | None = None


@dataclass(frozen=True)
class HostAggregate:
    id: int
    name: str
    hosts: tuple[str, ...]
    metadata: dict[str, str]


@dataclass(frozen=True)
class ServerGroupInfo:
    id: str
    name: str
    policy: str
    members: tuple[str, ...]


@dataclass(frozen=True)
class LiveMigration:
    """A migration record of type live-migration: ``status`` is queued, preparing, running,
    post-migrating, completed, error, failed or cancelled."""

    id: int
    instance_id: str
    status: str
    dest_host: str | None


class Nova:
    def __init__(self, conn: connection.Connection) -> None:
        self.conn = conn

    def authenticate(self) -> datetime | None:
        """Get a token (a new one when it expires within two minutes) and find the Compute
        and Placement endpoints; returns when the token expires.

        The worker calls it at start and then every minute, so that the first requests of a
        fencing do not wait for Keystone's password check and the endpoints' discovery.
        """
        try:
            self.conn.authorize()
            self.conn.compute.get_endpoint()
            self.conn.placement.get_endpoint()
        except (sdk_exc.SDKException, ksa_exc.ClientException) as exc:
            raise NovaError(f"cannot authenticate to OpenStack: {exc}") from exc
        access = getattr(self.conn.session.auth, "auth_ref", None)
        return access.expires if access is not None else None

    def _call(self, method: str, path: str, microversion: str, **kwargs: Any) -> Any:
        return self._request("compute", method, path, microversion=microversion, **kwargs)

    def _request(self, service: str, method: str, path: str, **kwargs: Any) -> Any:
        """One request; any failure to get an answer (timeout, refused, reset, no token, the
        endpoint's discovery) is a NovaError, which the caller's step turns into a retry or
        a report."""
        try:
            proxy = getattr(self.conn, service)  # the first use discovers the endpoint
            response = proxy.request(path, method, raise_exc=False, **kwargs)
        except (sdk_exc.SDKException, ksa_exc.ClientException) as exc:
            raise NovaError(f"{method} {path}: {type(exc).__name__}: {exc}") from exc
        if response.status_code >= 400:
            raise NovaError(f"{method} {path}: HTTP {response.status_code}: "
                            f"{response.text[:300]}", response.status_code)
        return response.json() if response.content else None

    def cloud_backed_hosts(self) -> set[str]:
        """Compute hosts whose driver runs instances in a public cloud (CLOUD_TRAITS)."""
        body = self._request("placement", "GET",
                             "/resource_providers?required=in:" + ",".join(CLOUD_TRAITS),
                             microversion=TRAITS_MICROVERSION)
        return {rp["name"] for rp in body["resource_providers"]}

    def compute_services(self) -> list[ComputeService]:
        """The nova-compute services CloudManager manages: cloud-backed hosts left out."""
        body = self._call("GET", "/os-services?binary=nova-compute", SERVICES_MICROVERSION)
        cloud_backed = self.cloud_backed_hosts()
        return [
            ComputeService(
                id=s["id"], host=s["host"], up=s["state"] == "up",
                enabled=s["status"] == "enabled", forced_down=bool(s.get("forced_down")),
                disabled_reason=s.get("disabled_reason"),
                updated_at=datetime.fromisoformat(s["updated_at"]) if s.get("updated_at")
                else None,
            )
            for s in body["services"] if s["host"] not in cloud_backed
        ]

    def service(self, host: str) -> ComputeService:
        for service in self.compute_services():
            if service.host == host:
                return service
        raise NovaError(f"no nova-compute service on host {host}")

    def set_forced_down(self, host: str, forced_down: bool) -> None:
        service = self.service(host)
        self._call("PUT", f"/os-services/{service.id}", SERVICES_MICROVERSION,
                   json={"forced_down": forced_down})

    def set_enabled(self, host: str, enabled: bool, reason: str | None = None) -> None:
        service = self.service(host)
        body: dict[str, Any] = {"status": "enabled" if enabled else "disabled"}
        if not enabled and reason:
            body["disabled_reason"] = reason
        self._call("PUT", f"/os-services/{service.id}", SERVICES_MICROVERSION, json=body)

    def force_down_and_disable(self, host: str, reason: str) -> None:
        """Both in one request: Nova stops waiting for the host and schedules nothing to it."""
        service = self.service(host)
        self._call("PUT", f"/os-services/{service.id}", SERVICES_MICROVERSION,
                   json={"forced_down": True, "status": "disabled", "disabled_reason": reason})

    def servers_on_host(self, host: str) -> list[Server]:
        body = self._call("GET", f"/servers/detail?all_tenants=1&host={host}",
                          SERVERS_MICROVERSION)
        return [_server(s) for s in body["servers"]]

    def all_servers(self) -> list[Server]:
        """Every server of every project, page by page (Nova cuts a list at max_limit)."""
        return [_server(s) for s in self._pages("/servers/detail?all_tenants=1", "servers",
                                                SERVERS_MICROVERSION)]

    def _pages(self, path: str, key: str, microversion: str) -> list[dict]:
        found: list[dict] = []
        marker = None
        while True:
            sep = "&" if "?" in path else "?"
            query = f"{path}{sep}limit={PAGE_SIZE}" + (f"&marker={marker}" if marker else "")
            page = self._call("GET", query, microversion)[key]
            found += page
            if len(page) < PAGE_SIZE:
                return found
            marker = page[-1]["id"]

    def hypervisor_hosts(self) -> dict[str, str]:
        """Service host of each hypervisor hostname (Placement names a compute node's provider
        by its hypervisor hostname, Nova's services and servers by the service host; they
        differ in most libvirt clouds: an FQDN against a short name)."""
        hypervisors = self._pages("/os-hypervisors/detail", "hypervisors",
                                  HYPERVISORS_MICROVERSION)
        return {h["hypervisor_hostname"]: h["service"]["host"] for h in hypervisors
                if h.get("service") and h["service"].get("host")}

    def server(self, server_id: str) -> Server | None:
        """One server, or None when Nova no longer has it."""
        try:
            body = self._call("GET", f"/servers/{server_id}", SERVERS_MICROVERSION)
        except NovaError as exc:
            if exc.status_code == 404:
                return None
            raise
        return _server(body["server"])

    def evacuations_from(self, host: str, since: datetime) -> dict[str, Evacuation]:
        """The latest evacuation away from ``host`` of each instance, created since ``since``.

        One cheap call for a whole host: the migration list costs Nova a database query,
        where a server listing also makes nova-api ask Neutron for security groups.
        """
        path = (f"/os-migrations?source_compute={host}&migration_type=evacuation"
                f"&changes-since={since.replace(microsecond=0).isoformat()}")
        body = self._call("GET", path, MIGRATIONS_MICROVERSION)
        latest: dict[str, Evacuation] = {}
        for m in sorted(body["migrations"], key=lambda m: m["id"]):
            latest[m["instance_uuid"]] = Evacuation(
                id=m["id"], instance_id=m["instance_uuid"], status=m["status"],
                dest_host=m.get("dest_compute"))
        return latest

    def newest_evacuation_id(self, host: str) -> int:
        """Id of the newest evacuation record away from ``host`` (0: none); ids only grow."""
        body = self._call("GET", f"/os-migrations?source_compute={host}"
                          "&migration_type=evacuation&limit=1", MIGRATIONS_MICROVERSION)
        return max((m["id"] for m in body["migrations"]), default=0)

    def evacuate(self, server_id: str, target_host: str | None) -> None:
        body: dict[str, Any] = {"evacuate": {}}
        if target_host:
            body["evacuate"]["host"] = target_host
        self._call("POST", f"/servers/{server_id}/action", EVACUATE_MICROVERSION, json=body)

    def unfinished_evacuations_from(self, host: str) -> list[dict]:
        """Evacuations away from ``host`` that its nova-compute has not cleaned up yet."""
        body = self._call("GET", f"/os-migrations?source_compute={host}"
                          "&migration_type=evacuation", MIGRATIONS_MICROVERSION)
        return [m for m in body["migrations"]
                if m["status"] in ("accepted", "pre-migrating", "migrating", "done")]

    # --- balancing: aggregates, server groups, live migration ----------------------------

    def aggregates(self) -> list[HostAggregate]:
        body = self._call("GET", "/os-aggregates", AGGREGATES_MICROVERSION)
        return [HostAggregate(a["id"], a["name"], tuple(a.get("hosts") or ()),
                              dict(a.get("metadata") or {}))
                for a in body["aggregates"]]

    def set_aggregate_metadata(self, aggregate_id: int, metadata: dict[str, str | None]
                               ) -> None:
        """Set keys (a None value removes the key)."""
        self._call("POST", f"/os-aggregates/{aggregate_id}/action", AGGREGATES_MICROVERSION,
                   json={"set_metadata": {"metadata": metadata}})

    def server_groups(self) -> list[ServerGroupInfo]:
        body = self._call("GET", "/os-server-groups?all_projects=True&limit=1000",
                          SERVER_GROUPS_MICROVERSION)
        return [ServerGroupInfo(g["id"], g.get("name") or "", g["policy"],
                                tuple(g.get("members") or ()))
                for g in body["server_groups"]]

    def live_migrate(self, server_id: str, target_host: str) -> None:
        self._call("POST", f"/servers/{server_id}/action", LIVE_MIGRATE_MICROVERSION,
                   json={"os-migrateLive": {"host": target_host, "block_migration": "auto"}})

    def live_migrations_since(self, since: datetime) -> dict[str, LiveMigration]:
        """The latest live migration of each instance, created since ``since``."""
        path = ("/os-migrations?migration_type=live-migration"
                f"&changes-since={since.replace(microsecond=0).isoformat()}")
        body = self._call("GET", path, MIGRATIONS_MICROVERSION)
        latest: dict[str, LiveMigration] = {}
        for m in sorted(body["migrations"], key=lambda m: m["id"]):
            latest[m["instance_uuid"]] = LiveMigration(m["id"], m["instance_uuid"], m["status"],
                                                       m.get("dest_compute"))
        return latest

    def newest_live_migration_id(self) -> int:
        """Id of the newest live-migration record of the cloud (0: none); ids only grow."""
        body = self._call("GET", "/os-migrations?migration_type=live-migration&limit=1",
                          MIGRATIONS_MICROVERSION)
        return max((m["id"] for m in body["migrations"]), default=0)

    def host_zones(self) -> dict[str, str]:
        """Availability zone of every compute host."""
        body = self._call("GET", "/os-availability-zone/detail", SERVICES_MICROVERSION)
        return {host: zone["zoneName"] for zone in body["availabilityZoneInfo"]
                for host, services in (zone.get("hosts") or {}).items()
                if "nova-compute" in services}

    def capacities(self) -> dict[str, HostCapacity]:
        """Free RAM, vCPU and disk of every compute host, from Placement, by service host;
        cloud-backed hosts (CLOUD_TRAITS) are no place for CloudManager's instances and are
        left out.

        Placement has no call for all providers' inventories and usages: two requests per
        provider, sent a few at a time (one after another, 1,000 hosts would take 20 s).
        Providers are matched to service hosts through the hypervisors API; a provider of no
        compute node (a sharing or nested provider) is left out.
        """
        def get(path: str) -> Any:
            return self._request("placement", "GET", path, microversion=TRAITS_MICROVERSION)

        not_cloud = ",".join(f"!{trait}" for trait in CLOUD_TRAITS)
        with ThreadPoolExecutor(max_workers=2) as pool:
            listing = pool.submit(get, f"/resource_providers?required={not_cloud}")
            service_host = self.hypervisor_hosts()
            providers = [rp for rp in listing.result()["resource_providers"]
                         if rp["name"] in service_host]

        def capacity(rp: dict) -> HostCapacity:
            inventories = get(f"/resource_providers/{rp['uuid']}/inventories")["inventories"]
            usages = get(f"/resource_providers/{rp['uuid']}/usages")["usages"]
            free = {rc: _free(inv, usages.get(rc, 0)) for rc, inv in inventories.items()}
            return HostCapacity(
                host=service_host[rp["name"]], free_ram_mb=free.get("MEMORY_MB", 0),
                free_vcpus=free.get("VCPU", 0), free_disk_gb=free.get("DISK_GB", 0),
                totals={rc: inv["total"] for rc, inv in inventories.items()},
                used=dict(usages), inventories=dict(inventories),
                hypervisor_hostname=rp["name"],
            )

        with ThreadPoolExecutor(max_workers=PARALLEL_REQUESTS) as pool:
            return {c.host: c for c in pool.map(capacity, providers)}


def _free(inventory: dict, used: int) -> int:
    capacity = (inventory["total"] - inventory.get("reserved", 0)) * inventory.get(
        "allocation_ratio", 1.0)
    return max(0, int(capacity) - used)


def _server(body: dict) -> Server:
    flavor = body.get("flavor") or {}
    return Server(
        id=body["id"], name=body.get("name", ""), status=body["status"],
        host=body.get("OS-EXT-SRV-ATTR:host"), task_state=body.get("OS-EXT-STS:task_state"),
        metadata=body.get("metadata") or {}, flavor_extra_specs=flavor.get("extra_specs") or {},
        ram_mb=flavor.get("ram", 0), vcpus=flavor.get("vcpus", 0), disk_gb=flavor.get("disk", 0),
        az=body.get("OS-EXT-AZ:availability_zone"),
        node=body.get("OS-EXT-SRV-ATTR:hypervisor_hostname"),
        vm_state=body.get("OS-EXT-STS:vm_state"),
    )
