"""Endpoint discovery of the Yandex double: every service the SDK knows lives at this server.

The SDK resolves each service id (compute, vpc, operation, iam, ...) through
ApiEndpointService.List before its first call, so the answer must name all of them; services
the double does not implement then fail fast with UNIMPLEMENTED instead of a lookup error.
"""

from __future__ import annotations

from yandex.cloud.endpoint import (
    api_endpoint_pb2,
    api_endpoint_service_pb2,
    api_endpoint_service_pb2_grpc,
)

from .state import not_found, page

_ALWAYS = (
    "iam",
    "endpoint",
    "operation",
    "compute",
    "vpc",
    "resource-manager",
    "storage",
    "serialssh",
)


def service_ids() -> list[str]:
    """Every service id the installed SDK may ask for."""
    try:
        from yandexcloud._sdk import _supported_modules

        known = [service for _, service in _supported_modules]
    except ImportError:  # private SDK detail; the fixed list covers what the doubles serve
        known = []
    return sorted(set(known) | set(_ALWAYS))


class ApiEndpointService(api_endpoint_service_pb2_grpc.ApiEndpointServiceServicer):
    def __init__(self, address: str):
        self.endpoints = [
            api_endpoint_pb2.ApiEndpoint(id=sid, address=address) for sid in service_ids()
        ]

    def Get(self, request, context):  # noqa: N802 - gRPC method names
        for endpoint in self.endpoints:
            if endpoint.id == request.api_endpoint_id:
                return endpoint
        raise not_found("Api endpoint", request.api_endpoint_id)

    def List(self, request, context):  # noqa: N802
        items, token = page(self.endpoints, request.page_size, request.page_token)
        return api_endpoint_service_pb2.ListApiEndpointsResponse(
            endpoints=items, next_page_token=token
        )
