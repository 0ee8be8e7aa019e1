"""``node add`` end to end below the API: the request's rules, then the provisioning task run
by the executor against a bare node whose power-on makes it lease an address and start its
nova-compute (Nova in memory, real PXE and lease files in a temporary directory)."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from cloud_manager import nodes
from cloud_manager.db import api as db_api
from cloud_manager.execution.executor import TaskExecutor
from cloud_manager.model.task_state import TaskState
from cloud_manager.nova import ComputeService
from tests.unit.cloud_manager.fake_nova import now
from tests.unit.cloud_manager.test_executor import FakeTime

MAC = "aa:bb:cc:dd:ee:01"
HOST = "bare1"
BMC = {"name": "bare1-bmc", "driver": "ipmi", "address": "10.9.0.1", "username": "admin",
       "password": "bmc-secret"}


class BareNode:
    """A machine that, powered on, leases an address after ``boot_sleeps`` of the task's
    sleeps and starts its nova-compute ``install_sleeps`` later (neither without ``lease``:
    it did not boot from the network)."""

    def __init__(self, nova, leases: Path, time_: FakeTime, boot_sleeps: int = 2,
                 install_sleeps: int = 3, lease: bool = True) -> None:
        self.nova, self.leases, self.time, self.lease = nova, leases, time_, lease
        self.state, self.calls, self.sleeps = "off", [], 0
        self.boot_sleeps, self.install_sleeps = boot_sleeps, install_sleeps

    # the power driver
    def power_state(self) -> str:
        return self.state

    def power_on(self) -> None:
        self.calls.append("on")
        self.state, self.sleeps = "on", 0

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        pass

    # the machine booting while the task sleeps
    def tick(self) -> None:
        if self.state != "on":
            return
        self.sleeps += 1
        sleeps = self.sleeps
        if sleeps == self.boot_sleeps and self.lease:
            self.leases.write_text(self.leases.read_text() + LEASE.format(
                ip="10.9.1.50", mac=MAC.upper(), starts=_dhcp_time(self.time.now - 5),
                ends=_dhcp_time(self.time.now + 600)))
        if sleeps == self.boot_sleeps + self.install_sleeps and self.lease:
            self.nova.services[HOST] = ComputeService(
                id=HOST, host=HOST, up=True, enabled=True, forced_down=False,
                disabled_reason=None, updated_at=now())


LEASE = """lease {ip} {{
  starts 2 {starts};
  ends 2 {ends};
  binding state active;
  hardware ethernet {mac};
}}
"""
OTHER_LEASES = LEASE.format(ip="10.9.1.49", mac="AA:BB:CC:DD:EE:02",
                            starts="2020/01/01 00:00:00", ends="2020/01/01 01:00:00")


def _dhcp_time(ts: float) -> str:
    return time.strftime("%Y/%m/%d %H:%M:%S", time.gmtime(ts))


@pytest.fixture
def setup(make_runtime, tmp_path):
    """A runtime whose [pxe] conf_dir and dhcp_leases are in tmp_path (a second, missing
    lease file is skipped), a bare node behind a fake power device, and a fake clock."""

    def make(**kwargs):
        pxe_dir = tmp_path / "pxelinux.cfg"
        pxe_dir.mkdir(exist_ok=True)
        leases = tmp_path / "dhcpd.leases"
        leases.write_text(OTHER_LEASES)
        runtime = make_runtime(
            DEFAULT={"dhcp_leases": f"{tmp_path / 'missing.leases'},{leases}"},
            pxe={"conf_dir": pxe_dir, "lease_timeout": 60, "compute_timeout": 120})
        fake_time = FakeTime()
        node = BareNode(runtime.nova, leases, fake_time, **kwargs)
        runtime.power_driver = lambda device: node
        def sleep(seconds: float) -> None:
            fake_time.sleep(seconds)
            node.tick()

        def executor(owner: str = "w1") -> TaskExecutor:
            return TaskExecutor(runtime, owner, clock=fake_time.clock, sleep=sleep,
                                monotonic=fake_time.clock)

        return runtime, node, pxe_dir, executor

    return make


def _add(runtime, reserve: bool = False, **device) -> dict:
    summary, _ = nodes.add_node(runtime, HOST, MAC, "user 1", reserve=reserve,
                                dispatch=lambda _id: None, **(device or {"new_device": BMC}))
    return summary


def _node(runtime):
    with runtime.transaction() as session:
        row = db_api.node(session, HOST)
        return row.state, row.maintenance, row.reserve


def _messages(runtime) -> list[str]:
    with runtime.transaction() as session:
        return [e.message for e in reversed(db_api.events(session, hostname=HOST, limit=100))]


def test_a_bare_node_is_booted_found_in_the_leases_and_put_in_service(setup):
    runtime, node, pxe_dir, executor = setup()
    task = _add(runtime)
    assert (task["kind"], task["state"], task["strategy"]) == ("provisioning", "pending",
                                                                "service")
    assert _node(runtime) == ("maintenance", True, False)  # the tracker leaves it alone

    assert executor().run(task["id"]) == TaskState.DONE
    assert node.calls == ["on"]
    assert _node(runtime) == ("up", False, False)
    assert runtime.nova.services[HOST].enabled
    # Installed: a reboot boots from the disk, not into the installer again.
    assert "LOCALBOOT 0" in (pxe_dir / "01-aa-bb-cc-dd-ee-01").read_text()
    steps = [m.partition(": ")[2] for m in _messages(runtime) if m.startswith("task ")]
    assert steps == [f"PXE file {pxe_dir / '01-aa-bb-cc-dd-ee-01'} written",
                     "powered on through power device bare1-bmc",
                     f"waiting for a DHCP lease of {MAC}",
                     f"{MAC} leased 10.9.1.50 (in {pxe_dir.parent / 'dhcpd.leases'})",
                     f"waiting for nova-compute on {HOST} to register and report",
                     ] + steps[5:]
    with runtime.transaction() as session:
        row = db_api.task(session, task["id"])
        assert row.message == (f"nova-compute on {HOST} registered; node in service "
                               "(address 10.9.1.50)")
        assert db_api.provisioning(session, HOST).ip == "10.9.1.50"


def test_the_install_file_is_written_before_power_on_from_the_operators_template(
        setup, tmp_path):
    runtime, node, pxe_dir, executor = setup(install_sleeps=10**6)
    template = tmp_path / "pxe.template"
    template.write_text("LABEL $hostname\n  APPEND BOOTIF=$pxe_name\n")
    runtime.conf.set_override("template", str(template), "pxe")
    runtime.conf.set_override("compute_timeout", 30, "pxe")
    task = _add(runtime)
    assert executor().run(task["id"]) == TaskState.FAILED
    assert (pxe_dir / "01-aa-bb-cc-dd-ee-01").read_text() == (
        "LABEL bare1\n  APPEND BOOTIF=01-aa-bb-cc-dd-ee-01\n")
    with runtime.transaction() as session:
        assert db_api.task(session, task["id"]).message == (
            "no nova-compute reporting on bare1 within 30 s ([pxe] compute_timeout)")
    assert _node(runtime) == ("maintenance", True, False)


def test_with_reserve_the_node_joins_the_reserve_pool_disabled_in_nova(setup):
    runtime, _, _, executor = setup()
    task = _add(runtime, reserve=True)
    assert task["strategy"] == "reserve"
    assert executor().run(task["id"]) == TaskState.DONE
    assert _node(runtime) == ("up", False, True)
    service = runtime.nova.services[HOST]
    assert (service.enabled, service.disabled_reason) == (False, "aos: reserve node")


def test_no_lease_in_time_fails_the_task_and_add_again_resumes_it(setup):
    runtime, node, _, executor = setup(lease=False)
    first = _add(runtime)
    assert executor().run(first["id"]) == TaskState.FAILED
    with runtime.transaction() as session:
        assert db_api.task(session, first["id"]).message.startswith(
            f"no DHCP lease of {MAC} within 60 s ([pxe] lease_timeout)")
    node.lease = True
    node.state = "off"  # a resumed task powers it on again, as a fresh boot
    again = _add(runtime, device="bare1-bmc")
    assert again["id"] != first["id"]
    assert executor().run(again["id"]) == TaskState.DONE
    assert node.calls == ["on", "on"]
    with pytest.raises(db_api.Conflict, match=f"node 'bare1' \\({MAC}\\) was already added "
                       f"by task {again['id']}"):
        _add(runtime)


def test_no_readable_lease_file_fails_with_the_files_named(setup, tmp_path):
    runtime, _, _, executor = setup()
    runtime.conf.set_override("dhcp_leases", [str(tmp_path / "gone.leases")])
    task = _add(runtime)
    assert executor().run(task["id"]) == TaskState.FAILED
    with runtime.transaction() as session:
        assert db_api.task(session, task["id"]).message == (
            f"[DEFAULT] dhcp_leases: no lease file could be read ({tmp_path}/gone.leases: "
            "no such file)")


def test_a_running_add_is_returned_again_and_conflicts_are_refused(setup):
    runtime, _, _, _ = setup()
    first, created = nodes.add_node(runtime, HOST, MAC.upper(), "user 1", new_device=BMC,
                                    dispatch=lambda _id: None)
    assert created
    again, created = nodes.add_node(runtime, HOST, MAC, "user 1", device="bare1-bmc",
                                    dispatch=lambda _id: pytest.fail("queued twice"))
    assert (again["id"], created) == (first["id"], False)
    with pytest.raises(db_api.Conflict, match=f"MAC {MAC} is already registered for node "
                       "'bare1'"):
        nodes.add_node(runtime, "bare2", MAC, "user 1", new_device={**BMC, "name": "b2"})
    with pytest.raises(db_api.Conflict, match="node 'bare1' was added with MAC "):
        nodes.add_node(runtime, HOST, "aa:bb:cc:dd:ee:99", "user 1", device="bare1-bmc")
    with runtime.transaction() as session:
        db_api.ensure_nodes(session, ["c1"])
    with pytest.raises(db_api.Conflict, match="node 'c1' is already known to CloudManager"):
        nodes.add_node(runtime, "c1", "aa:bb:cc:dd:ee:98", "user 1", new_device=BMC)
    with pytest.raises(db_api.NotFound, match="no power device 'nope'"):
        nodes.add_node(runtime, "bare3", "aa:bb:cc:dd:ee:97", "user 1", device="nope")
    with pytest.raises(db_api.Conflict, match="power device 'bare1-bmc' powers node 'bare1'"):
        nodes.add_node(runtime, "bare4", "aa:bb:cc:dd:ee:96", "user 1", device="bare1-bmc")
    # Refused requests leave nothing behind: not a node, not a device, not a task.
    with runtime.transaction() as session:
        assert sorted(n.hostname for n in db_api.nodes(session)) == ["bare1", "c1"]
        assert [d.name for d in db_api.power_devices(session)] == ["bare1-bmc"]


def test_two_workers_given_the_same_task_run_it_once(setup):
    """Every controller runs a worker; the task's lease (taken by one conditional UPDATE on
    the database's clock) gives it one owner, so a bare node is powered on once."""
    runtime, node, _, executor = setup()
    task = _add(runtime)
    start = threading.Barrier(2)
    results = {}

    def work(owner: str) -> None:
        start.wait()
        results[owner] = executor(owner).run(task["id"])

    threads = [threading.Thread(target=work, args=(w,)) for w in ("controller1", "controller2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(results.values(), key=str) == [None, TaskState.DONE]
    assert node.calls == ["on"]
    assert _node(runtime) == ("up", False, False)


def test_a_resumed_task_continues_from_what_the_node_shows(setup):
    """The first worker died once the node was registered but before placing it: the next
    one neither rewrites the install file nor powers the node on again."""
    runtime, node, pxe_dir, executor = setup()
    task = _add(runtime, reserve=True)
    node.state = "on"
    runtime.nova.services[HOST] = replace(
        next(iter(runtime.nova.services.values())), id=HOST, host=HOST)
    assert executor("w2").run(task["id"]) == TaskState.DONE
    assert node.calls == []
    assert "LOCALBOOT 0" in (pxe_dir / "01-aa-bb-cc-dd-ee-01").read_text()
    assert runtime.nova.services[HOST].disabled_reason == "aos: reserve node"
