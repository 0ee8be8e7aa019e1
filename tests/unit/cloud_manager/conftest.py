"""A CloudManager runtime on a migrated SQLite database, with Nova in memory."""

from __future__ import annotations

import pytest

from aos import conf as aos_conf
from aos import crypto, db, modules
from aos.db.migrations import Migrator
from cloud_manager import runtime as cm_runtime
from tests.unit.cloud_manager.fake_nova import FakeNova

HOSTS = ["c1", "c2", "c3", "c4"]


@pytest.fixture
def make_runtime(aos_env):
    """``make_runtime(section={"option": value})``: options on top of a fast test setup."""

    def make(**sections):
        lines = ["[node_tracker]", "mutex = 2", "max_down_hosts = 1", "service_timeout = 30",
                 "[host_tasks]", "poll_interval = 0.1", "prioritized_evacuation_timeout = 5"]
        for section, values in sections.items():
            lines.append(f"[{section}]")
            lines += [f"{k} = {v}" for k, v in values.items()]
        (aos_env["etc"] / "cloud_manager.conf").write_text("\n".join(lines) + "\n")
        conf = aos_conf.load(modules.get("cloud_manager"))
        crypto.create_key_file(aos_conf.secret_key_file(conf))
        module = modules.get("cloud_manager")
        Migrator(module, db.create_engine(db.database_url(conf, module))).migrate()
        runtime = cm_runtime.build(conf)
        runtime.__dict__["nova"] = FakeNova(HOSTS)
        return runtime

    return make
