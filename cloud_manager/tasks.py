"""Celery tasks run by aos-cloud-manager-worker."""

from __future__ import annotations

import os
import socket
import uuid

from celery import Celery

from cloud_manager.execution.executor import TaskExecutor
from cloud_manager.runtime import Runtime
from cloud_manager.task_queue import RUN_TASK, celery_app

__all__ = ["celery_app", "register"]


def register(app: Celery, runtime: Runtime) -> None:
    worker = f"{socket.gethostname()}-{os.getpid()}"

    @app.task(name=RUN_TASK, ignore_result=True)
    def run_host_task(task_id: str) -> None:
        # One owner per run: two deliveries of a task in one worker must not share a lease.
        TaskExecutor(runtime, f"{worker}-{uuid.uuid4().hex[:8]}").run(task_id)
