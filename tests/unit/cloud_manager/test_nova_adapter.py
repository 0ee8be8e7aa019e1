"""The Nova/Placement adapter over canned HTTP answers (the SDK's proxies replaced).

Issue 14 item 9: Placement names a compute node's provider by its hypervisor hostname, Nova's
services by their host; in libvirt clouds those differ (FQDN against short name).
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

from cloud_manager.nova import PAGE_SIZE, Nova


class _Response:
    def __init__(self, body: dict, status: int = 200) -> None:
        self.status_code, self.content = status, json.dumps(body).encode()
        self.text = self.content.decode()

    def json(self) -> dict:
        return json.loads(self.content)


class _Proxy:
    def __init__(self, answer) -> None:  # noqa: ANN001 - path -> body
        self.answer, self.paths = answer, []

    def request(self, path, method, raise_exc=False, **kwargs):  # noqa: ANN001, ARG002
        self.paths.append(path)
        return _Response(self.answer(path))


class _Connection:
    def __init__(self, compute, placement) -> None:  # noqa: ANN001
        self.compute, self.placement = _Proxy(compute), _Proxy(placement)


HYPERVISORS = [
    {"id": "h1", "hypervisor_hostname": "compute1.example.org",
     "service": {"host": "compute1", "id": "s1"}},
    {"id": "h2", "hypervisor_hostname": "compute2", "service": {"host": "compute2", "id": "s2"}},
]
PROVIDERS = {"compute1.example.org": "rp1", "compute2": "rp2", "shared-storage": "rp3"}


def _placement(path: str) -> dict:
    if path.split("?")[0] == "/resource_providers":
        return {"resource_providers": [{"uuid": u, "name": n} for n, u in PROVIDERS.items()]}
    if path.endswith("/inventories"):
        return {"inventories": {
            "MEMORY_MB": {"total": 4096, "reserved": 512, "allocation_ratio": 1.5},
            "VCPU": {"total": 4, "reserved": 0, "allocation_ratio": 4.0}}}
    return {"usages": {"MEMORY_MB": 1024, "VCPU": 2}}


def test_capacities_are_keyed_by_service_host_through_the_hypervisors_api():
    nova = Nova(_Connection(lambda path: {"hypervisors": HYPERVISORS}, _placement))
    capacities = nova.capacities()
    assert sorted(capacities) == ["compute1", "compute2"]  # not the FQDN; no sharing provider
    one = capacities["compute1"]
    assert one.hypervisor_hostname == "compute1.example.org"
    assert one.free_ram_mb == int((4096 - 512) * 1.5) - 1024
    assert one.free_vcpus == 16 - 2
    assert one.inventories["MEMORY_MB"]["allocation_ratio"] == 1.5


def test_long_lists_are_read_page_by_page():
    servers = [{"id": f"s{i}", "status": "ACTIVE", "flavor": {"ram": 1}}
               for i in range(PAGE_SIZE + 3)]

    def compute(path: str) -> dict:
        query = parse_qs(urlsplit(path).query)
        start = 0
        if "marker" in query:
            start = next(i for i, s in enumerate(servers) if s["id"] == query["marker"][0]) + 1
        return {"servers": servers[start:start + int(query["limit"][0])]}

    conn = _Connection(compute, _placement)
    found = Nova(conn).all_servers()
    assert [s.id for s in found] == [s["id"] for s in servers]
    assert len(conn.compute.paths) == 2
