"""WSGI entry of the CloudManager API (``cloud_manager.api.cloud_manager_api:wsgi``)."""

from __future__ import annotations

from collections.abc import Callable

from oslo_config import cfg

from aos import api
from aos import conf as aos_conf
from aos.api.server import LazyApp
from cloud_manager import runtime
from cloud_manager.api.routes import API
from cloud_manager.module import MODULE


def create_app(conf: cfg.ConfigOpts | None = None) -> Callable:
    """The API application; its views reach the database and secrets through ``runtime``."""
    conf = conf or aos_conf.load(MODULE)
    return api.create_app(API, conf, runtime=runtime.build(conf))


#: The WSGI callable for external servers (built from /etc/aos on the first request).
wsgi = LazyApp(create_app)
