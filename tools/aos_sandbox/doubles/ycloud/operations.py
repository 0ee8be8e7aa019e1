"""Operations of the Yandex double: every mutating call finishes at once.

The SDK waiter polls OperationService.Get and sleeps 1 s before each extra poll, so an
operation that is already `done` on the first Get makes `wait_operation_and_get_result`
return immediately with the packed response and metadata.
"""

from __future__ import annotations

from google.protobuf.empty_pb2 import Empty
from google.protobuf.message import Message
from yandex.cloud.operation import operation_service_pb2_grpc
from yandex.cloud.operation.operation_pb2 import Operation

from . import config
from .state import Cloud, clone, new_id, now


def finished(
    cloud: Cloud,
    description: str,
    metadata: Message,
    response: Message | None = None,
    id_prefix: str = "fhm",
) -> Operation:
    """Record a completed operation carrying `metadata` and `response` (Empty when None)."""
    stamp = now()
    op = Operation(
        id=new_id(id_prefix),
        description=description,
        created_at=stamp,
        modified_at=stamp,
        created_by=config.SERVICE_ACCOUNT_ID,
        done=True,
    )
    op.metadata.Pack(metadata)
    op.response.Pack(response if response is not None else Empty())
    cloud.operations[op.id] = op
    return clone(op)


class OperationService(operation_service_pb2_grpc.OperationServiceServicer):
    def __init__(self, cloud: Cloud):
        self.cloud = cloud

    def Get(self, request, context):  # noqa: N802 - gRPC method names
        return clone(self.cloud.get(self.cloud.operations, "Operation", request.operation_id))

    def Cancel(self, request, context):  # noqa: N802
        # Everything is done already; Yandex returns the operation unchanged then.
        return self.Get(request, context)
