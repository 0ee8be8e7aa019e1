"""The ``yandex`` store (``enabled_backends = yandex_store:yandex``).

Object Storage speaks S3 and takes the static access key of the spec's options
(``access_key_id``, ``secret_access_key``, ``region_name``); cloud images are read with the
image project's short-lived IAM token from the Clouds API.
"""

from __future__ import annotations

from typing import Any

from oslo_config import cfg

from clouds_drivers import service_conf
from clouds_drivers.glance.store import BUCKET_OPT, CloudStore
from clouds_drivers.glance.uris import YANDEX_REGION
from clouds_drivers.providers import aws, yandex
from clouds_drivers.providers.base import Account, Provider

OBJECT_STORAGE = "https://storage.yandexcloud.net"
OPTIONS = [
    BUCKET_OPT,
    cfg.StrOpt("region_name", default=YANDEX_REGION, help="Object Storage region."),
    cfg.StrOpt("access_key_id", help="Id of the static access key to Object Storage."),
    cfg.StrOpt("secret_access_key", secret=True,
               help="Secret of the static access key to Object Storage."),
    cfg.StrOpt("endpoint", default=OBJECT_STORAGE,
               help="Object Storage URL (another S3 implementation in tests)."),
]


class Store(CloudStore):
    SCHEME = yandex.NAME
    PROVIDER = yandex.NAME
    OPTIONS = OPTIONS
    EXAMPLE_URL = "yandex://<region>/<image id>?project=<id> or yandex://<region>/<bucket>/<key>"

    def configure_add(self) -> None:
        super().configure_add()
        group = self._group()
        self.region = group.region_name
        self._storage = aws.AwsProvider(aws.Settings(endpoint_url=group.endpoint))
        self._key = Account(provider=yandex.NAME, zone="", region=self.region, secrets={
            "access_key": self._required("access_key_id"),
            "secret_key": self._required("secret_access_key")})

    def _provider(self) -> Provider:
        return service_conf.yandex_provider(self.conf)

    def _object_client(self, project_id: str | None, writing: bool = False
                       ) -> tuple[Any, str]:
        return self._storage.client("s3", self._key), self.region

    def _owner_in_uri(self, project_id: str | None) -> str | None:
        return None

