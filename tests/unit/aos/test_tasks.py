"""The Celery app each module's worker and beat use."""

from __future__ import annotations

from aos import conf as aos_conf
from aos import modules, tasks


def test_embedded_broker_carries_a_message_through_the_database(aos_env):
    conf = aos_conf.load(modules.get("cloud_manager"))
    aos_conf.state_path(conf).mkdir(parents=True, exist_ok=True)
    app = tasks.celery_app(conf, modules.get("cloud_manager"))
    assert app.conf.broker_url.startswith("sqla+sqlite:///")
    with app.connection() as connection:
        queue = connection.SimpleQueue("probe")
        queue.put({"task": "probe"})
        assert queue.get(timeout=5).payload == {"task": "probe"}
        queue.close()
