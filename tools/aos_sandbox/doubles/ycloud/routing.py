"""Egress routing of the Yandex double: NAT gateways and route tables.

Yandex's way out to the internet for a network without public addresses is a shared egress
(NAT) gateway named as the next hop of a route table's static route; a subnet uses at most one
route table. The preconditions are Yandex's: a gateway in use by a route table and a route
table in use by a subnet cannot be deleted.
"""

from __future__ import annotations

import ipaddress

from yandex.cloud.vpc.v1 import (
    gateway_pb2,
    gateway_service_pb2,
    gateway_service_pb2_grpc,
    route_table_pb2,
    route_table_service_pb2,
    route_table_service_pb2_grpc,
)

from .operations import finished
from .state import Cloud, check_name, clone, invalid, listed, new_id, now, precondition


class GatewayService(gateway_service_pb2_grpc.GatewayServiceServicer):
    def __init__(self, cloud: Cloud):
        self.cloud = cloud

    def Get(self, request, context):  # noqa: N802 - gRPC method names
        return clone(self.cloud.get(self.cloud.gateways, "Gateway", request.gateway_id))

    def List(self, request, context):  # noqa: N802
        self.cloud.folder(request.folder_id)
        items, token = listed(self.cloud.gateways.values(), request.folder_id, request.filter,
                              request.page_size, request.page_token)
        return gateway_service_pb2.ListGatewaysResponse(gateways=items, next_page_token=token)

    def Create(self, request, context):  # noqa: N802
        folder_id = self.cloud.folder(request.folder_id)
        check_name("Gateway", request.name, self.cloud.gateways, folder_id)
        if not request.HasField("shared_egress_gateway_spec"):
            raise invalid("gateway", "Field is required (shared_egress_gateway_spec)")
        gateway = gateway_pb2.Gateway(
            id=new_id("enp"), folder_id=folder_id, created_at=now(), name=request.name,
            description=request.description, labels=dict(request.labels),
            shared_egress_gateway=gateway_pb2.SharedEgressGateway())
        self.cloud.gateways[gateway.id] = gateway
        meta = gateway_service_pb2.CreateGatewayMetadata(gateway_id=gateway.id)
        return finished(self.cloud, "Create gateway", meta, gateway, "enp")

    def Delete(self, request, context):  # noqa: N802
        self.cloud.get(self.cloud.gateways, "Gateway", request.gateway_id)
        for table in self.cloud.route_tables.values():
            if any(r.gateway_id == request.gateway_id for r in table.static_routes):
                raise precondition(f"Gateway {request.gateway_id} is used by route table "
                                   f"{table.id}")
        del self.cloud.gateways[request.gateway_id]
        meta = gateway_service_pb2.DeleteGatewayMetadata(gateway_id=request.gateway_id)
        return finished(self.cloud, "Delete gateway", meta, None, "enp")


class RouteTableService(route_table_service_pb2_grpc.RouteTableServiceServicer):
    def __init__(self, cloud: Cloud):
        self.cloud = cloud

    def Get(self, request, context):  # noqa: N802 - gRPC method names
        return clone(self.cloud.get(self.cloud.route_tables, "RouteTable",
                                    request.route_table_id))

    def List(self, request, context):  # noqa: N802
        self.cloud.folder(request.folder_id)
        items, token = listed(self.cloud.route_tables.values(), request.folder_id,
                              request.filter, request.page_size, request.page_token)
        return route_table_service_pb2.ListRouteTablesResponse(route_tables=items,
                                                               next_page_token=token)

    def _check_routes(self, routes) -> None:
        for route in routes:
            try:
                ipaddress.IPv4Network(route.destination_prefix)
            except ValueError:
                raise invalid("static_routes.destination_prefix",
                              f"{route.destination_prefix!r} is not an IPv4 CIDR") from None
            if route.gateway_id:
                self.cloud.get(self.cloud.gateways, "Gateway", route.gateway_id)
            elif not route.next_hop_address:
                raise invalid("static_routes.next_hop", "Field is required")

    def Create(self, request, context):  # noqa: N802
        folder_id = self.cloud.folder(request.folder_id)
        check_name("RouteTable", request.name, self.cloud.route_tables, folder_id)
        self.cloud.get(self.cloud.networks, "Network", request.network_id)
        self._check_routes(request.static_routes)
        table = route_table_pb2.RouteTable(
            id=new_id("enp"), folder_id=folder_id, created_at=now(), name=request.name,
            description=request.description, labels=dict(request.labels),
            network_id=request.network_id, static_routes=list(request.static_routes))
        self.cloud.route_tables[table.id] = table
        meta = route_table_service_pb2.CreateRouteTableMetadata(route_table_id=table.id)
        return finished(self.cloud, "Create route table", meta, table, "enp")

    def Delete(self, request, context):  # noqa: N802
        self.cloud.get(self.cloud.route_tables, "RouteTable", request.route_table_id)
        for subnet in self.cloud.subnets.values():
            if subnet.route_table_id == request.route_table_id:
                raise precondition(f"Route table {request.route_table_id} is used by subnet "
                                   f"{subnet.id}")
        del self.cloud.route_tables[request.route_table_id]
        meta = route_table_service_pb2.DeleteRouteTableMetadata(
            route_table_id=request.route_table_id)
        return finished(self.cloud, "Delete route table", meta, None, "enp")
