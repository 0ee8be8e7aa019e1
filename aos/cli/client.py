"""HTTP client of the AOS module APIs, on the keystoneauth session of the ``openstack`` CLI."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from keystoneauth1 import exceptions as ks_exc
from osc_lib import exceptions

T = TypeVar("T")

# Pauses before each new attempt of a read whose connection failed: about 7 s in all, enough
# for a pooled keep-alive connection the server closed as the request went out, or an API
# restart, and short enough that an API which is down is reported soon.
READ_RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0)


class APIUnreachable(exceptions.CommandError):
    """No connection to the module's API (refused, reset, timed out): a GET may be sent again."""


class AOSClient:
    """Finds each module's endpoint in the catalog (service types cloud-manager, clouds)."""

    def __init__(self, session: Any, region_name: str | None = None,
                 interface: str | None = None, endpoint_override: dict | None = None) -> None:
        self.session = session
        self.region_name = region_name
        self.interface = interface or "public"
        self.endpoint_override = endpoint_override or {}

    def request(self, service_type: str, method: str, path: str, **kwargs: Any) -> Any:
        endpoint_filter = {
            "service_type": service_type,
            "interface": self.interface,
            "region_name": self.region_name,
        }
        if service_type in self.endpoint_override:
            kwargs["endpoint_override"] = self.endpoint_override[service_type]
        try:
            response = self.session.request(
                path, method, endpoint_filter=endpoint_filter, raise_exc=False, **kwargs
            )
        except ks_exc.EndpointNotFound as exc:
            raise exceptions.CommandError(
                f"no {service_type!r} endpoint in the service catalog: is the service "
                "registered (openstack service create / endpoint create)?"
            ) from exc
        except ks_exc.ConnectFailure as exc:
            raise APIUnreachable(f"cannot reach the {service_type} API: {exc}") from exc
        if response.status_code >= 400:
            raise exceptions.CommandError(_error_message(response))
        if response.status_code == 204 or not response.content:
            return None
        return response.json()


def _error_message(response: Any) -> str:
    try:
        body = response.json()
        message = body.get("error", {}).get("message") or body.get("message")
    except ValueError:
        message = None
    return f"{response.status_code}: {message or response.text.strip() or response.reason}"


def read_retrying(read: Callable[[], T], delays: Sequence[float] = READ_RETRY_DELAYS,
                  sleep: Callable[[float], None] = time.sleep) -> T:
    """``read`` (an idempotent request) sent again, quietly, while the API is unreachable.

    A poll loop outlives connections (keep-alive closed by the server, an API restart); one
    failed connection must not end it. Bounded: after the last delay the one-line
    ``APIUnreachable`` stands. Only connection failures are retried, never an API answer.
    """
    for delay in delays:
        try:
            return read()
        except APIUnreachable:
            sleep(delay)
    return read()
