"""What a DRS task runs: a Watcher action plan read with the instances it names, as Nova has
them now, turned into the executor's plan by the pure ``cloud_manager.drs``."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from cloud_manager.drs.action_plan import ActionPlan, resources_of, to_plan
from cloud_manager.execution.balancing_inventory import why_not_movable
from cloud_manager.model.actions import Plan
from cloud_manager.model.cloud import Instance
from cloud_manager.runtime import Runtime

# Parallel server reads (an action plan names a few dozen instances at most).
READ_THREADS = 6


@dataclass(frozen=True)
class DrsPlan:
    action_plan: ActionPlan
    plan: Plan
    nova_migration_mark: int


def read_drs_plan(runtime: Runtime, uuid: str) -> DrsPlan:
    """The action plan ``uuid``, and what AOS makes of it against Nova's servers now."""
    action_plan = runtime.watcher.action_plan(uuid)
    nova = runtime.nova
    with ThreadPoolExecutor(max_workers=READ_THREADS) as pool:
        mark = pool.submit(nova.newest_live_migration_id)
        ids = resources_of(action_plan)
        servers = dict(zip(ids, pool.map(nova.server, ids), strict=True))
    instances = {sid: Instance(id=s.id, name=s.name, host=s.host or "", priority=0,
                               ram_mb=s.ram_mb, vcpus=s.vcpus, disk_gb=s.disk_gb, az=s.az,
                               not_movable=why_not_movable(s))
                 for sid, s in servers.items() if s is not None}
    return DrsPlan(action_plan, to_plan(action_plan, instances), mark.result())
