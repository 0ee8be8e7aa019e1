"""The demo's live view: each node with its servers by priority, tasks with their items."""

from datetime import datetime
from types import SimpleNamespace

from rich.console import Console

from tools.demo import SERVERS, Snapshot, instructions, render


def _text(snap: Snapshot) -> str:
    console = Console(width=120, record=True, color_system=None)
    console.print(render(snap, datetime(2026, 12, 1, 10, 0, 0)))
    return console.export_text()


def test_servers_show_under_their_node_highest_priority_first():
    snap = Snapshot(
        nodes={"compute1": ("up", ""), "compute2": ("fenced", "powered off through IPMI"),
               "compute10": ("up", "")},
        servers=[("demo-web", "compute2", "ACTIVE", "4"), ("demo-db", "compute2", "ACTIVE", "10"),
                 ("plain", "compute2", "ACTIVE", "-"), ("demo-api", "compute1", "ACTIVE", "7")])
    text = _text(snap)
    assert text.index("compute1 ") < text.index("compute2") < text.index("compute10")
    assert text.index("10 demo-db") < text.index(" 4 demo-web") < text.index(" - plain")
    assert "powered off through IPMI" in text
    assert text.index("7 demo-api") < text.index("compute2")


def test_tasks_list_their_items_in_the_order_given():
    item = SimpleNamespace
    task = SimpleNamespace(hostname="compute2", kind="evacuation", state="evacuating",
                           created_at=datetime(2026, 12, 1, 9, 59, 58), items=[
                               item(priority=10, instance_name="demo-db", instance_id="a",
                                    target_host="compute3", state="done"),
                               item(priority=1, instance_name=None, instance_id="b-uuid",
                                    target_host=None, state="pending")])
    text = _text(Snapshot(nodes={"compute2": ("evacuating", "")}, tasks=[task],
                          error="ConnectionError: nova-api"))
    assert "10 demo-db → compute3 done" in text
    assert " 1 b-uuid → ? pending" in text
    assert "evacuation evacuating" in text
    assert "ConnectionError: nova-api" in text


def test_instructions_use_absolute_paths_and_name_every_demo_server(tmp_path):
    text = instructions(tmp_path / "openrc", ["compute1", "compute2"])
    assert f"source {tmp_path / 'openrc'}" in text
    assert "/tools/sandbox kill-host compute2" in text
    assert all(f"{name} ({priority})" in text for name, priority in SERVERS.items())
