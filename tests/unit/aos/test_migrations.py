import pytest
import sqlalchemy as sa

from aos import db, modules
from aos.db.migrations import MigrationError, Migrator


@pytest.mark.parametrize("name", ["cloud_manager", "clouds"])
def test_head_to_zero_to_head_on_sqlite(tmp_path, name):
    module = modules.get(name)
    engine = db.create_engine(f"sqlite:///{tmp_path}/{name}.sqlite")
    migrator = Migrator(module, engine)
    numbers = [m.number for m in migrator.migrations()]
    assert numbers == list(range(1, len(numbers) + 1))
    assert migrator.migrate() == (0, migrator.head())
    tables = set(sa.inspect(engine).get_table_names())
    for step in reversed(range(migrator.head())):
        assert migrator.migrate(step) == (step + 1, step)
    assert set(sa.inspect(engine).get_table_names()) == {f"alembic_version_{name}"}
    assert migrator.migrate() == (0, migrator.head())
    assert set(sa.inspect(engine).get_table_names()) == tables


def test_unknown_migration_changes_nothing(tmp_path):
    migrator = Migrator(modules.get("cloud_manager"),
                        db.create_engine(f"sqlite:///{tmp_path}/cm.sqlite"))
    migrator.migrate(1)
    with pytest.raises(MigrationError, match="unknown migration 99 for module cloud_manager"):
        migrator.migrate(99)
    assert migrator.current() == 1


def test_bad_url_is_one_clear_error():
    with pytest.raises(db.DatabaseError, match="invalid \\[database\\] url"):
        db.create_engine("not a url")
    with pytest.raises(db.DatabaseError, match="unsupported \\[database\\] url"):
        db.create_engine("nosuchdb://u:p@h/x")


def test_unreachable_database_hides_password():
    engine = db.create_engine("mysql+pymysql://aos:s3cret@127.0.0.1:1/cloud_manager")
    with pytest.raises(db.DatabaseError) as err:
        db.check_connection(engine)
    assert "s3cret" not in str(err.value)
    assert str(err.value).startswith("cannot connect to database mysql+pymysql://aos:***@")
