"""WSGI entry of the Clouds API (``clouds.api.clouds_api:wsgi``).

Only the version and OpenAPI documents are served so far: the cloud management routes come
with the Clouds module itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from oslo_config import cfg

from aos import api
from aos import conf as aos_conf
from clouds.api.policies import RULES
from clouds.module import MODULE

API = api.Api("Clouds", "1", RULES)


def create_app(conf: cfg.ConfigOpts | None = None) -> Callable:
    return api.create_app(API, conf or aos_conf.load(MODULE))


_app: Callable | None = None


def wsgi(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
    """WSGI callable for external servers; builds the app from /etc/aos on first request."""
    global _app
    if _app is None:
        _app = create_app()
    return _app(environ, start_response)
