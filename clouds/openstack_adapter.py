"""What Clouds asks of OpenStack: Keystone projects, Glance images, Nova flavors.

One small class at the edge, so the account and registration logic can be tested with an
in-memory stand-in and run against the real services unchanged.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from keystoneauth1 import exceptions as ksa_exc
from openstack import exceptions as os_exc

from clouds_drivers.tags import IMAGE_CLOUD_PROPERTY, IMAGE_ID_PROPERTY

#: What a failed OpenStack call raises: the SDK's errors and keystoneauth's (connection
#: refused, timeouts, authentication) which the SDK lets through.
FAILURES = (os_exc.SDKException, ksa_exc.ClientException)



class OpenStackError(Exception):
    """OpenStack refused or could not be reached."""


class AmbiguousProject(Exception):
    pass


@dataclass(frozen=True)
class Project:
    id: str
    name: str


@dataclass(frozen=True)
class FlavorSpec:
    """A private flavor to create for one project."""

    id: str
    name: str
    vcpus: int
    ram_mb: int
    disk_gb: int
    extra_specs: dict[str, str]


def _failure(doing: str, exc: Exception) -> OpenStackError:
    return OpenStackError(f"{doing}: {exc}")


class OpenStack:
    """Keystone, Glance and Nova through one openstacksdk connection of the service user."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def project(self, name_or_id: str) -> Project | None:
        try:
            found = self.conn.identity.find_project(name_or_id, ignore_missing=True)
        except os_exc.DuplicateResource:
            raise AmbiguousProject(f"several projects are named {name_or_id!r}: "
                                   "give the project id") from None
        except FAILURES as exc:
            raise _failure(f"looking up project {name_or_id} in Keystone", exc) from None
        return Project(found.id, found.name) if found is not None else None

    # --- Glance (v2 REST through the SDK's adapter: a record, no data) -------------------------

    def _glance(self, method: str, path: str, doing: str, **kwargs: Any) -> Any:
        try:
            response = self.conn.image.request(path, method, raise_exc=False, **kwargs)
        except FAILURES as exc:
            raise _failure(doing, exc) from None
        if response.status_code == 404 and method in ("GET", "DELETE"):
            return None
        if response.status_code >= 400:
            raise OpenStackError(f"{doing}: Glance answered {response.status_code}: "
                                 f"{response.text.strip()[:300]}")
        return response.json() if response.content else {}

    def find_images(self, project_id: str, cloud: str, cloud_image_id: str) -> list[dict]:
        answer = self._glance("GET", "/images", "listing Glance images", params={
            "owner": project_id, IMAGE_CLOUD_PROPERTY: cloud, IMAGE_ID_PROPERTY: cloud_image_id})
        return answer["images"] if answer else []

    def image(self, image_id: str) -> dict | None:
        return self._glance("GET", f"/images/{image_id}", f"reading Glance image {image_id}")

    def create_image(self, project_id: str, attrs: dict[str, Any]) -> dict:
        body = {"owner": project_id, "visibility": "private", "disk_format": "raw",
                "container_format": "bare", **attrs}
        return self._glance("POST", "/images", "creating the Glance image", json=body)

    def add_location(self, image_id: str, url: str) -> dict:
        """Point the image at ``url``; Glance picks the store by the URL and checks it there
        (it needs ``show_multiple_locations = true``, as spec 000 configures Glance)."""
        return self._glance(
            "PATCH", f"/images/{image_id}", f"adding location {url} to Glance image {image_id}",
            json=[{"op": "add", "path": "/locations/-", "value": {"url": url, "metadata": {}}}],
            headers={"Content-Type": "application/openstack-images-v2.1-json-patch"})

    @contextlib.contextmanager
    def image_data(self, image_id: str) -> Iterator[Any]:
        """The image file as a stream read while it downloads (never whole in memory)."""
        doing = f"downloading Glance image {image_id}"
        try:
            response = self.conn.image.request(f"/images/{image_id}/file", "GET",
                                               stream=True, raise_exc=False)
        except FAILURES as exc:
            raise _failure(doing, exc) from None
        if response.status_code >= 300:
            raise OpenStackError(f"{doing}: Glance answered {response.status_code}: "
                                 f"{response.text.strip()[:300]}")
        response.raw.decode_content = True
        try:
            yield response.raw
        finally:
            response.close()

    def delete_image(self, image_id: str) -> None:
        self._glance("DELETE", f"/images/{image_id}", f"deleting Glance image {image_id}")

    # --- Nova ------------------------------------------------------------------------------

    def flavor_disks(self) -> dict[str, int]:
        """Root disk (GB) of every flavor by id, private ones included (one listing)."""
        try:
            # The string "None" is Nova's "public and private" (a None value is not sent).
            return {f.id: int(f.disk or 0)
                    for f in self.conn.compute.flavors(is_public="None", details=True)}
        except FAILURES as exc:
            raise _failure("listing flavors", exc) from None

    def create_flavor(self, project_id: str, spec: FlavorSpec) -> None:
        """A private flavor with access for the project and the extra specs; all or nothing."""
        compute = self.conn.compute
        try:
            flavor = compute.create_flavor(id=spec.id, name=spec.name, vcpus=spec.vcpus,
                                           ram=spec.ram_mb, disk=spec.disk_gb, is_public=False)
        except FAILURES as exc:
            raise _failure(f"creating flavor {spec.name}", exc) from None
        try:
            compute.flavor_add_tenant_access(flavor, project_id)
            compute.create_flavor_extra_specs(flavor, spec.extra_specs)
        except FAILURES as exc:
            compute.delete_flavor(flavor, ignore_missing=True)
            raise _failure(f"setting up flavor {spec.name}", exc) from None
