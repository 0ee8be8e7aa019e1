"""The sandbox's emulated BMCs, driven through the real IPMI (pyghmi) and Redfish (sushy)
clients, with a fake sandbox command that records its arguments instead of killing
and starting nova-compute, so no OpenStack is needed.

Note on pyghmi: pass userid/password as bytes. With str credentials pyghmi (1.6.x)
fails to find its own cached session and a second `Command` for the same BMC in one
process hangs forever; bytes make the cache lookup match.
Both clients' sessions are closed before their BMC goes away: otherwise pyghmi's
keepalives/exit-time logouts, and sushy's session DELETE on garbage collection (which
retries a refused connection 10 x 3 s), wait on a dead BMC.
"""

from __future__ import annotations

import json
import os
import random
import socket
import stat
import sys
import time
from pathlib import Path

import pytest

TOOLS = Path(__file__).resolve().parents[2] / "tools"
sys.path.insert(0, str(TOOLS))  # the sandbox imports its package as `aos_sandbox` too

from aos_sandbox import bmc  # noqa: E402

pyghmi_command = pytest.importorskip("pyghmi.ipmi.command")
pyghmi_exc = pytest.importorskip("pyghmi.exceptions")
sushy = pytest.importorskip("sushy")
sushy_auth = pytest.importorskip("sushy.auth")
sushy_exc = pytest.importorskip("sushy.exceptions")
requests = pytest.importorskip("requests")

pytestmark = pytest.mark.functional

HOSTS = ["compute1", "compute2"]
PYTHON = Path(sys.executable)


def _ports_free(base: int, count: int) -> bool:
    for port in range(base, base + count):
        for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
            with socket.socket(socket.AF_INET, kind) as sock:
                try:
                    sock.bind(("127.0.0.1", port))
                except OSError:
                    return False
    return True


def _free_bases(count: int) -> tuple[int, int]:
    """Port bases away from the sandbox's defaults, so a running sandbox is untouched."""
    for _ in range(200):
        base = random.randrange(30000, 40000, 100)
        if _ports_free(base, count) and _ports_free(base + 50, count):
            return base, base + 50
    raise RuntimeError("no free port range")


class FakeSandbox:
    """A temp state dir plus a fake `tools/sandbox` that appends its argv to calls.txt."""

    def __init__(self, tmp_path: Path) -> None:
        self.state = tmp_path / "state"
        self.calls_file = tmp_path / "calls.txt"
        self.cmd = tmp_path / "fake-sandbox"
        self.cmd.write_text(f'#!/bin/sh\necho "$*" >> "{self.calls_file}"\n')
        self.cmd.chmod(0o755)
        self.ipmi_base, self.redfish_base = _free_bases(len(HOSTS))
        self.endpoints: dict = {}
        self._ipmi_sessions: list = []
        self._redfish_auths: list = []

    def stop(self) -> None:
        for session in self._ipmi_sessions:
            session.logout()
        self._ipmi_sessions.clear()
        for auth in self._redfish_auths:
            auth.close()
        self._redfish_auths.clear()
        bmc.stop(self.state)

    def start(self) -> dict:
        self.endpoints = bmc.start(
            self.state,
            HOSTS,
            self.cmd,
            PYTHON,
            ipmi_port_base=self.ipmi_base,
            redfish_port_base=self.redfish_base,
        )
        return self.endpoints

    def calls(self, host: str) -> list[str]:
        if not self.calls_file.exists():
            return []
        return [
            line for line in self.calls_file.read_text().splitlines() if line.endswith(f" {host}")
        ]

    def wait_calls(self, host: str, expected: list[str], timeout: float = 10.0) -> None:
        """The sandbox command runs asynchronously: wait until `host` saw `expected`."""
        want = [f"{c} {host}" for c in expected]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.calls(host) == want:
                return
            time.sleep(0.05)
        assert self.calls(host) == want

    def ipmi(
        self, host: str, password: str | None = None, username: str | None = None
    ) -> pyghmi_command.Command:
        info = self.endpoints[host]["ipmi"]
        command = pyghmi_command.Command(
            bmc=info["address"],
            port=info["port"],
            userid=(username or info["username"]).encode(),
            password=(password or info["password"]).encode(),
        )
        self._ipmi_sessions.append(command.ipmi_session)
        return command

    def redfish_system(self, host: str, password: str | None = None):
        info = self.endpoints[host]["redfish"]
        root = self.redfish_root(host, password)
        return root.get_system(f"/redfish/v1/Systems/{info['system_id']}")

    def redfish_root(self, host: str, password: str | None = None):
        info = self.endpoints[host]["redfish"]
        auth = sushy_auth.SessionOrBasicAuth(
            username=info["username"], password=password or info["password"]
        )
        self._redfish_auths.append(auth)
        return sushy.Sushy(info["url"], auth=auth)


@pytest.fixture
def bmcs(tmp_path: Path):
    box = FakeSandbox(tmp_path)
    box.start()
    yield box
    box.stop()


def _timed(fn, *args, **kwargs) -> float:
    start = time.monotonic()
    fn(*args, **kwargs)
    return time.monotonic() - start


def test_start_returns_endpoints_and_is_idempotent(bmcs: FakeSandbox) -> None:
    eps = bmcs.endpoints
    assert list(eps) == HOSTS
    for i, host in enumerate(HOSTS):
        assert eps[host]["ipmi"]["address"] == "127.0.0.1"
        assert eps[host]["ipmi"]["port"] == bmcs.ipmi_base + i
        assert eps[host]["redfish"]["url"] == f"http://127.0.0.1:{bmcs.redfish_base + i}"
        assert eps[host]["redfish"]["system_id"] == host
        assert eps[host]["ipmi"]["username"] == eps[host]["redfish"]["username"] == "admin"
    pid = int((bmcs.state / "run" / "bmc.pid").read_text())

    assert bmcs.start() == eps  # same process, same password
    assert int((bmcs.state / "run" / "bmc.pid").read_text()) == pid

    creds_file = bmcs.state / "bmc" / "credentials.json"
    assert stat.S_IMODE(creds_file.stat().st_mode) == 0o600
    assert json.loads(creds_file.read_text())["password"] == eps["compute1"]["ipmi"]["password"]
    assert (bmcs.state / "log" / "bmc.log").exists()


def test_ipmi_power_off_on_cycle(bmcs: FakeSandbox) -> None:
    ipmi = bmcs.ipmi("compute1")
    assert ipmi.get_power()["powerstate"] == "on"

    took = _timed(ipmi.set_power, "off", wait=True)
    print(f"IPMI power off (set_power wait=True): {took * 1000:.0f} ms")
    assert ipmi.get_power()["powerstate"] == "off"
    bmcs.wait_calls("compute1", ["kill-host"])

    took = _timed(ipmi.set_power, "on", wait=True)
    print(f"IPMI power on (set_power wait=True): {took * 1000:.0f} ms")
    assert ipmi.get_power()["powerstate"] == "on"
    bmcs.wait_calls("compute1", ["kill-host", "start-host"])

    ipmi.set_power("reset")
    bmcs.wait_calls("compute1", ["kill-host", "start-host", "kill-host", "start-host"])
    assert ipmi.get_power()["powerstate"] == "on"

    ipmi.raw_command(netfn=0, command=2, data=[2])  # chassis control: power cycle
    bmcs.wait_calls("compute1", ["kill-host", "start-host"] * 3)

    ipmi.set_power("shutdown")
    bmcs.wait_calls("compute1", ["kill-host", "start-host"] * 3 + ["kill-host"])
    assert ipmi.get_power()["powerstate"] == "off"
    assert bmcs.calls("compute2") == []  # the other host is untouched


def test_cloud_manager_ipmi_driver_logs_in_once_per_use(bmcs: FakeSandbox, monkeypatch) -> None:
    """Fencing (power off, then state reads until off) is one IPMI login; closing the driver
    logs out, and its next use logs in again."""
    from cloud_manager.power import driver_for

    logins: list[str] = []
    login = pyghmi_command.Command

    def counted_login(*args, **kwargs):
        logins.append(kwargs["bmc"])
        return login(*args, **kwargs)

    monkeypatch.setattr(pyghmi_command, "Command", counted_login)
    info = bmcs.endpoints["compute2"]["ipmi"]
    driver = driver_for("ipmi", name="compute2-bmc", address=info["address"], port=info["port"],
                        username=info["username"], password=info["password"], options=None)
    with driver:
        driver.power_off()
        assert [driver.power_state(), driver.power_state()] == ["off", "off"]
    assert len(logins) == 1
    with driver:
        driver.power_on()
        assert driver.power_state() == "on"
    assert len(logins) == 2
    bmcs.wait_calls("compute2", ["kill-host", "start-host"])


def test_cloud_manager_ipmi_driver_takes_a_reply_read_before_it_waited(
        bmcs: FakeSandbox, monkeypatch) -> None:
    """pyghmi's I/O thread can read a BMC's reply before the command that sent the request
    waits for it (likely while another thread is busy); the command must then use the queued
    reply, not wait for its 0.5-1 s retransmit timer. Forced here: each command's request is
    held until its reply is queued; then no command may wait at all."""
    from pyghmi.ipmi.private import session as ipmi_session

    from cloud_manager.power import driver_for

    send, io_wait = ipmi_session.Session._send_ipmi_net_payload, ipmi_session._io_wait
    held, waits = [0], [0]

    def send_and_let_the_reply_be_queued(self, *args, **kwargs):
        result = send(self, *args, **kwargs)
        if self.logged:  # a command, not a login step
            deadline = time.monotonic() + 5
            while not self.pktqueue and time.monotonic() < deadline:
                time.sleep(0.001)
            held[0] += bool(self.pktqueue)
        return result

    def counted_wait(*args, **kwargs):
        waits[0] += 1
        return io_wait(*args, **kwargs)

    info = bmcs.endpoints["compute2"]["ipmi"]
    with driver_for("ipmi", name="compute2-bmc", address=info["address"], port=info["port"],
                    username=info["username"], password=info["password"],
                    options=None) as driver:
        driver.power_state()  # logged in
        monkeypatch.setattr(ipmi_session.Session, "_send_ipmi_net_payload",
                            send_and_let_the_reply_be_queued)
        monkeypatch.setattr(ipmi_session, "_io_wait", counted_wait)
        assert [driver.power_state() for _ in range(3)] == ["on"] * 3
    assert held[0] >= 3  # every command's reply was queued before it could wait
    assert waits[0] == 0


def test_cloud_manager_redfish_driver_keeps_one_session_per_use(bmcs: FakeSandbox) -> None:
    """Fencing (power off, then state reads until off) is one Redfish session, deleted when
    the driver is closed; BMCs allow only a few sessions."""
    from cloud_manager.power import driver_for

    info = bmcs.endpoints["compute2"]["redfish"]

    def open_sessions() -> list[str]:
        response = requests.get(f"{info['url']}/redfish/v1/SessionService/Sessions",
                                auth=(info["username"], info["password"]), timeout=5)
        response.raise_for_status()
        return [member["@odata.id"] for member in response.json()["Members"]]

    driver = driver_for("redfish", name="compute2-bmc", address=info["url"], port=None,
                        username=info["username"], password=info["password"],
                        options={"system_id": info["system_id"]})
    with driver:
        driver.power_off()
        assert [driver.power_state(), driver.power_state()] == ["off", "off"]
        assert len(open_sessions()) == 1
    assert open_sessions() == []
    with driver:
        driver.power_on()
        assert driver.power_state() == "on"
    assert open_sessions() == []
    bmcs.wait_calls("compute2", ["kill-host", "start-host"])


def test_redfish_says_when_it_closes_the_connection(bmcs: FakeSandbox) -> None:
    """sushy asks for `Connection: close`; unannounced, the client may reuse the dying
    connection and fail ("Remote end closed connection without response")."""
    url = bmcs.endpoints["compute2"]["redfish"]["url"]
    with requests.Session() as http:
        closing = http.get(f"{url}/redfish/v1/", headers={"Connection": "close"}, timeout=5)
        kept = http.get(f"{url}/redfish/v1/", timeout=5)
    assert closing.headers.get("Connection") == "close"
    assert kept.headers.get("Connection") is None


def test_redfish_power_off_on_restart(bmcs: FakeSandbox) -> None:
    system = bmcs.redfish_system("compute2")
    assert system.identity == "compute2"
    assert system.power_state == sushy.POWER_STATE_ON
    allowed = system.get_allowed_reset_system_values()
    assert {
        sushy.RESET_ON,
        sushy.RESET_FORCE_OFF,
        sushy.RESET_GRACEFUL_SHUTDOWN,
        sushy.RESET_FORCE_RESTART,
    } <= allowed

    took = _timed(system.reset_system, sushy.RESET_FORCE_OFF)
    print(f"Redfish ForceOff (reset_system): {took * 1000:.0f} ms")
    system.refresh()
    assert system.power_state == sushy.POWER_STATE_OFF
    bmcs.wait_calls("compute2", ["kill-host"])

    took = _timed(system.reset_system, sushy.RESET_ON)
    print(f"Redfish On (reset_system): {took * 1000:.0f} ms")
    system.refresh()
    assert system.power_state == sushy.POWER_STATE_ON
    bmcs.wait_calls("compute2", ["kill-host", "start-host"])

    system.reset_system(sushy.RESET_FORCE_RESTART)
    bmcs.wait_calls("compute2", ["kill-host", "start-host"] * 2)
    system.reset_system(sushy.RESET_GRACEFUL_SHUTDOWN)
    bmcs.wait_calls("compute2", ["kill-host", "start-host"] * 2 + ["kill-host"])
    system.refresh()
    assert system.power_state == sushy.POWER_STATE_OFF
    assert bmcs.calls("compute1") == []


def test_status_is_the_bmc_state_shared_by_both_protocols(bmcs: FakeSandbox) -> None:
    system = bmcs.redfish_system("compute1")
    system.reset_system(sushy.RESET_FORCE_OFF)
    assert bmcs.ipmi("compute1").get_power()["powerstate"] == "off"
    bmcs.ipmi("compute1").set_power("on", wait=True)
    system.refresh()
    assert system.power_state == sushy.POWER_STATE_ON
    # Reading status never runs the sandbox command (it does not look at nova-compute).
    bmcs.wait_calls("compute1", ["kill-host", "start-host"])
    # Power on while already on is a no-op, as on real hardware.
    system.reset_system(sushy.RESET_ON)
    time.sleep(0.3)
    assert bmcs.calls("compute1") == ["kill-host compute1", "start-host compute1"]


def test_power_state_survives_bmc_restart(bmcs: FakeSandbox) -> None:
    bmcs.ipmi("compute1").set_power("off", wait=True)
    bmcs.wait_calls("compute1", ["kill-host"])
    old_password = bmcs.endpoints["compute1"]["ipmi"]["password"]
    bmcs.stop()
    assert not (bmcs.state / "run" / "bmc.pid").exists()

    bmcs.start()
    assert bmcs.endpoints["compute1"]["ipmi"]["password"] != old_password
    assert bmcs.ipmi("compute1").get_power()["powerstate"] == "off"
    assert bmcs.redfish_system("compute1").power_state == sushy.POWER_STATE_OFF
    assert bmcs.ipmi("compute2").get_power()["powerstate"] == "on"
    assert bmcs.calls("compute1") == ["kill-host compute1"]  # a restart runs nothing


def test_wrong_password_is_refused(bmcs: FakeSandbox) -> None:
    with pytest.raises(pyghmi_exc.IpmiException):
        bmcs.ipmi("compute1", password="wrong-password")
    with pytest.raises(pyghmi_exc.IpmiException):
        bmcs.ipmi("compute1", username="root")  # unknown user: refused at once, no timeout
    with pytest.raises(sushy_exc.AccessError):
        bmcs.redfish_system("compute1", password="wrong-password")

    url = bmcs.endpoints["compute1"]["redfish"]["url"]
    target = f"{url}/redfish/v1/Systems/compute1/Actions/ComputerSystem.Reset"
    rsp = requests.post(target, json={"ResetType": "ForceOff"}, auth=("admin", "nope"))
    assert rsp.status_code == 401
    assert requests.get(f"{url}/redfish/v1/Systems").status_code == 401
    assert requests.get(f"{url}/redfish/v1/").status_code == 200  # service root is public
    time.sleep(0.3)
    assert bmcs.calls("compute1") == []
    assert bmcs.ipmi("compute1").get_power()["powerstate"] == "on"


def test_redfish_unknown_system_and_bad_reset(bmcs: FakeSandbox) -> None:
    info = bmcs.endpoints["compute1"]["redfish"]
    root = bmcs.redfish_root("compute1")
    with pytest.raises(sushy_exc.ResourceNotFoundError):
        root.get_system("/redfish/v1/Systems/compute2")  # lives on its own BMC/port
    assert [m.identity for m in root.get_system_collection().get_members()] == ["compute1"]
    assert root.get_manager().identity == "BMC"

    auth = (info["username"], info["password"])
    target = f"{info['url']}/redfish/v1/Systems/compute1/Actions/ComputerSystem.Reset"
    assert requests.post(target, json={"ResetType": "Nmi"}, auth=auth).status_code == 400
    missing = f"{info['url']}/redfish/v1/Systems/nope/Actions/ComputerSystem.Reset"
    assert requests.post(missing, json={"ResetType": "ForceOff"}, auth=auth).status_code == 404


def test_stop_leaves_no_process(tmp_path: Path) -> None:
    box = FakeSandbox(tmp_path)
    box.start()
    pid = int((box.state / "run" / "bmc.pid").read_text())
    bmc.stop(box.state)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert not (box.state / "run" / "bmc.pid").exists()
    bmc.stop(box.state)  # idempotent


def test_awkward_states_are_never_read_as_off(bmcs: FakeSandbox) -> None:
    """A BMC stuck in a transition: Redfish says so (PoweringOff, null...), IPMI, whose power
    bit has no such value, refuses the read (0xD5); the drivers say unknown / fail."""
    from cloud_manager.power import PowerError, driver_for

    ipmi, redfish = bmcs.endpoints["compute1"]["ipmi"], bmcs.endpoints["compute1"]["redfish"]
    drivers = {
        "ipmi": driver_for("ipmi", name="ipmi1", address=ipmi["address"], port=ipmi["port"],
                           username=ipmi["username"], password=ipmi["password"], options=None),
        "redfish": driver_for("redfish", name="rf1", address=redfish["url"], port=None,
                              username=redfish["username"], password=redfish["password"],
                              options={"system_id": redfish["system_id"]}),
    }
    try:
        drivers["redfish"].power_off()
        bmcs.wait_calls("compute1", ["kill-host"])
        for report, said in [("powering-off", "'PoweringOff'"), ("none", "None"),
                             ("unknown", "'Unknown'")]:
            bmc.set_report(bmcs.state, "compute1", report)
            assert drivers["redfish"].power_state() == "unknown"
            assert said in drivers["redfish"].unknown_reason
            with pytest.raises(PowerError, match="ipmi1"):
                drivers["ipmi"].power_state()
        bmc.set_report(bmcs.state, "compute1", None)
        assert {name: d.power_state() for name, d in drivers.items()} == {
            "ipmi": "off", "redfish": "off"}
    finally:
        for driver in drivers.values():
            driver.close()
