"""ML2 extension driver ``subnet_az``: carries a subnet's requested zone to the ``aws``
mechanism driver (which creates the cloud subnet there and records it in the Clouds
resource map); Neutron's own tables are not extended, so the zone shows in the answer to
the create and in the cloud, not in later GETs."""

from __future__ import annotations

from typing import Any

from neutron_lib.api import validators
from neutron_lib.plugins.ml2 import api

from clouds_drivers.neutron.extensions.subnet_az import ALIAS, AZ


class SubnetAzExtensionDriver(api.ExtensionDriver):
    _supported_extension_alias = ALIAS

    def initialize(self) -> None:
        pass

    @property
    def extension_alias(self) -> str:
        return ALIAS

    def process_create_subnet(self, plugin_context: Any, data: dict[str, Any],
                              result: dict[str, Any]) -> None:
        value = data.get(AZ)
        result[AZ] = value if validators.is_attr_set(value) else None
