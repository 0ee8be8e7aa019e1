"""CloudManager leaves the hosts of the clouds compute drivers alone: their instances live
in a public cloud, so they are never watched, fenced, evacuated or used as targets."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

from cloud_manager import nova

SERVICES = [{"id": i, "host": h, "state": "up", "status": "enabled", "forced_down": False,
             "updated_at": "2026-12-01T12:00:00"}
            for i, h in enumerate(["compute1", "compute2", "aws-compute", "yandex-compute"])]
TRAITS = {"compute1": set(), "compute2": set(), "aws-compute": {"CUSTOM_CLOUD_AWS"},
          "yandex-compute": {"CUSTOM_CLOUD_YANDEX"}}


class Answer:
    def __init__(self, body: dict) -> None:
        self.status_code = 200
        self.content = json.dumps(body).encode()

    def json(self) -> dict:
        return json.loads(self.content)


class Placement:
    """Placement's provider listing with ``required`` as its API applies it (1.39)."""

    def request(self, path: str, method: str, raise_exc: bool = False,
                microversion: str | None = None, **kwargs) -> Answer:
        url = urlsplit(path)
        if url.path.endswith("/inventories"):
            return Answer({"inventories": {"MEMORY_MB": {"total": 1024}}})
        if url.path.endswith("/usages"):
            return Answer({"usages": {}})
        required = parse_qs(url.query).get("required", [""])[0]
        assert microversion is not None and tuple(map(int, microversion.split("."))) >= (1, 39)
        return Answer({"resource_providers": [
            {"uuid": host, "name": host} for host, traits in TRAITS.items()
            if _matches(traits, required)]})


def _matches(traits: set[str], required: str) -> bool:
    if not required:
        return True
    if required.startswith("in:"):
        return bool(traits & set(required[3:].split(",")))
    terms = required.split(",")
    return all((t[1:] not in traits) if t.startswith("!") else (t in traits) for t in terms)


class Compute:
    def request(self, path: str, method: str, raise_exc: bool = False, **kwargs) -> Answer:
        if path.startswith("/os-hypervisors"):
            return Answer({"hypervisors": [
                {"hypervisor_hostname": s["host"], "service": {"host": s["host"]}}
                for s in SERVICES]})
        assert path.startswith("/os-services")
        return Answer({"services": SERVICES})


class Conn:
    compute = Compute()
    placement = Placement()


def test_cloud_backed_hosts_are_found_by_the_drivers_traits():
    assert nova.Nova(Conn()).cloud_backed_hosts() == {"aws-compute", "yandex-compute"}


def test_cloud_backed_hosts_are_not_managed_nodes():
    hosts = [s.host for s in nova.Nova(Conn()).compute_services()]
    assert hosts == ["compute1", "compute2"]


def test_cloud_backed_hosts_are_no_target_for_instances():
    assert set(nova.Nova(Conn()).capacities()) == {"compute1", "compute2"}
