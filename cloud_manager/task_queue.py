"""The queue host tasks go through: its Celery app and the task's name.

Senders (the API, the tracker) need only the name; the code that runs it is registered by the
worker (``cloud_manager.tasks``), so nothing here imports the executor.
"""

from __future__ import annotations

from celery import Celery
from oslo_config import cfg

from aos import tasks
from cloud_manager.module import MODULE

# Kept as it was when every host task was an evacuation: queued messages use it.
RUN_TASK = "cloud_manager.evacuate_host"


def celery_app(conf: cfg.ConfigOpts) -> Celery:
    return tasks.celery_app(conf, MODULE)
