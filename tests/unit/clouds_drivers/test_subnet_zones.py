"""Subnet zones for Neutron's reads: one listing per project, kept; a miss asked again
at once (the subnet is new); an unbound project or a Clouds API that cannot
answer shows no zone and fails no read."""

from __future__ import annotations

from clouds_drivers.clouds_api import CloudsUnavailable
from clouds_drivers.neutron.subnet_zones import SubnetZones


class ResourceMap:
    """The Clouds API's listing of subnet mappings, counting requests."""

    def __init__(self, projects: dict[str, dict[str, str]]) -> None:
        self.projects = projects
        self.requests = 0
        self.down = False

    def resources(self, project_id: str, kind: str):
        assert kind == "subnet"
        self.requests += 1
        if self.down:
            raise CloudsUnavailable("the Clouds API cannot be reached")
        if project_id not in self.projects:
            return None
        return [{"openstack_id": sid, "cloud_resource_id": f"subnet-{sid}",
                 "data": {"vpc_id": "vpc-1", "availability_zone": zone}}
                for sid, zone in self.projects[project_id].items()]


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def zones(projects, **kwargs):
    api, clock = ResourceMap(projects), Clock()
    return SubnetZones(api, ttl=30, clock=clock, **kwargs), api, clock


def test_one_listing_per_project_serves_every_subnet_until_it_expires():
    found, api, clock = zones({"p1": {"s1": "us-east-2a", "s2": "us-east-2b"}})
    assert [found.zone("p1", s) for s in ("s1", "s2", "s1")] == [
        "us-east-2a", "us-east-2b", "us-east-2a"]
    assert api.requests == 1
    clock.now += 31
    assert found.zone("p1", "s2") == "us-east-2b"
    assert api.requests == 2


def test_a_subnet_created_since_the_listing_is_asked_at_once():
    found, api, _ = zones({"p1": {"s1": "us-east-2a"}})
    assert found.zone("p1", "s1") == "us-east-2a"
    api.projects["p1"]["s3"] = "us-east-2c"
    assert found.zone("p1", "s3") == "us-east-2c"
    assert found.zone("p1", "s1") == "us-east-2a"
    assert api.requests == 2


def test_projects_bound_to_no_cloud_show_none_and_are_asked_once_per_ttl():
    found, api, clock = zones({})
    assert [found.zone("local", f"s{i}") for i in range(50)] == [None] * 50
    assert found.zone(None, "s1") is None
    assert api.requests == 1
    clock.now += 31
    found.zone("local", "s1")
    assert api.requests == 2


def test_a_clouds_api_that_cannot_answer_shows_no_zone_and_is_not_hammered():
    found, api, clock = zones({"p1": {"s1": "us-east-2a"}})
    api.down = True
    assert [found.zone("p1", "s1") for _ in range(10)] == [None] * 10
    assert api.requests == 1
    api.down = False
    clock.now += 31
    assert found.zone("p1", "s1") == "us-east-2a"


class NoCloudsInCatalog:
    """A keystoneauth adapter whose catalog has no ``clouds`` service (Clouds not installed)."""

    def __init__(self) -> None:
        self.session, self.auth, self.requests = self, None, 0

    def invalidate(self, auth) -> None:
        pass

    def request(self, url, method, **kwargs):
        from keystoneauth1 import exceptions as ks_exc

        self.requests += 1
        raise ks_exc.EndpointNotFound("no clouds endpoint")


def test_without_a_clouds_service_no_project_is_bound_and_reads_go_on():
    """A subnet made while the Clouds service is not in the catalog (a plain OpenStack with
    the drivers installed) is read without a zone, never refused."""
    from clouds_drivers.clouds_api import CloudsClient

    adapter = NoCloudsInCatalog()
    client = CloudsClient(adapter)
    assert client.resources("p1", "subnet") is None
    found = SubnetZones(client, ttl=30, clock=Clock())
    assert found.zone("p1", "s1") is None and found.zone("p1", "s2") is None
    assert adapter.requests == 4  # each listing asks twice (once with a fresh token); kept


class AccountsAnswer:
    """A keystoneauth adapter answering ``GET /v1/clouds`` as the Clouds API does."""

    def __init__(self, accounts) -> None:
        self.accounts, self.asked = accounts, []

    def request(self, url, method, params=None, **kwargs):
        import json

        import requests

        self.asked.append((method, url, params))
        response = requests.Response()
        response.status_code = 200
        chosen = [a for a in self.accounts if a["provider"] == params["provider"]]
        response._content = json.dumps(chosen).encode()
        return response


def test_bound_projects_are_the_accounts_of_one_cloud_and_none_without_the_service():
    from clouds_drivers.clouds_api import CloudsClient

    adapter = AccountsAnswer([{"project_id": "p2", "provider": "aws"},
                              {"project_id": "p1", "provider": "aws"},
                              {"project_id": "p3", "provider": "yandex"}])
    assert CloudsClient(adapter).bound_projects("aws") == ["p1", "p2"]
    assert adapter.asked == [("GET", "/v1/clouds", {"provider": "aws"})]
    assert CloudsClient(NoCloudsInCatalog()).bound_projects("aws") == []
