"""Availability zones of the Yandex double (read-only, fixed list)."""

from __future__ import annotations

from yandex.cloud.compute.v1 import zone_pb2, zone_service_pb2, zone_service_pb2_grpc

from . import config
from .state import not_found, page


def _zone(zone_id: str) -> zone_pb2.Zone:
    return zone_pb2.Zone(id=zone_id, region_id=config.REGION, status=zone_pb2.Zone.UP)


class ZoneService(zone_service_pb2_grpc.ZoneServiceServicer):
    def Get(self, request, context):  # noqa: N802 - gRPC method names
        if request.zone_id not in config.ZONES:
            raise not_found("Zone", request.zone_id)
        return _zone(request.zone_id)

    def List(self, request, context):  # noqa: N802
        items, token = page([_zone(z) for z in config.ZONES], request.page_size, request.page_token)
        return zone_service_pb2.ListZonesResponse(zones=items, next_page_token=token)
