"""Celery tasks run by aos-cloud-manager-worker."""

from __future__ import annotations

import os
import socket
import uuid

from celery import Celery
from oslo_config import cfg

from aos import tasks
from cloud_manager.module import MODULE
from cloud_manager.runtime import EVACUATE_TASK, Runtime


def celery_app(conf: cfg.ConfigOpts) -> Celery:
    return tasks.celery_app(conf, MODULE)


def register(app: Celery, runtime: Runtime) -> None:
    worker = f"{socket.gethostname()}-{os.getpid()}"

    @app.task(name=EVACUATE_TASK, ignore_result=True)
    def evacuate_host(task_id: str) -> None:
        from cloud_manager.evacuation import Evacuator

        # One owner per run: two deliveries of a task in one worker must not share a lease.
        Evacuator(runtime, f"{worker}-{uuid.uuid4().hex[:8]}").run(task_id)
