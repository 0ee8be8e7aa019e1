"""What the sandbox's Yandex double holds in its folder's VPC, read with the unmodified SDK
and the double's service-account key, as the functional tests compare it with the
correspondence table."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from yandex.cloud.compute.v1 import image_service_pb2, instance_service_pb2
from yandex.cloud.compute.v1.image_service_pb2_grpc import ImageServiceStub
from yandex.cloud.compute.v1.instance_service_pb2_grpc import InstanceServiceStub
from yandex.cloud.vpc.v1 import (
    address_pb2,
    address_service_pb2,
    gateway_service_pb2,
    network_service_pb2,
    route_table_service_pb2,
    subnet_service_pb2,
)
from yandex.cloud.vpc.v1.address_service_pb2_grpc import AddressServiceStub
from yandex.cloud.vpc.v1.gateway_service_pb2_grpc import GatewayServiceStub
from yandex.cloud.vpc.v1.network_service_pb2_grpc import NetworkServiceStub
from yandex.cloud.vpc.v1.route_table_service_pb2_grpc import RouteTableServiceStub
from yandex.cloud.vpc.v1.subnet_service_pb2_grpc import SubnetServiceStub

from clouds_drivers.providers import yandex
from clouds_drivers.providers.base import Account


class YandexVpc:
    """The double's folder: its VPC objects, and the service-account key to bind a project."""

    def __init__(self, double: dict[str, Any]) -> None:
        self.double = double
        self.key = json.loads(Path(double["service_account_key_file"]).read_text())
        self.folder = double["folder_id"]
        provider = yandex.YandexProvider(yandex.Settings(
            endpoint=double["endpoint"],
            root_certificates=Path(double["root_certificates_file"]).read_bytes(), timeout=10))
        self.sdk = provider.sdk_for(Account(
            "yandex", double["zone"], None,
            {"service_account_id": self.key["service_account_id"], "key_id": self.key["id"],
             "private_key": self.key["private_key"]}, {"folder_id": self.folder}))

    def bind_args(self, project: str, key_file: Path) -> list[str]:
        """``openstack aos clouds add yandex`` for the project, as the guide writes it."""
        key_file.write_text(self.key["private_key"])
        return ["aos", "clouds", "add", "yandex", "--project", project,
                "--service-account-id", self.key["service_account_id"], "--private-key",
                str(key_file), "--key-id", self.key["id"], "--folder-id", self.folder,
                "--az", self.double["zone"]]

    def _list(self, stub: Any, request: Any, field: str) -> list[Any]:
        return list(getattr(self.sdk.client(stub).List(request(folder_id=self.folder,
                                                                page_size=1000)), field))

    def listing(self) -> dict[str, list[Any]]:
        return {
            "networks": self._list(NetworkServiceStub,
                                   network_service_pb2.ListNetworksRequest, "networks"),
            "subnets": self._list(SubnetServiceStub, subnet_service_pb2.ListSubnetsRequest,
                                  "subnets"),
            "gateways": self._list(GatewayServiceStub, gateway_service_pb2.ListGatewaysRequest,
                                   "gateways"),
            "route_tables": self._list(RouteTableServiceStub,
                                       route_table_service_pb2.ListRouteTablesRequest,
                                       "route_tables"),
        }

    def everything(self) -> dict[str, set[str]]:
        """Ids of every VPC object of the folder (any project or none)."""
        return {kind: {item.id for item in items} for kind, items in self.listing().items()}

    def state(self, project_id: str) -> dict[str, Any]:
        """The project's objects by their OpenStack ids (labels), and how they are linked:
        subnets (cidr, zone, network, router whose gateway routes it), routers (networks
        they route), routes (network → [(prefix, router)])."""
        found = self.listing()

        def mine(item: Any) -> bool:
            return item.labels.get("openstack-project") == project_id.lower()

        def os_id(item: Any) -> str:
            return item.labels["openstack-id"]

        nets = {n.id: os_id(n) for n in found["networks"] if mine(n)}
        routers = {g.id: os_id(g) for g in found["gateways"] if mine(g)}
        tables = {t.id: t for t in found["route_tables"]}
        routes: dict[str, list[tuple[str, str]]] = {n: [] for n in nets.values()}
        routed: dict[str, list[str]] = {r: [] for r in routers.values()}
        for table in tables.values():
            for route in table.static_routes:
                router = routers.get(route.gateway_id, route.gateway_id)
                routes.setdefault(nets.get(table.network_id, table.network_id), []).append(
                    (route.destination_prefix, router))
                if route.gateway_id in routers:
                    routed[router].append(nets.get(table.network_id, table.network_id))
        subnets = {}
        for s in found["subnets"]:
            if not mine(s):
                continue
            table = tables.get(s.route_table_id)
            via = sorted({routers.get(r.gateway_id, r.gateway_id)
                          for r in table.static_routes}) if table else []
            subnets[os_id(s)] = (list(s.v4_cidr_blocks)[0], s.zone_id,
                                 nets.get(s.network_id, s.network_id), via)
        return {"networks": set(nets.values()), "subnets": subnets, "routers": routed,
                "routes": {k: sorted(v) for k, v in routes.items()}}

    @contextlib.contextmanager
    def reserved_address(self) -> Iterator[str]:
        """A static public address reserved in the folder (the operator's pool); released
        after."""
        api = self.sdk.client(AddressServiceStub)
        made = self.sdk.wait_operation_and_get_result(
            api.Create(address_service_pb2.CreateAddressRequest(
                folder_id=self.folder,
                external_ipv4_address_spec=address_service_pb2.ExternalIpv4AddressSpec(
                    zone_id=self.double["zone"]))),
            response_type=address_pb2.Address, timeout=30).response
        try:
            yield made.external_ipv4_address.address
        finally:
            with contextlib.suppress(Exception):
                self.sdk.wait_operation_and_get_result(
                    api.Delete(address_service_pb2.DeleteAddressRequest(address_id=made.id)),
                    timeout=30)

    def address(self, value: str) -> Any:
        return self.sdk.client(AddressServiceStub).GetByValue(
            address_service_pb2.GetAddressByValueRequest(external_ipv4_address=value))

    def instances(self, server_id: str) -> list[Any]:
        """The folder's instances labelled with the OpenStack server id."""
        listed = self.sdk.client(InstanceServiceStub).List(
            instance_service_pb2.ListInstancesRequest(folder_id=self.folder, page_size=1000))
        return [i for i in listed.instances if i.labels.get("openstack-id") == server_id]

    def image(self, image_id: str) -> Any:
        return self.sdk.client(ImageServiceStub).Get(
            image_service_pb2.GetImageRequest(image_id=image_id), timeout=10)

    def delete_image(self, image_id: str) -> None:
        operation = self.sdk.client(ImageServiceStub).Delete(
            image_service_pb2.DeleteImageRequest(image_id=image_id), timeout=10)
        self.sdk.wait_operation_and_get_result(operation, timeout=30)
