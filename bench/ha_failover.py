"""Failover benchmark on the sandbox: one hypervisor with 20 servers dies.

Run from the repository root, with the sandbox up with 4 computes:
    tools/sandbox up --computes 4 && .venv/bin/python -m bench.ha_failover [--runs 5]

For each run it boots 20 servers on the victim host, kills its nova-compute (a power loss) and
measures, from the kill: detect_s (CloudManager declares it down), fence_s (powered off through
its BMC -- IPMI, or Redfish with ``--power redfish`` -- and forced down in Nova),
first_active_s and last_active_s (servers ACTIVE on other hosts, read from Nova's database so
that watching does not load Nova's API). The baseline is Nova alone: wait for the service to
be reported down (service_down_time), then evacuate the servers one call after another as
``nova host-evacuate`` does. Each run also prints the CPU seconds every service used (a 2-core
sandbox is CPU-bound while Nova rebuilds).
Medians of all runs, and the baseline/CloudManager ratio.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from bench import cpu
from tools.aos_sandbox.aos_services import CloudManager, restore_host, wait_for
from tools.aos_sandbox.client import Sandbox, sandbox_cmd

SERVERS = 20
# service_timeout: the sandbox's nova-compute reports every 2 s. Tasks go through the
# sandbox's RabbitMQ, as in a production install.
SETTINGS = {"node_tracker": {"loop_time": 2, "mutex": 2, "max_down_hosts": 1,
                             "service_timeout": 4}}


NETWORK = "private"
POWER = "ipmi"


def boot(sandbox: Sandbox, host: str, count: int) -> list[str]:
    conn = sandbox.conn("admin")
    networks = ("none" if NETWORK == "none"
                else [{"uuid": conn.network.find_network(NETWORK).id}])
    flavor = conn.compute.find_flavor("m1.tiny")
    image = conn.image.find_image("cirros")
    created = [conn.compute.create_server(
        name=f"bench-{host}-{i}", flavor_id=flavor.id, image_id=image.id,
        networks=networks, availability_zone=f"nova:{host}") for i in range(count)]
    for server in created:
        conn.compute.wait_for_server(server, wait=300)
    return [s.id for s in created]


def watch_active(sandbox: Sandbox, ids: list[str], victim: str, start: float,
                 timeout: float = 180) -> list[float]:
    """Seconds from ``start`` at which each server was ACTIVE on another host.

    Read from Nova's database: polling Nova's API would load the very services being measured
    (every server listing also costs nova-api a Neutron query).
    """
    mysql = sandbox.info["mysql"]
    engine = sa.create_engine(f"mysql+pymysql://{mysql['user']}:{mysql['password']}@"
                              f"{mysql['host']}:{mysql['port']}/nova")
    query = sa.text("SELECT uuid FROM instances WHERE uuid IN :ids AND deleted = 0 "
                    "AND vm_state = 'active' AND task_state IS NULL AND host <> :victim"
                    ).bindparams(sa.bindparam("ids", expanding=True))
    done: dict[str, float] = {}
    deadline = time.monotonic() + timeout
    try:
        with engine.connect() as conn:
            while len(done) < len(ids) and time.monotonic() < deadline:
                for (server_id,) in conn.execute(query, {"ids": ids, "victim": victim}):
                    done.setdefault(server_id, time.monotonic() - start)
                conn.rollback()
                time.sleep(0.2)
    finally:
        engine.dispose()
    if len(done) < len(ids):
        raise TimeoutError(f"only {len(done)} of {len(ids)} servers became ACTIVE")
    return sorted(done.values())


def delete(sandbox: Sandbox, ids: list[str]) -> None:
    conn = sandbox.conn("admin")
    for server_id in ids:
        conn.compute.delete_server(server_id, force=True, ignore_missing=True)
    for server_id in ids:
        server = conn.compute.find_server(server_id)
        if server is not None:
            conn.compute.wait_for_delete(server, wait=120)


def run_cloud_manager(sandbox: Sandbox, victim: str, workdir: Path) -> dict[str, float]:
    cm = CloudManager(sandbox, workdir, DEFAULT={"transport_url": sandbox.info["transport_url"]},
                      **SETTINGS)
    ids = boot(sandbox, victim, SERVERS)
    try:
        cm.add_bmc(victim, POWER)
        cm.start("beat")
        cm.start("worker")
        wait_for("nodes discovered", lambda: victim in cm.node_states(), 60)
        time.sleep(2 * SETTINGS["node_tracker"]["loop_time"])
        wall = time.time()
        start = time.monotonic()
        before = cpu.snapshot()
        sandbox.kill_host(victim)
        active = watch_active(sandbox, ids, victim, start)
        print("  cloud_manager", cpu.format_usage(cpu.used_since(before)), flush=True)
        events = {e.to_state: e.created_at for e in cm.events(victim, "transition")}
        return {"detect_s": _since(events["down"], wall), "fence_s": _since(events["fenced"], wall),
                "evacuating_s": _since(events["evacuating"], wall),
                "first_active_s": active[0], "last_active_s": active[-1]}
    finally:
        cm.drop()
        delete(sandbox, ids)
        restore_host(sandbox, victim)


def _rounded(figures: dict[str, float]) -> dict[str, float]:
    return {name: round(value, 1) for name, value in figures.items()}


def _since(moment: datetime, wall_start: float) -> float:
    return moment.replace(tzinfo=UTC).timestamp() - wall_start


def run_nova_alone(sandbox: Sandbox, victim: str) -> dict[str, float]:
    conn = sandbox.conn("admin")
    ids = boot(sandbox, victim, SERVERS)
    try:
        start = time.monotonic()
        sandbox.kill_host(victim)
        sandbox.wait_compute_state(victim, "down", timeout=180)
        detect = time.monotonic() - start
        before = cpu.snapshot()

        def evacuate_one_after_another() -> None:
            for server_id in ids:  # CloudManager's microversion: the server comes back ACTIVE
                conn.compute.post(f"/servers/{server_id}/action", json={"evacuate": {}},
                                  microversion="2.29")

        # Watched while the requests go out: the first servers are ACTIVE before the last
        # request is sent (20 requests take nova-api several seconds).
        with ThreadPoolExecutor(max_workers=1) as pool:
            sent = pool.submit(evacuate_one_after_another)
            active = watch_active(sandbox, ids, victim, start)
            sent.result()
        print("  nova_alone (from the evacuations)", cpu.format_usage(cpu.used_since(before)),
              flush=True)
        return {"detect_s": detect, "fence_s": float("nan"),
                "first_active_s": active[0], "last_active_s": active[-1]}
    finally:
        delete(sandbox, ids)
        restore_host(sandbox, victim)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", help="also write the raw figures to this file")
    parser.add_argument("--network", default="private",
                        help="network of the servers ('none': no ports, so Neutron is out of "
                        "the evacuation path)")
    parser.add_argument("--power", choices=("ipmi", "redfish"), default="ipmi",
                        help="protocol of the victim's BMC that fences it")
    parser.add_argument("--skip-baseline", action="store_true",
                        help="measure CloudManager only (no ratio)")
    parser.add_argument("--max-parallel-evacuations", type=int, default=0,
                        help="[host_tasks] max_parallel_evacuations (0: a whole group at once)")
    parser.add_argument("--evacuation-request-threads", type=int, default=1,
                        help="[host_tasks] evacuation_request_threads (default 1: the sandbox "
                        "runs one nova-api worker, which serves one request at a time best)")
    args = parser.parse_args()
    # poll_interval: the product default, not the functional tests' faster 0.5 s -- each poll
    # is a request nova-api serves while it is busy with the evacuations.
    SETTINGS["host_tasks"] = {"max_parallel_evacuations": args.max_parallel_evacuations,
                              "evacuation_request_threads": args.evacuation_request_threads,
                              "poll_interval": 1.0}
    global NETWORK, POWER
    NETWORK, POWER = args.network, args.power
    sandbox_cmd("up", "--computes", "4")
    sandbox = Sandbox.load()
    hosts = sorted(sandbox.info["hosts"], key=lambda h: (len(h), h))
    if len(hosts) < 4:
        raise SystemExit("the benchmark needs 4 computes: tools/sandbox up --computes 4")
    victim = hosts[1]
    admin = sandbox.conn("admin")
    admin.set_compute_quotas(admin.current_project_id, instances=-1, cores=-1, ram=-1)
    results: dict[str, list[dict[str, float]]] = {"cloud_manager": [], "nova_alone": []}
    for run in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            results["cloud_manager"].append(run_cloud_manager(sandbox, victim, Path(tmp)))
        print(f"run {run + 1}: cloud_manager {_rounded(results['cloud_manager'][-1])}",
              flush=True)
        if args.skip_baseline:
            continue
        results["nova_alone"].append(run_nova_alone(sandbox, victim))
        print(f"run {run + 1}: nova_alone {_rounded(results['nova_alone'][-1])}", flush=True)
    metrics = ["detect_s", "fence_s", "first_active_s", "last_active_s"]
    medians = {name: {m: statistics.median(r[m] for r in runs) for m in metrics}
               for name, runs in results.items() if runs}
    print(f"\nmedian of {args.runs} runs, {SERVERS} servers on {victim} "
          f"(network {NETWORK}, fencing through {POWER}), "
          f"loop_time={SETTINGS['node_tracker']['loop_time']}, "
          f"mutex={SETTINGS['node_tracker']['mutex']}, "
          f"max_parallel_evacuations={args.max_parallel_evacuations}, "
          f"evacuation_request_threads={args.evacuation_request_threads}")
    print(f"{'':16}" + "".join(f"{m:>16}" for m in metrics))
    for name, values in medians.items():
        print(f"{name:16}" + "".join(f"{values[m]:>16.1f}" for m in metrics))
    ratio = None
    if "nova_alone" in medians:
        ratio = (medians["nova_alone"]["last_active_s"]
                 / medians["cloud_manager"]["last_active_s"])
        print(f"\nlast_active_s ratio nova_alone / cloud_manager: {ratio:.2f}x")
    if args.json:
        Path(args.json).write_text(json.dumps({"runs": results, "medians": medians,
                                               "ratio": ratio}, indent=2))


if __name__ == "__main__":
    main()
