"""Node agent routes of the CloudManager API: ask one node's agent over the message broker
(registered on the same ``API`` as the others).

Unknown node: 404. Agent commands off on this controller: 409. The agent does not confirm:
504. It confirmed but the command failed or did not answer in time: 502. Never a 500.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any

from aos.api.app import APIError, RequestContext
from aos.api.policy import operation
from cloud_manager.agent_client import (
    AgentClient,
    AgentError,
    AgentNotConfigured,
    AgentUnavailable,
)
from cloud_manager.api import schemas
from cloud_manager.api.policies import ADMIN, READER, RULES
from cloud_manager.api.routes import API, _by, _runtime, _transaction
from cloud_manager.db import api as db

RULES.extend([
    operation("cloud_manager:node:agent:report", READER,
              "Ask a node's agent which instances run there.",
              "GET", "/v1/nodes/{hostname}/agent/instances"),
    operation("cloud_manager:node:agent:restart_compute", ADMIN,
              "Ask a node's agent to restart its nova-compute.",
              "POST", "/v1/nodes/{hostname}/agent/restart-compute"),
])
ERRORS = {502: "the node's agent confirmed, but the command failed or did not answer within "
               "[agent] agent_response_timeout",
          504: "the node's agent did not confirm within [agent] agent_confirm_timeout "
               "(connect_attempts times)"}


@contextmanager
def _agent_errors() -> Iterator[None]:
    try:
        yield
    except AgentNotConfigured as exc:
        raise APIError(409, str(exc)) from None
    except AgentUnavailable as exc:
        raise APIError(504, str(exc)) from None
    except AgentError as exc:
        raise APIError(502, str(exc)) from None


def _ask(hostname: str, command: Callable[[AgentClient, str], Any]) -> Any:
    """``command`` on the agent of a known node, outside any database transaction."""
    with _transaction() as session:
        db.node(session, hostname)
    with _agent_errors():
        return command(_runtime().agents, hostname)


@API.route("/v1/nodes/{hostname}/agent/instances", rule="cloud_manager:node:agent:report",
           summary="Ask the node's agent which instances run there (from its instance source: "
           "libvirt or Nova).", response=schemas.AGENT_INSTANCES, errors=ERRORS)
def agent_instances(context: RequestContext, hostname: str) -> dict[str, Any]:
    return asdict(_ask(hostname, AgentClient.report_instances))


@API.route("/v1/nodes/{hostname}/agent/restart-compute", "POST",
           rule="cloud_manager:node:agent:restart_compute",
           summary="Ask the node's agent to restart nova-compute ([agent] "
           "restart_nova_compute_command on the node); recorded in the node's events.",
           response=schemas.AGENT_COMMAND, errors=ERRORS)
def agent_restart_compute(context: RequestContext, hostname: str) -> dict[str, Any]:
    try:
        result = _ask(hostname, AgentClient.restart_nova_compute)
    except APIError as exc:
        if exc.status != 404:
            _record(hostname, "warning", f"restart of nova-compute asked by {_by(context)} "
                    f"failed: {exc.message}")
        raise
    _record(hostname, "action", f"nova-compute restarted by its node agent, asked by "
            f"{_by(context)} ({result.seconds:g}s)")
    return asdict(result)


def _record(hostname: str, kind: str, message: str) -> None:
    with _transaction() as session:
        db.add_event(session, hostname, kind, message)
