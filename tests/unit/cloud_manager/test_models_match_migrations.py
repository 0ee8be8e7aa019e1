"""The ORM models and the migrations must describe the same schema."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from aos import db, modules
from aos.db.migrations import Migrator
from cloud_manager.db.models import Base


def test_models_match_migrated_schema(tmp_path):
    engine = db.create_engine(f"sqlite:///{tmp_path}/cm.sqlite")
    Migrator(modules.get("cloud_manager"), engine).migrate()
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    diff = [d for d in diff if not (d[0] == "remove_table" and
                                    d[1].name.startswith("alembic_version"))]
    assert diff == []
    assert sa.inspect(engine).has_table("task_items")
