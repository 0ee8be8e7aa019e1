"""What CloudManager asks of Cinder, over its REST API (openstacksdk session).

Every request is bounded by the connection's timeout (``[openstack] timeout``); any failure
to get an answer is a ``CinderError``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from keystoneauth1 import exceptions as ksa_exc
from openstack import connection
from openstack import exceptions as sdk_exc

from cloud_manager.model.storage import Capacity, PoolReport, VolumeService, backend_of

# Largest page Cinder returns by default (osapi_max_limit); volumes are read page by page.
PAGE_SIZE = 1000
CAPACITY_WORDS = ("infinite", "unknown")


class CinderError(Exception):
    pass


def capacity(value: Any) -> Capacity:
    """A figure in GiB, Cinder's word for none (infinite, unknown), or None if absent."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip().lower()
    if text in CAPACITY_WORDS:
        return text
    try:
        return float(text)
    except ValueError:
        return "unknown"


def pool_report(body: dict[str, Any]) -> PoolReport:
    caps = body.get("capabilities") or {}
    return PoolReport(name=body["name"], volume_backend_name=caps.get("volume_backend_name"),
                      total_gb=capacity(caps.get("total_capacity_gb")),
                      free_gb=capacity(caps.get("free_capacity_gb")),
                      allocated_gb=capacity(caps.get("allocated_capacity_gb")))


def volume_service(body: dict[str, Any]) -> VolumeService:
    updated = body.get("updated_at")
    return VolumeService(backend=body["host"], up=body.get("state") == "up",
                         enabled=body.get("status") == "enabled",
                         disabled_reason=body.get("disabled_reason"),
                         updated_at=datetime.fromisoformat(updated) if updated else None)


def pool_users(volumes: list[dict[str, Any]]) -> dict[str, tuple[str, ...]]:
    """Pool (or backend, for a volume host without ``#pool``) -> compute hosts with one of
    its volumes attached."""
    users: dict[str, set[str]] = {}
    for volume in volumes:
        where = volume.get("os-vol-host-attr:host")
        if not where:
            continue
        for attachment in volume.get("attachments") or ():
            if attachment.get("host_name"):
                users.setdefault(where, set()).add(attachment["host_name"])
    return {where: tuple(sorted(hosts)) for where, hosts in users.items()}


def users_by_pool(users: dict[str, tuple[str, ...]], pools: list[str]
                  ) -> dict[str, tuple[str, ...]]:
    """``pool_users`` keyed by pool: a volume host naming a backend only counts for each of
    the backend's pools (Cinder cannot say which)."""
    found: dict[str, set[str]] = {}
    for pool in pools:
        hosts = set(users.get(pool, ()))
        if "#" in pool:
            hosts.update(users.get(backend_of(pool), ()))
        if hosts:
            found[pool] = hosts
    return {pool: tuple(sorted(hosts)) for pool, hosts in found.items()}


class Cinder:
    def __init__(self, conn: connection.Connection) -> None:
        self.conn = conn

    def _get(self, path: str) -> Any:
        try:
            response = self.conn.block_storage.request(path, "GET", raise_exc=False)
        except (sdk_exc.SDKException, ksa_exc.ClientException) as exc:
            raise CinderError(f"GET {path}: {type(exc).__name__}: {exc}") from exc
        if response.status_code >= 400:
            raise CinderError(f"GET {path}: HTTP {response.status_code}: "
                              f"{response.text[:300]}")
        return response.json()

    def pools(self) -> list[PoolReport]:
        """The pools the scheduler holds (those of cinder-volume services it counts as up)."""
        body = self._get("/scheduler-stats/get_pools?detail=true")
        return [pool_report(p) for p in body.get("pools", ())]

    def volume_services(self) -> list[VolumeService]:
        body = self._get("/os-services?binary=cinder-volume")
        return [volume_service(s) for s in body.get("services", ())]

    def attached_volumes(self) -> list[dict[str, Any]]:
        """Every project's volumes that are attached (page by page)."""
        volumes: list[dict[str, Any]] = []
        marker = None
        while True:
            path = f"/volumes/detail?all_tenants=1&status=in-use&limit={PAGE_SIZE}"
            page = self._get(path + (f"&marker={marker}" if marker else ""))["volumes"]
            volumes.extend(page)
            if len(page) < PAGE_SIZE:
                return volumes
            marker = page[-1]["id"]
