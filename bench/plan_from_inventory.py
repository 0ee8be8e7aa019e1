"""Failure to plan ready, 1,000 hosts / 30,000 instances: from the inventory against Placement.

Run from the repository root, with the sandbox up:
    .venv/bin/python -m bench.plan_from_inventory [--hosts 1000] [--instances 30000] [--runs 5]

What is timed is ``read_evacuation_inputs`` + ``plan_host_evacuation``: what a worker does
between a host's fencing and its first evacuation request. Both sides run the same code on the
same CloudManager database (MariaDB on the sandbox's server); only the source of the targets'
capacity and zones differs:

- live (the baseline): Placement of the sandbox holds ``hosts`` resource providers, named by
  hypervisor hostname (``bench-hv-NNNN.example.org``, the service host being the short name);
  the adapter lists them, maps them through the hypervisors' service hosts and reads each
  one's inventories and usages (two requests each, 8 at a time), as CloudManager did before;
- inventory: the same hosts and the instances are rows of the inventory (written by this
  script, as node_sync would), with a sync finished now; capacity is two queries.

Nova's side is synthetic on both: the nova-compute services, the hypervisors' names, the 30
instances of the failed host and the migration mark come from an in-process stand-in (no
compute processes of 1,000 hosts exist), so neither side pays for them. The providers have no
allocations (usages 0) while the inventory has 30 instances per host: the plans differ in
where instances go, not in how long they take to compute.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

from aos import openstack
from cloud_manager.db import api as db_api
from cloud_manager.db.models import utcnow
from cloud_manager.execution.inventory import read_evacuation_inputs
from cloud_manager.ha.evacuation_plan import Strategy
from cloud_manager.ha.evacuation_planner import plan_host_evacuation
from cloud_manager.heartbeat import Heartbeats
from cloud_manager.model.inventory import HostRecord, InstanceRecord, Resource
from cloud_manager.model.task_state import TaskKind
from cloud_manager.nova import ComputeService, Nova, Server
from tools.aos_sandbox.aos_services import CloudManager
from tools.aos_sandbox.client import Sandbox

PREFIX = "bench-hv-"
PLACEMENT = "1.20"  # POST answers the new provider
FLAVORS = ((512, 1, 10), (2048, 1, 20), (4096, 2, 40), (8192, 4, 80))
ZONES = ("az1", "az2", "az3")


def host_name(n: int) -> str:
    return f"{PREFIX}{n:04d}"


def node_name(n: int) -> str:
    return f"{host_name(n)}.example.org"


class SyntheticNova(Nova):
    """Nova's side of ``hosts`` computes in memory; Placement (``capacities``) is real."""

    def __init__(self, conn, hosts: int, failed: list[Server]) -> None:  # noqa: ANN001
        super().__init__(conn)
        self.count, self.failed = hosts, failed

    def compute_services(self) -> list[ComputeService]:
        now = utcnow()
        return [ComputeService(id=str(n), host=host_name(n), up=True, enabled=True,
                               forced_down=n == 0, disabled_reason=None, updated_at=now)
                for n in range(self.count)]

    def hypervisor_hosts(self) -> dict[str, str]:
        return {node_name(n): host_name(n) for n in range(self.count)}

    def servers_on_host(self, host: str) -> list[Server]:
        return list(self.failed) if host == host_name(0) else []

    def newest_evacuation_id(self, host: str) -> int:  # noqa: ARG002
        return 0

    def host_zones(self) -> dict[str, str]:
        return {host_name(n): ZONES[n % len(ZONES)] for n in range(self.count)}


def instances(hosts: int, count: int, seed: int) -> list[InstanceRecord]:
    rng = random.Random(seed)
    at = utcnow()
    out = []
    for n in range(count):
        ram, vcpus, disk = rng.choice(FLAVORS)
        out.append(InstanceRecord(
            id=f"{n:08d}-0000-4000-8000-000000000000", name=f"vm{n}",
            host=host_name(n % hosts), node=node_name(n % hosts), state="active",
            ram_mb=ram, vcpus=vcpus, disk_gb=disk, changed_at=at,
            metadata={"aos:recovery_priority": str(rng.randint(0, 10))}))
    return out


def inventories(n: int) -> dict[str, dict]:
    return {"MEMORY_MB": {"total": 262144, "reserved": 4096, "allocation_ratio": 1.0},
            "VCPU": {"total": 64, "reserved": 0, "allocation_ratio": 4.0},
            "DISK_GB": {"total": 4000 + n % 7, "reserved": 0, "allocation_ratio": 1.0}}


def create_providers(placement, hosts: int) -> list[str]:  # noqa: ANN001 - keystoneauth adapter
    def create(n: int) -> str:
        body = placement.post("/resource_providers", json={"name": node_name(n)},
                              microversion=PLACEMENT).json()
        placement.put(f"/resource_providers/{body['uuid']}/inventories",
                      json={"resource_provider_generation": body["generation"],
                            "inventories": inventories(n)}, microversion=PLACEMENT)
        return body["uuid"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(create, range(hosts)))


def delete_providers(placement) -> None:  # noqa: ANN001
    listed = placement.get("/resource_providers", microversion=PLACEMENT).json()
    doomed = [rp["uuid"] for rp in listed["resource_providers"]
              if rp["name"].startswith(PREFIX)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda u: placement.delete(f"/resource_providers/{u}",
                                                 microversion=PLACEMENT), doomed))


def fill_inventory(cm: CloudManager, hosts: int, records: list[InstanceRecord]) -> None:
    held: dict[str, dict[str, int]] = {}
    for r in records:
        h = held.setdefault(r.host, {"MEMORY_MB": 0, "VCPU": 0, "DISK_GB": 0})
        h["MEMORY_MB"] += r.ram_mb
        h["VCPU"] += r.vcpus
        h["DISK_GB"] += r.disk_gb
    at = utcnow()
    host_rows = [HostRecord(
        hostname=host_name(n), hypervisor_hostname=node_name(n), enabled=True,
        forced_down=n == 0, disabled_reason=None, changed_at=at, az=ZONES[n % len(ZONES)],
        resources={rc: Resource(total=v["total"], reserved=v["reserved"],
                                allocation_ratio=v["allocation_ratio"],
                                used=held.get(host_name(n), {}).get(rc, 0))
                   for rc, v in inventories(n).items()}) for n in range(hosts)]
    with cm.runtime.transaction() as session:
        db_api.write_hosts(session, host_rows)
    for start in range(0, len(records), 5000):
        with cm.runtime.transaction() as session:
            db_api.write_instances(session, records[start:start + 5000])
    with cm.runtime.transaction() as session:
        db_api.add_sync(session, started_at=at, hosts=hosts, instances=len(records),
                        repairs=0, summary="written by bench.plan_from_inventory")


def failure_to_plan(cm: CloudManager, task_id: str) -> tuple[float, int, int]:
    """Seconds from the call to the plan, the plan's targets and placed instances."""
    started = time.perf_counter()
    inputs = read_evacuation_inputs(cm.runtime, task_id, Heartbeats(cm.runtime.conf), 5,
                                    time.time)
    plan = plan_host_evacuation(inputs.model, host_name(0), Strategy.AUTO)
    seconds = time.perf_counter() - started
    placed = sum(1 for action in plan.actions if action.target_host)
    return seconds, len(inputs.model.hosts), placed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--instances", type=int, default=30000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=20261201)
    args = parser.parse_args()
    sandbox = Sandbox.load()
    placement = sandbox.conn("admin").placement
    delete_providers(placement)
    records = instances(args.hosts, args.instances, args.seed)
    failed = [Server(id=r.id, name=r.name, status="ACTIVE", host=r.host, task_state=None,
                     metadata=dict(r.metadata), flavor_extra_specs={}, ram_mb=r.ram_mb,
                     vcpus=r.vcpus, disk_gb=r.disk_gb, az=None, node=r.node,
                     vm_state="active") for r in records if r.host == host_name(0)]
    with tempfile.TemporaryDirectory(prefix="aos-bench-plan-") as tmp:
        cm = CloudManager(sandbox, Path(tmp), nova_database={"url": ""})
        try:
            started = time.monotonic()
            create_providers(placement, args.hosts)
            print(f"{args.hosts} providers in Placement in {time.monotonic() - started:.0f}s",
                  flush=True)
            started = time.monotonic()
            fill_inventory(cm, args.hosts, records)
            print(f"inventory of {args.hosts} hosts / {len(records)} instances written in "
                  f"{time.monotonic() - started:.0f}s", flush=True)
            cm.runtime.__dict__["nova"] = SyntheticNova(openstack.connect(cm.runtime.conf),
                                                        args.hosts, failed)
            with cm.runtime.transaction() as session:
                db_api.ensure_nodes(session, [host_name(n) for n in range(args.hosts)])
                task_id = db_api.create_task(session, hostname=host_name(0),
                                             kind=TaskKind.AUTOMATIC, strategy="auto",
                                             reason="bench", lease=timedelta(hours=1)).id
            figures: dict[str, list[tuple[float, int, int]]] = {"live": [], "inventory": []}
            conf = cm.runtime.conf
            for _ in range(args.runs):
                for side in ("live", "inventory"):
                    conf.set_override("enabled", side == "inventory", "node_sync")
                    figures[side].append(failure_to_plan(cm, task_id))
            conf.clear_override("enabled", "node_sync")
        finally:
            cm.drop()
            delete_providers(placement)
    print(f"failure -> plan ready, {args.hosts} hosts, {args.instances} instances "
          f"({len(failed)} on the failed host), medians of {args.runs} alternating runs:")
    medians = {}
    for side, runs in figures.items():
        medians[side] = statistics.median(s for s, _, _ in runs)
        seconds = ", ".join(f"{s:.3f}" for s, _, _ in runs)
        print(f"  {side:9} {medians[side]:.3f}s  (runs {seconds}; targets {runs[0][1]}, "
              f"placed {runs[0][2]})")
    print(f"  ratio live / inventory: {medians['live'] / medians['inventory']:.1f}x; "
          f"target inventory < 1 s: {'met' if medians['inventory'] < 1 else 'NOT met'}")


if __name__ == "__main__":
    main()
