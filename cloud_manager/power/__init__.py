"""Power devices: how CloudManager switches a node off to fence it, and on to use it.

A driver speaks one protocol (IPMI, Redfish, SSH); ``driver_for`` builds one from a stored
device. Every call is synchronous and raises ``PowerError`` with a message naming the device.
"""

from __future__ import annotations

import abc
import json
from typing import Literal

PowerState = Literal["on", "off"]


class PowerError(Exception):
    pass


class PowerDriver(abc.ABC):
    """One node's power switch."""

    def __init__(self, name: str, address: str, port: int | None, username: str | None,
                 password: str | None, options: dict) -> None:
        self.name = name
        self.address = address
        self.port = port
        self.username = username
        self.password = password
        self.options = options

    @abc.abstractmethod
    def power_state(self) -> PowerState: ...

    @abc.abstractmethod
    def power_on(self) -> None: ...

    @abc.abstractmethod
    def power_off(self) -> None:
        """Hard power-off: used for fencing, so it must not wait for the OS."""

    def power_soft_off(self) -> None:
        """Ask the OS to shut down cleanly (ACPI); returns at once, without waiting.

        Used for a planned shutdown; the caller polls `power_state` and falls back to
        `power_off` when the OS does not finish in time.
        """
        raise PowerError(f"power device {self.name}: soft power-off is not supported")

    def power_cycle(self) -> None:
        self.power_off()
        self.power_on()


DRIVERS = ("ipmi", "redfish", "ssh")


def driver_for(driver: str, *, name: str, address: str, port: int | None,
               username: str | None, password: str | None,
               options: str | dict | None) -> PowerDriver:
    opts = json.loads(options) if isinstance(options, str) else (options or {})
    if driver == "ipmi":
        from cloud_manager.power.ipmi import IPMIDriver as cls
    elif driver == "redfish":
        from cloud_manager.power.redfish import RedfishDriver as cls
    elif driver == "ssh":
        from cloud_manager.power.ssh import SSHDriver as cls
    else:
        raise PowerError(f"unknown power driver {driver!r} (known: {', '.join(DRIVERS)})")
    return cls(name, address, port, username, password, opts)
