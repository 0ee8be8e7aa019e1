from __future__ import annotations

import dataclasses

import pytest

from cloud_manager.provisioning.steps import ComputeView, Observed, Step, next_step

REASON = "aos: reserve node"
BARE = Observed(pxe_written=False, power="off", ip=None, compute=None, reserve=False,
                reserve_reason=REASON)


def seen(**changes) -> Observed:
    return dataclasses.replace(BARE, **changes)


@pytest.mark.parametrize(("observed", "step"), [
    (BARE, Step.WRITE_PXE),
    (seen(pxe_written=True), Step.POWER_ON),
    (seen(pxe_written=True, power="unknown"), Step.POWER_ON),
    (seen(pxe_written=True, power="on"), Step.FIND_IP),
    (seen(pxe_written=True, power="on", ip="10.0.0.5"), Step.WAIT_COMPUTE),
    # Registered but not reporting yet: still waiting.
    (seen(pxe_written=True, power="on", ip="10.0.0.5",
          compute=ComputeView(usable=False, enabled=True, disabled_reason=None)),
     Step.WAIT_COMPUTE),
])
def test_a_bare_node_goes_pxe_file_power_lease_then_waits(observed, step):
    assert next_step(observed) == step


def test_a_reporting_compute_is_placed_then_finished_whatever_else_is_seen():
    enabled = ComputeView(usable=True, enabled=True, disabled_reason=None)
    assert next_step(seen(compute=enabled)) == Step.FINISH
    assert next_step(seen(compute=enabled, reserve=True)) == Step.PLACE
    reserved = ComputeView(usable=True, enabled=False, disabled_reason=REASON)
    assert next_step(seen(compute=reserved, reserve=True)) == Step.FINISH
    # Disabled by someone else for another reason: in service means enabled.
    other = ComputeView(usable=True, enabled=False, disabled_reason="maintenance")
    assert next_step(seen(compute=other)) == Step.PLACE
    assert next_step(seen(compute=other, reserve=True)) == Step.PLACE
