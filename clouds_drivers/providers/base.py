"""The contract every public-cloud provider fulfils, over plain data.

The Clouds API and the drivers inside Nova/Neutron/Cinder/Glance share these providers, so
this package imports nothing of Flask, Celery, SQLAlchemy or the services.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class CloudError(Exception):
    """The cloud refused or could not be reached; one line an operator can act on.

    ``field`` names the part of the caller's input that is wrong (``access_key``, ``region``,
    ``private_key``…) when the cloud's answer says so; ``request_id`` is the cloud's own id of
    the failed request, what its support asks for.
    """

    def __init__(self, message: str, *, field: str | None = None,
                 request_id: str | None = None, code: str | None = None,
                 not_found: bool = False) -> None:
        self.message = message
        self.field = field
        self.request_id = request_id
        self.code = code
        self.not_found = not_found
        super().__init__(str(self))

    def __str__(self) -> str:
        suffix = f" (request id {self.request_id})" if self.request_id else ""
        return f"{self.message}{suffix}"


@dataclass(frozen=True)
class Account:
    """One cloud account as the provider needs it: where, and the long-term secret.

    ``secrets`` holds the credentials in clear: build an Account only where they are used.
    """

    provider: str
    zone: str
    region: str | None = None
    secrets: dict[str, str] = field(default_factory=dict, repr=False)
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Identity:
    """Who the credentials belong to, as the cloud says."""

    principal: str
    details: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ShortLivedCredentials:
    """What a driver uses instead of the account's secret; ``secrets`` expire at ``expires_at``."""

    provider: str
    expires_at: datetime
    secrets: dict[str, str] = field(repr=False)


@dataclass(frozen=True)
class CloudImage:
    id: str
    name: str
    architecture: str
    min_disk_gb: int
    description: str = ""


@dataclass(frozen=True)
class InstanceType:
    """A machine size the cloud offers in the account's zone."""

    name: str
    vcpus: int
    ram_mb: int
    architectures: tuple[str, ...] = ()
    details: dict[str, str] = field(default_factory=dict)


class Provider(abc.ABC):
    """One public cloud. Every call has a timeout; every failure is a CloudError."""

    name: str

    @abc.abstractmethod
    def validate(self, account: Account) -> Identity:
        """Prove the credentials work and the account's region/folder and zone exist."""

    @abc.abstractmethod
    def issue_credentials(self, account: Account) -> ShortLivedCredentials:
        """Temporary credentials for drivers, so they never hold the long-term secret."""

    @abc.abstractmethod
    def describe_image(self, account: Account, image_id: str) -> CloudImage:
        """The cloud image ``image_id``; CloudError(not_found=True) when there is none."""

    @abc.abstractmethod
    def delete_image(self, account: Account, image_id: str) -> None:
        """Delete a cloud image this system made (a server snapshot) and its disk snapshots;
        one already gone is not an error."""

    @abc.abstractmethod
    def instance_types(self, account: Account) -> list[InstanceType]:
        """Machine sizes offered in the account's zone, sorted by name."""

    @abc.abstractmethod
    def existing(self, account: Account, kind: str) -> set[str] | None:
        """Ids of the account's live cloud objects of a resource-map ``kind`` (listed in
        pages, not one call per object); None when this cloud has no such kind."""


def gib_ceil(size_bytes: int) -> int:
    return -(-size_bytes // 1024**3)
