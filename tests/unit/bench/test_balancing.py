"""The balancing benchmark's floor, and the planner held to it on small seeded aggregates."""

from dataclasses import replace

import pytest

from bench.balancing import AGGREGATE, NO_CAP, SHAPES, build_model, fewest_migrations, step_wise
from cloud_manager.balancing import plan_balancing
from cloud_manager.model.cloud import Aggregate, CloudModel, Instance, TargetHost

GIB = 1024


def _host(name: str, used_gib: int) -> TargetHost:
    return TargetHost(name=name, free_ram_mb=(64 - used_gib) * GIB, free_vcpus=64,
                      free_disk_gb=1000, ram_mb=64 * GIB, used_ram_mb=used_gib * GIB)


def test_floor_counts_the_largest_movable_instances_that_cover_the_excess():
    # Mean 50/192 = 0.26; compute1 must shed 50 - 0.36 * 64 = 26.9 GiB: 12 + 8 + 8 (the
    # 16 GiB one cannot move, or 16 + 12 would do).
    sizes = (16, 12, 8, 8, 4, 2)
    instances = tuple(Instance(f"vm{n}", f"vm{n}", "compute1", 0, size * GIB, 1, 10,
                               not_movable="status SHUTOFF" if size == 16 else "")
                      for n, size in enumerate(sizes))
    names = ("compute1", "compute2", "compute3")
    model = CloudModel(
        hosts=(_host("compute1", sum(sizes)), _host("compute2", 0), _host("compute3", 0)),
        instances=instances, aggregates=(Aggregate(AGGREGATE, names, {"balancing": "yes"}),))
    assert fewest_migrations(model, 0.1) == 3
    everything_movable = replace(model, instances=(replace(instances[0], not_movable=""),
                                                   *instances[1:]))
    assert fewest_migrations(everything_movable, 0.1) == 2


@pytest.mark.parametrize("shape", SHAPES)
def test_planner_makes_the_fewest_migrations_possible(shape):
    for seed in range(5):
        model = build_model(shape, 40, 1200, seed)
        floor = fewest_migrations(model, 0.1)
        assert floor > 0
        assert len(plan_balancing(model, AGGREGATE, 0.1, NO_CAP).actions) == floor
        assert step_wise(model, 0.1)[0] >= floor
