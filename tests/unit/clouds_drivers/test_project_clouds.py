"""The drivers' brief cache of project bindings and what it does when the Clouds API fails."""

from __future__ import annotations

import pytest

from clouds_drivers.clouds_api import CloudsUnavailable, ProjectCloud
from clouds_drivers.project_clouds import ProjectClouds


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
