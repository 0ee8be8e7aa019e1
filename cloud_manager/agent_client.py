"""The controller's side of the node agent protocol (``cloud_manager.agent_protocol``).

Every command first asks the agent to confirm it is there (``ping``, ``[agent]
agent_confirm_timeout``), up to ``connect_attempts`` times, ``backoff_factor * 2 ** n`` seconds
apart; only then is the command sent, with ``agent_response_timeout``. So a node whose agent is
gone costs seconds, not the response timeout, and a command is never sent twice (a restart is
not idempotent). Every failure names the node and the command.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import oslo_messaging
import tenacity
from oslo_config import cfg

from cloud_manager import agent_protocol as protocol

LOG = logging.getLogger(__name__)

# A failed delivery (no queue bound on the broker, broker away) or no answer: try again.
_NOT_CONFIRMED = (oslo_messaging.MessagingTimeout, oslo_messaging.MessageDeliveryFailure)


class AgentFailure(Exception):
    def __init__(self, host: str, command: str, why: str) -> None:
        super().__init__(f"node agent of {host}: {command}: {why}")
        self.host, self.command, self.why = host, command, why


class AgentUnavailable(AgentFailure):
    """The agent did not confirm it is there: down, not enabled, or the broker is away."""


class AgentError(AgentFailure):
    """The agent confirmed but the command failed, or its answer did not come in time."""


class AgentNotConfigured(Exception):
    """This controller cannot ask agents anything (``[agent] enabled`` or ``transport_url``)."""


class AgentClient:
    def __init__(self, transport: oslo_messaging.Transport, confirm_timeout: float,
                 response_timeout: float, backoff_factor: float, attempts: int,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.confirm_timeout, self.response_timeout = confirm_timeout, response_timeout
        self.backoff_factor, self.attempts, self.sleep = backoff_factor, attempts, sleep
        # retry=0: the transport does not reconnect on its own; attempts are counted here.
        self._rpc = oslo_messaging.get_rpc_client(transport, protocol.target(),
                                                  timeout=response_timeout, retry=0)

    @classmethod
    def from_conf(cls, conf: cfg.ConfigOpts) -> AgentClient:
        if not conf.agent.enabled:
            raise AgentNotConfigured("node agent commands are off: [agent] enabled = false in "
                                     "the controller's cloud_manager.conf")
        if not conf.transport_url:
            raise AgentNotConfigured("node agent commands need the message broker: "
                                     "[DEFAULT] transport_url is not set in the controller's "
                                     "configuration")
        try:
            transport = protocol.transport(conf.transport_url)
        except (oslo_messaging.InvalidTransportURL, oslo_messaging.DriverLoadFailure) as exc:
            # Not the exception's text: it quotes the URL, password included.
            raise AgentNotConfigured(f"[DEFAULT] transport_url of the controller cannot be "
                                     f"used for node agent commands ({type(exc).__name__})"
                                     ) from None
        agent = conf.agent
        return cls(transport, agent.agent_confirm_timeout,
                   agent.agent_response_timeout, agent.backoff_factor, agent.connect_attempts)

    def ping(self, host: str) -> protocol.Pong:
        return protocol.typed(protocol.Pong, self._confirm(host, protocol.PING))

    def report_instances(self, host: str) -> protocol.InstanceReport:
        return protocol.typed(protocol.InstanceReport,
                              self._command(host, protocol.REPORT_INSTANCES))

    def restart_nova_compute(self, host: str) -> protocol.CommandResult:
        result = protocol.typed(protocol.CommandResult,
                                self._command(host, protocol.RESTART_NOVA_COMPUTE))
        if not result.ok:
            raise AgentError(host, protocol.RESTART_NOVA_COMPUTE,
                             f"{' '.join(result.command)} exited {result.returncode}: "
                             f"{result.output.strip()[-300:]}")
        return result

    def prepare_shutdown(self, host: str) -> protocol.ShutdownPreparation:
        """What still runs, even when stopping nova-compute failed (the result says so)."""
        return protocol.typed(protocol.ShutdownPreparation,
                              self._command(host, protocol.PREPARE_SHUTDOWN))

    def _command(self, host: str, command: str) -> dict[str, Any]:
        self._confirm(host, command)
        try:
            return self._rpc.prepare(server=host, timeout=self.response_timeout).call({}, command)
        except oslo_messaging.MessagingTimeout:
            raise AgentError(host, command, f"confirmed, then no answer within "
                             f"{self.response_timeout}s ([agent] agent_response_timeout)"
                             ) from None
        except Exception as exc:  # noqa: BLE001 - a remote error arrives as any type
            raise AgentError(host, command, _remote_error(exc)) from None

    def _confirm(self, host: str, command: str) -> dict[str, Any]:
        ping = self._rpc.prepare(server=host, timeout=self.confirm_timeout)
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.attempts),
            wait=tenacity.wait_exponential(multiplier=self.backoff_factor, min=0),
            retry=tenacity.retry_if_exception_type(_NOT_CONFIRMED),
            sleep=self.sleep, reraise=True,
            before_sleep=lambda state: LOG.info(
                "node agent of %s did not confirm (attempt %d of %d); trying again", host,
                state.attempt_number, self.attempts))
        try:
            return retrying(ping.call, {}, protocol.PING)
        except oslo_messaging.MessagingTimeout:
            why = (f"no confirmation within {self.confirm_timeout}s, {self.attempts} "
                   "attempt(s) ([agent] agent_confirm_timeout, connect_attempts): is "
                   "aos-cloud-manager-agent running there with [agent] enabled?")
        except oslo_messaging.MessageDeliveryFailure as exc:
            why = f"cannot deliver to it ({exc}) after {self.attempts} attempt(s)"
        except Exception as exc:  # noqa: BLE001 - e.g. an agent of an older protocol
            raise AgentError(host, command, _remote_error(exc)) from None
        raise AgentUnavailable(host, command, why)


def _remote_error(exc: Exception) -> str:
    """One line: the remote exception's type and message, not its traceback."""
    if isinstance(exc, oslo_messaging.RemoteError):
        return f"{exc.exc_type}: {exc.value}"
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".rstrip(": ")
