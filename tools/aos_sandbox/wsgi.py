"""Gunicorn entry point for every sandbox API: `aos_sandbox.wsgi:application`.

AOS_WSGI_APP names the real app ("module:attribute"). The OpenStack WSGI modules parse
sys.argv and die on gunicorn's own arguments (gunicorn then restarts them forever), so
sys.argv is cleared before the real module is imported; AOS_WSGI_CONFIG_FILE, when set, is
passed as ``--config-file`` (Cinder's WSGI module reads its config only from its arguments).
"""

from __future__ import annotations

import importlib
import os
import sys

sys.argv = sys.argv[:1]
if os.environ.get("AOS_WSGI_CONFIG_FILE"):
    sys.argv += ["--config-file", os.environ["AOS_WSGI_CONFIG_FILE"]]

if os.environ.get("AOS_WSGI_APP", "").startswith("neutron."):
    # GET /v2.0/ports fails with "Port has no attribute 'port_forwardings'" unless the
    # port-forwarding model is mapped (no l3/port-forwarding plugin is loaded here).
    import neutron.db.models.port_forwarding  # noqa: F401

_module, _attr = os.environ["AOS_WSGI_APP"].split(":")
application = getattr(importlib.import_module(_module), _attr)
