"""Every migration of every module on PostgreSQL (a private server started for the test)."""

from __future__ import annotations

import glob
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa

from aos import db, modules
from aos.db.migrations import Migrator

pytestmark = pytest.mark.functional
BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_url():
    if not BIN:
        pytest.skip("PostgreSQL server not installed (apt-get install postgresql)")
    bindir = Path(BIN[-1])
    data = Path(tempfile.mkdtemp(prefix="aos-pg-"))
    shutil.chown(data, "postgres")
    port = _free_port()

    def as_postgres(*args: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *args], check=True,
                       capture_output=True, text=True)

    as_postgres(str(bindir / "initdb"), "-D", str(data / "db"), "-A", "trust", "-U", "aos")
    as_postgres(str(bindir / "pg_ctl"), "-D", str(data / "db"), "-w", "-l", str(data / "log"),
                "-o", f"-p {port} -k {data} -c listen_addresses=127.0.0.1", "start")
    try:
        yield f"postgresql+psycopg2://aos@127.0.0.1:{port}"
    finally:
        as_postgres(str(bindir / "pg_ctl"), "-D", str(data / "db"), "-m", "immediate", "stop")
        shutil.rmtree(data, ignore_errors=True)


@pytest.mark.parametrize("name", ["cloud_manager", "clouds"])
def test_head_to_zero_to_head_on_postgresql(postgres_url, name):
    admin = sa.create_engine(f"{postgres_url}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    admin.dispose()
    engine = db.create_engine(f"{postgres_url}/{name}")
    migrator = Migrator(modules.get(name), engine)
    assert migrator.migrate() == (0, migrator.head())
    tables = set(sa.inspect(engine).get_table_names())
    assert migrator.migrate(0) == (migrator.head(), 0)
    assert set(sa.inspect(engine).get_table_names()) == {f"alembic_version_{name}"}
    assert migrator.migrate() == (0, migrator.head())
    assert set(sa.inspect(engine).get_table_names()) == tables
    engine.dispose()


def test_leases_on_the_servers_clock_and_one_active_task_per_node(postgres_url):
    from sqlalchemy.orm import sessionmaker

    from tests.functional.lease_checks import check_leases_and_one_active_task

    admin = sa.create_engine(f"{postgres_url}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text("CREATE DATABASE leases"))
    admin.dispose()
    engine = db.create_engine(f"{postgres_url}/leases")
    Migrator(modules.get("cloud_manager"), engine).migrate()
    try:
        check_leases_and_one_active_task(sessions := sessionmaker(engine),
                                         "SELECT statement_timestamp() AT TIME ZONE 'UTC'")
    finally:
        sessions.kw["bind"].dispose()
