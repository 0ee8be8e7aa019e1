"""Every service console script has a systemd unit that starts it, and nothing else does."""

import configparser
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_console_scripts_and_systemd_units_match():
    scripts = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"])
    units = {}
    for path in (ROOT / "etc" / "systemd").glob("*.service"):
        unit = configparser.ConfigParser(interpolation=None)
        unit.read(path)
        units[path.stem] = Path(unit["Service"]["ExecStart"].split()[0]).name
    assert units == {name: name for name in scripts}


def test_documented_wsgi_path_is_importable():
    from cloud_manager.api import cloud_manager_api

    assert callable(cloud_manager_api.wsgi)
