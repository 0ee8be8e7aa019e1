"""The balancing routes through Flask's test client: 200/202, and 400/404/409/502, never 500."""

from __future__ import annotations

import pytest

from cloud_manager.api import cloud_manager_api
from cloud_manager.nova import NovaError
from tests.unit.cloud_manager.balancing.test_balancing_task import BalancingNova
from tests.unit.cloud_manager.conftest import HOSTS
from tests.unit.cloud_manager.test_api import make_conf


@pytest.fixture
def api(aos_env):
    app = cloud_manager_api.create_app(make_conf(aos_env))
    nova = BalancingNova(HOSTS)
    app.extensions["runtime"].__dict__["nova"] = nova
    app.extensions["runtime"].dispatch_task = lambda _id: None
    for n in range(6):
        nova.add_server(f"vm{n}", "c1", ram_mb=1024)
    return app.test_client(), nova


def test_plan_run_and_flag(api):
    client, nova = api
    plan = client.get("/v1/balancing/rack/plan")
    assert plan.status_code == 200 and plan.json["migrations"]
    assert client.get("/v1/balancing/rack/snapshot").json["aggregate"] == "rack"
    run = client.post("/v1/balancing/rack/run", json={})
    assert run.status_code == 202 and run.json["kind"] == "balancing"
    again = client.post("/v1/balancing/rack/run", json={})
    assert again.status_code == 409 and "being balanced already" in again.json["error"]["message"]
    off = client.put("/v1/aggregates/rack/balancing", json={"enabled": False})
    assert off.status_code == 200 and nova.aggregate_list[0].metadata == {}


@pytest.mark.parametrize(("method", "path", "body", "status"), [
    ("get", "/v1/balancing/nope/plan", None, 404),
    ("get", "/v1/balancing/nope/snapshot", None, 404),
    ("post", "/v1/balancing/nope/run", {}, 404),
    ("put", "/v1/aggregates/nope/balancing", {"enabled": True}, 404),
    ("put", "/v1/aggregates/rack/balancing", {"enabled": "maybe"}, 400),
    ("post", "/v1/balancing/rack/run", {"now": True}, 400),
])
def test_bad_requests(api, method, path, body, status):
    client, _ = api
    response = getattr(client, method)(path, json=body)
    assert response.status_code == status, response.json


def test_an_unflagged_aggregate_is_409_and_nova_failing_is_502(api):
    client, nova = api
    client.put("/v1/aggregates/rack/balancing", json={"enabled": False})
    refused = client.post("/v1/balancing/rack/run", json={})
    assert refused.status_code == 409 and "not flagged" in refused.json["error"]["message"]

    def broken():
        raise NovaError("GET /os-aggregates: HTTP 503: unavailable")

    nova.aggregates = broken
    assert client.get("/v1/balancing/rack/plan").status_code == 502
