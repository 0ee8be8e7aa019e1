"""The next step of a provisioning task, decided from what it observed just before.

The task observes, decides, acts once and observes again, so a task resumed by another
worker, or an ``add`` run twice, continues where the node is instead of where a record says
it was: every step is safe to repeat.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Step(StrEnum):
    WRITE_PXE = "write-pxe"
    POWER_ON = "power-on"
    FIND_IP = "find-ip"
    WAIT_COMPUTE = "wait-compute"
    PLACE = "place"
    FINISH = "finish"


@dataclass(frozen=True)
class ComputeView:
    """The node's nova-compute as Nova shows it."""

    usable: bool  # reporting, and up in Nova's eyes
    enabled: bool
    disabled_reason: str | None


@dataclass(frozen=True)
class Observed:
    pxe_written: bool  # the per-MAC file holds the install configuration
    power: str  # "on", "off" or "unknown", as the power device says
    ip: str | None  # from a current DHCP lease
    compute: ComputeView | None  # None: no nova-compute registered on that host yet
    reserve: bool  # the node goes to the reserve pool
    reserve_reason: str  # why a reserve node is disabled in Nova


def placed(compute: ComputeView, reserve: bool, reserve_reason: str) -> bool:
    """In service: enabled; in the reserve pool: disabled for the reserve's reason."""
    if reserve:
        return not compute.enabled and compute.disabled_reason == reserve_reason
    return compute.enabled


def next_step(seen: Observed) -> Step:
    """A registered, usable nova-compute ends the boot: the node is placed, then finished
    (even when its lease was never seen); before that: PXE file, power, lease, wait."""
    if seen.compute is not None and seen.compute.usable:
        if placed(seen.compute, seen.reserve, seen.reserve_reason):
            return Step.FINISH
        return Step.PLACE
    if not seen.pxe_written:
        return Step.WRITE_PXE
    if seen.power != "on":
        return Step.POWER_ON
    if seen.ip is None:
        return Step.FIND_IP
    return Step.WAIT_COMPUTE
