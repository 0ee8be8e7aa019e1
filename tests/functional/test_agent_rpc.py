"""Node agent commands on the sandbox: ``openstack aos node agent`` → the CloudManager API →
RabbitMQ → the real ``aos-cloud-manager-agent`` of a node, and back.

The agents read their instances from the sandbox's Nova and restart the sandbox's own
nova-compute process of their host (``tools/sandbox kill-host`` + ``start-host``, see
``CloudManager.start_agent``). One deployment, API only: no tracker runs that could take the
restarted compute for a failure.
"""

from __future__ import annotations

import json
import time
import urllib.request
import uuid

import pytest

from cloud_manager.db import api as db_api
from tests.cli import openstack
from tools.aos_sandbox.aos_services import CloudManager, answers, reporting, wait_for

pytestmark = pytest.mark.functional

API = "http://127.0.0.1:9362"


@pytest.fixture(scope="module")
def cm(sandbox, tmp_path_factory):
    deployment = CloudManager(
        sandbox, tmp_path_factory.mktemp("agent-rpc"),
        DEFAULT={"transport_url": sandbox.info["transport_url"]},
        agent={"enabled": "true", "agent_confirm_timeout": 2, "connect_attempts": 2,
               "backoff_factor": 0.3, "agent_response_timeout": 45})
    deployment.start("api")
    wait_for("the API", lambda: answers(f"{API}/"), 60)
    with deployment.runtime.transaction() as session:
        db_api.ensure_nodes(session, list(sandbox.info["hosts"]))
    yield deployment
    deployment.drop()


def aos(*args: str):
    return openstack("--os-auth-type", "none", "--os-cloud-manager-url", API, "aos", *args)


def timed(what: str, call):
    """Run ``call``; print how long it took (figures for the report, never asserted)."""
    started = time.monotonic()
    result = call()
    print(f"{what}: {time.monotonic() - started:.2f} s")
    return result


def _serving(cm: CloudManager, host: str) -> bool:
    return "serving controller commands" in cm.output(f"agent-{host}")


def test_agents_report_novas_instances_restart_compute_and_a_stopped_one_is_an_error(
        sandbox, cm):
    host, other = sorted(sandbox.info["hosts"], key=lambda h: (len(h), h))[:2]
    conn = sandbox.conn("admin")
    server = conn.compute.create_server(
        name=f"agent-{uuid.uuid4().hex[:6]}", flavor_id=conn.compute.find_flavor("m1.tiny").id,
        image_id=conn.image.find_image("cirros").id,
        networks=[{"uuid": conn.network.find_network("private").id}],
        availability_zone=f"nova:{host}")
    try:
        sandbox.wait_active(server)
        cm.start_agent(host)
        cm.start_agent(other)
        wait_for("both agents on the bus", lambda: _serving(cm, host) and _serving(cm, other),
                 30)

        report = timed("openstack aos node agent report (CLI → API → RabbitMQ → agent → Nova)",
                       lambda: aos("node", "agent", host, "report", "-f", "json"))
        assert report.code == 0, report.err
        assert report.json()["Host"] == host
        assert report.json()["Instances"] == {server.id: "running"}

        for _ in range(3):
            via_api = timed("GET /v1/nodes/HOST/agent/instances (API → RabbitMQ → agent → Nova)",
                            lambda: json.load(urllib.request.urlopen(
                                f"{API}/v1/nodes/{host}/agent/instances", timeout=30)))
        assert via_api["instances"] == {server.id: "running"}

        restarted = timed("openstack aos node agent restart-compute",
                          lambda: aos("node", "agent", other, "restart-compute", "-f", "json"))
        assert restarted.code == 0, restarted.err
        assert restarted.json()["Returncode"] == 0
        assert f"{other}: started nova-compute pid" in restarted.json()["Output"]
        assert reporting(sandbox, other)

        cm.kill(f"agent-{host}")
        failed = timed("node agent report of a stopped agent (2 attempts x 2 s)",
                       lambda: aos("node", "agent", host, "report"))
        assert failed.code != 0
        assert failed.err.strip().startswith(
            f"504: node agent of {host}: report_instances: no confirmation within 2s, "
            "2 attempt(s)"), failed.err
    finally:
        conn.compute.delete_server(server.id, force=True)
