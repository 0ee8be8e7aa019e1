"""Celery application factory for the worker and beat services of every module."""

from __future__ import annotations

from collections.abc import Sequence

from celery import Celery
from oslo_config import cfg

from aos import conf as aos_conf
from aos import db
from aos.modules import Module


def broker_url(conf: cfg.ConfigOpts, module: Module) -> str:
    """``[DEFAULT] transport_url`` (oslo-style rabbit:// accepted), else the embedded broker."""
    url = conf.transport_url
    if not url:
        return "sqla+" + db.database_url(conf, module)
    if url.startswith("rabbit://"):
        return "amqp://" + url[len("rabbit://"):]
    return url


def celery_app(conf: cfg.ConfigOpts, module: Module) -> Celery:
    # No broker_transport_options: kombu's SQLAlchemy transport hands them to create_engine.
    app = Celery(module.name, broker=broker_url(conf, module))
    app.conf.update(
        task_default_queue=module.name,
        # An evacuation interrupted by a dying worker must run again elsewhere.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        beat_schedule_filename=str(aos_conf.state_path(conf) / f"{module.name}-beat-schedule"),
        task_serializer="json",
        accept_content=["json"],
    )
    return app


def run_worker(app: Celery, queues: Sequence[str], concurrency: int = 4,
               beat: bool = False) -> None:
    """``beat``: also run the app's periodic schedule inside this worker (one per cloud)."""
    app.Worker(queues=list(queues), concurrency=concurrency, pool="threads",
               loglevel="INFO", beat=beat).start()


def run_beat(app: Celery) -> None:
    app.Beat(loglevel="INFO").run()
