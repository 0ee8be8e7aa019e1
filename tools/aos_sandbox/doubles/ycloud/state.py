"""In-memory state of the Yandex double and the helpers every service shares.

Resources are stored as the SDK's own protobuf messages, so Get/List just copy them out.  The
gRPC server serialises all calls under one lock (see server.py), so handlers need no locking.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from . import config

T = TypeVar("T")
_ID_ALPHABET = "abcdefghijklmnopqrstuv0123456789"
_NAME_RE = re.compile(r"^$|^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
_NAME_FILTER_RE = re.compile(r"""^\s*name\s*=\s*(?:"([^"]*)"|'([^']*)')\s*$""")
GIB = 1024**3


class ApiError(Exception):
    """A gRPC status the way Yandex returns it; turned into context.abort by the server."""

    def __init__(self, code: grpc.StatusCode, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def not_found(kind: str, resource_id: str) -> ApiError:
    return ApiError(grpc.StatusCode.NOT_FOUND, f"{kind} {resource_id} not found")


def invalid(field_name: str, problem: str) -> ApiError:
    return ApiError(
        grpc.StatusCode.INVALID_ARGUMENT, f"Request validation error: {field_name}: {problem}"
    )


def precondition(message: str) -> ApiError:
    return ApiError(grpc.StatusCode.FAILED_PRECONDITION, message)


def new_id(prefix: str) -> str:
    """Yandex ids are 20 characters: a 3-letter service/zone prefix and 17 random ones."""
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(17))


def now() -> Timestamp:
    ts = Timestamp()
    ts.GetCurrentTime()
    ts.nanos = 0
    return ts


@dataclass
class Cloud:
    """Everything the fake cloud knows; one instance per server process."""

    folders: set[str] = field(
        default_factory=lambda: {config.FOLDER_ID, config.STANDARD_IMAGES_FOLDER_ID}
    )
    instances: dict[str, Any] = field(default_factory=dict)
    disks: dict[str, Any] = field(default_factory=dict)
    snapshots: dict[str, Any] = field(default_factory=dict)
    images: dict[str, Any] = field(default_factory=dict)
    networks: dict[str, Any] = field(default_factory=dict)
    subnets: dict[str, Any] = field(default_factory=dict)
    addresses: dict[str, Any] = field(default_factory=dict)
    gateways: dict[str, Any] = field(default_factory=dict)
    route_tables: dict[str, Any] = field(default_factory=dict)
    operations: dict[str, Any] = field(default_factory=dict)
    external_counter: int = 0

    def folder(self, folder_id: str) -> str:
        if not folder_id:
            raise invalid("folder_id", "Field is required")
        if folder_id not in self.folders:
            raise not_found("Folder", folder_id)
        return folder_id

    @staticmethod
    def zone(zone_id: str) -> str:
        if not zone_id:
            raise invalid("zone_id", "Field is required")
        if zone_id not in config.ZONES:
            raise ApiError(grpc.StatusCode.INVALID_ARGUMENT, f"Zone {zone_id} not found")
        return zone_id

    @staticmethod
    def get(table: dict[str, T], kind: str, resource_id: str) -> T:
        if not resource_id:
            raise invalid(f"{kind.lower()}_id", "Field is required")
        if resource_id not in table:
            raise not_found(kind, resource_id)
        return table[resource_id]


def check_name(kind: str, name: str, table: dict[str, Any], folder_id: str) -> None:
    """Yandex resource names: lowercase, up to 63 chars, unique per folder and kind."""
    if not _NAME_RE.match(name):
        raise invalid(
            "name", f"Name {name!r} is invalid: must match [a-z]([-a-z0-9]{{0,61}}[a-z0-9])?"
        )
    if name and any(r.folder_id == folder_id and r.name == name for r in table.values()):
        raise ApiError(grpc.StatusCode.ALREADY_EXISTS, f"{kind} with name {name} already exists")


def listed(
    items: Iterable[T], folder_id: str, name_filter: str, page_size: int, page_token: str
) -> tuple[list[T], str]:
    """Folder scoping, the `name="x"` filter and offset-based paging shared by List calls."""
    wanted = None
    if name_filter:
        match = _NAME_FILTER_RE.match(name_filter)
        if not match:
            raise invalid("filter", f'unsupported filter {name_filter!r} (only name="...")')
        wanted = match.group(1) if match.group(1) is not None else match.group(2)
    selected = [
        item
        for item in items
        if item.folder_id == folder_id and (wanted is None or item.name == wanted)  # type: ignore[attr-defined]
    ]
    return page(selected, page_size, page_token)


def page(items: Sequence[T], page_size: int, page_token: str) -> tuple[list[T], str]:
    try:
        start = int(page_token) if page_token else 0
    except ValueError:
        raise invalid("page_token", "invalid page token") from None
    size = page_size or 1000
    if size < 0 or size > 1000:
        raise invalid("page_size", "must be between 0 and 1000")
    chunk = list(items[start : start + size])
    next_token = str(start + size) if start + size < len(items) else ""
    return chunk, next_token


def clone(message: T) -> T:
    """Copy of a stored message, so replies never share objects with the state."""
    copy = type(message)()  # type: ignore[call-arg]
    copy.CopyFrom(message)  # type: ignore[attr-defined]
    return copy
