"""Applies host actions (power on/off, nova-compute service state) with their conditions."""

from __future__ import annotations

import logging
from collections.abc import Callable

from cloud_manager.db import api as db_api
from cloud_manager.execution.records import TaskRecords
from cloud_manager.model.actions import HostAction, PowerOff, PowerOn, SetServiceState
from cloud_manager.nova import Nova, NovaError
from cloud_manager.power import PowerError
from cloud_manager.runtime import Runtime

LOG = logging.getLogger(__name__)


class HostActions:
    """Host actions of one task; ``usable_by_nova`` says whether Nova sees a host up."""

    def __init__(self, runtime: Runtime, records: TaskRecords,
                 usable_by_nova: Callable[[str], bool], up_timeout: float,
                 poll_interval: float, monotonic: Callable[[], float],
                 sleep: Callable[[float], None]) -> None:
        self.runtime, self.records, self.usable_by_nova = runtime, records, usable_by_nova
        self.up_timeout, self.poll_interval = up_timeout, poll_interval
        self.monotonic, self.sleep = monotonic, sleep

    def apply(self, action: HostAction) -> None:
        if isinstance(action, (PowerOn, PowerOff)):
            self._power(action)
        elif isinstance(action, SetServiceState):
            self._set_service_state(action)
        else:
            raise TypeError(f"no handler for host action {action.kind} (fencing is a step "
                            "of its own)")

    def _power(self, action: PowerOn | PowerOff) -> None:
        """Switch the node's power unless it is there already; a node without a power
        device is left as it is (reserve nodes may be kept running)."""
        with self.runtime.transaction() as session:
            device = db_api.power_device_of(session, action.host)
            driver = self.runtime.power_driver(device) if device else None
        if driver is None:
            return
        self.records.hold()
        with driver:
            if isinstance(action, PowerOn):
                if driver.power_state() == "off":
                    driver.power_on()
            elif driver.power_state() != "off":
                driver.power_off()
                if driver.power_state() != "off":
                    raise PowerError(f"{action.host} does not report off after power-off")

    def _set_service_state(self, action: SetServiceState) -> None:
        host = action.host
        if action.enabled:
            self._wait_until_usable(host)
            self.records.hold()
        set_service_state(self.runtime.nova, action)
        if action.leave_reserve:
            self.records.leave_reserve(
                host, "reserve node enabled in Nova to receive evacuated instances")
            LOG.info("reserve node %s enabled for evacuation", host)

    def _wait_until_usable(self, host: str) -> None:
        """Enabled before Nova sees it up, the host would keep its COMPUTE_STATUS_DISABLED
        trait and the scheduler would ignore it."""
        deadline = self.monotonic() + self.up_timeout
        while not self.usable_by_nova(host):
            if self.monotonic() > deadline:
                raise NovaError(f"node {host} did not come up in {self.up_timeout / 60:g} "
                                "minutes ([node_tracker] timeout_reserv_node_up)")
            self.sleep(self.poll_interval)


def set_service_state(nova: Nova, action: SetServiceState) -> None:
    """The Nova requests of one ``SetServiceState``; its pre-condition is the caller's (a task
    waits for it, the tracker looks again at its next loop)."""
    if action.forced_down and action.enabled is False:
        nova.force_down_and_disable(action.host, action.reason)  # one request: Nova stops waiting
        return
    if action.forced_down is not None:
        nova.set_forced_down(action.host, action.forced_down)
    if action.enabled is not None:
        nova.set_enabled(action.host, action.enabled, action.reason or None)
