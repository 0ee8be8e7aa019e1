"""Clouds options, as the module's documentation lists them."""

from __future__ import annotations

from oslo_config import cfg

from aos.conf.api import api_opts, database_opts
from aos.conf.opts import lister

worker_opts = [
    cfg.StrOpt("logfile", default="", help="Log file of aos-clouds-worker."),
]

GROUPS: dict[str | None, list[cfg.Opt]] = {
    "api": api_opts(9366, "Clouds"),
    "database": database_opts("clouds", "URL to access the database."),
    "worker": worker_opts,
}


list_opts = lister(GROUPS)
