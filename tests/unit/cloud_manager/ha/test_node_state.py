import pytest

from cloud_manager.ha.node_state import (
    ALLOWED_TRANSITIONS,
    InvalidTransition,
    NodeRecord,
    NodeState,
    Probes,
    TrackerPolicy,
    Verdict,
    assess,
    mark,
    observe,
)

NOW = 1_000_000.0
POLICY = TrackerPolicy(mutex=3, mutex_up=1, heartbeat_timeout=60, instance_rate=100)
ALIVE = Probes(service_up=True)
DEAD = Probes(service_up=False)
UNANSWERED = Probes(service_up=None)


def run(record, probes_sequence, policy=POLICY):
    transitions = []
    for step, probes in enumerate(probes_sequence):
        record, transition = observe(record, probes, policy, NOW + step)
        if transition is not None:
            transitions.append(transition)
    return record, transitions


class TestAssess:
    def test_power_off_is_dead_even_if_nova_says_up(self):
        liveness = assess(Probes(service_up=True, power="off"), POLICY, NOW)
        assert liveness.verdict is Verdict.DEAD
        assert "powered off" in liveness.reason

    def test_nova_service_up_is_alive(self):
        assert assess(ALIVE, POLICY, NOW).verdict is Verdict.ALIVE

    def test_disabled_service_is_still_alive_and_says_so(self):
        liveness = assess(Probes(service_up=True, service_disabled=True), POLICY, NOW)
        assert liveness.verdict is Verdict.ALIVE
        assert "disabled" in liveness.reason

    def test_nova_down_but_fresh_agent_heartbeat_is_alive(self):
        probes = Probes(service_up=False, agent_heartbeat_at=NOW - 59)
        liveness = assess(probes, POLICY, NOW)
        assert liveness.verdict is Verdict.ALIVE
        assert "node agent alive: host may still run instances" in liveness.reason

    def test_heartbeat_exactly_at_timeout_is_stale(self):
        probes = Probes(service_up=False, agent_heartbeat_at=NOW - 60)
        liveness = assess(probes, POLICY, NOW)
        assert liveness.verdict is Verdict.DEAD
        assert "node agent silent for 60 s" in liveness.reason

    def test_nova_down_and_storage_file_shows_enough_running_is_alive(self):
        probes = Probes(service_up=False, storage_running_rate=100, storage_file_at=NOW - 10)
        liveness = assess(probes, POLICY, NOW)
        assert liveness.verdict is Verdict.ALIVE
        assert "100% of instances running" in liveness.reason

    def test_storage_rate_below_instance_rate_is_dead(self):
        probes = Probes(service_up=False, storage_running_rate=99.5, storage_file_at=NOW - 10)
        liveness = assess(probes, POLICY, NOW)
        assert liveness.verdict is Verdict.DEAD
        assert "99.5%" in liveness.reason

    def test_lower_instance_rate_accepts_partial_running(self):
        policy = TrackerPolicy(instance_rate=80)
        probes = Probes(service_up=False, storage_running_rate=80, storage_file_at=NOW)
        assert assess(probes, policy, NOW).verdict is Verdict.ALIVE

    def test_stale_storage_file_proves_nothing(self):
        probes = Probes(service_up=False, storage_running_rate=100, storage_file_at=NOW - 121)
        liveness = assess(probes, POLICY, NOW)
        assert liveness.verdict is Verdict.DEAD
        assert "stale" in liveness.reason

    def test_storage_rate_without_file_time_is_stale(self):
        probes = Probes(service_up=False, storage_running_rate=100, storage_file_at=None)
        assert assess(probes, POLICY, NOW).verdict is Verdict.DEAD

    def test_power_off_beats_fresh_heartbeat(self):
        probes = Probes(service_up=False, agent_heartbeat_at=NOW, power="off")
        assert assess(probes, POLICY, NOW).verdict is Verdict.DEAD

    def test_nova_down_without_other_signals_is_dead_with_evidence(self):
        liveness = assess(Probes(service_up=False, power="on"), POLICY, NOW)
        assert liveness.verdict is Verdict.DEAD
        assert "nova-compute down" in liveness.reason
        assert "no node agent heartbeat" in liveness.reason

    def test_unanswered_nova_is_unknown_not_dead(self):
        assert assess(UNANSWERED, POLICY, NOW).verdict is Verdict.UNKNOWN

    def test_unanswered_nova_with_fresh_heartbeat_is_alive(self):
        probes = Probes(service_up=None, agent_heartbeat_at=NOW - 1)
        assert assess(probes, POLICY, NOW).verdict is Verdict.ALIVE


class TestDetection:
    def test_first_dead_check_makes_host_suspect(self):
        record, [transition] = run(NodeRecord("compute1"), [DEAD])
        assert record.state is NodeState.SUSPECT
        assert (transition.from_state, transition.to_state) == (NodeState.UP, NodeState.SUSPECT)
        assert "failed check 1 of 3" in transition.reason

    def test_down_after_mutex_consecutive_dead_checks(self):
        record, transitions = run(NodeRecord("compute1"), [DEAD, DEAD, DEAD])
        assert record.state is NodeState.DOWN
        assert [t.to_state for t in transitions] == [NodeState.SUSPECT, NodeState.DOWN]
        assert transitions[-1].reason.startswith("3 consecutive failed checks (mutex=3)")
        assert transitions[-1].at == NOW + 2
        assert record.since == NOW + 2

    def test_not_down_before_mutex_checks(self):
        record, _ = run(NodeRecord("compute1"), [DEAD, DEAD])
        assert record.state is NodeState.SUSPECT
        assert record.failed_checks == 2

    def test_mutex_one_goes_straight_to_down(self):
        record, [transition] = run(NodeRecord("compute1"), [DEAD], TrackerPolicy(mutex=1))
        assert record.state is NodeState.DOWN
        assert transition.from_state is NodeState.UP

    def test_alive_check_returns_suspect_host_to_up_and_resets_count(self):
        record, transitions = run(NodeRecord("compute1"), [DEAD, DEAD, ALIVE, DEAD, DEAD])
        assert record.state is NodeState.SUSPECT
        assert record.failed_checks == 2
        assert transitions[1].to_state is NodeState.UP
        assert "alive again after 2 failed check(s)" in transitions[1].reason

    def test_unknown_check_breaks_the_dead_streak(self):
        record, _ = run(NodeRecord("compute1"), [DEAD, DEAD, UNANSWERED, DEAD])
        assert record.state is NodeState.SUSPECT
        assert record.failed_checks == 1

    def test_alive_host_stays_up_without_transition(self):
        record, transitions = run(NodeRecord("compute1"), [ALIVE, ALIVE])
        assert record.state is NodeState.UP
        assert transitions == []

    def test_maintenance_host_is_never_moved_by_probes(self):
        record = NodeRecord("compute1", state=NodeState.MAINTENANCE)
        after, transitions = run(record, [DEAD] * 5)
        assert after == record
        assert transitions == []


class TestRecovery:
    @pytest.mark.parametrize(
        "state",
        [NodeState.DOWN, NodeState.FENCED, NodeState.EVACUATING, NodeState.EVACUATED],
    )
    def test_alive_host_starts_recovering(self, state):
        record, [transition] = run(NodeRecord("compute1", state=state), [ALIVE])
        assert record.state is NodeState.RECOVERING
        assert transition.from_state is state
        assert "mutex_up=1" in transition.reason

    def test_recovery_needs_mutex_up_consecutive_alive_checks(self):
        policy = TrackerPolicy(mutex_up=3)
        record, transitions = run(
            NodeRecord("compute1", state=NodeState.DOWN), [ALIVE, ALIVE, DEAD, ALIVE, ALIVE], policy
        )
        assert record.state is NodeState.DOWN
        assert transitions == []
        record, [transition] = run(record, [ALIVE], policy)
        assert transition.to_state is NodeState.RECOVERING

    def test_recovering_host_alive_waits_for_mark(self):
        record = NodeRecord("compute1", state=NodeState.RECOVERING)
        record, transitions = run(record, [ALIVE, DEAD, DEAD, ALIVE, ALIVE])
        assert record.state is NodeState.RECOVERING and transitions == []

    def test_recovering_host_that_dies_again_goes_down_after_mutex_checks(self):
        record = NodeRecord("compute1", state=NodeState.RECOVERING)
        record, transitions = run(record, [DEAD, DEAD])
        assert record.state is NodeState.RECOVERING and transitions == []
        record, [transition] = run(record, [DEAD])
        assert (transition.from_state, transition.to_state) == (
            NodeState.RECOVERING, NodeState.DOWN)
        assert transition.reason.startswith("died again while recovering: 3 consecutive")

    def test_mark_up_after_recovery(self):
        record, transition = mark(
            NodeRecord("compute1", state=NodeState.RECOVERING, ok_checks=2),
            NodeState.UP,
            "nova cleaned up evacuated instances; service re-enabled",
            NOW,
        )
        assert record.state is NodeState.UP
        assert record.ok_checks == 0
        assert transition.reason == "nova cleaned up evacuated instances; service re-enabled"


class TestMark:
    def test_action_path_down_fenced_evacuating_evacuated(self):
        record = NodeRecord("compute1", state=NodeState.DOWN)
        for state in (NodeState.FENCED, NodeState.EVACUATING, NodeState.EVACUATED):
            record, transition = mark(record, state, f"now {state.value}", NOW)
            assert record.state is state
            assert transition.to_state is state
            assert record.reason == f"now {state.value}"

    def test_down_host_cannot_be_evacuated_before_fencing(self):
        with pytest.raises(InvalidTransition, match="cannot go from down to evacuating"):
            mark(NodeRecord("compute1", state=NodeState.DOWN), NodeState.EVACUATING, "x", NOW)

    def test_up_host_cannot_be_fenced(self):
        with pytest.raises(InvalidTransition, match=r"compute1: cannot go from up to fenced"):
            mark(NodeRecord("compute1"), NodeState.FENCED, "operator asked", NOW)

    def test_error_lists_allowed_targets_and_the_reason(self):
        with pytest.raises(InvalidTransition) as raised:
            mark(NodeRecord("compute1"), NodeState.EVACUATED, "operator asked", NOW)
        assert "allowed from up: down, maintenance, suspect" in str(raised.value)
        assert "operator asked" in str(raised.value)

    @pytest.mark.parametrize("state", [s for s in NodeState if s is not NodeState.MAINTENANCE])
    def test_any_state_can_go_to_maintenance(self, state):
        record, _ = mark(NodeRecord("c1", state=state), NodeState.MAINTENANCE, "operator", NOW)
        assert record.state is NodeState.MAINTENANCE

    def test_maintenance_only_goes_back_up(self):
        record = NodeRecord("compute1", state=NodeState.MAINTENANCE)
        assert mark(record, NodeState.UP, "operator done", NOW)[0].state is NodeState.UP
        with pytest.raises(InvalidTransition):
            mark(record, NodeState.DOWN, "x", NOW)

    def test_self_transitions_are_not_allowed(self):
        for state, targets in ALLOWED_TRANSITIONS.items():
            assert state not in targets

    def test_transition_str_is_a_log_line(self):
        _, transition = mark(NodeRecord("compute1"), NodeState.MAINTENANCE, "disk swap", NOW)
        assert str(transition) == "compute1: up -> maintenance (disk swap)"


class TestPolicyValidation:
    @pytest.mark.parametrize(
        "kwargs",
        [
            {"mutex": 0},
            {"mutex_up": 0},
            {"instance_rate": 101},
            {"instance_rate": -1},
            {"heartbeat_timeout": 0},
            {"storage_file_max_age": -5},
        ],
    )
    def test_bad_values_are_rejected(self, kwargs):
        with pytest.raises(ValueError):
            TrackerPolicy(**kwargs)
