"""The ORM models and the migrations must describe the same schema, both ways."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from aos import db, modules
from aos.db.migrations import Migrator
from clouds.db.models import Base


def _diff(engine):
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    return [d for d in diff if not (d[0] == "remove_table"
                                    and d[1].name.startswith("alembic_version"))]


def test_models_match_migrated_schema(tmp_path):
    engine = db.create_engine(f"sqlite:///{tmp_path}/clouds.sqlite")
    migrator = Migrator(modules.get("clouds"), engine)
    migrator.migrate()
    assert _diff(engine) == []
    migrator.migrate(2)
    assert _diff(engine) != []  # 3 added what the models need
    migrator.migrate()
    assert _diff(engine) == []
