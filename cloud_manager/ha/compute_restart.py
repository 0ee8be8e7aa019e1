"""When the tracker asks a node's agent to restart its nova-compute (pure).

A node whose nova-compute stopped reporting while its node agent still heartbeats is alive
(``node_state.assess``): it is rightly never evacuated, but Nova can neither schedule to it
nor manage its instances. Restarting nova-compute is an operator's first move; the tracker
makes it through the agent, at most once per ``[agent] restart_compute_interval`` per node,
and leaves alone a node an operator has taken in hand (maintenance, disabled in Nova, a task).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from cloud_manager.ha.node_state import NodeState, Probes

# Only while the node is judged alive: a node held down is the evacuation's, not ours.
_ALIVE = frozenset({NodeState.UP, NodeState.SUSPECT})


@dataclass(frozen=True)
class NodeView:
    """One loop's view of a node. ``taken_in_hand``: in maintenance, disabled in Nova by
    someone else than AOS's reserve pool, or with an active task."""

    host: str
    state: NodeState
    probes: Probes
    taken_in_hand: bool


@dataclass(frozen=True)
class RestartCompute:
    host: str
    reason: str


def computes_to_restart(nodes: Iterable[NodeView], last_asked: Mapping[str, float],
                        now: float, interval: float,
                        heartbeat_timeout: float) -> list[RestartCompute]:
    """The nodes to ask now; ``last_asked``: when each node's agent was last asked.
    ``interval`` 0 turns the restarts off."""
    if interval <= 0:
        return []
    wanted = []
    for node in nodes:
        probes = node.probes
        if (node.state not in _ALIVE or node.taken_in_hand or probes.service_up is not False
                or probes.agent_heartbeat_at is None):
            continue
        heartbeat_age = now - probes.agent_heartbeat_at
        asked = last_asked.get(node.host)
        if heartbeat_age >= heartbeat_timeout or (asked is not None and now - asked < interval):
            continue
        again = "" if asked is None else f", {now - asked:.0f} s after the last request"
        wanted.append(RestartCompute(
            node.host, f"nova-compute is down while the node agent is alive (heartbeat "
                       f"{heartbeat_age:.0f} s ago){again}"))
    return wanted
