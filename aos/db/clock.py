"""The database server's clock, as an SQL expression.

Leases are set and compared on this one clock: the workers' and controllers' clocks may
disagree, the database's is the same for all of them.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

from aos.db import Timestamp


class db_utcnow(FunctionElement):  # noqa: N801 - an SQL function, named like one
    """The database server's UTC time plus ``seconds`` (naive, like every stored timestamp)."""

    type = Timestamp
    inherit_cache = True

    def __init__(self, seconds: float = 0.0) -> None:
        super().__init__(sa.literal(float(seconds)))


@compiles(db_utcnow)
def _sqlite_utcnow(element, compiler, **kw) -> str:  # noqa: ANN001 - compiler hook
    # SQLite stores DateTime as "YYYY-MM-DD HH:MM:SS.ffffff"; %f gives milliseconds only.
    seconds = compiler.process(element.clauses, **kw)
    return (f"(strftime('%Y-%m-%d %H:%M:%f', 'now', ({seconds}) || ' seconds') || '000')")


@compiles(db_utcnow, "mysql")
@compiles(db_utcnow, "mariadb")
def _mysql_utcnow(element, compiler, **kw) -> str:  # noqa: ANN001 - compiler hook
    seconds = compiler.process(element.clauses, **kw)
    return f"DATE_ADD(UTC_TIMESTAMP(6), INTERVAL ROUND(({seconds}) * 1000000) MICROSECOND)"


@compiles(db_utcnow, "postgresql")
def _postgresql_utcnow(element, compiler, **kw) -> str:  # noqa: ANN001 - compiler hook
    seconds = compiler.process(element.clauses, **kw)
    return (f"((statement_timestamp() AT TIME ZONE 'UTC') "
            f"+ make_interval(secs => CAST(({seconds}) AS double precision)))")
