"""A small client of the Clouds API for the drivers: which projects are cloud-bound, their
short-lived credentials, and the resource map.

It speaks through a keystoneauth Adapter (service user, endpoint from the catalog's
``clouds`` service), so the drivers never hold an account's long-term keys. Every request
has the adapter's timeout.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from keystoneauth1 import exceptions as ks_exc

LOG = logging.getLogger(__name__)
DEFAULT_TIMEOUT = 30.0
#: What a credentials answer holds besides the account's options.
ANSWER_KEYS = frozenset({"project_id", "provider", "region", "availability_zone",
                         "expires_at", "cached", "credentials"})


class CloudsUnavailable(Exception):
    """The Clouds API could not answer; what was being done is in the message."""


@dataclass(frozen=True)
class ProjectCloud:
    """A cloud-bound project as the drivers use it; ``secrets`` are short-lived."""

    project_id: str
    provider: str
    region: str | None
    zone: str
    secrets: dict[str, str] = field(repr=False)
    #: the account's other settings (Yandex: ``folder_id``)
    options: dict[str, Any] = field(default_factory=dict)


class CloudsClient:
    def __init__(self, adapter: Any, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.adapter = adapter
        self.timeout = timeout

    def _request(self, doing: str, method: str, url: str, **kwargs: Any) -> Any:
        """One request; a 404 is None. A missing ``clouds`` endpoint or a refused connection
        is retried once with a fresh token, whose catalog may be newer (the service was
        registered or moved since); a ``clouds`` service still missing then is
        EndpointNotFound."""
        for attempt in (1, 2):
            try:
                response = self.adapter.request(url, method, timeout=self.timeout,
                                                raise_exc=False, **kwargs)
            except (ks_exc.EndpointNotFound, ks_exc.ConnectFailure) as exc:
                if attempt == 1:
                    self.adapter.session.invalidate(self.adapter.auth)
                    continue
                if isinstance(exc, ks_exc.EndpointNotFound):
                    raise
                raise CloudsUnavailable(f"{doing}: the Clouds API cannot be reached: "
                                        f"{exc}") from None
            except ks_exc.ClientException as exc:
                raise CloudsUnavailable(f"{doing}: the Clouds API cannot be reached: "
                                        f"{exc}") from None
            break
        if response.status_code == 404:
            return None
        if response.status_code >= 400:
            raise CloudsUnavailable(f"{doing}: the Clouds API answered "
                                    f"{response.status_code}: {_message(response)}")
        return response.json() if response.content else None

    def project_cloud(self, project_id: str) -> ProjectCloud | None:
        """The project's account with fresh short-lived credentials; None if not bound.

        Without a ``clouds`` service in the catalog no project is cloud-bound: the drivers
        then leave every project to the other drivers (logged once per call).
        """
        doing = f"getting the cloud credentials of project {project_id}"
        try:
            answer = self._request(doing, "POST", f"/v1/clouds/{project_id}/credentials")
        except ks_exc.EndpointNotFound:
            LOG.warning("no 'clouds' service in the Keystone catalog: project %s treated as "
                        "not cloud-bound", project_id)
            return None
        if answer is None:
            return None
        return ProjectCloud(project_id=project_id, provider=answer["provider"],
                            region=answer.get("region"), zone=answer["availability_zone"],
                            secrets=answer["credentials"],
                            options={k: v for k, v in answer.items() if k not in ANSWER_KEYS})

    def binding(self, project_id: str) -> str | None:
        """The project's cloud provider; None if it is not cloud-bound (or there is no
        ``clouds`` service in the catalog)."""
        try:
            account = self._request(f"looking up the cloud of project {project_id}", "GET",
                                    f"/v1/clouds/{project_id}")
        except ks_exc.EndpointNotFound:
            return None
        return account["provider"] if account else None

    def bindings(self) -> dict[str, str]:
        """Every cloud-bound project and its provider, from one listing of the accounts
        (none without a ``clouds`` service in the catalog, as for ``project_cloud``)."""
        return {account["project_id"]: account["provider"]
                for account in self._accounts("listing the cloud-bound projects")}

    def bound_projects(self, provider: str) -> list[str]:
        """The projects with an account in ``provider`` (none without a ``clouds`` service in
        the catalog, as for ``project_cloud``)."""
        return sorted(account["project_id"] for account in self._accounts(
            f"listing the projects bound to {provider}", provider=provider))

    def _accounts(self, doing: str, **filters: str) -> list[dict[str, Any]]:
        """The accounts (none without a ``clouds`` service in the catalog)."""
        try:
            accounts = self._request(doing, "GET", "/v1/clouds", params=filters or None)
        except ks_exc.EndpointNotFound:
            return []
        return accounts or []

    def record(self, project_id: str, kind: str, openstack_id: str, cloud_id: str,
               data: dict[str, Any] | None = None) -> None:
        self._request(f"recording {kind} {openstack_id} as {cloud_id}", "POST",
                      f"/v1/clouds/{project_id}/resources",
                      json={"kind": kind, "openstack_id": openstack_id,
                            "cloud_resource_id": cloud_id, "data": data or {}})

    def lookup(self, project_id: str, kind: str, openstack_id: str) -> dict[str, Any] | None:
        """The mapping of an OpenStack object, None when it has none."""
        return self._request(f"looking up {kind} {openstack_id}", "GET",
                             f"/v1/clouds/{project_id}/resources/{kind}/{openstack_id}")

    def resources(self, project_id: str, kind: str) -> list[dict[str, Any]] | None:
        """The project's mappings of ``kind``; None when the project is bound to no cloud
        (as for ``project_cloud``, none is without a ``clouds`` service in the catalog)."""
        try:
            return self._request(f"listing the {kind} mappings of project {project_id}",
                                 "GET", f"/v1/clouds/{project_id}/resources",
                                 params={"kind": kind})
        except ks_exc.EndpointNotFound:
            return None

    def forget(self, project_id: str, kind: str, openstack_id: str) -> None:
        self._request(f"forgetting {kind} {openstack_id}", "DELETE",
                      f"/v1/clouds/{project_id}/resources/{kind}/{openstack_id}")


def _message(response: Any) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return str(body["error"].get("message"))[:300]
    return str(body)[:300]
