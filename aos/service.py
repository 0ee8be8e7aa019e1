"""Start-up shared by every AOS service: load config, set up logging, fail in one line."""

from __future__ import annotations

import sys
from collections.abc import Callable

from oslo_config import cfg

from aos import conf as aos_conf
from aos import db, log
from aos.modules import Module


def run_api(module: Module, create_app: Callable[[cfg.ConfigOpts], Callable]) -> None:
    """The ``*-api`` service: the module's WSGI app on ``[api] host:port`` under gunicorn."""

    def main(conf: cfg.ConfigOpts) -> None:
        from aos.api.server import serve

        serve(create_app(conf), conf.api.host, conf.api.port, conf.api.workers)

    run(module, "api", main, ("api", "logfile"))


def run(module: Module, service: str, main: Callable[[cfg.ConfigOpts], None],
        logfile_option: tuple[str, str] | None = None) -> None:
    """Run ``main(conf)``; a configuration or database problem exits 2 with one clear line."""
    try:
        conf = aos_conf.load(module, sys.argv[1:])
        logfile = conf[logfile_option[0]][logfile_option[1]] if logfile_option else ""
        log.setup(conf, module, service, logfile)
        main(conf)
    except (aos_conf.ConfigError, db.DatabaseError) as exc:
        sys.stderr.write(f"{module.service_prefix}-{service}: {exc}\n")
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(0)
