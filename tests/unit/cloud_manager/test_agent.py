"""The node agent's libvirt source, run through the real virsh against libvirt's test driver.

libvirt ships a ``test://`` driver that serves domains described in an XML file, in-process, with
no daemon: the agent's command line, output parsing and error path all meet real libvirt.
"""

from __future__ import annotations

import shutil

import pytest

from aos import conf as aos_conf
from aos import modules
from cloud_manager import agent
from cloud_manager.agent_report import RUNNING, read_report

pytestmark = pytest.mark.skipif(shutil.which("virsh") is None,
                                reason="virsh not installed (tools/install-test-packages)")

RUNNING_VM = "11111111-1111-4111-8111-111111111111"
SHUTOFF_VM = "22222222-2222-4222-8222-222222222222"
PAUSED_VM = "33333333-3333-4333-8333-333333333333"
NODE_XML = """<node>
  {}
</node>"""
DOMAIN = """<domain type="test" xmlns:test="http://libvirt.org/schemas/domain/test/1.0">
    <name>{name}</name><uuid>{uuid}</uuid><memory>65536</memory>
    <os><type>hvm</type></os>{state}
  </domain>"""


@pytest.fixture
def libvirt_uri(tmp_path) -> str:
    domains = [DOMAIN.format(name="instance-00000001", uuid=RUNNING_VM, state=""),
               DOMAIN.format(name="instance-00000002", uuid=SHUTOFF_VM,
                             state="<test:runstate>5</test:runstate>"),
               DOMAIN.format(name="instance-00000003", uuid=PAUSED_VM,
                             state="<test:runstate>3</test:runstate>")]
    path = tmp_path / "node.xml"
    path.write_text(NODE_XML.format("\n  ".join(domains)))
    return f"test://{path}"


def test_libvirt_source_reports_only_running_domains_as_running(libvirt_uri):
    assert agent.libvirt_instances(libvirt_uri)() == {
        RUNNING_VM: RUNNING, SHUTOFF_VM: "stopped", PAUSED_VM: "stopped"}


def test_libvirt_source_error_says_what_failed(tmp_path):
    with pytest.raises(RuntimeError, match=r"virsh -c test://\S+missing.xml list failed: .+"):
        agent.libvirt_instances(f"test://{tmp_path}/missing.xml")()


def test_agent_writes_what_libvirt_runs_to_shared_storage(aos_env, libvirt_uri, tmp_path):
    storage = tmp_path / "shared"
    (aos_env["etc"] / "cloud_manager.conf").write_text(
        f"[agent]\nhost = compute7\ninstance_source = libvirt\nlibvirt_uri = {libvirt_uri}\n"
        f"heartbeat_interval = 1\n[extra_availability_check]\nstorage_path = {storage}\n")
    conf = aos_conf.load(modules.get("cloud_manager"))
    loops = iter([False, True])
    agent.run(conf, stop=lambda: next(loops))
    report = read_report(storage, "compute7")
    assert report.instances == {RUNNING_VM: RUNNING, SHUTOFF_VM: "stopped",
                                PAUSED_VM: "stopped"}
    assert report.running_rate == pytest.approx(100 / 3)


def test_agent_answers_controller_commands_from_the_same_source(aos_env, libvirt_uri, tmp_path,
                                                                monkeypatch):
    """``run`` serves the RPC endpoint beside the heartbeat; the broker is oslo.messaging's
    in-process ``fake://`` one, shared with the controller's client."""
    import threading

    from cloud_manager import agent_protocol
    from cloud_manager.agent_client import AgentClient

    transport = agent_protocol.transport("fake://")
    monkeypatch.setattr(agent_protocol, "transport", lambda url: transport)
    (aos_env["etc"] / "cloud_manager.conf").write_text(
        "[DEFAULT]\ntransport_url = fake://\n"
        f"[agent]\nenabled = true\nhost = compute7\ninstance_source = libvirt\n"
        f"libvirt_uri = {libvirt_uri}\nheartbeat_interval = 1\n"
        f"[extra_availability_check]\nstorage_path = {tmp_path}\n")
    conf = aos_conf.load(modules.get("cloud_manager"))
    stop = threading.Event()
    running = threading.Thread(target=agent.run, args=(conf, stop.is_set))
    running.start()
    try:
        report = AgentClient(transport, 1, 5, 0.1, 5).report_instances("compute7")
    finally:
        stop.set()
        running.join(10)
    assert report.instances == read_report(tmp_path, "compute7").instances
    assert report.instances[RUNNING_VM] == RUNNING
    assert not running.is_alive()
