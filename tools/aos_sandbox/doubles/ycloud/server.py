"""Assembles the Yandex double: servicers, auth/error interceptor and a TLS gRPC server."""

from __future__ import annotations

import logging
import threading
from concurrent import futures
from pathlib import Path

import grpc
from yandex.cloud.compute.v1 import (
    disk_service_pb2_grpc,
    image_service_pb2_grpc,
    instance_service_pb2_grpc,
    snapshot_service_pb2_grpc,
    zone_service_pb2_grpc,
)
from yandex.cloud.endpoint import api_endpoint_service_pb2_grpc
from yandex.cloud.iam.v1 import iam_token_service_pb2_grpc
from yandex.cloud.operation import operation_service_pb2_grpc
from yandex.cloud.vpc.v1 import (
    address_service_pb2_grpc,
    gateway_service_pb2_grpc,
    network_service_pb2_grpc,
    route_table_service_pb2_grpc,
    subnet_service_pb2_grpc,
)

from . import credentials
from .discovery import ApiEndpointService
from .disks import DiskService
from .iam import IamTokenService
from .images import ImageService, seed_images
from .instances import InstanceService
from .operations import OperationService
from .routing import GatewayService, RouteTableService
from .snapshots import SnapshotService
from .state import ApiError, Cloud
from .vpc import AddressService, NetworkService, SubnetService
from .zones import ZoneService

log = logging.getLogger("aos.doubles.yandex")
# Called before a token exists, exactly as the SDK's auth plugin skips them.
UNAUTHENTICATED_SERVICES = (
    "/yandex.cloud.iam.v1.IamTokenService/",
    "/yandex.cloud.endpoint.ApiEndpointService/",
)


class Gatekeeper(grpc.ServerInterceptor):
    """Checks the IAM token, serialises calls and maps exceptions to statuses.

    Unexpected exceptions become UNKNOWN, never INTERNAL/UNAVAILABLE: the SDK retries those
    for minutes, which would turn a bug in the double into a hung test.
    """

    def __init__(self, iam: IamTokenService):
        self.iam = iam
        self.lock = threading.Lock()

    def intercept_service(self, continuation, handler_call_details):
        handler = continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        method = handler_call_details.method
        metadata = dict(handler_call_details.invocation_metadata or ())
        inner = handler.unary_unary

        def guarded(request, context):
            if not method.startswith(UNAUTHENTICATED_SERVICES):
                token = metadata.get("authorization", "").removeprefix("Bearer ").strip()
                if not self.iam.is_valid(token):
                    context.abort(grpc.StatusCode.UNAUTHENTICATED, "The token is invalid")
            try:
                with self.lock:
                    response = inner(request, context)
            except ApiError as err:
                log.info("%s -> %s: %s", method, err.code.name, err.message)
                context.abort(err.code, err.message)
            except Exception as err:  # a bug in the double, reported without triggering retries
                log.exception("%s failed", method)
                context.abort(
                    grpc.StatusCode.UNKNOWN, f"yandex double bug: {type(err).__name__}: {err}"
                )
            log.info("%s -> OK", method)
            return response

        return grpc.unary_unary_rpc_method_handler(
            guarded,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


def build_server(state_dir: Path, host: str, port: int) -> grpc.Server:
    """A started-ready (not yet started) server with every service registered on host:port."""
    cert_pem, key_pem = credentials.ensure_tls(state_dir, host)
    iam = IamTokenService()
    iam.register_key(credentials.ensure_service_account_key(state_dir))
    cloud = Cloud()
    seed_images(cloud)

    # No SO_REUSEPORT: a second double on the same port must fail, not silently share it.
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=16),
        interceptors=[Gatekeeper(iam)],
        options=[("grpc.so_reuseport", 0)],
    )
    address = f"{host}:{port}"
    registrations = [
        (
            api_endpoint_service_pb2_grpc.add_ApiEndpointServiceServicer_to_server,
            ApiEndpointService(address),
        ),
        (iam_token_service_pb2_grpc.add_IamTokenServiceServicer_to_server, iam),
        (
            operation_service_pb2_grpc.add_OperationServiceServicer_to_server,
            OperationService(cloud),
        ),
        (instance_service_pb2_grpc.add_InstanceServiceServicer_to_server, InstanceService(cloud)),
        (disk_service_pb2_grpc.add_DiskServiceServicer_to_server, DiskService(cloud)),
        (image_service_pb2_grpc.add_ImageServiceServicer_to_server, ImageService(cloud)),
        (snapshot_service_pb2_grpc.add_SnapshotServiceServicer_to_server,
         SnapshotService(cloud)),
        (zone_service_pb2_grpc.add_ZoneServiceServicer_to_server, ZoneService()),
        (network_service_pb2_grpc.add_NetworkServiceServicer_to_server, NetworkService(cloud)),
        (subnet_service_pb2_grpc.add_SubnetServiceServicer_to_server, SubnetService(cloud)),
        (address_service_pb2_grpc.add_AddressServiceServicer_to_server, AddressService(cloud)),
        (gateway_service_pb2_grpc.add_GatewayServiceServicer_to_server, GatewayService(cloud)),
        (route_table_service_pb2_grpc.add_RouteTableServiceServicer_to_server,
         RouteTableService(cloud)),
    ]
    for add, servicer in registrations:
        add(servicer, server)
    server_credentials = grpc.ssl_server_credentials([(key_pem, cert_pem)])
    if server.add_secure_port(address, server_credentials) == 0:
        raise OSError(f"cannot bind {address}")
    return server
