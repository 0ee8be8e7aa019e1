"""The node agent (aos-cloud-manager-agent on every compute node).

Every ``[agent] heartbeat_interval`` seconds it writes which instances run on its node to
``[extra_availability_check] storage_path`` on shared storage. If the node dies the file stops
changing; if only nova-compute dies the file keeps changing and the node is not evacuated.
With ``[DEFAULT] transport_url`` set it also answers the controller's commands over the
message broker (``cloud_manager.agent_endpoint``).
"""

from __future__ import annotations

import logging
import subprocess
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from oslo_config import cfg

from cloud_manager import agent_endpoint, agent_protocol
from cloud_manager.agent_endpoint import InstanceSource
from cloud_manager.agent_report import RUNNING, AgentReport, write_report

if TYPE_CHECKING:
    from oslo_messaging.server import MessageHandlingServer

LOG = logging.getLogger(__name__)


def libvirt_instances(uri: str) -> InstanceSource:
    """Domain UUID (= Nova instance UUID) → running/stopped, from ``virsh -c uri``.

    Only a running domain counts as running: a paused or shut-off one still belongs to the node
    but proves nothing about it being alive.
    """
    def uuids(*flags: str) -> set[str]:
        try:
            out = subprocess.run(["virsh", "-c", uri, "list", "--uuid", *flags],
                                 capture_output=True, text=True, check=True, timeout=30).stdout
        except subprocess.CalledProcessError as exc:
            raise RuntimeError(f"virsh -c {uri} list failed: {exc.stderr.strip()}") from exc
        return {line.strip() for line in out.splitlines() if line.strip()}

    def read() -> dict[str, str]:
        running = uuids("--state-running")
        return {uuid: RUNNING if uuid in running else "stopped" for uuid in uuids("--all")}

    return read


def nova_instances(conf: cfg.ConfigOpts, host: str) -> InstanceSource:
    """Instance states as Nova's API reports them for ``host`` (power_state 1 = running)."""
    from aos import openstack

    conn = openstack.connect(conf)

    def read() -> dict[str, str]:
        servers = conn.compute.get(f"/servers/detail?all_tenants=1&host={host}").json()
        return {s["id"]: RUNNING if s.get("OS-EXT-STS:power_state") == 1 else "stopped"
                for s in servers["servers"]}

    return read


def serve_commands(conf: cfg.ConfigOpts, instances: InstanceSource,
                   ) -> tuple[MessageHandlingServer, threading.Thread] | None:
    """This agent's RPC server and the thread starting it (None without ``[DEFAULT]
    transport_url``)."""
    if not conf.transport_url:
        LOG.warning("[DEFAULT] transport_url is not set: this agent answers no controller "
                    "commands (it still writes its instance-state file)")
        return None
    agent = conf.agent
    endpoint = agent_endpoint.AgentEndpoint(
        agent.host, instances, agent.restart_nova_compute_command,
        agent.stop_nova_compute_command, command_timeout(agent.agent_response_timeout))
    server = agent_endpoint.rpc_server(agent_protocol.transport(conf.transport_url), endpoint)

    def start() -> None:
        server.start()
        LOG.info("serving controller commands on topic %s, server %s", agent_protocol.TOPIC,
                 agent.host)

    # Connecting waits for the broker; the instance-state file (the heartbeat) must not.
    starting = threading.Thread(target=start, name="agent-rpc", daemon=True)
    starting.start()
    return server, starting


def command_timeout(response_timeout: float) -> float:
    """A local command ends a little before the controller stops waiting for its answer."""
    return max(1.0, response_timeout - 2.0)


def run(conf: cfg.ConfigOpts, stop: Callable[[], bool] = lambda: False) -> None:
    host = conf.agent.host
    storage_path = conf.extra_availability_check.storage_path
    source = (libvirt_instances(conf.agent.libvirt_uri) if conf.agent.instance_source == "libvirt"
              else nova_instances(conf, host))
    LOG.info("node agent for %s writing to %s every %ss", host, storage_path,
             conf.agent.heartbeat_interval)
    serving = serve_commands(conf, source)
    try:
        _write_reports(conf, host, storage_path, source, stop)
    finally:
        if serving is not None and not serving[1].is_alive():  # started: stop it cleanly
            serving[0].stop()
            serving[0].wait()


def _write_reports(conf: cfg.ConfigOpts, host: str, storage_path: str, source: InstanceSource,
                   stop: Callable[[], bool]) -> None:
    instances: dict[str, str] = {}
    while not stop():
        started = time.monotonic()
        try:
            instances = source()
        except Exception as exc:  # noqa: BLE001 - keep the heartbeat going with the last view
            LOG.warning("cannot list instances (%s); reporting the last known states", exc)
        try:
            write_report(storage_path, AgentReport(host, time.time(), instances))
        except OSError as exc:
            LOG.error("cannot write the instance-state file to %s: %s", storage_path, exc)
        time.sleep(max(0.0, conf.agent.heartbeat_interval - (time.monotonic() - started)))
