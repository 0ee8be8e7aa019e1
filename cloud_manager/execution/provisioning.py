"""Runs a provisioning task: a bare node from its MAC to a nova-compute in service.

Each loop observes the node (its PXE file, its power, its DHCP lease, its nova-compute),
lets ``provisioning.steps.next_step`` decide, does that one step and records it as the task's
message and an event of the node. Nothing is remembered between runs that the node does not
show again, so a task resumed by another worker continues where the node is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from cloud_manager import dhcp_leases, pxe_files
from cloud_manager.db import api as db_api
from cloud_manager.execution.host_actions import set_service_state
from cloud_manager.execution.records import ClaimedTask, TaskRecords
from cloud_manager.ha.recovery import RESERVE_REASON, return_to_service
from cloud_manager.heartbeat import Heartbeats
from cloud_manager.model.task_state import TaskState
from cloud_manager.nova import NovaError
from cloud_manager.power import PowerError
from cloud_manager.provisioning.leases import current_lease
from cloud_manager.provisioning.pxe_config import LOCAL_BOOT, TemplateError, render
from cloud_manager.provisioning.steps import ComputeView, Observed, Step, next_step
from cloud_manager.runtime import Runtime

LOG = logging.getLogger(__name__)

# Power-on requests after which a device that never reports "on" fails the task.
POWER_ON_ATTEMPTS = 3
# Seconds between two looks at a node that is booting or installing: each look asks Nova and
# may read the lease files, and an OS install takes minutes.
MIN_POLL_SECONDS = 2.0


class ProvisioningError(Exception):
    """The task cannot go on (no lease in time, no lease file readable, a bad template...)."""


@dataclass(frozen=True)
class ProvisioningSettings:
    conf_dir: str
    template: str
    lease_files: tuple[str, ...]
    lease_timeout: float
    compute_timeout: float
    poll_interval: float


def settings_from(conf) -> ProvisioningSettings:  # noqa: ANN001 - oslo ConfigOpts
    return ProvisioningSettings(
        conf_dir=conf.pxe.conf_dir, template=conf.pxe.template,
        lease_files=tuple(conf.dhcp_leases), lease_timeout=conf.pxe.lease_timeout,
        compute_timeout=conf.pxe.compute_timeout,
        poll_interval=max(conf.host_tasks.poll_interval, MIN_POLL_SECONDS))


class Provisioner:
    """One provisioning task run to its end by the executor that claimed it."""

    def __init__(self, runtime: Runtime, records: TaskRecords, heartbeats: Heartbeats,
                 settings: ProvisioningSettings, clock: Callable[[], float],
                 monotonic: Callable[[], float], sleep: Callable[[float], None]) -> None:
        self.runtime, self.records, self.heartbeats = runtime, records, heartbeats
        self.settings, self.clock, self.monotonic, self.sleep = settings, clock, monotonic, sleep

    def run(self, task: ClaimedTask) -> TaskState:
        host = task.host
        with self.runtime.transaction() as session:
            record = db_api.provisioning(session, host)
            device = db_api.power_device_of(session, host)
            if record is None:
                raise ProvisioningError(f"node {host} has no provisioning record")
            if device is None:
                raise ProvisioningError(f"node {host} has no power device to power it on")
            mac, reserve = record.mac, record.reserve
        try:
            install = render(pxe_files.read_template(self.settings.template), host, mac)
        except (pxe_files.PxeError, TemplateError) as exc:
            raise ProvisioningError(f"[pxe] template: {exc}") from None
        self.records.progress(f"provisioning {host} ({mac})", state=TaskState.PROVISIONING)
        ip, powered, power_on_requests = None, False, 0
        deadlines: dict[Step, float] = {}
        announced: Step | None = None
        while True:
            seen = Observed(
                pxe_written=self._pxe_text(mac) == install,
                power="on" if powered else self._power_state(device),
                ip=ip, compute=self._compute(host), reserve=reserve,
                reserve_reason=RESERVE_REASON)
            powered = seen.power == "on"
            step = next_step(seen)
            if step == Step.FINISH:
                self._write_pxe(mac, render(LOCAL_BOOT, host, mac))
                where = "the reserve pool" if reserve else "service"
                return self.records.provisioned(
                    host, reserve, ip, f"nova-compute on {host} registered; node in {where}"
                    + (f" (address {ip})" if ip else ""))
            if step == Step.WRITE_PXE:
                path = self._write_pxe(mac, install)
                self.records.step(host, f"PXE file {path} written")
            elif step == Step.POWER_ON:
                if power_on_requests >= POWER_ON_ATTEMPTS:
                    raise PowerError(f"power device {device.name} does not report on after "
                                     f"{power_on_requests} power-on requests")
                self.records.hold()
                with self.runtime.power_driver(device) as driver:
                    driver.power_on()
                power_on_requests += 1
                self.records.step(host, f"powered on through power device {device.name}")
            elif step == Step.PLACE:
                self.records.hold()
                set_service_state(self.runtime.nova,
                                  return_to_service(host, False, reserve).back)
                self.records.step(host, "nova-compute "
                                  + ("disabled: reserve node" if reserve else "enabled"))
            else:
                if step != announced:
                    self.records.step(host, _WAITING[step].format(mac=mac, host=host))
                    announced = step
                self._check_deadline(step, deadlines, mac, host)
                if step == Step.FIND_IP:
                    ip = self._lease(host, mac)
                    if ip is not None:
                        continue
                self.sleep(self.settings.poll_interval)

    # --- observations --------------------------------------------------------------------

    def _pxe_text(self, mac: str) -> str | None:
        try:
            return pxe_files.read(self.settings.conf_dir, mac)
        except pxe_files.PxeError as exc:
            raise ProvisioningError(str(exc)) from None

    def _power_state(self, device) -> str:  # noqa: ANN001 - a PowerDevice row
        with self.runtime.power_driver(device) as driver:
            return driver.power_state()

    def _compute(self, host: str) -> ComputeView | None:
        """The host's nova-compute; None while it has none (or Nova cannot say now: the
        wait goes on until its deadline)."""
        try:
            service = next((s for s in self.runtime.nova.compute_services() if s.host == host),
                           None)
        except NovaError as exc:
            LOG.warning("provisioning %s: cannot read nova-compute services: %s", host, exc)
            return None
        if service is None:
            return None
        now = db_api.from_timestamp(self.clock())
        usable = self.heartbeats.usable_by_nova(service, self.heartbeats.last_seen(), now)
        return ComputeView(usable=usable, enabled=service.enabled,
                           disabled_reason=service.disabled_reason)

    def _lease(self, host: str, mac: str) -> str | None:
        try:
            leases = dhcp_leases.read_leases(self.settings.lease_files)
        except dhcp_leases.LeasesUnreadable as exc:
            raise ProvisioningError(str(exc)) from None
        lease = current_lease(leases, mac, datetime.fromtimestamp(self.clock(), UTC))
        if lease is None:
            return None
        self.records.step(host, f"{mac} leased {lease.ip} (in {lease.source})")
        return lease.ip

    # --- effects -------------------------------------------------------------------------

    def _write_pxe(self, mac: str, text: str) -> str:
        try:
            return str(pxe_files.write(self.settings.conf_dir, mac, text))
        except pxe_files.PxeError as exc:
            raise ProvisioningError(str(exc)) from None

    def _check_deadline(self, step: Step, deadlines: dict[Step, float], mac: str,
                        host: str) -> None:
        timeout = (self.settings.lease_timeout if step == Step.FIND_IP
                   else self.settings.compute_timeout)
        deadline = deadlines.setdefault(step, self.monotonic() + timeout)
        if self.monotonic() > deadline:
            raise ProvisioningError(_TIMED_OUT[step].format(mac=mac, host=host, s=timeout))


_WAITING = {
    Step.FIND_IP: "waiting for a DHCP lease of {mac}",
    Step.WAIT_COMPUTE: "waiting for nova-compute on {host} to register and report",
}
_TIMED_OUT = {
    Step.FIND_IP: "no DHCP lease of {mac} within {s:g} s ([pxe] lease_timeout): check that "
                  "it boots from the network and [DEFAULT] dhcp_leases",
    Step.WAIT_COMPUTE: "no nova-compute reporting on {host} within {s:g} s ([pxe] "
                       "compute_timeout)",
}
