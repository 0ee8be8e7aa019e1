"""The marks shared by the Clouds service and the drivers: the tags every driver puts on what
it creates in a cloud (which OpenStack object it is), and the Glance properties and Nova extra
specs with which a registration names the cloud object it stands for."""

from __future__ import annotations

TAG_ID = "openstack:id"
TAG_KIND = "openstack:kind"
TAG_PROJECT = "openstack:project"

#: Set by ``openstack aos clouds images register`` / ``flavors register``.
IMAGE_CLOUD_PROPERTY = "aos_cloud"
IMAGE_ID_PROPERTY = "aos_cloud_image_id"
FLAVOR_CLOUD_SPEC = "aos:cloud"
FLAVOR_TYPE_SPEC = "aos:cloud_instance_type"


def openstack_tags(kind: str, openstack_id: str, project_id: str) -> dict[str, str]:
    return {TAG_ID: openstack_id, TAG_KIND: kind, TAG_PROJECT: project_id}


def named_tags(kind: str, openstack_id: str, project_id: str) -> dict[str, str]:
    """openstack_tags plus a ``Name`` (what the AWS console shows)."""
    return {**openstack_tags(kind, openstack_id, project_id),
            "Name": f"openstack-{kind}-{openstack_id}"}
