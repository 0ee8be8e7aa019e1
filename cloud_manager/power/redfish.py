"""DMTF Redfish (sushy). Option ``system_id`` picks the system when the BMC has several."""

from __future__ import annotations

import sushy
from sushy import exceptions as sushy_exc

from cloud_manager.power import PowerDriver, PowerError, PowerState


class RedfishDriver(PowerDriver):
    def _system(self):
        url = self.address if "://" in self.address else f"https://{self.address}"
        if self.port:
            url = f"{url.rstrip('/')}:{self.port}" if url.count(":") < 2 else url
        try:
            # Few, short retries: fencing must fail fast on a dead BMC, not after 30 s.
            root = sushy.Sushy(url, username=self.username, password=self.password,
                               verify=self.options.get("verify", False),
                               server_side_retries=1, server_side_retries_delay=1,
                               connect_timeout=5, read_timeout=30)
            system_id = self.options.get("system_id")
            if system_id:
                return root.get_system(f"/redfish/v1/Systems/{system_id}")
            return root.get_system()
        except sushy_exc.SushyError as exc:
            raise PowerError(f"power device {self.name} (Redfish {url}): {exc}") from exc

    def _reset(self, value: str) -> None:
        system = self._system()
        try:
            system.reset_system(value)
        except sushy_exc.SushyError as exc:
            raise PowerError(f"power device {self.name}: reset {value} failed: {exc}") from exc

    def power_state(self) -> PowerState:
        return "on" if self._system().power_state == sushy.POWER_STATE_ON else "off"

    def power_on(self) -> None:
        self._reset(sushy.RESET_ON)

    def power_off(self) -> None:
        self._reset(sushy.RESET_FORCE_OFF)

    def power_soft_off(self) -> None:
        self._reset(sushy.RESET_GRACEFUL_SHUTDOWN)

    def power_cycle(self) -> None:
        self._reset(sushy.RESET_FORCE_RESTART)
