"""A balancing task through the one durable executor, on a migrated database, with an
in-memory Nova adapter that also keeps aggregates and live migrations."""

from __future__ import annotations

from dataclasses import replace

from cloud_manager import balancer
from cloud_manager.db import api as db_api
from cloud_manager.execution.executor import TaskExecutor
from cloud_manager.nova import HostAggregate, LiveMigration, NovaError
from tests.unit.cloud_manager.conftest import HOSTS
from tests.unit.cloud_manager.fake_nova import FakeNova, now


class BalancingNova(FakeNova):
    """FakeNova with host aggregates, server groups and live migrations that finish at once;
    ``on_live_migrate`` runs before each (a test's way to change the cloud mid-run)."""

    def __init__(self, hosts: list[str]) -> None:
        super().__init__(hosts)
        self.aggregate_list = [HostAggregate(1, "rack", tuple(hosts), {"balancing": "yes"})]
        self.live_calls: list[tuple[str, str]] = []
        self.on_live_migrate = None

    def aggregates(self):
        return list(self.aggregate_list)

    def set_aggregate_metadata(self, aggregate_id, metadata):
        for n, agg in enumerate(self.aggregate_list):
            if agg.id == aggregate_id:
                merged = {k: v for k, v in {**agg.metadata, **metadata}.items() if v is not None}
                self.aggregate_list[n] = replace(agg, metadata=merged)

    def server_groups(self):
        return []

    def newest_live_migration_id(self):
        return len(self.migrations)

    def live_migrate(self, server_id, target_host):
        if self.on_live_migrate:
            self.on_live_migrate()
        self.live_calls.append((server_id, target_host))
        if self.servers[server_id].status != "ACTIVE":
            raise NovaError("HTTP 409: not ACTIVE")
        self.migrations.append({"id": len(self.migrations) + 1, "instance_uuid": server_id,
                                "source_compute": self.servers[server_id].host,
                                "dest_compute": target_host, "status": "completed",
                                "created_at": now().isoformat()})
        self.servers[server_id] = replace(self.servers[server_id], host=target_host)

    def live_migrations_since(self, since):
        return {m["instance_uuid"]: LiveMigration(m["id"], m["instance_uuid"], m["status"],
                                                  m["dest_compute"])
                for m in self.migrations if m["status"] == "completed"}

    def capacities(self):
        free = super().capacities()
        return {h: replace(c, totals={"MEMORY_MB": self.ram_mb},
                           used={"MEMORY_MB": self.ram_mb - c.free_ram_mb})
                for h, c in free.items()}


def _runtime(make_runtime):
    runtime = make_runtime()
    nova = BalancingNova(HOSTS)
    runtime.__dict__["nova"] = nova
    with runtime.transaction() as session:
        db_api.ensure_nodes(session, HOSTS)
    for n in range(6):  # c1 holds 6 GiB of 8, the others nothing
        nova.add_server(f"vm{n}", "c1", ram_mb=1024)
    return runtime, nova


def _loads(nova) -> dict[str, int]:
    return {h: sum(s.ram_mb for s in nova.servers.values() if s.host == h) for h in HOSTS}


def test_a_run_live_migrates_until_no_host_is_loaded(make_runtime):
    runtime, nova = _runtime(make_runtime)
    preview = balancer.preview(runtime, "rack")
    task = balancer.request_run(runtime, "rack", "user 1", dispatch=lambda _id: None)
    assert TaskExecutor(runtime, "w1").run(task["id"]) == "done"
    assert len(nova.live_calls) == len(preview["migrations"]) > 0
    assert [(s, t) for s, t in nova.live_calls] == [
        (m["instance_id"], m["target"]) for m in preview["migrations"]]
    assert nova.evacuate_calls == []
    mean = 6144 / (4 * 8192)
    assert all(used / 8192 <= mean + 0.1 for used in _loads(nova).values())
    with runtime.transaction() as session:
        row = db_api.task(session, task["id"])
        assert row.hostname == "aggregate:rack" and row.kind == "balancing"
        assert {i.state for i in row.items} == {"done"}
        # The nodes were never touched: no fencing, no node state change.
        assert {n.state for n in db_api.nodes(session)} == {"up"}


def test_a_host_in_an_ha_incident_stops_the_run_before_its_next_migration(make_runtime):
    runtime, nova = _runtime(make_runtime)
    task = balancer.request_run(runtime, "rack", "user 1", dispatch=lambda _id: None)

    def node_fails():
        with runtime.transaction() as session:
            for hostname in HOSTS[1:]:
                db_api.node(session, hostname).state = "suspect"
        nova.on_live_migrate = None

    nova.on_live_migrate = node_fails
    assert TaskExecutor(runtime, "w1").run(task["id"]) == "aborted"
    assert len(nova.live_calls) == 1  # the one already asked for; none after
    with runtime.transaction() as session:
        row = db_api.task(session, task["id"])
        assert "HA: node is suspect" in row.message
        states = sorted(i.state for i in row.items)
        assert states[0] == "done" and set(states[1:]) == {"pending"}


def test_an_unflagged_or_unknown_aggregate_is_refused(make_runtime):
    runtime, nova = _runtime(make_runtime)
    balancer.set_flag(runtime, "rack", False, "user 1")
    for name, error in (("rack", db_api.Conflict), ("nope", db_api.NotFound)):
        try:
            balancer.request_run(runtime, name, "user 1", dispatch=lambda _id: None)
        except error as exc:
            assert name in str(exc)
        else:
            raise AssertionError(f"{name}: no {error.__name__}")
    with runtime.transaction() as session:
        assert db_api.tasks(session) == []
    assert balancer.preview(runtime, "rack")["migrations"] == []
