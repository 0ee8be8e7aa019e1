"""Leadership on a real distributed backend: tooz's MySQL driver on the sandbox's MariaDB.

Breaking the leader's lock (its MySQL session killed: the server releases GET_LOCK, as when a
controller's connection drops) must make it stop acting at once, and let the other take over.
"""

from __future__ import annotations

import contextlib
import time
import uuid

import pytest
import sqlalchemy as sa

from aos.coordination import Leadership
from tests.functional.test_instance_ha import _evacuations, hosts, servers  # noqa: F401
from tools.aos_sandbox.aos_services import CloudManager, wait_for

pytestmark = pytest.mark.functional

LOCK = "aos-cloud-manager-node-tracker"


def _server(sandbox) -> tuple[str, str]:
    mysql = sandbox.info["mysql"]
    auth = f"{mysql['user']}:{mysql['password']}@{mysql['host']}:{mysql['port']}"
    return f"mysql+pymysql://{auth}", f"mysql://{auth}"


def _kill_lock_holder(engine: sa.Engine) -> int:
    """Kill the MySQL session that holds the tracker's lock; its connection id."""
    with engine.begin() as conn:
        holder = conn.execute(sa.text("SELECT IS_USED_LOCK(:name)"), {"name": LOCK}).scalar()
        assert holder, "nobody holds the lock"
        conn.execute(sa.text(f"KILL {int(holder)}"))
    return int(holder)


@pytest.fixture
def deployment(sandbox, tmp_path):
    """A CloudManager whose controllers coordinate through tooz's MySQL driver."""
    sa_url, tooz_url = _server(sandbox)
    database = f"cm_{uuid.uuid4().hex[:12]}"
    cm = CloudManager(sandbox, tmp_path, database=database,
                      coordination={"backend_url": f"{tooz_url}/{database}"},
                      node_tracker={"max_down_hosts": 1})
    engine = sa.create_engine(sa_url)
    yield cm, engine
    engine.dispose()
    cm.drop()


@pytest.fixture
def cm(deployment):
    """The deployment, for the shared ``servers`` fixture."""
    return deployment[0]


def test_a_leader_whose_lock_session_is_killed_stops_and_the_other_takes_over(deployment):
    cm, engine = deployment
    a = Leadership(cm.conf(), LOCK, member="controller-a")
    b = Leadership(cm.conf(), LOCK, member="controller-b")
    try:
        assert a.is_leader() and not b.is_leader()
        assert a.is_leader()  # confirmed again, still held
        _kill_lock_holder(engine)
        assert not a.is_leader(), "a leader that lost its lock must stop at once"
        assert b.is_leader()
        assert not a.is_leader()  # it tries again, but b holds it now
        assert b.is_leader()
    finally:
        for leadership in (a, b):
            with contextlib.suppress(Exception):
                leadership.stop()


def test_two_trackers_on_mysql_one_acts_and_the_other_takes_over_a_broken_lock(
        sandbox, hosts, deployment, servers):  # noqa: F811
    cm, engine = deployment
    victim = hosts[1]
    placed = servers(victim, [5])
    cm.add_bmc(victim, "ipmi")
    cm.start("beat", "beat-a")
    cm.start("beat", "beat-b")
    cm.start("worker")
    wait_for("a leader", lambda: "is now the leader" in cm.output("beat-a") + cm.output("beat-b"),
             60)
    time.sleep(3)
    leaders = [n for n in ("beat-a", "beat-b") if "is now the leader" in cm.output(n)]
    assert len(leaders) == 1, leaders
    old = leaders[0]
    new = "beat-b" if old == "beat-a" else "beat-a"
    wait_for("nodes discovered", lambda: victim in cm.node_states(), 60)

    _kill_lock_holder(engine)
    wait_for("the old leader to notice", lambda: "lost the lock" in cm.output(old), 30)
    wait_for("the other to take over", lambda: "is now the leader" in cm.output(new), 30)
    assert cm.processes[old].poll() is None  # still running, as a follower
    assert cm.output(old).count("is now the leader") == 1

    sandbox.kill_host(victim)
    task = cm.wait_task_final(victim, timeout=180)
    assert task.state == "done", task.message
    assert len(cm.tasks(victim)) == 1
    assert len(_evacuations(sandbox, placed[0].id)) == 1
