"""The driver table: names the API accepts map onto real driver classes."""

from __future__ import annotations

import pytest

from cloud_manager.power import DRIVERS, PowerDriver, PowerError, driver_for, preload_drivers


def _build(driver: str) -> PowerDriver:
    return driver_for(driver, name="bmc1", address="127.0.0.1", port=None, username="u",
                      password="p", options='{"system_id": "1"}')


def test_every_driver_name_builds_its_driver():
    preload_drivers()
    built = {name: _build(name) for name in DRIVERS}
    assert {name: type(d).__name__ for name, d in built.items()} == {
        "ipmi": "IPMIDriver", "redfish": "RedfishDriver", "ssh": "SSHDriver"}
    assert all(d.options == {"system_id": "1"} for d in built.values())


def test_unknown_driver_is_named_with_the_known_ones():
    with pytest.raises(PowerError, match=r"unknown power driver 'wol' \(known: ipmi, redfish, "
                                         r"ssh\)"):
        _build("wol")


def test_closing_a_driver_that_never_connected_is_harmless():
    for name in DRIVERS:
        with _build(name) as driver:
            assert driver.name == "bmc1"
