"""``openstack aos balancing plan --inventory`` through the real ``openstack`` command: an
offline plan needs no cloud and no credentials; a bad snapshot is one error line, exit 1."""

from __future__ import annotations

import json

from cloud_manager.balancing.snapshot import to_snapshot
from tests.cli import openstack

from .builders import model


def _one_line(result) -> str:
    assert result.code != 0, result.out
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert len(lines) == 1, result.err
    return lines[0]


def test_offline_plan_from_a_snapshot(tmp_path):
    snapshot = tmp_path / "snapshot.json"
    cloud = model({"node1": (4086, [1024, 1024, 1024]), "node2": (4086, [256])})
    snapshot.write_text(json.dumps(to_snapshot(cloud, "agg")))
    shown = openstack("aos", "balancing", "plan", "--inventory", str(snapshot), "-f", "json")
    assert shown.code == 0, shown.err
    plan = shown.json()
    assert [(m["source"], m["target"]) for m in plan["Migrations"]] == [("node1", "node2")]
    assert {h["host"]: h["loaded_before"] for h in plan["Hosts"]} == {"node1": True,
                                                                     "node2": False}
    table = openstack("aos", "balancing", "plan", "--inventory", str(snapshot))
    assert "node1: 0.75* -> 0.50" in table.out


def test_bad_snapshots_and_names_are_one_clear_line(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "aos-balancing-snapshot/1", "aggregates": []}')
    assert "malformed snapshot" in _one_line(
        openstack("aos", "balancing", "plan", "--inventory", str(bad)))
    bad.write_text("not json")
    assert "is not JSON" in _one_line(openstack("aos", "balancing", "plan", "--inventory",
                                                str(bad)))
    good = tmp_path / "good.json"
    good.write_text(json.dumps(to_snapshot(model({"a": (1024, [])}), "agg")))
    assert "no host aggregate 'nope'" in _one_line(
        openstack("aos", "balancing", "plan", "nope", "--inventory", str(good)))
    assert "cannot read" in _one_line(
        openstack("aos", "balancing", "plan", "--inventory", str(tmp_path / "missing.json")))
