"""WSGI entry of the Clouds API (``clouds.api.clouds_api:wsgi``)."""

from __future__ import annotations

from aos.api.server import LazyApp, app_factory
from clouds import runtime
from clouds.api.routes import API
from clouds.module import MODULE

#: The application; its views reach the database, secrets and clouds through ``runtime``.
create_app = app_factory(API, MODULE, runtime.build)

#: The WSGI callable for external servers (built from /etc/aos on the first request).
wsgi = LazyApp(create_app)
