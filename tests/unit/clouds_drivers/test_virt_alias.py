"""The nova.virt alias hook the clouds-drivers wheel installs through a .pth file."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from clouds_drivers.nova import virt_alias
from tools import dist


@pytest.fixture
def fake_nova(tmp_path, monkeypatch):
    """A ``nova.virt`` package that ships only ``fake``; the hook on sys.meta_path."""
    virt = tmp_path / "nova" / "virt"
    virt.mkdir(parents=True)
    (tmp_path / "nova" / "__init__.py").write_text("")
    (virt / "__init__.py").write_text("")
    (virt / "fake.py").write_text("WHO = 'nova'\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sys, "meta_path", list(sys.meta_path))
    saved = {k: v for k, v in sys.modules.items() if k == "nova" or k.startswith("nova.")}
    for name in saved:
        del sys.modules[name]
    virt_alias.install()
    virt_alias.install()
    yield
    for name in [k for k in sys.modules if k == "nova" or k.startswith("nova.")]:
        del sys.modules[name]
    sys.modules.update(saved)


def test_the_spec_value_resolves_to_the_package_module(fake_nova):
    assert sum(isinstance(f, virt_alias.NovaVirtAliasFinder) for f in sys.meta_path) == 1
    importlib.import_module("nova.virt")
    aliased = importlib.import_module("nova.virt.clouds_drivers.nova.virt.decide")
    from clouds_drivers.nova.virt import decide
    assert aliased is decide
    assert importlib.import_module("nova.virt.fake").WHO == "nova"  # nova's own first


def test_nothing_is_aliased_before_nova_virt_is_imported(fake_nova):
    finder = next(f for f in sys.meta_path if isinstance(f, virt_alias.NovaVirtAliasFinder))
    assert finder.find_spec("nova.virt.clouds_drivers", None) is None
    assert finder.find_spec("json", None) is None


def test_the_wheel_installs_the_hook_into_site_packages(tmp_path):
    (wheel,) = dist.build(["clouds-drivers"], tmp_path / "dist")
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target",
                    site, wheel], check=True, capture_output=True, timeout=300)
    assert (site / "clouds_drivers_virt_alias.pth").is_file()
    probe = ("import site, sys; site.addsitedir(sys.argv[1]); "
             "print(sum(type(f).__name__ == 'NovaVirtAliasFinder' for f in sys.meta_path), "
             "'nova' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe, str(site)], capture_output=True,
                         text=True, check=True, timeout=60, cwd=Path(tmp_path))
    assert out.stdout.split() == ["1", "False"], out.stderr
