"""``openstack aos db`` and every migration on MariaDB (the sandbox's server)."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from aos import conf as aos_conf
from aos import modules
from aos.db.retry import is_deadlock, retry_on_deadlock
from cloud_manager import runtime as cm_runtime
from cloud_manager.db import api as db_api
from cloud_manager.execution.records import TaskRecords
from cloud_manager.model.task_state import TaskKind, TaskState
from cloud_manager.nodes import request_task
from tests.cli import current, migrations, openstack

pytestmark = pytest.mark.functional


@pytest.fixture
def mariadb(sandbox, aos_env):
    """A fresh database per module on the sandbox's MariaDB, configured for the CLI."""
    mysql = sandbox.info["mysql"]
    server = f"mysql+pymysql://{mysql['user']}:{mysql['password']}@{mysql['host']}:{mysql['port']}"
    names = {m: f"aos_{m}_{uuid.uuid4().hex[:8]}" for m in ("cloud_manager", "clouds")}
    engine = sa.create_engine(server)
    with engine.begin() as conn:
        for module, name in names.items():
            conn.execute(sa.text(f"CREATE DATABASE {name}"))
            (aos_env["etc"] / f"{module}.conf").write_text(
                f"[database]\nurl = {server}/{name}?charset=utf8mb4\n")
    yield engine, names
    with engine.begin() as conn:
        for name in names.values():
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name}"))
    engine.dispose()


@pytest.mark.parametrize("module", ["cloud_manager", "clouds"])
def test_head_to_zero_to_head_through_the_cli(mariadb, module):
    engine, names = mariadb

    def tables() -> set[str]:
        return set(sa.inspect(engine).get_table_names(schema=names[module]))

    head = len(migrations(module))
    assert openstack("aos", "db", "migrate", "-n", module).code == 0
    assert current(module) == head
    full = tables()
    for step in reversed(range(head)):
        result = openstack("aos", "db", "migrate", "-n", module, "--migration", str(step),
                           "--yes")
        assert result.code == 0, result.err
        assert current(module) == step
    assert tables() == {f"alembic_version_{module}"}
    assert openstack("aos", "db", "migrate", "-n", module).code == 0
    assert tables() == full


def test_unknown_migration_changes_nothing_on_mariadb(mariadb):
    assert openstack("aos", "db", "migrate", "-n", "cloud_manager", "--migration", "2").code == 0
    result = openstack("aos", "db", "migrate", "-n", "cloud_manager", "--migration", "99")
    assert result.code != 0
    assert result.err.strip().startswith("unknown migration 99 for module cloud_manager")
    assert current("cloud_manager") == 2


def test_utf8mb4_end_to_end_even_on_a_utf8mb3_database_and_a_utf8_url(sandbox, aos_env):
    """4-byte characters are stored and looked up (MySQL errors 1267/1366 before)."""
    from aos import db
    from aos.db.migrations import Migrator
    from aos.modules import get
    from cloud_manager.db import api as db_api

    mysql = sandbox.info["mysql"]
    server = f"mysql+pymysql://{mysql['user']}:{mysql['password']}@{mysql['host']}:{mysql['port']}"
    name = f"aos_utf8_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server)
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name} CHARACTER SET utf8mb3"))
    engine = db.create_engine(f"{server}/{name}?charset=utf8")
    try:
        Migrator(get("cloud_manager"), engine).migrate()
        with engine.connect() as conn:
            collations = conn.execute(sa.text(
                "SELECT TABLE_COLLATION FROM information_schema.TABLES WHERE TABLE_SCHEMA = "
                ":db"), {"db": name}).scalars().all()
            assert collations and all(c.startswith("utf8mb4") for c in collations), collations
        with db.transaction(db.session_factory(engine)) as session:
            with pytest.raises(db_api.NotFound):
                db_api.node(session, "\U0001f600")
            db_api.add_power_device(session, name="bmc-\U0001f600", driver="ipmi",
                                    address="\U0001f600.example", port=None,
                                    username="\U0001f600", secret=None, hostname=None,
                                    options=None)
        with db.transaction(db.session_factory(engine)) as session:
            assert db_api.power_device(session, "bmc-\U0001f600").username == "\U0001f600"
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name}"))
        admin.dispose()


def test_leases_on_the_servers_clock_and_one_active_task_per_node(mariadb):
    """The lease SQL (the server's UTC clock) and the active-task constraint on MariaDB."""
    from sqlalchemy.orm import sessionmaker

    from tests.functional.lease_checks import check_leases_and_one_active_task

    engine, names = mariadb
    assert openstack("aos", "db", "migrate", "-n", "cloud_manager").code == 0
    sessions = sessionmaker(sa.create_engine(engine.url.set(database=names["cloud_manager"])))
    try:
        check_leases_and_one_active_task(sessions, "SELECT UTC_TIMESTAMP(6)")
    finally:
        sessions.kw["bind"].dispose()


def test_a_real_deadlock_victim_is_run_again(mariadb):
    """Two transactions lock two rows in opposite orders: MariaDB rolls one back (1213) and
    ``retry_on_deadlock`` runs it again; both commit."""
    engine, names = mariadb
    table = f"{names['cloud_manager']}.deadlock_probe"
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE TABLE {table} (id INT PRIMARY KEY, n INT) ENGINE=InnoDB"))
        conn.execute(sa.text(f"INSERT INTO {table} VALUES (1, 0), (2, 0)"))
    both_hold_one = threading.Barrier(2, timeout=30)
    attempts = {"a": 0, "b": 0}
    failures: list[BaseException] = []

    @retry_on_deadlock
    def update(name: str, first: int, second: int) -> None:
        attempts[name] += 1
        with engine.begin() as conn:
            conn.execute(sa.text(f"UPDATE {table} SET n = n + 1 WHERE id = {first}"))
            if attempts[name] == 1:
                both_hold_one.wait()  # each holds its first row: the next lock closes the cycle
            conn.execute(sa.text(f"UPDATE {table} SET n = n + 1 WHERE id = {second}"))

    def run(name: str, first: int, second: int) -> None:
        try:
            update(name, first, second)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            failures.append(exc)

    threads = [threading.Thread(target=run, args=("a", 1, 2)),
               threading.Thread(target=run, args=("b", 2, 1))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    assert sorted(attempts.values()) == [1, 2]  # one victim, run twice
    with engine.connect() as conn:
        assert conn.execute(sa.text(f"SELECT n FROM {table} ORDER BY id")).scalars().all() \
            == [2, 2]


def test_a_request_racing_a_task_end_waits_for_it_instead_of_failing(mariadb):
    """A worker ends an evacuation while an operator asks for a new task on that node. Both
    take the node's row first, so the request waits for the end, then creates its task. (When
    the end locked the task before the node, the two met in opposite orders: the request was
    refused as if the old task were still active, or one of them was a deadlock victim.)"""
    engine, _ = mariadb
    assert openstack("aos", "db", "migrate", "-n", "cloud_manager").code == 0
    runtime = cm_runtime.build(aos_conf.load(modules.get("cloud_manager")))
    cm_engine = runtime.sessions.kw["bind"]
    with runtime.transaction() as session:
        db_api.ensure_nodes(session, ["c1"])
    first = request_task(runtime, "c1", TaskKind.MANUAL, force=True, dispatch=lambda _id: None)
    records = TaskRecords(runtime, first["id"], "w1", timedelta(seconds=60), time.time)
    assert records.claim() is not None
    records.progress("fencing", state=TaskState.FENCING)
    records.progress("evacuating", state=TaskState.EVACUATING)
    with runtime.transaction() as session:
        db_api.node(session, "c1").state = "evacuating"

    ending_holds_its_task = threading.Event()
    deadlocks: list[str] = []

    @sa.event.listens_for(cm_engine, "after_cursor_execute")
    def pause_the_end(conn, cursor, statement, parameters, context, executemany):
        if (threading.current_thread().name == "ending" and statement.startswith("UPDATE tasks")
                and not ending_holds_its_task.is_set()):
            ending_holds_its_task.set()
            time.sleep(1.5)  # the request comes now, in the middle of the end's transaction

    @sa.event.listens_for(cm_engine, "handle_error")
    def count_deadlocks(context):
        if is_deadlock(context.sqlalchemy_exception):
            deadlocks.append(str(context.original_exception))

    outcome: dict[str, object] = {}
    ending = threading.Thread(name="ending", target=lambda: outcome.update(
        ended=records.end(TaskState.DONE, "1 done", host="c1")))
    ending.start()
    assert ending_holds_its_task.wait(30)
    second = request_task(runtime, "c1", TaskKind.MANUAL, force=True, reason="again",
                          dispatch=lambda _id: None)
    ending.join(timeout=60)
    assert outcome == {"ended": TaskState.DONE}
    assert deadlocks == []
    with runtime.transaction() as session:
        assert db_api.task(session, first["id"]).state == "done"
        assert db_api.node(session, "c1").state == "evacuated"
        assert db_api.active_task(session, "c1").id == second["id"]
