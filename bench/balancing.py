"""Benchmark of the balancing planner against a step-wise baseline, 1,000 hosts / 30,000 VMs.

Run from the repository root:  .venv/bin/python -m bench.balancing

The baseline is what OpenStack Watcher's workload_balance strategy does one audit at a time:
take the most loaded host, move the instance whose RAM is closest to (not above) its excess
over the mean to the least loaded host that can take it, and repeat until no host is loaded.
Both obey the same rules (``cloud_manager.balancing.hosts.AggregateLoads``: capacity, server
groups, unmovable instances, hosts left out), so only the choice of moves differs.

Beside them, the floor: the fewest migrations any plan can make. Migrations inside the
aggregate leave its mean where it is, so every loaded host must itself shed its excess, one
instance per migration; the fewest that cover it are its largest movable ones. Ignoring where
they could go only lowers that count, so no plan that obeys the rules goes below it.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from cloud_manager.balancing import plan_balancing
from cloud_manager.balancing.hosts import AggregateLoads
from cloud_manager.model.cloud import Aggregate, CloudModel, Instance, ServerGroup, TargetHost

FLAVORS = (  # (ram_mb, vcpus, disk_gb), weighted toward small flavors as in real clouds
    ((1024, 1, 10), 15), ((2048, 1, 20), 30), ((4096, 2, 40), 30), ((8192, 4, 80), 15),
    ((16384, 8, 160), 8), ((32768, 16, 320), 2),
)
HOST_RAM_GB = (256, 384, 512)
SHAPES = ("hot-spots", "new-empty-hosts", "gradient", "random")
AGGREGATE = "bench"
NO_CAP = 10**9


def host_weights(shape: str, count: int, rng: random.Random) -> list[float]:
    """How much of the load each host attracts: the shape of the imbalance."""
    if shape == "hot-spots":  # a tenth of the hosts twice as busy as the rest
        return [2.0 if rng.random() < 0.1 else 1.0 for _ in range(count)]
    if shape == "new-empty-hosts":  # a tenth of the hosts just added, empty
        return [0.0 if rng.random() < 0.1 else 1.0 for _ in range(count)]
    if shape == "gradient":  # loads spread evenly from light to heavy
        return [0.5 + n / count for n in range(count)]
    return [rng.uniform(0.6, 1.4) for _ in range(count)]


def build_model(shape: str, hosts: int, instances: int, seed: int) -> CloudModel:
    rng = random.Random(f"{seed}-{shape}")
    names = [f"compute{n:04d}" for n in range(hosts)]
    sizes = [rng.choice(HOST_RAM_GB) * 1024 for _ in names]
    weights = [w * size for w, size in zip(host_weights(shape, hosts, rng), sizes, strict=True)]
    flavors, flavor_weights = zip(*FLAVORS, strict=True)
    placed: dict[str, list[Instance]] = {name: [] for name in names}
    used = dict.fromkeys(names, 0)
    for n in range(instances):
        ram, vcpus, disk = rng.choices(flavors, flavor_weights)[0]
        name = rng.choices(names, weights)[0]
        size = sizes[names.index(name)]
        if used[name] + ram > 0.95 * size:  # full: the next host that has room
            name = next(h for h in names if used[h] + ram <= 0.95 * sizes[names.index(h)])
        status = "" if rng.random() < 0.97 else "status SHUTOFF: only ACTIVE instances move"
        placed[name].append(Instance(f"vm{n:05d}", f"vm{n}", name, 0, ram, vcpus, disk,
                                     not_movable=status))
        used[name] += ram
    target_hosts = []
    for name, size in zip(names, sizes, strict=True):
        mine = placed[name]
        target_hosts.append(TargetHost(
            name=name, free_ram_mb=size - used[name],
            free_vcpus=int(96 * 4.0) - sum(i.vcpus for i in mine),  # 96 cores, ratio 4
            free_disk_gb=8000 - sum(i.disk_gb for i in mine), ram_mb=size,
            used_ram_mb=used[name], enabled=rng.random() < 0.99))
    all_instances = [i for name in names for i in placed[name]]
    groups = []
    for g in range(300):  # anti-affinity groups of 3, a few affinity pairs
        members = rng.sample(all_instances, 3 if g % 10 else 2)
        policy = "anti-affinity" if g % 10 else "affinity"
        groups.append(ServerGroup(f"g{g}", f"group{g}", policy, tuple(m.id for m in members)))
    return CloudModel(hosts=tuple(target_hosts), instances=tuple(all_instances),
                      aggregates=(Aggregate(AGGREGATE, tuple(names), {"balancing": "yes"}),),
                      server_groups=tuple(groups))


def step_wise(model: CloudModel, approx: float) -> tuple[int, int, AggregateLoads]:
    """The baseline: one instance at a time off the most loaded host; (migrations, RAM moved,
    final state)."""
    loads = AggregateLoads(model, AGGREGATE, approx)
    stuck: set[str] = set()
    migrations = ram_moved = 0
    while True:
        source = next((h for h in loads.most_loaded_first() if h not in stuck), None)
        if source is None or not loads.loaded(source):
            break
        excess = loads.excess_mb(source) + approx * loads.hosts[source].host.ram_mb
        candidates = sorted((i for i in loads.hosts[source].instances
                             if not loads.why_pinned(i) and i.ram_mb <= excess),
                            key=lambda i: (-i.ram_mb, i.id))
        for instance in candidates:
            target = loads.least_loaded_target(instance)
            if target is not None:
                loads.move(instance, target)
                migrations, ram_moved = migrations + 1, ram_moved + instance.ram_mb
                break
        else:
            stuck.add(source)
    return migrations, ram_moved, loads


def fewest_migrations(model: CloudModel, approx: float) -> int:
    """The floor: per loaded host, how many of its largest movable instances cover its excess."""
    loads = AggregateLoads(model, AGGREGATE, approx)
    total = 0
    for source in loads.loaded_hosts():
        need = loads.excess_mb(source)
        movable = sorted((i.ram_mb for i in loads.hosts[source].instances
                          if not loads.why_pinned(i)), reverse=True)
        for ram in movable:
            if need <= 0:
                break
            need -= ram
            total += 1
    return total


def stdev(loads: AggregateLoads) -> float:
    return statistics.pstdev(loads.load(name) for name in loads.hosts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=20261201)
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--instances", type=int, default=30_000)
    parser.add_argument("--approx", type=float, default=0.1)
    args = parser.parse_args()
    print(f"{args.hosts} hosts, {args.instances} instances, approx {args.approx}, "
          f"seed {args.seed}")
    print("| shape | who | time_s | migrations | floor | RAM moved GiB | loaded before/after | "
          "std-dev before | std-dev after | migrations ratio | RAM moved ratio |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for shape in SHAPES:
        model = build_model(shape, args.hosts, args.instances, args.seed)
        before = AggregateLoads(model, AGGREGATE, args.approx)
        loaded_before = len(before.loaded_hosts())
        started = time.perf_counter()
        plan = plan_balancing(model, AGGREGATE, args.approx, NO_CAP)
        planner_s = time.perf_counter() - started
        after = AggregateLoads(model, AGGREGATE, args.approx)
        for action in plan.actions:
            after.move(action.instance, action.target_host)
        started = time.perf_counter()
        base_migrations, base_ram, base = step_wise(model, args.approx)
        base_s = time.perf_counter() - started
        floor = fewest_migrations(model, args.approx)
        ours = len(plan.actions)
        ram = sum(a.instance.ram_mb for a in plan.actions)
        ratios = (f"**{_ratio(ours, base_migrations)}**", f"**{_ratio(ram, base_ram)}**")
        for who, seconds, count, moved, final, cells in (
                ("planner", planner_s, ours, ram, after, ratios),
                ("step-wise", base_s, base_migrations, base_ram, base, ("", ""))):
            print(f"| {shape} | {who} | {seconds:.3f} | {count} | {floor} | {moved / 1024:.0f} | "
                  f"{loaded_before}/{len(final.loaded_hosts())} | {stdev(before):.4f} | "
                  f"{stdev(final):.4f} | {cells[0]} | {cells[1]} |")


def _ratio(ours: float, baseline: float) -> str:
    """The planner's figure over the baseline's, from the same inputs in the same run."""
    return f"{ours / baseline:.2f}x" if baseline else "n/a"


if __name__ == "__main__":
    main()
