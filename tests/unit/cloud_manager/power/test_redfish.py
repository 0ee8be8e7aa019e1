"""RedfishDriver against the sandbox's Redfish BMC: only an explicit Off is off."""

from __future__ import annotations

import pytest

from cloud_manager.power import driver_for
from tests.unit.cloud_manager.power.sandbox_bmc import HOST, PASSWORD, USER, RedfishBMC


@pytest.fixture
def bmc(tmp_path):
    server = RedfishBMC(tmp_path / "state")
    yield server
    server.close()


def _driver(bmc: RedfishBMC):
    return driver_for("redfish", name="bmc-c1", address=bmc.url, port=None, username=USER,
                      password=PASSWORD, options={"system_id": HOST, "verify": False})


def test_on_and_off_are_read_as_such(bmc):
    with _driver(bmc) as driver:
        assert driver.power_state() == "on"
        driver.power_off()
        assert driver.power_state() == "off"


@pytest.mark.parametrize(("report", "said"), [
    ("powering-off", "'PoweringOff'"), ("powering-on", "'PoweringOn'"),
    ("unknown", "'Unknown'"), ("none", "None"),
])
def test_anything_but_on_or_off_is_unknown_and_says_what_the_bmc_answered(bmc, report, said):
    with _driver(bmc) as driver:
        driver.power_off()  # really off behind the awkward answer: still not proof
        bmc.report(report)
        assert driver.power_state() == "unknown"
        assert driver.unknown_reason == f"power device bmc-c1: Redfish PowerState is {said}"
        bmc.report(None)
        assert driver.power_state() == "off"
