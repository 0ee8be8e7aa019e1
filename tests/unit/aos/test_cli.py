"""``openstack aos configure|db`` through the real ``openstack`` command, on SQLite."""

import pytest

from tests.cli import current, migrations, openstack


def _one_line_error(result):
    assert result.code != 0
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert len(lines) == 1, result.err
    return lines[0]


def test_configure_is_idempotent_and_never_overwrites(aos_env):
    first = openstack("aos", "configure", "-n", "cloud_manager")
    assert first.code == 0, first.err
    conf = aos_env["etc"] / "cloud_manager.conf"
    assert "created from the sample" in first.out
    assert (aos_env["etc"] / "cloud_manager.conf.example").exists()
    assert (aos_env["log"] / "cloud-manager").is_dir()
    key = aos_env["state"] / "secret.key"
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    key_bytes = key.read_bytes()
    conf.write_text("[node_tracker]\nloop_time = 5\n")
    aos_conf_text = (aos_env["etc"] / "aos.conf").read_text()

    second = openstack("aos", "configure", "-n", "cloud_manager")
    assert second.code == 0, second.err
    assert conf.read_text() == "[node_tracker]\nloop_time = 5\n"
    assert (aos_env["etc"] / "aos.conf").read_text() == aos_conf_text
    assert key.read_bytes() == key_bytes
    assert "exists, kept" in second.out


def test_db_list_migrate_and_roll_back_by_number(aos_env):
    listed = migrations("cloud_manager")
    assert [m["Migration"] for m in listed] == [1, 2, 3, 4, 5, 6, 7, 8, 9]
    assert all(m["Description"] for m in listed)
    assert not any(m["Applied"] for m in listed)

    up = openstack("aos", "db", "migrate", "-n", "cloud_manager")
    assert up.code == 0, up.err
    assert "migrated from 0 to 9" in up.out
    assert current("cloud_manager") == 9
    again = openstack("aos", "db", "migrate", "-n", "cloud_manager")
    assert "already at migration 9" in again.out

    down = openstack("aos", "db", "migrate", "-n", "cloud_manager", "--migration", "1", "--yes")
    assert down.code == 0, down.err
    rows = migrations("cloud_manager")
    assert [(m["Applied"], m["Current"]) for m in rows] == [(True, True)] + [(False, False)] * 8
    assert openstack("aos", "db", "migrate", "-n", "cloud_manager", "--migration", "0",
                     "--yes").code == 0
    assert current("cloud_manager") == 0


@pytest.mark.parametrize(("target", "what"), [
    ("0", "delete every table"), ("2", "undo every migration after 2 and delete their data")])
def test_downgrade_without_a_terminal_needs_yes_and_changes_nothing(aos_env, target, what):
    assert openstack("aos", "db", "migrate", "-n", "cloud_manager").code == 0
    head = current("cloud_manager")
    line = _one_line_error(openstack("aos", "db", "migrate", "-n", "cloud_manager",
                                     "--migration", target))
    assert line == f"refusing to {what} without confirmation: pass --yes"
    assert head > 2 and current("cloud_manager") == head


def test_configured_file_that_will_hold_passwords_is_private(aos_env):
    assert openstack("aos", "configure", "-n", "cloud_manager").code == 0
    conf = aos_env["etc"] / "cloud_manager.conf"
    assert oct(conf.stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize("args", [
    ("aos", "db", "migrate", "-n", "nova"),
    ("aos", "db", "list", "-n", "nova"),
    ("aos", "configure", "-n", "nova"),
])
def test_unknown_module(aos_env, args):
    line = _one_line_error(openstack(*args))
    assert line == "unknown module 'nova' (known modules: cloud_manager, clouds)"
    assert not (aos_env["etc"] / "nova.conf").exists()


def test_unknown_migration_changes_nothing(aos_env):
    assert openstack("aos", "db", "migrate", "-n", "clouds", "--migration", "1").code == 0
    line = _one_line_error(openstack("aos", "db", "migrate", "-n", "clouds", "--migration", "9"))
    assert line.startswith("unknown migration 9 for module clouds")
    assert current("clouds") == 1


def test_bad_database_url(aos_env):
    (aos_env["etc"] / "clouds.conf").write_text("[database]\nurl = nonsense\n")
    line = _one_line_error(openstack("aos", "db", "migrate", "-n", "clouds"))
    assert line.startswith("invalid [database] url")


def test_unreachable_database_names_it_without_password(aos_env):
    (aos_env["etc"] / "clouds.conf").write_text(
        "[database]\nurl = mysql+pymysql://aos:hunter2@127.0.0.1:1/clouds\n"
    )
    line = _one_line_error(openstack("aos", "db", "list", "-n", "clouds"))
    assert line.startswith("cannot connect to database mysql+pymysql://aos:***@127.0.0.1:1/")
    assert "hunter2" not in line


def test_bad_config_value_names_option_and_file(aos_env):
    path = aos_env["etc"] / "cloud_manager.conf"
    path.write_text("[node_tracker]\nloop_time = soon\n")
    line = _one_line_error(openstack("aos", "db", "migrate", "-n", "cloud_manager"))
    assert line.startswith(f"invalid value for [node_tracker] loop_time in {path}")
    assert not (aos_env["state"] / "cloud_manager.sqlite").exists()


def test_unreadable_config(aos_env):
    path = aos_env["etc"] / "cloud_manager.conf"
    path.mkdir()
    line = _one_line_error(openstack("aos", "configure", "-n", "cloud_manager"))
    assert line == f"cannot read config file {path}: not a regular file"


def test_help_explains_rollback():
    result = openstack("help", "aos", "db", "migrate")
    assert result.code == 0
    assert "--migration N" in result.out and "0 removes every table" in result.out
