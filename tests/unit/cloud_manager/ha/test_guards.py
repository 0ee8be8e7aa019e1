import pytest

from cloud_manager.ha.guards import EvacuationPolicy, decide_auto_evacuation

ENABLED = EvacuationPolicy(max_down_hosts=2)


def test_max_down_hosts_zero_disables_automatic_evacuation():
    decision = decide_auto_evacuation(["c1"], set(), EvacuationPolicy(max_down_hosts=0))
    assert decision.allowed == frozenset()
    assert decision.refused == {
        "c1": "automatic evacuation is disabled by [node_tracker] max_down_hosts = 0"
    }
    assert decision.alert is None


def test_default_policy_is_disabled():
    assert decide_auto_evacuation(["c1"], set(), EvacuationPolicy()).allowed == frozenset()


def test_hosts_within_limit_are_allowed():
    decision = decide_auto_evacuation(["c1", "c2"], set(), ENABLED)
    assert decision.allowed == {"c1", "c2"}
    assert decision.refused == {}
    assert decision.alert is None


def test_too_many_down_hosts_suspends_all_and_alerts():
    decision = decide_auto_evacuation(["c1", "c2", "c3"], set(), EvacuationPolicy(max_down_hosts=1))
    assert decision.allowed == frozenset()
    assert decision.alert == (
        "3 compute hosts down (max_down_hosts=1): automatic evacuation suspended for all hosts"
    )
    assert set(decision.refused) == {"c1", "c2", "c3"}
    assert all("suspended" in reason for reason in decision.refused.values())


def test_reserve_hosts_are_not_counted():
    decision = decide_auto_evacuation(["c1", "c2", "r1", "r2"], {"r1", "r2"}, ENABLED)
    assert decision.alert is None
    assert decision.allowed == {"c1", "c2", "r1", "r2"}


def test_reserve_hosts_are_refused_too_when_suspended():
    decision = decide_auto_evacuation(["c1", "c2", "c3", "r1"], {"r1"}, ENABLED)
    assert decision.allowed == frozenset()
    assert "r1" in decision.refused
    assert decision.alert.startswith("3 compute hosts down")


def test_duplicates_are_counted_once():
    decision = decide_auto_evacuation(["c1", "c1", "c2"], set(), ENABLED)
    assert decision.allowed == {"c1", "c2"}


def test_allow_evacuate_host_false_refuses_everything():
    policy = EvacuationPolicy(max_down_hosts=5, allow_evacuate_host=False)
    decision = decide_auto_evacuation(["c1"], set(), policy)
    assert decision.allowed == frozenset()
    assert "allow_evacuate_host = False" in decision.refused["c1"]


def test_deny_evacuate_hosts_are_refused_with_reason():
    policy = EvacuationPolicy(max_down_hosts=5, deny_evacuate=frozenset({"c2"}))
    decision = decide_auto_evacuation(["c1", "c2"], set(), policy)
    assert decision.allowed == {"c1"}
    assert decision.refused == {"c2": "host is listed in [host_tasks] deny_evacuate"}


def test_deny_evacuate_accepts_any_collection():
    policy = EvacuationPolicy(max_down_hosts=5, deny_evacuate={"c2"})
    assert isinstance(policy.deny_evacuate, frozenset)


def test_maintenance_hosts_are_refused_and_not_counted():
    decision = decide_auto_evacuation(
        ["c1", "m1", "m2"],
        set(),
        EvacuationPolicy(max_down_hosts=1),
        maintenance_hosts={"m1", "m2"},
    )
    assert decision.allowed == {"c1"}
    assert "maintenance" in decision.refused["m1"]
    assert decision.alert is None


def test_negative_max_down_hosts_is_rejected():
    with pytest.raises(ValueError, match="max_down_hosts must not be negative"):
        EvacuationPolicy(max_down_hosts=-1)
