"""Alembic migrations with integer revisions (1, 2, 3 …), one history per module.

Operators roll back by number (``openstack aos db migrate -n MODULE --migration N``), so each
revision id is its position in the history and 0 means "no tables".
"""

from __future__ import annotations

from dataclasses import dataclass

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from aos.db import check_connection, ensure_utf8mb4
from aos.modules import Module


@dataclass(frozen=True)
class Migration:
    number: int
    description: str


class MigrationError(Exception):
    """A request for a migration that does not exist or cannot run."""


def version_table(module: Module) -> str:
    return f"alembic_version_{module.name}"


class Migrator:
    """Lists, inspects and applies one module's migrations on one database."""

    def __init__(self, module: Module, engine: Engine) -> None:
        self.module = module
        self.engine = engine
        self._config = Config()
        self._config.set_main_option("script_location", module.migrations)
        self._config.attributes["version_table"] = version_table(module)
        self._script = ScriptDirectory.from_config(self._config)

    def migrations(self) -> list[Migration]:
        found = [
            Migration(int(script.revision), (script.doc or "").strip())
            for script in self._script.walk_revisions()
        ]
        return sorted(found, key=lambda m: m.number)

    def head(self) -> int:
        return max((m.number for m in self.migrations()), default=0)

    def current(self) -> int:
        check_connection(self.engine)
        with self.engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"version_table": version_table(self.module)}
            )
            revision = context.get_current_revision()
        return int(revision) if revision else 0

    def migrate(self, target: int | None = None) -> tuple[int, int]:
        """Upgrade or downgrade to ``target`` (default: the newest); returns (before, after)."""
        head = self.head()
        if target is None:
            target = head
        if not 0 <= target <= head:
            raise MigrationError(
                f"unknown migration {target} for module {self.module.name} "
                f"(known: 0 to {head}; 0 removes every table)"
            )
        before = self.current()
        ensure_utf8mb4(self.engine)  # before new tables, so they inherit it; and old ones
        if target == before:
            return before, before
        with self.engine.begin() as conn:
            self._config.attributes["connection"] = conn
            if target > before:
                command.upgrade(self._config, str(target))
            else:
                command.downgrade(self._config, str(target) if target else "base")
        return before, self.current()
