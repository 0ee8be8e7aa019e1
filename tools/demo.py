"""``make demo``: the sandbox cloud protected by CloudManager, with the Clouds services beside it.

Brings the sandbox up (4 computes, BMCs, cloud doubles), deploys CloudManager (api, beat,
worker, listener) and Clouds (api, worker) against it with Keystone auth, registers their
endpoints and a power device per compute, boots servers of different recovery priorities on
one host, prints commands to paste into another shell (absolute paths; the openrc it writes
puts this venv's ``openstack`` first on PATH), then shows nodes, their servers and the tasks
live until Ctrl-C, which stops the AOS services (``tools/sandbox down`` stops the sandbox).
"""

from __future__ import annotations

import contextlib
import signal
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from cloud_manager.ha.priority import RECOVERY_PRIORITY_KEY
from tools.aos_sandbox.aos_services import (
    BIN,
    CloudManager,
    Clouds,
    Deployment,
    answers,
    drop_database,
    keystone_auth,
    register_endpoints,
    restore_host,
    wait_for,
)
from tools.aos_sandbox.client import Sandbox, sandbox_cmd, state_dir
from tools.aos_sandbox.config import SANDBOX_CMD
from tools.demo_cloud import boot_in_aws

VICTIM = "compute2"
#: name → recovery priority of the servers booted on VICTIM (0: never evacuated)
SERVERS = {"demo-db": 10, "demo-api": 7, "demo-web": 4, "demo-batch": 1, "demo-scratch": 0}
STATE_COLOURS = {"up": "green", "suspect": "yellow", "down": "red", "fenced": "red",
                 "evacuating": "magenta", "evacuated": "blue", "recovering": "cyan",
                 "maintenance": "dim"}


# --- deployment -----------------------------------------------------------------------------

def _restore_hosts(sandbox: Sandbox) -> None:
    """Hosts a previous demo left killed, fenced or disabled run and take servers again."""
    for host in sandbox.info["hosts"]:
        service = sandbox.compute_service(host)
        if service is None or service.is_forced_down or service.status == "disabled" \
                or service.state != "up":
            print(f"restoring {host} (left down by an earlier run)", flush=True)
            restore_host(sandbox, host)


def deploy(sandbox: Sandbox, root: Path, started: list[Deployment]) -> CloudManager:
    """CloudManager and Clouds on fresh databases, services started and answering."""
    auth = keystone_auth(sandbox)
    transport = {"transport_url": sandbox.info["transport_url"]}
    for database in ("aos_demo_cloud_manager", "aos_demo_clouds"):
        drop_database(sandbox, database)
    cm = CloudManager(sandbox, root / "cloud_manager", database="aos_demo_cloud_manager",
                      node_tracker={"loop_time": 2, "mutex": 2, "max_down_hosts": 1},
                      api={"auth_strategy": "keystone", "host": "127.0.0.1", "workers": 1},
                      keystone_authtoken=auth, DEFAULT=transport)
    started.append(cm)
    for host in sandbox.info["hosts"]:
        cm.add_bmc(host, "ipmi")
    for service in ("api", "beat", "worker", "listener"):
        cm.start(service)
    clouds = Clouds(sandbox, root / "clouds", database="aos_demo_clouds",
                    api={"host": "127.0.0.1", "workers": 1}, keystone_authtoken=auth)
    started.append(clouds)
    for service in ("api", "worker"):
        clouds.start(service)
    wait_for("CloudManager's API on 9362", lambda: _alive(cm) and answers(
        "http://127.0.0.1:9362/"), 60)
    wait_for("the Clouds API on 9366 and its worker", lambda: _alive(clouds) and clouds.healthy(),
             60)
    wait_for("CloudManager to see every compute",
             lambda: _alive(cm) and set(cm.node_states()) >= set(sandbox.info["hosts"]), 90)
    return cm


def _alive(deployment: Deployment) -> bool:
    """True while every service runs; a dead one fails the demo with its log's last line."""
    for name, running in deployment.running().items():
        if not running:
            lines = deployment.output(name).strip().splitlines() or ["no output"]
            last = next((line for line in reversed(lines) if "CRITICAL" in line), lines[-1])
            raise SystemExit(f"demo: {deployment.module.service_prefix}-{name} exited: {last}")
    return True


def boot_servers(sandbox: Sandbox) -> list[Any]:
    """SERVERS on VICTIM (earlier demo servers are deleted first), ACTIVE."""
    conn = sandbox.conn("admin")
    old = [s for s in conn.compute.servers(all_projects=True) if s.name in SERVERS]
    for server in old:
        conn.compute.delete_server(server, force=True)
    for server in old:
        conn.compute.wait_for_delete(server, wait=60)
    net = conn.network.find_network("private")
    flavor = conn.compute.find_flavor("m1.tiny")
    image = conn.image.find_image("cirros")

    def boot(name: str) -> Any:
        return conn.compute.create_server(
            name=name, flavor_id=flavor.id, image_id=image.id, networks=[{"uuid": net.id}],
            metadata={RECOVERY_PRIORITY_KEY: str(SERVERS[name])},
            availability_zone=f"nova:{VICTIM}")

    booted = {name: boot(name) for name in SERVERS}
    active = []
    for name, server in booted.items():
        try:
            active.append(sandbox.wait_active(server))
        except AssertionError as exc:
            # A busy machine makes the odd boot fail (Nova cannot reschedule a server pinned
            # to a host): one more try, and a second failure ends the demo with Nova's fault.
            print(f"{name} failed to boot ({str(exc).splitlines()[0][:160]}); booting it again",
                  flush=True)
            conn.compute.delete_server(server, force=True)
            conn.compute.wait_for_delete(server, wait=60)
            active.append(sandbox.wait_active(boot(name)))
    return active


def write_openrc(root: Path) -> Path:
    """The sandbox's admin credentials plus this venv first on PATH: `openstack aos` works."""
    path = root / "openrc"
    admin = (state_dir() / "openrc-admin").read_text()
    path.write_text("# AOS demo: the sandbox's admin, and the venv whose openstack has `aos`\n"
                    f"{admin}export PATH=\"{BIN}:$PATH\"\n")
    return path


def instructions(openrc: Path, hosts: list[str]) -> str:
    listed = ", ".join(f"{name} ({priority})" for name, priority in SERVERS.items())
    return f"""
CloudManager protects the sandbox ({', '.join(hosts)}; an IPMI BMC fences each).
On {VICTIM}, by recovery priority: {listed}; 0 is never evacuated.

In another shell (paste as is):
  source {openrc}
  openstack aos node list
  openstack server list --all-projects --long -c Name -c Status -c Host -c Properties
  {SANDBOX_CMD} kill-host {VICTIM}      # {VICTIM} dies: watch this terminal
  openstack aos task list
  openstack aos event list
  openstack aos power-device on {VICTIM}-bmc      # bring {VICTIM} back
Logs: {openrc.parent}/*/*.log   Ctrl-C stops the AOS services; the sandbox stays up
({SANDBOX_CMD} down stops it).
"""


# --- the live view --------------------------------------------------------------------------

@dataclass
class Snapshot:
    """What the view shows, read from CloudManager's database and from Nova."""

    nodes: dict[str, tuple[str, str]] = field(default_factory=dict)  # host → (state, reason)
    servers: list[tuple[str, str, str, str]] = field(default_factory=list)  # name, host, ...
    tasks: list[Any] = field(default_factory=list)
    events: list[Any] = field(default_factory=list)
    error: str = ""


def snapshot(cm: CloudManager, sandbox: Sandbox) -> Snapshot:
    snap = Snapshot()
    try:
        snap.nodes = {n.hostname: (n.state, n.state_reason or "") for n in cm.nodes()}
        snap.tasks = cm.tasks()[:3]
        snap.events = cm.events()[:6]
        snap.servers = [(s.name, s.compute_host or "-", s.status,
                         s.metadata.get(RECOVERY_PRIORITY_KEY, "-"))
                        for s in sandbox.conn("admin").compute.servers(all_projects=True)]
    except Exception as exc:  # noqa: BLE001 - the view shows it and tries again next second
        snap.error = f"{type(exc).__name__}: {exc}"
    return snap


def _priority(value: str) -> int:
    return int(value) if value.isdigit() else -1


def render(snap: Snapshot, now: datetime) -> RenderableType:
    """Nodes with their servers (highest priority first), the newest tasks, recent events."""
    nodes = Table(title=f"AOS demo {now:%H:%M:%S}: nodes and their servers", expand=True)
    for column in ("node", "state", "servers: priority name status"):
        nodes.add_column(column)
    for host in sorted(snap.nodes, key=lambda h: (len(h), h)):
        state, reason = snap.nodes[host]
        on_host = sorted((s for s in snap.servers if s[1] == host),
                         key=lambda s: (-_priority(s[3]), s[0]))
        servers = "\n".join(f"{prio:>2} {name} {status}" for name, _, status, prio in on_host)
        label = Text(state, style=STATE_COLOURS.get(state, ""))
        if reason and state != "up":
            label.append(f"\n{reason}", style="dim")
        nodes.add_row(host, label, servers or "-")
    tasks = Table(title="tasks (newest first)", expand=True)
    for column in ("node", "task", "items: priority name → target state"):
        tasks.add_column(column)
    for task in snap.tasks:
        items = "\n".join(f"{i.priority:>2} {i.instance_name or i.instance_id} → "
                          f"{i.target_host or '?'} {i.state}" for i in task.items)
        tasks.add_row(task.hostname, f"{task.kind} {task.state}\n{task.created_at:%H:%M:%S}",
                      items or "-")
    events = Text("\n".join(f"{e.created_at:%H:%M:%S} {e.hostname or '-':9} {e.message}"
                            for e in snap.events), style="dim")
    parts: list[RenderableType] = [nodes, tasks, events]
    if snap.error:
        parts.append(Text(snap.error, style="red"))
    return Group(*parts)


def watch(cm: CloudManager, sandbox: Sandbox, stop: list[int]) -> None:
    """The live view on a terminal, else one line per new event (a log, CI)."""
    console = Console()
    if console.is_terminal:
        with Live(render(snapshot(cm, sandbox), datetime.now()), console=console,
                  refresh_per_second=2) as live:
            while not stop:
                time.sleep(1)
                live.update(render(snapshot(cm, sandbox), datetime.now()))
        return
    seen = {e.id for e in cm.events()}
    while not stop:
        for event in reversed(cm.events()):
            if event.id not in seen:
                seen.add(event.id)
                print(f"{event.created_at:%H:%M:%S} {event.hostname or '-':10} "
                      f"{event.kind:10} {event.message}", flush=True)
        time.sleep(1)


@contextlib.contextmanager
def stopping(started: list[Deployment]) -> Iterator[list[int]]:
    """SIGTERM, SIGHUP (terminal closed) or Ctrl-C end the view; the AOS services stop
    whatever happened (they run in sessions of their own, so nothing else stops them)."""
    stop: list[int] = []
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: stop.append(1))
    try:
        yield stop
    except KeyboardInterrupt:
        pass
    finally:
        for deployment in started:
            deployment.stop_all()


def main() -> int:
    sandbox_cmd("up", "--computes", "4")
    sandbox = Sandbox.load()
    root = state_dir() / "aos"
    register_endpoints(sandbox)
    _restore_hosts(sandbox)
    started: list[Deployment] = []
    with stopping(started) as stop:
        cm = deploy(sandbox, root, started)
        boot_servers(sandbox)
        try:
            print(boot_in_aws(sandbox), flush=True)
        except Exception as exc:  # noqa: BLE001 - the HA demo goes on without this step
            print(f"The AWS step failed: {str(exc).splitlines()[0][:300]}", flush=True)
        print(instructions(write_openrc(root), sorted(cm.node_states())), flush=True)
        watch(cm, sandbox, stop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
