"""WSGI entry of the Clouds API (``clouds.api.clouds_api:wsgi``).

Only the version and OpenAPI documents are served so far: the cloud management routes come
with the Clouds module itself.
"""

from __future__ import annotations

from aos import api
from aos.api.server import LazyApp, app_factory
from clouds.api.policies import RULES
from clouds.module import MODULE

API = api.Api("Clouds", "1", RULES)

create_app = app_factory(API, MODULE)

#: The WSGI callable for external servers (built from /etc/aos on the first request).
wsgi = LazyApp(create_app)
