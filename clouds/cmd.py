"""Console scripts of the Clouds services."""

from __future__ import annotations

from oslo_config import cfg

from aos import service
from clouds.module import MODULE


def api() -> None:
    from clouds.api.clouds_api import create_app

    service.run_api(MODULE, create_app)


def worker() -> None:
    def main(conf: cfg.ConfigOpts) -> None:
        from aos.tasks import run_worker
        from clouds import runtime
        from clouds.tasks import celery_app

        app = celery_app(conf, runtime.build(conf))
        run_worker(app, queues=[MODULE.name], beat=conf.worker.drift_interval > 0)

    service.run(MODULE, "worker", main, ("worker", "logfile"))
