"""SSHDriver against a real (in-process, paramiko) SSH server running commands locally."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from cloud_manager.power import PowerError, driver_for
from cloud_manager.power.ssh import fingerprint
from tests.unit.cloud_manager.power.ssh_server import SSHServer

NAME = "pdu-lab-7"
USER, PASSWORD = "power", "s3cret"


@pytest.fixture(scope="module")
def server():
    srv = SSHServer(USER, PASSWORD)
    yield srv
    srv.close()


@pytest.fixture
def make_driver(server):
    def make(password: str = PASSWORD, port: int | None = None, **options: str):
        options.setdefault("host_key", fingerprint(server.host_key))
        return driver_for("ssh", name=NAME, address="127.0.0.1", port=port or server.port,
                          username=USER, password=password, options=options)
    return make


@pytest.fixture
def log(tmp_path: Path) -> Path:
    return tmp_path / "log"


def lines(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


def test_on_off_status_round_trip(make_driver, tmp_path):
    state = tmp_path / "state"
    driver = make_driver(on=f"echo on > {state}", off=f"echo off > {state}",
                         status=f"cat {state}")
    driver.power_off()
    assert state.read_text() == "off\n"
    assert driver.power_state() == "off"
    driver.power_on()
    assert driver.power_state() == "on"


def test_power_cycle_without_cycle_option_runs_off_then_on(make_driver, log):
    make_driver(on=f"echo on >> {log}", off=f"echo off >> {log}").power_cycle()
    assert lines(log) == ["off", "on"]


def test_power_cycle_with_cycle_option_runs_only_it(make_driver, log):
    make_driver(on=f"echo on >> {log}", off=f"echo off >> {log}",
                cycle=f"echo cycle >> {log}").power_cycle()
    assert lines(log) == ["cycle"]


def test_soft_off_without_option_is_unsupported(make_driver, log):
    with pytest.raises(PowerError, match="soft power-off") as err:
        make_driver(off=f"echo off >> {log}").power_soft_off()
    assert NAME in str(err.value)
    assert lines(log) == []


def test_soft_off_runs_its_command(make_driver, log):
    make_driver(off=f"echo off >> {log}", soft_off=f"echo soft >> {log}").power_soft_off()
    assert lines(log) == ["soft"]


@pytest.mark.parametrize("printed", ["maybe", "powering off", "", "on off"])
def test_status_neither_on_nor_off_is_unknown(make_driver, printed):
    driver = make_driver(status=f"echo '{printed}'")
    assert driver.power_state() == "unknown"
    assert driver.unknown_reason == (f"power device {NAME}: status command printed "
                                     f"{printed!r}, not on/off")


def test_command_failure_reports_exit_status_and_stderr(make_driver):
    with pytest.raises(PowerError) as err:
        make_driver(off="echo 'relay stuck' >&2; exit 3").power_off()
    assert NAME in str(err.value)
    assert "exited 3" in str(err.value) and "relay stuck" in str(err.value)


def test_missing_option(make_driver, log):
    with pytest.raises(PowerError, match="'off'") as err:
        make_driver(on=f"echo on >> {log}").power_off()
    assert NAME in str(err.value)


def test_wrong_password(make_driver, log):
    with pytest.raises(PowerError, match="(?i)authentication") as err:
        make_driver(password="wrong", on=f"echo on >> {log}").power_on()
    assert NAME in str(err.value)
    assert lines(log) == []


def test_closed_port_fails_fast(make_driver):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    started = time.monotonic()
    with pytest.raises(PowerError) as err:
        make_driver(port=port, on="true").power_on()
    assert time.monotonic() - started < 5
    assert NAME in str(err.value)


@pytest.mark.timeout(15)
def test_hung_command_times_out(make_driver):
    driver = make_driver(status="sleep 8")
    driver.command_timeout = 0.5
    started = time.monotonic()
    with pytest.raises(PowerError, match="did not finish") as err:
        driver.power_state()
    assert time.monotonic() - started < 5
    assert NAME in str(err.value)


def test_undecodable_output_is_unknown(make_driver):
    driver = make_driver(status=r"printf '\377'")
    assert driver.power_state() == "unknown"
    assert NAME in driver.unknown_reason


def test_host_key_other_than_the_pinned_one_is_refused(make_driver, log):
    other = "SHA256:" + "A" * 43
    with pytest.raises(PowerError, match=f"not the pinned {other}") as err:
        make_driver(host_key=other, on=f"echo on >> {log}").power_on()
    assert NAME in str(err.value)
    assert lines(log) == []


def test_unknown_host_key_is_refused_and_a_known_hosts_file_is_trusted(
        make_driver, server, tmp_path, log):
    known = tmp_path / "known_hosts"
    known.write_text("")
    with pytest.raises(PowerError, match="(?i)not found in known_hosts"):
        make_driver(host_key="", known_hosts=str(known), on=f"echo on >> {log}").power_on()
    assert lines(log) == []
    key = server.host_key
    known.write_text(f"[127.0.0.1]:{server.port} {key.get_name()} {key.get_base64()}\n")
    make_driver(host_key="", known_hosts=str(known), on=f"echo on >> {log}").power_on()
    assert lines(log) == ["on"]


def test_fingerprint_is_as_ssh_keygen_prints_it(server, tmp_path):
    import subprocess

    pub = tmp_path / "key.pub"
    pub.write_text(f"{server.host_key.get_name()} {server.host_key.get_base64()}\n")
    printed = subprocess.run(["ssh-keygen", "-l", "-f", str(pub)], capture_output=True,
                             text=True)
    if printed.returncode != 0:
        pytest.skip("no ssh-keygen here")
    assert printed.stdout.split()[1] == fingerprint(server.host_key)
