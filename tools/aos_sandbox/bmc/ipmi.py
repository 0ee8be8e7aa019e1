"""IPMI-over-LAN (RMCP+) BMCs, one UDP port per host, on pyghmi's server side.

pyghmi keeps all sockets in one class-level registry served by one I/O thread, so
creating several `Bmc` instances and running a single `Bmc.listen()` loop serves
every host from one process.
"""

from __future__ import annotations

import logging
import threading
import uuid
from typing import TYPE_CHECKING

import pyghmi.ipmi.bmc as pyghmi_bmc
import pyghmi.ipmi.private.constants as pyghmi_constants
import pyghmi.ipmi.private.serversession as pyghmi_serversession
import pyghmi.ipmi.private.session as pyghmi_session

if TYPE_CHECKING:
    from .power import PowerController

LOG = logging.getLogger("aos_sandbox.bmc.ipmi")
PROTOCOL = "ipmi"


# RMCP+ status codes (IPMI 2.0 table 13-15).
_INVALID_AUTH_ALGORITHM = 0x04
_UNAUTHORIZED_NAME = 0x0D
_RMCPPLUS_OPEN_REQUEST = 0x10
_CANNOT_EXECUTE_NOW = 0xD5  # IPMI completion code


class _Sha1OnlySession(pyghmi_serversession.ServerSession):
    """pyghmi's server session, refusing proposals it would not honour.

    pyghmi's server only speaks cipher suite 3 (HMAC-SHA1) but answers every open
    request as if it had accepted it, while pyghmi's own client proposes SHA-256 first
    and then fails on the SHA-1 sized RAKP2. Refusing non-SHA-1 proposals makes that
    client fall back to suite 3, as with a real SHA-1-only BMC (ipmitool: use -C 3).
    """

    def create_open_session_response(self, request: bytearray) -> bytearray:
        request = bytearray(request)
        auth, integrity = request[12], request[20]
        if auth != 1 or integrity != 1:
            return bytearray([request[0], _INVALID_AUTH_ALGORITHM, 0, 0]) + request[4:8]
        return super().create_open_session_response(request)

    def _got_rakp1(self, data: bytearray) -> None:
        # pyghmi's server silently drops an unknown user name, leaving the client to
        # wait forever; a real BMC answers "unauthorized name" at once.
        if len(data) < 28:
            return
        name = bytes(data[28 : 28 + data[27]]).decode("utf-8", "replace")
        if not name or self.authdata.get(name) is None:
            LOG.warning("host=%s protocol=ipmi login refused: unknown user %r", self.bmc.host, name)
            reply = bytearray([data[0], _UNAUTHORIZED_NAME, 0, 0]) + self.clientsessionid
            self.send_payload(reply, pyghmi_constants.payload_types["rakp2"], retry=False)
            return
        super()._got_rakp1(data)


class HostBmc(pyghmi_bmc.Bmc):
    """The BMC of one fake host: chassis power maps onto the PowerController."""

    def __init__(
        self,
        host: str,
        power: PowerController,
        username: str,
        password: str,
        address: str,
        port: int,
    ) -> None:
        super().__init__(
            {username: password},
            port=port,
            address=address,
            bmcuuid=uuid.uuid5(uuid.NAMESPACE_DNS, f"{host}.aos-sandbox"),
        )
        self.host = host
        self._power = power

    def sessionless_data(self, data: bytes, sockaddr: tuple) -> None:
        """As pyghmi's, but new RMCP+ sessions use `_Sha1OnlySession`."""
        if (
            len(data) >= 22
            and data[0] == 6
            and data[2:4] == b"\xff\x07"
            and data[4] == 6
            and data[5] == _RMCPPLUS_OPEN_REQUEST
        ):
            _Sha1OnlySession(
                self.authdata,
                self.kg,
                sockaddr,
                self.serversocket,
                bytearray(data)[16:],
                self.uuid,
                bmc=self,
            )
            return
        super().sessionless_data(data, sockaddr)

    def get_power_state(self) -> str:
        return self._power.state(self.host)

    def get_chassis_status(self, session) -> None:  # noqa: ANN001 - pyghmi's signature
        """IPMI's power bit has no "in transition" value: for an awkward state (see
        `PowerController.reported`) answer as a BMC that cannot read it, with completion
        code 0xD5 (cannot execute the command in the present state)."""
        if self._power.reported(self.host) not in ("on", "off"):
            return session.send_ipmi_response(code=_CANNOT_EXECUTE_NOW)
        return super().get_chassis_status(session)

    def get_system_guid(self) -> uuid.UUID:
        return self.uuid

    def is_active(self) -> bool:
        return self._power.state(self.host) == "on"

    def cold_reset(self) -> int:
        # Resetting the BMC itself does not touch host power.
        return 0

    def power_off(self) -> int:
        self._power.power_off(self.host, PROTOCOL, "off")
        return 0

    def power_shutdown(self) -> int:
        # There is no OS to ask politely; a soft-off ends like a hard one.
        self._power.power_off(self.host, PROTOCOL, "shutdown")
        return 0

    def power_on(self) -> int:
        self._power.power_on(self.host, PROTOCOL, "on")
        return 0

    def power_cycle(self) -> int:
        self._power.power_cycle(self.host, PROTOCOL, "cycle")
        return 0

    def power_reset(self) -> int:
        self._power.power_cycle(self.host, PROTOCOL, "reset")
        return 0


def serve(
    power: PowerController,
    ports: dict[str, int],
    username: str,
    password: str,
    address: str = "127.0.0.1",
) -> list[HostBmc]:
    """Bind one BMC per host (raises OSError if a port is taken) and start the loop."""
    # pyghmi wakes its I/O thread by sending to its first socket at `myself`; it probes
    # '::1' which an AF_INET socket cannot reach, so tell it the IPv4 loopback.
    if pyghmi_session.myself is None and ":" not in address:
        pyghmi_session.myself = address
    bmcs = [HostBmc(host, power, username, password, address, port) for host, port in ports.items()]
    thread = threading.Thread(target=_loop, name="ipmi-loop", daemon=True)
    thread.start()
    for bmc in bmcs:
        LOG.info("host=%s protocol=ipmi listening on %s:%d", bmc.host, address, bmc.port)
    return bmcs


def _loop() -> None:
    while True:
        try:
            pyghmi_bmc.Bmc.listen()
        except Exception:  # one bad packet must not take every host's BMC down
            LOG.exception("IPMI event loop error; continuing")
