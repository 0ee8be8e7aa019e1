"""Service plugin ``aws_router``: Neutron's L3 router plugin, plus egress gateways for the
routers of cloud-bound projects (the spec's one name serves AWS and Yandex.Cloud projects;
the words below are AWS's, ``clouds_drivers.providers.yandex_networks`` says what each is on
Yandex).

Rows of the spec's table: router create → an internet gateway, unattached; gateway to
router → nothing; interface to router → the gateway attached to the interface's VPC with a
default route 0.0.0.0/0; interface delete → detached (with the last interface); router delete
→ the gateway deleted; floating IP on a server's port → an Elastic IP with the same address
associated with the server's cloud instance; floating IP deleted or taken off the port (the
port deleted with its server included) → the Elastic IP released. Other projects' routers
get the plain L3 behaviour. A refusal (an
interface in a second VPC) is decided before Neutron changes anything; a cloud failure after
Neutron's change undoes that change, so both sides agree.
"""

from __future__ import annotations

import logging
from typing import Any

from neutron.services.l3_router.l3_router_plugin import L3RouterPlugin
from neutron_lib.db import api as db_api
from oslo_config import cfg
from oslo_utils import excutils

from clouds_drivers.clouds_api import ProjectCloud
from clouds_drivers.neutron import decide
from clouds_drivers.neutron.cloud import NeutronCloud, neutron_errors
from clouds_drivers.tags import named_tags

LOG = logging.getLogger(__name__)


class AwsRouterPlugin(L3RouterPlugin):
    def __init__(self) -> None:
        super().__init__()
        self.cloud = NeutronCloud(cfg.CONF)

    def get_plugin_description(self) -> str:
        return ("L3 routers; routers of cloud-bound projects are AWS internet gateways or "
                "Yandex.Cloud NAT gateways.")

    def _gateway_of(self, context: Any, router_id: str
                    ) -> tuple[ProjectCloud, str] | None:
        """The project's account and the router's internet gateway, if it has one."""
        router = self.get_router(context, router_id, fields=["project_id"])
        project = self.cloud.cloud_project(router["project_id"])
        if project is None:
            return None
        mapping = self.cloud.mapped(project, "router", router_id)
        return (project, mapping["cloud_resource_id"]) if mapping else None

    # --- routers --------------------------------------------------------------------------

    def create_router(self, context: Any, router: dict[str, Any]) -> dict[str, Any]:
        created = super().create_router(context, router)
        try:
            project = self.cloud.cloud_project(created["project_id"])
            if project is None:
                return created
            with neutron_errors(self.cloud.rules(project).cloud):
                nets = self.cloud.networks(project)
                igw = nets.create_internet_gateway(
                    named_tags("router", created["id"], project.project_id))
                try:
                    self.cloud.clouds.record(project.project_id, "router", created["id"], igw)
                except Exception:
                    nets.delete_internet_gateway(igw)
                    raise
        except Exception:
            with excutils.save_and_reraise_exception():
                super().delete_router(context, created["id"])
        LOG.info("router %s of project %s is gateway %s", created["id"],
                 project.project_id, igw)
        return created

    def delete_router(self, context: Any, id: str) -> None:  # noqa: A002 - Neutron's name
        found = self._gateway_of(context, id)
        if found is not None:
            # Neutron's own refusal first (interfaces still attached), then the cloud.
            with db_api.CONTEXT_READER.using(context):
                self._ensure_router_not_in_use(context, id)
            project, igw = found
            with neutron_errors(self.cloud.rules(project).cloud):
                self.cloud.networks(project).delete_internet_gateway(igw)
                self.cloud.clouds.forget(project.project_id, "router", id)
        super().delete_router(context, id)

    # --- floating IPs ---------------------------------------------------------------------

    def _cloud_target(self, context: Any, fip: dict[str, Any]
                      ) -> tuple[ProjectCloud, str, str | None] | None:
        """(account, cloud instance, private IP) of the floating IP's port; None when the
        project is bound to no cloud or the IP is on no port."""
        if not fip.get("port_id"):
            return None
        project = self.cloud.cloud_project(fip["project_id"])
        if project is None:
            return None
        port = self._core_plugin.get_port(context.elevated(), fip["port_id"])
        instance = self.cloud.mapped(project, "instance", port.get("device_id") or "")
        if instance is None:
            cloud = self.cloud.rules(project).cloud
            raise decide.Conflict(f"port {fip['port_id']} belongs to no server in {cloud}: "
                                  f"a floating IP of a {cloud}-backed project goes on a "
                                  "server's port")
        return project, instance["cloud_resource_id"], fip.get("fixed_ip_address")

    def _associate(self, context: Any, fip: dict[str, Any]) -> None:
        with neutron_errors():
            target = self._cloud_target(context, fip)
            if target is None:
                return
            project, instance_id, private_ip = target
            allocation = self.cloud.addresses(project).associate(
                fip["floating_ip_address"], instance_id, private_ip,
                named_tags("floating_ip", fip["id"], project.project_id))
            try:
                self.cloud.clouds.record(project.project_id, "floating_ip", fip["id"],
                                         allocation, {"instance": instance_id})
            except Exception:
                self.cloud.addresses(project).release(allocation, instance_id)
                raise
        LOG.info("floating IP %s is public address %s on %s", fip["id"], allocation,
                 instance_id)

    def _release(self, fip: dict[str, Any]) -> None:
        project = self.cloud.cloud_project(fip["project_id"])
        if project is None:
            return
        with neutron_errors():
            mapping = self.cloud.mapped(project, "floating_ip", fip["id"])
            if mapping is None:
                return
            self.cloud.addresses(project).release(mapping["cloud_resource_id"],
                                                  mapping["data"].get("instance"))
            self.cloud.clouds.forget(project.project_id, "floating_ip", fip["id"])
        LOG.info("floating IP %s: public address %s released", fip["id"],
                 mapping["cloud_resource_id"])

    def create_floatingip(self, context: Any, floatingip: dict[str, Any], *args: Any,
                          **kwargs: Any) -> dict[str, Any]:
        created = super().create_floatingip(context, floatingip, *args, **kwargs)
        try:
            self._associate(context, created)
        except Exception:
            with excutils.save_and_reraise_exception():
                super().delete_floatingip(context, created["id"])
        return created

    def update_floatingip(self, context: Any, id: str,  # noqa: A002 - Neutron's name
                          floatingip: dict[str, Any]) -> dict[str, Any]:
        old = self.get_floatingip(context, id)
        moves = "port_id" in floatingip.get("floatingip", {})
        updated = super().update_floatingip(context, id, floatingip)
        if not moves:
            return updated
        if old.get("port_id"):
            self._release(old)
        if updated.get("port_id"):
            try:
                self._associate(context, updated)
            except Exception:
                with excutils.save_and_reraise_exception():
                    super().update_floatingip(context, id, {"floatingip": {"port_id": None}})
        return updated

    def delete_floatingip(self, context: Any, id: str) -> None:  # noqa: A002
        self._release(self.get_floatingip(context, id))
        super().delete_floatingip(context, id)

    def disassociate_floatingips(self, context: Any, port_id: str, *args: Any,
                                 **kwargs: Any) -> Any:
        for fip in self.get_floatingips(context.elevated(), filters={"port_id": [port_id]}):
            self._release(fip)
        return super().disassociate_floatingips(context, port_id, *args, **kwargs)

    # --- interfaces -----------------------------------------------------------------------

    def _interface_network(self, context: Any, interface_info: dict[str, Any] | None
                           ) -> str | None:
        info = interface_info or {}
        if info.get("port_id"):
            return self._core_plugin.get_port(context, info["port_id"])["network_id"]
        if info.get("subnet_id"):
            return self._core_plugin.get_subnet(context, info["subnet_id"])["network_id"]
        return None  # Neutron refuses it itself

    def add_router_interface(self, context: Any, router_id: str,
                             interface_info: dict[str, Any] | None = None) -> dict[str, Any]:
        found = self._gateway_of(context, router_id)
        if found is None:
            return super().add_router_interface(context, router_id, interface_info)
        project, igw = found
        network_id = self._interface_network(context, interface_info)
        nets = self.cloud.networks(project)
        with neutron_errors():
            vpc = self.cloud.mapped(project, "network", network_id) if network_id else None
            rules = self.cloud.rules(project)
            if network_id and vpc is None:
                raise decide.Conflict(f"network {network_id} has no {rules.cloud} network "
                                      "(no subnet in the cloud): it cannot be an interface "
                                      f"of a router of a {rules.cloud}-backed project")
            vpc_id = vpc["cloud_resource_id"] if vpc else None
            attach = vpc_id is not None and decide.check_gateway_vpc(
                nets.attached_vpcs(igw), vpc_id, rules)
        info = super().add_router_interface(context, router_id, interface_info)
        if attach:
            try:
                with neutron_errors(self.cloud.rules(project).cloud):
                    nets.attach_internet_gateway(igw, vpc_id)
            except Exception:
                with excutils.save_and_reraise_exception():
                    super().remove_router_interface(
                        context, router_id, {"port_id": info["port_id"]})
            LOG.info("gateway %s of router %s attached to %s", igw, router_id, vpc_id)
        return info

    def remove_router_interface(self, context: Any, router_id: str,
                                interface_info: dict[str, Any]) -> dict[str, Any]:
        info = super().remove_router_interface(context, router_id, interface_info)
        found = self._gateway_of(context, router_id)
        if found is None:
            return info
        project, igw = found
        network_id = info.get("network_id")
        owner = self._get_device_owner(context, router_id)
        remaining = self._core_plugin.get_ports(
            context.elevated(), filters={"device_id": [router_id], "device_owner": [owner],
                                         "network_id": [network_id]})
        if remaining or not network_id:
            return info
        with neutron_errors(self.cloud.rules(project).cloud):
            vpc = self.cloud.mapped(project, "network", network_id)
            nets = self.cloud.networks(project)
            if vpc and vpc["cloud_resource_id"] in nets.attached_vpcs(igw):
                nets.detach_internet_gateway(igw, vpc["cloud_resource_id"])
                LOG.info("gateway %s of router %s detached from %s", igw, router_id,
                         vpc["cloud_resource_id"])
        return info

