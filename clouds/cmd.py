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
        from aos.tasks import celery_app, run_worker

        run_worker(celery_app(conf, MODULE), queues=[MODULE.name])

    service.run(MODULE, "worker", main, ("worker", "logfile"))
