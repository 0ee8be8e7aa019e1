"""ML2 extension driver ``subnet_az``: carries a subnet's requested zone to the ``aws``
mechanism driver (which creates the cloud subnet there and records it, with its zone, in the
Clouds resource map); later reads show the zone the map holds (``subnet_zones``)."""

from __future__ import annotations

from typing import Any

from neutron_lib.api import validators
from neutron_lib.plugins.ml2 import api
from oslo_config import cfg

from clouds_drivers import service_conf
from clouds_drivers.neutron.extensions.subnet_az import ALIAS, AZ
from clouds_drivers.neutron.subnet_zones import SubnetZones


class SubnetAzExtensionDriver(api.ExtensionDriver):
    _supported_extension_alias = ALIAS

    zones: SubnetZones

    def initialize(self) -> None:
        self.zones = SubnetZones(service_conf.clouds_client(cfg.CONF))

    @property
    def extension_alias(self) -> str:
        return ALIAS

    def process_create_subnet(self, plugin_context: Any, data: dict[str, Any],
                              result: dict[str, Any]) -> None:
        value = data.get(AZ)
        result[AZ] = value if validators.is_attr_set(value) else None

    def extend_subnet_dict(self, session: Any, base_model: Any, result: dict[str, Any]) -> None:
        """The zone of a subnet of a cloud-bound project (None for other projects)."""
        if result.get(AZ) is None:
            result[AZ] = self.zones.zone(result.get("project_id") or result.get("tenant_id"),
                                         result["id"])
