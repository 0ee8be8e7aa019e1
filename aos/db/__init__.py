"""Database access: one engine per module, SQLite fallback when no URL is configured."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import sqlalchemy.dialects.mysql
from oslo_config import cfg
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, Engine
from sqlalchemy.orm import Session, sessionmaker

from aos.conf import state_path
from aos.modules import Module


class DatabaseError(Exception):
    """A database problem, phrased as one line an operator can act on."""


def database_url(conf: cfg.ConfigOpts, module: Module) -> str:
    url = conf.database.url
    if url:
        return url
    path = state_path(conf) / f"{module.name}.sqlite"
    return f"sqlite:///{path}"


def safe_url(url: str | URL) -> str:
    """The URL with its password masked, for messages and logs."""
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa_exc.ArgumentError:
        return "<unparsable URL>"


def create_engine(url: str, timeout: float | None = None) -> Engine:
    """An engine on ``url``; ``timeout``: seconds any connect, read or write of a MySQL or
    PostgreSQL session may take (statement time on PostgreSQL) before it fails."""
    try:
        parsed = sa.make_url(url)
    except sa_exc.ArgumentError as exc:
        raise DatabaseError(f"invalid [database] url {url.split('@')[-1]!r}: {exc}") from exc
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        return _sqlite_engine(parsed)
    if parsed.get_backend_name() in ("mysql", "mariadb"):
        # utf8 is MySQL's 3-byte utf8mb3: a 4-byte character (an emoji in a name, a reason or
        # a lookup) fails with errors 1267/1366 instead of being stored or not found.
        parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    try:
        return sa.create_engine(parsed, pool_pre_ping=True, pool_recycle=3600,
                                connect_args=_timeouts(parsed.get_backend_name(), timeout))
    except (sa_exc.ArgumentError, sa_exc.NoSuchModuleError, ImportError) as exc:
        raise DatabaseError(f"unsupported [database] url {safe_url(parsed)}: {exc}") from exc


def _timeouts(backend: str, timeout: float | None) -> dict[str, Any]:
    if timeout is None:
        return {}
    if backend in ("mysql", "mariadb"):  # PyMySQL: socket timeouts
        return {"connect_timeout": max(1, round(timeout)), "read_timeout": timeout,
                "write_timeout": timeout}
    if backend == "postgresql":
        return {"connect_timeout": max(1, round(timeout)),
                "options": f"-c statement_timeout={round(timeout * 1000)}"}
    return {}


def _sqlite_engine(url: URL) -> Engine:
    """SQLite with foreign keys on and a busy timeout, so several AOS services can share it."""
    engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # noqa: ANN001 - SQLAlchemy event signature
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    return engine


def check_connection(engine: Engine) -> None:
    try:
        with engine.connect():
            pass
    except sa_exc.DBAPIError as exc:
        reason = str(exc.orig).strip() if exc.orig is not None else str(exc)
        raise DatabaseError(
            f"cannot connect to database {safe_url(engine.url)}: {reason}"
        ) from exc


def ensure_utf8mb4(engine: Engine) -> None:
    """On MySQL/MariaDB make the database's default and every table in it utf8mb4.

    Databases created with ``CREATE DATABASE x`` on a server whose default is latin1 or
    utf8mb3 would otherwise refuse 4-byte characters. Idempotent: only tables that are not
    utf8mb4 yet are converted. A no-op on other backends.
    """
    if engine.dialect.name not in ("mysql", "mariadb"):
        return
    with engine.begin() as conn:
        database = conn.execute(sa.text("SELECT DATABASE()")).scalar()
        charset = conn.execute(sa.text(
            "SELECT DEFAULT_CHARACTER_SET_NAME FROM information_schema.SCHEMATA "
            "WHERE SCHEMA_NAME = :db"), {"db": database}).scalar()
        if charset != "utf8mb4":
            conn.execute(sa.text(f"ALTER DATABASE `{database}` CHARACTER SET utf8mb4"))
        tables = conn.execute(sa.text(
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = :db "
            "AND TABLE_TYPE = 'BASE TABLE' AND TABLE_COLLATION NOT LIKE 'utf8mb4%'"),
            {"db": database}).scalars().all()
        for table in tables:
            conn.execute(sa.text(f"ALTER TABLE `{table}` CONVERT TO CHARACTER SET utf8mb4"))


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    with factory() as session, session.begin():
        yield session


#: A UTC timestamp with microseconds on every backend (MySQL's DATETIME keeps none by default).
Timestamp = sa.DateTime().with_variant(sa.dialects.mysql.DATETIME(fsp=6), "mysql", "mariadb")
