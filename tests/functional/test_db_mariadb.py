"""``openstack aos db`` and every migration on MariaDB (the sandbox's server)."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

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
                f"[database]\nurl = {server}/{name}?charset=utf8\n")
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
        result = openstack("aos", "db", "migrate", "-n", module, "--migration", str(step))
        assert result.code == 0, result.err
        assert current(module) == step
    assert tables() == {f"alembic_version_{module}"}
    assert openstack("aos", "db", "migrate", "-n", module).code == 0
    assert tables() == full


def test_unknown_migration_changes_nothing_on_mariadb(mariadb):
    assert openstack("aos", "db", "migrate", "-n", "cloud_manager", "--migration", "2").code == 0
    result = openstack("aos", "db", "migrate", "-n", "cloud_manager", "--migration", "9")
    assert result.code != 0
    assert result.err.strip().startswith("unknown migration 9 for module cloud_manager")
    assert current("cloud_manager") == 2



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
