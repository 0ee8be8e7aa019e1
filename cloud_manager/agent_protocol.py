"""What the controller and a node agent say to each other over the message broker.

Transport: oslo.messaging RPC over CloudManager's own ``[DEFAULT] transport_url`` (the RabbitMQ
its listener and workers already use: nothing new to deploy or secure). Each agent serves
topic ``aos-agent`` with server = its ``[agent] host`` (the node's name in Nova), so a call
reaches exactly one node; ``call`` gives a reply or a timeout, never silence. The target is
versioned: a command added later raises the minor version and old agents refuse it clearly.
Results travel as plain dicts (``asdict``) and are typed again on arrival.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

import oslo_messaging
from oslo_config import cfg

TOPIC = "aos-agent"
EXCHANGE = "aos-cloud-manager"
VERSION = "1.0"

PING = "ping"
REPORT_INSTANCES = "report_instances"
RESTART_NOVA_COMPUTE = "restart_nova_compute"
PREPARE_SHUTDOWN = "prepare_shutdown"


def target(host: str | None = None) -> oslo_messaging.Target:
    return oslo_messaging.Target(exchange=EXCHANGE, topic=TOPIC, server=host, version=VERSION)


def transport(url: str) -> oslo_messaging.Transport:
    """An RPC transport on ``url``.

    It is given oslo's global ``cfg.CONF``, which AOS leaves unused: the RPC client and server
    read their tracing and metrics options from the conf they get, and those are registered on
    the global one only; AOS's own conf is a separate ConfigOpts, so its ``transport_url``
    does not collide with the one oslo.messaging registers.
    """
    return oslo_messaging.get_rpc_transport(cfg.CONF, url=url)


@dataclass(frozen=True)
class Pong:
    """The agent is there and serves this protocol version."""

    host: str
    version: str = VERSION


@dataclass(frozen=True)
class InstanceReport:
    """The node's instances (Nova UUID → running/stopped) as its instance source sees them."""

    host: str
    read_at: float
    instances: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CommandResult:
    """One local command the agent ran (argv as configured, exit status, end of output)."""

    host: str
    command: list[str]
    returncode: int
    output: str
    seconds: float

    @property
    def ok(self) -> bool:
        return self.returncode == 0


@dataclass(frozen=True)
class ShutdownPreparation:
    """nova-compute stopped (or why not), and what still ran on the node afterwards."""

    host: str
    stop: CommandResult
    instances: dict[str, str] = field(default_factory=dict)


def as_dict(result: Any) -> dict[str, Any]:
    return asdict(result)


def typed(cls: type, data: dict[str, Any]) -> Any:
    """A result dict back into its dataclass; keys a newer agent adds are left out."""
    known = {f.name for f in fields(cls)}
    values = {key: value for key, value in data.items() if key in known}
    if cls is ShutdownPreparation:
        values["stop"] = typed(CommandResult, values["stop"])
    return cls(**values)
