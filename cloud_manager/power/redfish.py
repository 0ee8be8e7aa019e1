"""DMTF Redfish (sushy). Option ``system_id`` picks the system when the BMC has several."""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING

import requests
import sushy
from sushy import auth as sushy_auth
from sushy import exceptions as sushy_exc

from cloud_manager.power import PowerDriver, PowerError, PowerState

if TYPE_CHECKING:
    from sushy.resources.system.system import System

LOG = logging.getLogger(__name__)
# requests' own errors escape sushy for a malformed URL; ValueError covers IDNA failures.
_ERRORS = (sushy_exc.SushyError, requests.RequestException, OSError, ValueError)


class RedfishDriver(PowerDriver):
    """Opens a Redfish session at the first call and reuses it until `close`, which deletes
    it: fencing (power off, then reads until it is off) is one login, and the BMC is not left
    with sessions that only the garbage collector would end (BMCs allow only a few)."""

    _auth: sushy_auth.SessionOrBasicAuth | None = None
    _system: System | None = None

    def _connected_system(self, *, fresh: bool) -> System:
        """The system resource, logging in first if needed; ``fresh``: re-read it."""
        try:
            if self._system is None:
                self._system = self._log_in()
            elif fresh:
                self._system.refresh()
            return self._system
        except _ERRORS as exc:
            self.close()  # the next call logs in again
            raise PowerError(f"power device {self.name} (Redfish {self._url[:100]}): "
                             f"{exc}") from exc

    @property
    def _url(self) -> str:
        url = self.address if "://" in self.address else f"https://{self.address}"
        if self.port:
            url = f"{url.rstrip('/')}:{self.port}" if url.count(":") < 2 else url
        return url

    def _log_in(self) -> System:
        self._auth = sushy_auth.SessionOrBasicAuth(self.username, self.password)
        # Few, short retries: fencing must fail fast on a dead BMC, not after 30 s.
        root = sushy.Sushy(self._url, auth=self._auth, verify=self._verify(),
                           server_side_retries=1, server_side_retries_delay=1,
                           connect_timeout=5, read_timeout=30)
        system_id = self.options.get("system_id")
        if system_id:
            return root.get_system(f"/redfish/v1/Systems/{system_id}")
        return root.get_system()

    def _verify(self) -> bool | str:
        """TLS verification: on unless the device says ``verify: false``; a string is a CA
        bundle. "true"/"false" strings (as an older CLI stored them) mean the booleans, never
        a path, which is how requests would read them."""
        verify = self.options.get("verify", True)
        if isinstance(verify, str) and verify.lower() in ("true", "false"):
            verify = verify.lower() == "true"
        if verify is False and self._url.startswith("https:"):
            LOG.warning("power device %s: TLS certificate of %s NOT verified (option "
                        "verify=false)", self.name, self._url)
        return verify

    def close(self) -> None:
        auth, self._auth, self._system = self._auth, None, None
        if auth is not None:
            with contextlib.suppress(sushy_exc.SushyError, OSError):
                auth.close()

    def _reset(self, value: str) -> None:
        system = self._connected_system(fresh=False)
        try:
            system.reset_system(value)
        except _ERRORS as exc:
            self.close()
            raise PowerError(f"power device {self.name}: reset {value} failed: {exc}") from exc

    def power_state(self) -> PowerState:
        """On or Off as the BMC says; PoweringOn/Off, a missing or unexpected value: unknown."""
        system = self._connected_system(fresh=True)
        if system.power_state == sushy.POWER_STATE_ON:
            return "on"
        if system.power_state == sushy.POWER_STATE_OFF:
            return "off"
        # As the BMC spelled it: sushy maps values it does not know to None.
        said = system.json.get("PowerState") if isinstance(system.json, dict) else None
        return self._unknown(f"Redfish PowerState is {said!r}")

    def power_on(self) -> None:
        self._reset(sushy.RESET_ON)

    def power_off(self) -> None:
        self._reset(sushy.RESET_FORCE_OFF)

    def power_soft_off(self) -> None:
        self._reset(sushy.RESET_GRACEFUL_SHUTDOWN)

    def power_cycle(self) -> None:
        self._reset(sushy.RESET_FORCE_RESTART)

