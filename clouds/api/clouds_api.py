"""WSGI entry of the Clouds API (``clouds.api.clouds_api:wsgi``).

Only the version and OpenAPI documents are served so far: the cloud management routes come
with the Clouds module itself.
"""

from __future__ import annotations

from collections.abc import Callable

from oslo_config import cfg

from aos import api
from aos import conf as aos_conf
from aos.api.server import LazyApp
from clouds.api.policies import RULES
from clouds.module import MODULE

API = api.Api("Clouds", "1", RULES)


def create_app(conf: cfg.ConfigOpts | None = None) -> Callable:
    return api.create_app(API, conf or aos_conf.load(MODULE))


#: The WSGI callable for external servers (built from /etc/aos on the first request).
wsgi = LazyApp(create_app)
