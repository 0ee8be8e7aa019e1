"""Celery tasks run by aos-cloud-manager-worker."""

from __future__ import annotations

import os
import socket

from celery import Celery
from oslo_config import cfg

from aos import tasks
from cloud_manager.module import MODULE
from cloud_manager.runtime import EVACUATE_TASK, Runtime


def celery_app(conf: cfg.ConfigOpts) -> Celery:
    return tasks.celery_app(conf, MODULE)


def register(app: Celery, runtime: Runtime) -> None:
    owner = f"{socket.gethostname()}-{os.getpid()}"

    @app.task(name=EVACUATE_TASK, ignore_result=True)
    def evacuate_host(task_id: str) -> None:
        from cloud_manager.evacuation import Evacuator

        Evacuator(runtime, owner).run(task_id)
