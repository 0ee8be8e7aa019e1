"""The node agent's RPC endpoint: the commands a controller may send to one node.

Served by ``aos-cloud-manager-agent`` when ``[agent] enabled`` and ``[DEFAULT] transport_url``
is set (see ``cloud_manager.agent_protocol``). Every command returns a typed result as a
dict; a command that cannot run at all raises, and the controller gets that error.
"""

from __future__ import annotations

import logging
import shlex
import subprocess
import time
from collections.abc import Callable

import oslo_messaging

from cloud_manager import agent_protocol as protocol

LOG = logging.getLogger(__name__)

InstanceSource = Callable[[], dict[str, str]]
# Characters of a command's output sent back: enough for systemctl's reason, not a log dump.
OUTPUT_TAIL = 2000


def run_command(host: str, command: str, timeout: float) -> protocol.CommandResult:
    """Run ``command`` (split like a shell would, no shell) with a timeout; never raises for
    the command's own failure, which is the result's exit status and output."""
    argv = shlex.split(command)
    started = time.monotonic()
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                              check=False)
        returncode, output = done.returncode, (done.stdout or "") + (done.stderr or "")
    except subprocess.TimeoutExpired:
        returncode, output = -1, f"timed out after {timeout:g}s"
    except OSError as exc:
        returncode, output = -1, f"cannot run: {exc}"
    return protocol.CommandResult(host=host, command=argv, returncode=returncode,
                                  output=output[-OUTPUT_TAIL:],
                                  seconds=round(time.monotonic() - started, 3))


class AgentEndpoint:
    """The commands; ``instances`` is the same source the instance-state file is written from."""

    target = oslo_messaging.Target(version=protocol.VERSION)

    def __init__(self, host: str, instances: InstanceSource, restart_command: str,
                 stop_command: str, command_timeout: float,
                 clock: Callable[[], float] = time.time) -> None:
        self.host, self.instances = host, instances
        self.restart_command, self.stop_command = restart_command, stop_command
        self.command_timeout, self.clock = command_timeout, clock

    def ping(self, ctxt: dict) -> dict:
        return protocol.as_dict(protocol.Pong(self.host))

    def report_instances(self, ctxt: dict) -> dict:
        return protocol.as_dict(protocol.InstanceReport(self.host, self.clock(),
                                                        self.instances()))

    def restart_nova_compute(self, ctxt: dict) -> dict:
        result = run_command(self.host, self.restart_command, self.command_timeout)
        LOG.info("restart of nova-compute asked by a controller: exit %s", result.returncode)
        return protocol.as_dict(result)

    def prepare_shutdown(self, ctxt: dict) -> dict:
        """Stop nova-compute (it takes no new work and lets go of its instances cleanly),
        then report what still runs: what the shutdown will stop and the evacuation move."""
        stop = run_command(self.host, self.stop_command, self.command_timeout)
        LOG.info("preparing for shutdown: stop of nova-compute exit %s", stop.returncode)
        return protocol.as_dict(protocol.ShutdownPreparation(self.host, stop, self.instances()))


def rpc_server(transport: oslo_messaging.Transport, endpoint: AgentEndpoint,
               ) -> oslo_messaging.server.MessageHandlingServer:
    """The RPC server of one agent (threads, no eventlet); start() it, stop() + wait() it."""
    return oslo_messaging.get_rpc_server(transport, protocol.target(endpoint.host), [endpoint],
                                         executor="threading")
