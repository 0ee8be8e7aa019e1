"""WSGI entry of the CloudManager API (``cloud_manager.api.cloud_manager_api:wsgi``)."""

from __future__ import annotations

from aos.api.server import LazyApp, app_factory
from cloud_manager import runtime
from cloud_manager.api import agent, balancing, drs, storage  # noqa: F401 - they register routes
from cloud_manager.api.routes import API
from cloud_manager.module import MODULE

#: The application; its views reach the database and secrets through ``runtime``.
create_app = app_factory(API, MODULE, runtime.build)

#: The WSGI callable for external servers (built from /etc/aos on the first request).
wsgi = LazyApp(create_app)
