"""Benchmark of `plan_evacuation` on a large failure, against a naive first-fit baseline.

Run from the repository root:  .venv/bin/python -m bench.evacuation_planning

The planner must handle 100 failed hosts carrying 30,000 instances onto 1,000 targets in well
under a second, so that planning never delays the evacuation it prepares.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable, Sequence

from cloud_manager.ha.evacuation_plan import (
    EvacuationPlan,
    Instance,
    Strategy,
    TargetHost,
    plan_evacuation,
)

AZS = ("az1", "az2", "az3")
FLAVORS = (  # (ram_mb, vcpus, disk_gb) with a bias toward small flavors, as in real clouds
    ((512, 1, 10), 10),
    ((2048, 1, 20), 30),
    ((4096, 2, 40), 30),
    ((8192, 4, 80), 18),
    ((16384, 8, 160), 9),
    ((32768, 16, 320), 3),
)
RESERVE_SHARE = 0.1
Inventory = tuple[list[Instance], list[TargetHost], set[str]]


def build_inventory(
    instance_count: int, failed_count: int, target_count: int, seed: int
) -> Inventory:
    rng = random.Random(seed)
    failed_hosts = [f"failed{n:04d}" for n in range(failed_count)]
    flavors = [flavor for flavor, _ in FLAVORS]
    weights = [weight for _, weight in FLAVORS]
    instances = []
    for n in range(instance_count):
        ram, vcpus, disk = rng.choices(flavors, weights)[0]
        instances.append(
            Instance(
                id=f"{n:08d}-0000-4000-8000-000000000000",
                name=f"vm{n}",
                host=rng.choice(failed_hosts),
                priority=rng.randint(0, 10),
                ram_mb=ram,
                vcpus=vcpus,
                disk_gb=disk,
                az=rng.choice(AZS) if rng.random() < 0.7 else None,
            )
        )
    targets = [
        TargetHost(
            name=f"compute{n:04d}",
            free_ram_mb=rng.randrange(64, 320) * 1024,
            free_vcpus=rng.randrange(32, 384),  # vCPU is overcommitted, RAM is not
            free_disk_gb=rng.randrange(500, 4000),
            reserve=rng.random() < RESERVE_SHARE,
            enabled=rng.random() < 0.97,
            up=rng.random() < 0.99,
            az=AZS[n % len(AZS)],
        )
        for n in range(target_count)
    ]
    return instances, targets, set(failed_hosts)


def naive_first_fit(
    instances: Sequence[Instance], hosts: Sequence[TargetHost], failed_hosts: set[str]
) -> int:
    """O(n*m) baseline: scan every host for every instance; returns how many were placed."""
    free = {h.name: [h.free_ram_mb, h.free_vcpus, h.free_disk_gb] for h in hosts}
    order = sorted(
        (i for i in instances if i.priority > 0 and i.host in failed_hosts),
        key=lambda i: (-i.priority, -i.ram_mb, -i.vcpus, i.id),
    )
    placed = 0
    for instance in order:
        for host in hosts:
            if (
                host.name in failed_hosts
                or host.reserve
                or not (host.enabled and host.up)
                or (instance.az is not None and host.az != instance.az)
            ):
                continue
            room = free[host.name]
            if (
                room[0] >= instance.ram_mb
                and room[1] >= instance.vcpus
                and room[2] >= instance.disk_gb
            ):
                room[0] -= instance.ram_mb
                room[1] -= instance.vcpus
                room[2] -= instance.disk_gb
                placed += 1
                break
    return placed


def time_runs(run: Callable[[], object], repeats: int) -> list[float]:
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        timings.append(time.perf_counter() - started)
    return timings


def placed_count(plan: EvacuationPlan) -> int:
    return sum(len(group.placements) for group in plan.groups)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=20261121)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--naive-full", action="store_true", help="also time the naive baseline at full size"
    )
    args = parser.parse_args()

    instances, hosts, failed = build_inventory(30_000, 100, 1_000, args.seed)
    print("Full size: 30,000 instances on 100 failed hosts -> 1,000 targets, 3 AZs")
    for strategy in (Strategy.AUTO, Strategy.AUTO_PRIORITY):
        plan = plan_evacuation(instances, hosts, strategy, failed)
        timings = time_runs(
            lambda s=strategy: plan_evacuation(instances, hosts, s, failed), args.repeats
        )
        print(
            f"  {strategy.value:<14} median {statistics.median(timings):.3f} s, "
            f"min {min(timings):.3f} s over {args.repeats} runs; "
            f"placed {placed_count(plan)}, unplaced {len(plan.unplaced)}, "
            f"skipped {len(plan.skipped)}, reserve hosts used {len(plan.reserve_hosts_used)}"
        )

    small_instances, small_hosts, small_failed = build_inventory(3_000, 10, 100, args.seed)
    planner = time_runs(
        lambda: plan_evacuation(small_instances, small_hosts, Strategy.AUTO, small_failed),
        args.repeats,
    )
    naive = time_runs(
        lambda: naive_first_fit(small_instances, small_hosts, small_failed), args.repeats
    )
    plan = plan_evacuation(small_instances, small_hosts, Strategy.AUTO, small_failed)
    print("Baseline: 3,000 instances -> 100 targets, strategy auto")
    print(f"  planner     median {statistics.median(planner):.4f} s, placed {placed_count(plan)}")
    print(
        f"  naive O(n*m) first-fit median {statistics.median(naive):.4f} s, "
        f"placed {naive_first_fit(small_instances, small_hosts, small_failed)}"
    )
    print(f"  ratio naive / planner: {statistics.median(naive) / statistics.median(planner):.1f}x")
    if args.naive_full:
        [seconds] = time_runs(lambda: naive_first_fit(instances, hosts, failed), 1)
        print(f"Naive first-fit at full size, strategy auto: {seconds:.2f} s (one run)")


if __name__ == "__main__":
    main()
