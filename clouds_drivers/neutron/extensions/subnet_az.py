"""API extension ``subnet_az``: a subnet may name its AWS availability zone.

Loaded by Neutron from ``api_extensions_path`` (module name capitalised is the class);
without it a subnet of an AWS-bound project lands in the zone of the project's account.
"""

from __future__ import annotations

from typing import Any

from neutron_lib.api import extensions

ALIAS = "subnet_az"
AZ = "availability_zone"
RESOURCE_ATTRIBUTE_MAP: dict[str, dict[str, Any]] = {
    "subnets": {
        AZ: {"allow_post": True, "allow_put": False, "default": None, "is_visible": True,
             "validate": {"type:string_or_none": 64}},
    },
}


class Subnet_az(extensions.ExtensionDescriptor):  # noqa: N801 - the name Neutron looks for
    @classmethod
    def get_name(cls) -> str:
        return "Subnet availability zone"

    @classmethod
    def get_alias(cls) -> str:
        return ALIAS

    @classmethod
    def get_description(cls) -> str:
        return "The public-cloud availability zone of a subnet of a cloud-bound project."

    @classmethod
    def get_updated(cls) -> str:
        return "2026-12-01T00:00:00-00:00"

    def get_extended_resources(self, version: str) -> dict[str, Any]:
        return RESOURCE_ATTRIBUTE_MAP if version == "2.0" else {}
