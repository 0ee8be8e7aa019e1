"""ML2 mechanism driver ``aws``: the networks of cloud-bound projects as VPCs and subnets.

The spec names only ``aws``; the same driver serves Yandex-bound projects (a Yandex network
and its subnets) through the project's provider, so ml2_conf.ini stays as the spec writes it.

Rows of the spec's table: network create/delete → nothing; subnet create → a VPC with the
subnet's /16 (one per network, made with its first subnet) and the subnet in the project's
zone (or the ``subnet_az`` one); subnet delete → the subnet, and the VPC with its last one.
Refusals are decided in precommit (inside Neutron's transaction: nothing is created); cloud
calls run in postcommit for creates (ML2 deletes the subnet when they fail) and in precommit
for deletes (a cloud failure keeps the subnet, so both sides still agree). Projects bound to
no cloud are left to the other mechanism drivers. Binds no ports.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from neutron_lib.plugins.ml2 import api
from oslo_config import cfg

from clouds_drivers.neutron import decide
from clouds_drivers.neutron.cloud import CloudRefused, NeutronCloud, neutron_errors
from clouds_drivers.neutron.extensions.subnet_az import AZ
from clouds_drivers.providers.networks import CloudNetworks
from clouds_drivers.tags import named_tags

LOG = logging.getLogger(__name__)


class AwsMechanismDriver(api.MechanismDriver):
    cloud: NeutronCloud

    def initialize(self) -> None:
        self.cloud = NeutronCloud(cfg.CONF)

    # --- networks: refusals only --------------------------------------------------------

    def create_network_precommit(self, context: Any) -> None:
        network = context.current
        if not decide.is_provider_network(context.network_segments,
                                          cfg.CONF.ml2.project_network_types):
            return
        project = self.cloud.cloud_project(network["project_id"])
        if project is not None:
            raise CloudRefused(reason=f"provider networks are not supported in "
                               f"{self.cloud.rules(project).cloud}-backed projects: create a "
                               "project network (no --provider-* options)")

    # --- subnets ------------------------------------------------------------------------

    def create_subnet_precommit(self, context: Any) -> None:
        subnet = context.current
        project = self.cloud.cloud_project(context.network.current["project_id"])
        if project is None:
            return
        rules = self.cloud.rules(project)
        with neutron_errors(rules.cloud):
            vpc_cidr = decide.check_subnet(subnet["cidr"], subnet["ip_version"],
                                           subnet.get("allocation_pools") or [], rules)
            network = self.cloud.clouds.lookup(project.project_id, "network",
                                               subnet["network_id"])
            decide.check_same_vpc((network or {}).get("data", {}).get("cidr"), vpc_cidr,
                                  rules)

    def create_subnet_postcommit(self, context: Any) -> None:
        subnet = context.current
        project_id = context.network.current["project_id"]
        project = self.cloud.cloud_project(project_id)
        if project is None:
            return
        rules = self.cloud.rules(project)
        nets = self.cloud.networks(project)
        clouds = self.cloud.clouds
        network_id = subnet["network_id"]
        vpc_cidr = decide.vpc_cidr(subnet["cidr"])
        zone = decide.subnet_zone(subnet.get(AZ), project.zone)
        made: list[tuple[str, str]] = []  # (kind, cloud id) to undo on failure
        with neutron_errors(rules.cloud):
            if subnet.get(AZ):
                decide.check_zone(zone, nets.zones(), rules)
            try:
                network = clouds.lookup(project_id, "network", network_id)
                if network is None:
                    vpc_id = nets.create_vpc(vpc_cidr, named_tags("network", network_id,
                                                                    project_id))
                    made.append(("network", vpc_id))
                    clouds.record(project_id, "network", network_id, vpc_id,
                                  {"cidr": vpc_cidr})
                else:
                    vpc_id = network["cloud_resource_id"]
                cloud_subnet = nets.create_subnet(vpc_id, subnet["cidr"], zone,
                                                  named_tags("subnet", subnet["id"],
                                                              project_id))
                made.append(("subnet", cloud_subnet))
                clouds.record(project_id, "subnet", subnet["id"], cloud_subnet,
                              {"vpc_id": vpc_id, "availability_zone": zone})
            except Exception:
                self._undo(nets, project_id, network_id, made)
                raise
        LOG.info("subnet %s of project %s is %s in %s (%s)", subnet["id"], project_id,
                 cloud_subnet, vpc_id, zone)

    def _undo(self, nets: CloudNetworks, project_id: str, network_id: str,
              made: list[tuple[str, str]]) -> None:
        """Best effort: remove what this failed create made, newest first."""
        for kind, cloud_id in reversed(made):
            with contextlib.suppress(Exception):
                if kind == "subnet":
                    nets.delete_subnet(cloud_id)
                else:
                    nets.delete_vpc(cloud_id)
                    self.cloud.clouds.forget(project_id, "network", network_id)

    def update_subnet_precommit(self, context: Any) -> None:
        """New allocation pools obey the same rule as at creation (the cloud keeps the
        first addresses)."""
        subnet, original = context.current, context.original
        if subnet.get("allocation_pools") == original.get("allocation_pools"):
            return
        project = self.cloud.cloud_project(subnet["project_id"])
        if project is None:
            return
        rules = self.cloud.rules(project)
        with neutron_errors(rules.cloud):
            decide.check_subnet(subnet["cidr"], subnet["ip_version"],
                                subnet.get("allocation_pools") or [], rules)

    def delete_subnet_precommit(self, context: Any) -> None:
        subnet = context.current
        project = self.cloud.cloud_project(subnet["project_id"])
        if project is None:
            return
        project_id, clouds = project.project_id, self.cloud.clouds
        with neutron_errors(self.cloud.rules(project).cloud):
            mapping = clouds.lookup(project_id, "subnet", subnet["id"])
            if mapping is None:
                return
            nets = self.cloud.networks(project)
            nets.delete_subnet(mapping["cloud_resource_id"])
            clouds.forget(project_id, "subnet", subnet["id"])
            vpc_id = mapping["data"].get("vpc_id")
            if vpc_id and not nets.subnets_of(vpc_id):
                nets.delete_vpc(vpc_id)
                clouds.forget(project_id, "network", subnet["network_id"])
        LOG.info("subnet %s of project %s deleted from %s", subnet["id"], project_id,
                 project.provider)
