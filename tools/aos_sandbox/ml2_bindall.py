"""An ML2 mechanism driver that binds every port on any host.

The sandbox runs Neutron without agents, so no real mechanism driver would ever bind a
port and every boot would fail with a binding error. This driver binds the first segment
of any port with vif_type 'ovs', which is all the fake nova driver needs for boot, live
migration and evacuation with real ports.
"""

from __future__ import annotations

from neutron_lib import constants
from neutron_lib.api.definitions import portbindings
from neutron_lib.plugins.ml2 import api


class BindAllMechanismDriver(api.MechanismDriver):
    """Binds any port on any host; knows no agents."""

    def initialize(self) -> None:
        pass

    def bind_port(self, context) -> None:
        for segment in context.segments_to_bind:
            context.set_binding(
                segment[api.ID],
                portbindings.VIF_TYPE_OVS,
                {portbindings.CAP_PORT_FILTER: True},
                status=constants.PORT_STATUS_ACTIVE,
            )
            return

    @property
    def connectivity(self) -> str:
        return portbindings.CONNECTIVITY_L2
