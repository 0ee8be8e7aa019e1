"""``openstack aos node add`` on the sandbox: a bare host (a BMC that says off, no
nova-compute) is added by MAC and IPMI device; CloudManager's worker writes its PXE file,
powers it on through the BMC (which starts its nova-compute), finds the address the test's
lease file gives its MAC, and ends with the host registered in Nova and in service.
"""

from __future__ import annotations

import json
import time

import pytest

from cloud_manager.power import driver_for
from tests.functional.test_instance_ha import _cli
from tools.aos_sandbox.aos_services import CloudManager, wait_for
from tools.aos_sandbox.client import sandbox_cmd

pytestmark = pytest.mark.functional

API_PORT = 19363
MAC = "52:54:00:a0:50:01"
LEASE = """lease 10.20.0.51 {{
  starts 2 {starts};
  ends 2 {ends};
  binding state active;
  hardware ethernet {mac};
  client-hostname "{host}";
}}
"""


def _dhcp_time(ts: float) -> str:
    return time.strftime("%Y/%m/%d %H:%M:%S", time.gmtime(ts))


@pytest.fixture
def bare_host(sandbox):
    """The sandbox's first spare host, bare again afterwards: powered off through its BMC
    and its nova-compute service deleted from Nova, so other tests see their computes only
    (the next `tools/sandbox up` wipes its state)."""
    spares = sandbox.info.get("spare_hosts") or []
    assert spares, "the sandbox has no spare host (tools/sandbox up --spare-hosts 1)"
    host = spares[0]
    bmc = sandbox.info["bmc"][host]["ipmi"]
    assert sandbox.compute_service(host) is None, f"{host} is not bare: it is in Nova"
    yield host, bmc
    with driver_for("ipmi", name=host, address=bmc["address"], port=bmc["port"],
                    username=bmc["username"], password=bmc["password"], options=None) as driver:
        driver.power_off()
    # The BMC kills it in the background: killed here too before Nova forgets the service,
    # or a last report would register it again.
    sandbox_cmd("kill-host", host, check=False)
    conn = sandbox.conn("admin")
    service = sandbox.compute_service(host)
    if service is not None:
        conn.compute.delete_service(service)


def test_a_bare_host_is_added_by_mac_and_ends_in_service(sandbox, bare_host, tmp_path):
    host, bmc = bare_host
    leases = tmp_path / "dhcpd.leases"
    now = time.time()
    leases.write_text(LEASE.format(starts=_dhcp_time(now - 1), ends=_dhcp_time(now + 3600),
                                   mac=MAC, host=host))
    pxe_dir = tmp_path / "pxelinux.cfg"
    pxe_dir.mkdir()
    cm = CloudManager(sandbox, tmp_path,
                      DEFAULT={"transport_url": sandbox.info["transport_url"],
                               "dhcp_leases": f"{tmp_path / 'absent.leases'},{leases}"},
                      api={"port": API_PORT},
                      pxe={"conf_dir": pxe_dir, "lease_timeout": 60, "compute_timeout": 120})
    try:
        cm.start("api")
        cm.start("worker")
        url = f"http://127.0.0.1:{API_PORT}"
        wait_for("the API", lambda: _cli(url, "node", "list").returncode == 0, 30)
        added = _cli(url, "node", "add", host, "--mac", MAC, "--driver", "ipmi",
                     "--address", bmc["address"], "--port", str(bmc["port"]),
                     "--username", bmc["username"], "--password", bmc["password"],
                     "--wait", "--poll-interval", "1", "--timeout", "110", "-f", "json")
        assert added.returncode == 0, added.stderr
        task = json.loads(added.stdout)
        assert (task["Kind"], task["State"]) == ("provisioning", "done"), task["Message"]
        assert task["Message"] == (f"nova-compute on {host} registered; node in service "
                                   "(address 10.20.0.51)")

        service = sandbox.compute_service(host)
        assert (service.state, service.status) == ("up", "enabled")
        node = cm.node(host)
        assert (node.state, node.maintenance, node.reserve) == ("up", False, False)
        steps = [e.message for e in reversed(cm.events(host))]
        assert any(f"PXE file {pxe_dir / '01-52-54-00-a0-50-01'} written" in m for m in steps)
        assert any("powered on through power device" in m for m in steps)
        assert any(f"{MAC} leased 10.20.0.51 (in {leases})" in m for m in steps)
        assert "LOCALBOOT 0" in (pxe_dir / "01-52-54-00-a0-50-01").read_text()

        again = _cli(url, "node", "add", host, "--mac", MAC, "--power-device",
                     f"{host}-power")
        assert again.returncode == 1
        assert again.stderr.strip().endswith(
            f"409: node '{host}' ({MAC}) was already added by task {task['Id']}"), again.stderr
    finally:
        cm.drop()
