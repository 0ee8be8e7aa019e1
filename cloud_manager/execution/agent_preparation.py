"""A planned shutdown asks the node's agent to prepare it, when there is one.

The agent stops nova-compute (no new work, a clean stop) and says what still runs before the
power device asks the OS to stop. It is an optimisation, never a gate: an agent that is off,
unreachable or fails leaves the shutdown to go on exactly as without it, and the node's
events say why.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from cloud_manager.agent_client import AgentFailure, AgentNotConfigured
from cloud_manager.runtime import Runtime

if TYPE_CHECKING:
    from cloud_manager.agent_protocol import ShutdownPreparation

Note = Callable[[str, str], None]


def preparation_message(prepared: ShutdownPreparation) -> str:
    running = sum(1 for state in prepared.instances.values() if state == "running")
    still = (f"{len(prepared.instances)} instance(s) still on the node ({running} running), "
             "evacuated once it is off")
    stop = prepared.stop
    if stop.ok:
        return f"node agent prepared the shutdown: nova-compute stopped; {still}"
    return (f"node agent could not stop nova-compute ({' '.join(stop.command)} exited "
            f"{stop.returncode}: {stop.output.strip()[-200:]}); {still}")


def prepare_shutdown(runtime: Runtime, host: str, note: Note) -> None:
    """``note(kind, message)`` records what happened as an event of the node."""
    if not runtime.conf.agent.enabled:
        return
    try:
        prepared = runtime.agents.prepare_shutdown(host)
    except (AgentFailure, AgentNotConfigured) as exc:
        note("warning", f"{exc}; shutting down without the agent's preparation")
        return
    note("action" if prepared.stop.ok else "warning", preparation_message(prepared))
