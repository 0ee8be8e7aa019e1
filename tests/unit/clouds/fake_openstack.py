"""An in-memory OpenStack for the Clouds unit tests: the adapter's interface over dicts.

Functional tests run the real adapter against the sandbox's Keystone, Glance and Nova.
"""

from __future__ import annotations

import contextlib
import io
import uuid
from collections.abc import Iterator
from typing import Any

from clouds.openstack_adapter import (
    AmbiguousProject,
    FlavorSpec,
    OpenStackError,
    Project,
)
from clouds_drivers.tags import IMAGE_CLOUD_PROPERTY, IMAGE_ID_PROPERTY


class FakeOpenStack:
    def __init__(self, *projects: str) -> None:
        self.projects = {uuid.uuid4().hex: name for name in projects}
        self.images: dict[str, dict[str, Any]] = {}
        self.data: dict[str, bytes] = {}
        self.flavors: dict[str, tuple[str, FlavorSpec]] = {}

    def project_id(self, name: str) -> str:
        return next(pid for pid, pname in self.projects.items() if pname == name)

    def project(self, name_or_id: str) -> Project | None:
        if name_or_id in self.projects:
            return Project(name_or_id, self.projects[name_or_id])
        matches = [pid for pid, name in self.projects.items() if name == name_or_id]
        if len(matches) > 1:
            raise AmbiguousProject(f"several projects are named {name_or_id!r}")
        return Project(matches[0], name_or_id) if matches else None

    def find_images(self, project_id: str, cloud: str, cloud_image_id: str) -> list[dict]:
        return [i for i in self.images.values() if i["owner"] == project_id
                and i.get(IMAGE_CLOUD_PROPERTY) == cloud and i.get(IMAGE_ID_PROPERTY) ==
                cloud_image_id]

    def image(self, image_id: str) -> dict | None:
        return self.images.get(image_id)

    def create_image(self, project_id: str, attrs: dict[str, Any]) -> dict:
        image = {"id": str(uuid.uuid4()), "owner": project_id, "visibility": "private",
                 "status": "queued", "disk_format": "raw", **attrs}
        self.images[image["id"]] = image
        return image

    def add_image(self, project: str, data: bytes, **attrs: Any) -> dict:
        """An image uploaded by the project (active, its data in Glance)."""
        image = self.create_image(self.project_id(project), {
            "name": "mine", "status": "active", "size": len(data), **attrs})
        self.data[image["id"]] = data
        return image

    @contextlib.contextmanager
    def image_data(self, image_id: str) -> Iterator[Any]:
        yield io.BytesIO(self.data[image_id])

    def add_location(self, image_id: str, url: str) -> dict:
        """Glance's answer: the location kept, a queued image active; refused like Glance
        without the store when ``refuse_locations`` holds a message."""
        if getattr(self, "refuse_locations", None):
            raise OpenStackError(self.refuse_locations)
        image = self.images[image_id]
        image["locations"] = [*image.get("locations", []), {"url": url, "metadata": {}}]
        image["status"] = "active"
        return image

    def delete_image(self, image_id: str) -> None:
        self.images.pop(image_id, None)

    def flavor_disks(self) -> dict[str, int]:
        return {key: spec.disk_gb for key, (_, spec) in self.flavors.items()}

    def create_flavor(self, project_id: str, spec: FlavorSpec) -> None:
        assert spec.id not in self.flavors
        self.flavors[spec.id] = (project_id, spec)
