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


class Bindings:
    """A Clouds client answering one project's binding and the listing, or failing."""

    def __init__(self, now: list[float]) -> None:
        self.bound = {"p1": "aws", "p2": "yandex"}
        self.down = False
        self.hang = 0.0
        self.now = now
        self.asked: list[str] = []

    def binding(self, project_id):
        self.asked.append(project_id)
        if self.down:
            self.now[0] += self.hang  # a refused connection is quick, a hung API is not
            raise CloudsUnavailable("the Clouds API cannot be reached")
        return self.bound.get(project_id)

    def bindings(self):
        self.asked.append("*")
        if self.down:
            raise CloudsUnavailable("the Clouds API cannot be reached")
        return dict(self.bound)


def _bindings(client, now):
    return ProjectBindings(client, ttl=30, listing_ttl=300, clock=lambda: now[0])


def test_a_project_bound_just_now_is_asked_about_at_its_first_request():
    now = [0.0]
    client = Bindings(now)
    bindings = _bindings(client, now)
    assert bindings.provider_of("local") is None
    client.bound["p3"] = "aws"  # `clouds add` right after the listing was read
    now[0] = 1
    assert bindings.provider_of("p3") == "aws"
    assert client.asked == ["local", "*", "p3"]
    now[0] = 20
    assert bindings.provider_of("p3") == "aws" and bindings.provider_of("local") is None
    assert client.asked == ["local", "*", "p3"]  # both answered less than ttl ago


def test_an_outage_keeps_the_newest_word_however_old_for_every_project():
    """Scheduling of local projects (an evacuation too) must not stop with the Clouds API."""
    now = [0.0]
    client = Bindings(now)
    bindings = _bindings(client, now)
    bindings.provider_of("p1")  # answered, and the listing read beside it
    client.down = True
    now[0] = 86_400
    # never asked on its own, but in the listing: p2; in neither list nor answers: unbound
    assert [bindings.provider_of(p) for p in ("p1", "p2", "local")] == ["aws", "yandex", None]
    assert client.asked == ["p1", "*", "p1", "p2", "local"]  # refused at once: asked each time
    client.down = False
    client.bound["p3"] = "aws"  # bound as soon as the API is back: seen at once
    assert bindings.provider_of("p3") == "aws"
    del client.bound["p1"]  # unbound (clouds delete) once the API is back
    now[0] += 31
    assert bindings.provider_of("p1") is None


def test_a_hung_clouds_api_is_asked_again_only_after_ttl():
    now = [0.0]
    client = Bindings(now)
    bindings = _bindings(client, now)
    bindings.provider_of("p1")
    client.down, client.hang = True, 30.0  # each question waits for its timeout
    now[0] = 1_000
    assert [bindings.provider_of(p) for p in ("p1", "p2", "local")] == ["aws", "yandex", None]
    assert client.asked == ["p1", "*", "p1"]  # one timeout, then the newest word until ttl
    now[0] += 31
    bindings.provider_of("p2")
    assert client.asked[-1] == "p2"


def test_without_any_word_yet_a_project_cannot_be_told():
    now = [0.0]
    client = Bindings(now)
    client.down = True
    bindings = _bindings(client, now)
    with pytest.raises(CloudsUnavailable):
        bindings.provider_of("local")
