"""HTTP client of the AOS module APIs, on the keystoneauth session of the ``openstack`` CLI."""

from __future__ import annotations

from typing import Any

from keystoneauth1 import exceptions as ks_exc
from osc_lib import exceptions


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
            raise exceptions.CommandError(f"cannot reach the {service_type} API: {exc}") from exc
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
