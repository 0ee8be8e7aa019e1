"""How a recovered node goes back to Nova."""

from __future__ import annotations

from cloud_manager.ha.recovery import RESERVE_REASON, ReturnToService, return_to_service
from cloud_manager.model.actions import SetServiceState


def test_a_forced_down_node_is_unforced_then_enabled():
    assert return_to_service("c1", forced_down=True, reserve=False) == ReturnToService(
        SetServiceState("c1", forced_down=False), SetServiceState("c1", enabled=True))


def test_a_reserve_node_comes_back_disabled():
    assert return_to_service("r1", forced_down=False, reserve=True) == ReturnToService(
        None, SetServiceState("r1", enabled=False, reason=RESERVE_REASON))
