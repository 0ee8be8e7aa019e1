"""The drivers' brief caches of project bindings and what they do when the Clouds API fails."""

from __future__ import annotations

import pytest

from clouds_drivers.clouds_api import CloudsUnavailable, ProjectCloud
from clouds_drivers.project_clouds import ProjectBindings, ProjectClouds


class Answers:
    """A Clouds client answering from a dict, or failing when told to."""

    def __init__(self) -> None:
        self.bound = {"p1": ProjectCloud("p1", "aws", "us-east-2", "us-east-2a", {"k": "v"})}
        self.down = False
        self.calls = 0

    def project_cloud(self, project_id):
        self.calls += 1
        if self.down:
            raise CloudsUnavailable("the Clouds API cannot be reached")
        return self.bound.get(project_id)


def test_answers_are_kept_for_ttl_then_asked_again():
    now = [0.0]
    client = Answers()
    cache = ProjectClouds(client, ttl=10, stale_ttl=100, clock=lambda: now[0])
    assert cache.provider_of("p1") == "aws"
    assert cache.provider_of("p2") is None
    now[0] = 5
    cache.get("p1")
    assert client.calls == 2
    now[0] = 11
    cache.get("p1")
    assert client.calls == 3


def test_clouds_api_down_uses_the_last_answer_for_a_while_then_fails():
    now = [0.0]
    client = Answers()
    cache = ProjectClouds(client, ttl=10, stale_ttl=100, clock=lambda: now[0])
    cache.get("p1")
    client.down = True
    now[0] = 50
    assert cache.provider_of("p1") == "aws"
    now[0] = 111
    with pytest.raises(CloudsUnavailable):
        cache.get("p1")
    with pytest.raises(CloudsUnavailable):
        cache.get("never-seen")


class Listing:
    """A Clouds client answering the accounts listing, or failing when told to."""

    def __init__(self) -> None:
        self.bound = {"p1": "aws", "p2": "yandex"}
        self.down = False
        self.calls = 0

    def bindings(self):
        self.calls += 1
        if self.down:
            raise CloudsUnavailable("the Clouds API cannot be reached")
        return dict(self.bound)


def test_one_listing_answers_every_project_for_ttl():
    now = [0.0]
    client = Listing()
    bindings = ProjectBindings(client, ttl=30, clock=lambda: now[0])
    assert [bindings.provider_of(p) for p in ("p1", "p2", "local")] == ["aws", "yandex", None]
    assert client.calls == 1
    client.bound["p3"] = "aws"  # bound meanwhile: seen once the listing is read again
    now[0] = 29
    assert bindings.provider_of("p3") is None
    now[0] = 31
    assert bindings.provider_of("p3") == "aws"
    assert client.calls == 2


def test_an_outage_of_the_clouds_api_keeps_the_last_listing_however_long():
    """Scheduling of local projects (an evacuation too) must not stop with the Clouds API."""
    now = [0.0]
    client = Listing()
    bindings = ProjectBindings(client, ttl=30, clock=lambda: now[0])
    bindings.provider_of("p1")
    client.down = True
    now[0] = 86_400
    assert (bindings.provider_of("p1"), bindings.provider_of("local")) == ("aws", None)
    now[0] = 86_401  # asked again only after ttl, not at every request
    bindings.provider_of("p2")
    assert client.calls == 2
    client.down = False
    now[0] = 86_431
    del client.bound["p1"]  # unbound: seen once the API answers again
    assert bindings.provider_of("p1") is None


def test_without_any_listing_yet_no_project_can_be_told():
    client = Listing()
    client.down = True
    bindings = ProjectBindings(client, ttl=30, clock=lambda: 0.0)
    with pytest.raises(CloudsUnavailable):
        bindings.provider_of("local")
