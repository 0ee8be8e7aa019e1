"""When the tracker asks a node's agent to restart a silent nova-compute."""

from __future__ import annotations

from cloud_manager.ha.compute_restart import NodeView, computes_to_restart
from cloud_manager.ha.node_state import NodeState, Probes

NOW = 1000.0


def _view(host="c1", state=NodeState.UP, service_up=False, heartbeat_at=NOW - 5,
          taken_in_hand=False) -> NodeView:
    return NodeView(host, state, Probes(service_up=service_up, agent_heartbeat_at=heartbeat_at),
                    taken_in_hand)


def _hosts(views, last_asked=None, interval=600.0) -> list[str]:
    return [r.host for r in computes_to_restart(views, last_asked or {}, NOW, interval, 60.0)]


def test_a_silent_compute_with_a_live_agent_is_restarted_once_per_interval():
    [restart] = computes_to_restart([_view()], {}, NOW, 600.0, 60.0)
    assert restart.host == "c1"
    assert restart.reason == ("nova-compute is down while the node agent is alive "
                              "(heartbeat 5 s ago)")
    assert _hosts([_view()], {"c1": NOW - 599}) == []
    [again] = computes_to_restart([_view()], {"c1": NOW - 600}, NOW, 600.0, 60.0)
    assert again.reason.endswith(", 600 s after the last request")
    assert _hosts([_view(state=NodeState.SUSPECT)]) == ["c1"]


def test_only_a_down_compute_of_a_node_alive_by_its_agent_and_not_taken_in_hand():
    assert _hosts([_view(service_up=True), _view(service_up=None)]) == []  # up, or unknown
    assert _hosts([_view(heartbeat_at=None), _view(heartbeat_at=NOW - 60)]) == []  # no agent
    assert _hosts([_view(taken_in_hand=True)]) == []
    for held in (NodeState.DOWN, NodeState.FENCED, NodeState.RECOVERING,
                 NodeState.MAINTENANCE):
        assert _hosts([_view(state=held)]) == [], held
    assert _hosts([_view()], interval=0) == []


def test_each_node_on_its_own():
    views = [_view("c1"), _view("c2", service_up=True), _view("c3")]
    assert _hosts(views, {"c3": NOW - 10}) == ["c1"]
