"""The tracker's request to a node agent: restart the node's silent nova-compute.

Run in the background (the agent may take its confirm and response timeouts); whatever the
outcome, it ends as an event of the node, since no task records it.
"""

from __future__ import annotations

import logging

from cloud_manager.agent_client import AgentFailure, AgentNotConfigured
from cloud_manager.db import api as db_api
from cloud_manager.ha.compute_restart import RestartCompute
from cloud_manager.runtime import Runtime

LOG = logging.getLogger(__name__)


def restart_through_agent(runtime: Runtime, restart: RestartCompute) -> None:
    try:
        result = runtime.agents.restart_nova_compute(restart.host)
    except (AgentFailure, AgentNotConfigured) as exc:
        kind, outcome = "warning", f"the restart through the agent failed: {exc}"
    except Exception as exc:  # noqa: BLE001 - a background request must leave a trace
        kind, outcome = "alert", ("the restart through the agent failed unexpectedly "
                                  f"({type(exc).__name__}: {exc})")
    else:
        kind = "action"
        outcome = f"nova-compute restarted by the node agent ({result.seconds:g}s)"
    message = f"{restart.reason}; {outcome}"
    LOG.log(logging.INFO if kind == "action" else logging.WARNING, "node %s: %s",
            restart.host, message)
    try:
        with runtime.transaction() as session:
            db_api.add_event(session, restart.host, kind, message)
    except Exception:  # noqa: BLE001 - in the background: the log line is what is left
        LOG.exception("node %s: the event of the restart was not stored", restart.host)
