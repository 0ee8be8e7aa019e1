"""The tags every driver puts on what it creates in a cloud: which OpenStack object it is."""

from __future__ import annotations

TAG_ID = "openstack:id"
TAG_KIND = "openstack:kind"
TAG_PROJECT = "openstack:project"


def openstack_tags(kind: str, openstack_id: str, project_id: str) -> dict[str, str]:
    return {TAG_ID: openstack_id, TAG_KIND: kind, TAG_PROJECT: project_id}
