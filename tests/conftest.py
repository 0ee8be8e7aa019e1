"""Shared fixtures: an isolated AOS config/state/log tree per test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def aos_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """AOS_CONFIG_DIR and AOS_STATE_DIR in tmp_path, and an aos.conf whose log root is there."""
    paths = {name: tmp_path / name for name in ("etc", "state", "log")}
    paths["etc"].mkdir()
    (paths["etc"] / "aos.conf").write_text(
        f"[DEFAULT]\nstate_path = {paths['state']}\nlog_root = {paths['log']}\n"
    )
    monkeypatch.setenv("AOS_CONFIG_DIR", str(paths["etc"]))
    monkeypatch.setenv("AOS_STATE_DIR", str(paths["state"]))
    return paths


def venv_bin(name: str) -> str:
    """A console script of the environment running the tests."""
    import sys

    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else name


os.environ.setdefault("OS_CLOUD", "")
