"""Logging set-up for AOS services (oslo.log), with per-service log files."""

from __future__ import annotations

import logging

from oslo_config import cfg
from oslo_log import log

from aos import conf as aos_conf
from aos.modules import Module

QUIET_LIBRARIES = ["amqp=WARN", "kombu=WARN", "urllib3=WARN", "keystoneauth=WARN",
                   "stevedore=WARN", "alembic=WARN", "openstack=WARN", "paramiko=WARN",
                   "pyghmi=WARN", "sushy=WARN", "celery=INFO"]


def setup(conf: cfg.ConfigOpts, module: Module, service: str, logfile: str = "") -> None:
    """Log to ``logfile`` if set, else ``<log_root>/<module>/<service>.log`` when that directory
    exists (created by ``openstack aos configure``), else to stderr (journald under systemd)."""
    if not conf.log_file and not conf.use_stderr:
        if logfile:
            conf.set_override("log_file", logfile)
        else:
            directory = aos_conf.log_dir(conf, module)
            if directory.is_dir():
                conf.set_override("log_file", str(directory / f"{service}.log"))
    log.set_defaults(default_log_levels=log.get_default_log_levels() + QUIET_LIBRARIES)
    log.setup(conf, f"{module.service_prefix}-{service}")


def add_logfile(logger: logging.Logger, path: str) -> None:
    """Also write ``logger``'s records to ``path`` (a part of a service with a log file of its
    own, e.g. node_sync inside the beat); they still reach the service's log."""
    if not path:
        return
    handler = logging.FileHandler(path)
    root = logging.getLogger().handlers
    handler.setFormatter(root[0].formatter if root and root[0].formatter
                         else logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logger.addHandler(handler)
