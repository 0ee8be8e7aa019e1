"""Fencing, the first step of every evacuation: make sure the node runs nothing any more.

Only an explicit "off" from the node's power device, or the storage proof (its instance-state
file stops changing), counts. Nothing else of the task runs while the BMC is used: with a busy
thread beside it, pyghmi's I/O thread can read the BMC's reply before the command waits for
it, and the command then waits 0.5-1 s for its retransmit timer.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable

import tenacity

from cloud_manager import agent_report
from cloud_manager.db import api as db_api
from cloud_manager.execution.settings import TaskSettings
from cloud_manager.model.actions import Fence
from cloud_manager.power import PowerDriver, PowerError
from cloud_manager.runtime import Runtime

LOG = logging.getLogger(__name__)

# BMCs answer in milliseconds; a host switched off is usually reported off at the next read.
POWER_CHECK_INTERVAL = 0.25


class TaskAborted(Exception):
    """The task must stop without acting (e.g. the host cannot be proven dead)."""


class Fencer:
    """Isolates one node for one task; ``progress`` stores what it is waiting for, ``hold``
    checks the task is still ours after a wait, before the next power action (the task's
    claim and its "fencing" progress check it before the first)."""

    def __init__(self, runtime: Runtime, settings: TaskSettings,
                 progress: Callable[[str], None], hold: Callable[[], None],
                 service_reporting: Callable[[str], bool],
                 clock: Callable[[], float], sleep: Callable[[float], None],
                 monotonic: Callable[[], float]) -> None:
        self.runtime, self.settings, self.progress, self.hold = runtime, settings, progress, hold
        self.service_reporting, self.clock, self.sleep = service_reporting, clock, sleep
        self.monotonic = monotonic

    def fence(self, action: Fence) -> str:
        """Power the node off (or prove it dead) through its device; returns how."""
        with self.runtime.transaction() as session:
            device = db_api.power_device_of(session, action.host)
            driver = self.runtime.power_driver(device) if device else None
            device_name = device.name if device else None
        with driver or contextlib.nullcontext():
            return self._isolate(action, driver, device_name)

    def _isolate(self, action: Fence, driver: PowerDriver | None,
                 device_name: str | None) -> str:
        host = action.host
        if action.clean_shutdown:
            if driver is None:
                raise TaskAborted(f"cannot shut {host} down: it has no power device")
            return self._shut_down(host, driver, device_name)
        if driver is not None:
            if action.power_cycle_first:
                self._try_power_cycle(host, driver)
            self._power_off(host, driver)
            return f"powered off through power device {device_name}"
        if self.settings.storage_check:
            return self._prove_dead_through_storage(host)
        if action.operator_confirmed_off:
            return ("no power device; fencing skipped: the operator confirmed the node is off "
                    "(force)")
        raise TaskAborted(
            f"cannot fence {host}: it has no power device and [extra_availability_check] "
            "is disabled, so it may still run its instances; power it off and evacuate "
            "it manually (openstack aos node evacuate --force)")

    def _power_off(self, host: str, driver: PowerDriver) -> None:
        """Power off and verify: a host is fenced only once its device reports it off."""
        driver.power_off()
        checks = self.settings.power_checks
        state = wait_for_power_off(driver, host, checks, POWER_CHECK_INTERVAL, self.sleep)
        if state != "off":
            raise PowerError(f"{host} still reports power {state} after {checks} checks "
                             f"{POWER_CHECK_INTERVAL}s apart ([host_tasks] "
                             "retries_wait_for_node_state)")

    def _shut_down(self, host: str, driver: PowerDriver, device: str | None) -> str:
        """Planned shutdown: let the OS stop cleanly, checking its power state every
        ``[power] shutdown_interval`` seconds; after ``shutdown_max_tick`` checks switch the
        power off, since the operator asked for the node to be off and its instances moved."""
        interval, ticks = self.settings.shutdown_interval, self.settings.shutdown_ticks
        try:
            driver.power_soft_off()
        except PowerError as exc:
            LOG.warning("soft power-off of %s failed (%s); powering it off", host, exc)
            fallback = f"soft power-off failed: {exc}"
        else:
            self.progress(f"shutting down: power state checked every {interval}s, at most "
                          f"{ticks} times")
            state = wait_for_power_off(driver, host, ticks, interval, self.sleep)
            if state == "off":
                return f"shut down cleanly through power device {device}"
            fallback = f"still on after {ticks} checks {interval}s apart"
            LOG.warning("%s is %s; powering it off", host, fallback)
            self.hold()
        self._power_off(host, driver)
        return f"powered off through power device {device} ({fallback})"

    def _try_power_cycle(self, host: str, driver: PowerDriver) -> None:
        timeout = self.settings.host_restart_timeout
        self.progress(f"power-cycling, waiting up to {timeout}s for it")
        driver.power_cycle()
        deadline = self.monotonic() + timeout
        while self.monotonic() < deadline:
            if self.service_reporting(host):
                raise TaskAborted(f"{host} came back after a power cycle; not evacuated")
            self.sleep(self.settings.poll_interval)
        self.hold()

    def _prove_dead_through_storage(self, host: str) -> str:
        path, attempts = self.settings.storage_path, self.settings.storage_attempts
        first = agent_report.read_report(path, host)
        for _ in range(attempts):
            self.sleep(self.settings.storage_delay)
            latest = agent_report.read_report(path, host)
            if latest and first and latest.written_at > first.written_at:
                raise TaskAborted(
                    f"{host} is alive: its instance-state file is still being written "
                    f"({latest.running_rate:g}% of instances running); not evacuated")
        if first is None:
            raise TaskAborted(f"cannot prove {host} dead: no instance-state file in "
                              f"{path}; not evacuated")
        age = self.clock() - first.written_at
        return f"instance-state file unchanged for {age:.0f}s ({attempts} checks)"


def wait_for_power_off(driver: PowerDriver, host: str, attempts: int, interval: float,
                       sleep: Callable[[float], None]) -> str:
    """Read the power state until it is off, at most ``attempts`` more times; the last state.

    A failed read is one more check, not a failed fencing: BMCs drop connections, and the next
    read usually works. It is reported as "unknown (why)" if it is the last one.
    """
    def read() -> str:
        try:
            state = driver.power_state()
        except PowerError as exc:
            LOG.warning("cannot read the power state of %s (%s); checking again", host, exc)
            return f"unknown ({exc})"
        if state == "unknown":  # a transition or an unclear answer: never taken as off
            LOG.warning("%s: %s; checking again", host, driver.unknown_reason)
            return f"unknown ({driver.unknown_reason})"
        return state

    return tenacity.Retrying(
        stop=tenacity.stop_after_attempt(attempts + 1), wait=tenacity.wait_fixed(interval),
        retry=tenacity.retry_if_not_result(lambda state: state == "off"), sleep=sleep,
        retry_error_callback=lambda last: last.outcome.result())(read)
