"""The ``aws`` store (``enabled_backends = aws_store:aws``).

Its only option is the bucket (spec 000): every call uses the short-lived credentials of the
image's project from the Clouds API, and the account's region; ``[aws] endpoint_url`` of
glance-api.conf reaches another implementation of S3 and EC2 (the sandbox's moto).
"""

from __future__ import annotations

from typing import Any

from clouds_drivers import service_conf
from clouds_drivers.glance.store import BUCKET_OPT, CloudStore
from clouds_drivers.providers import aws
from clouds_drivers.providers.base import Provider


class Store(CloudStore):
    SCHEME = aws.NAME
    PROVIDER = aws.NAME
    OPTIONS = [BUCKET_OPT]
    EXAMPLE_URL = "aws://<region>/<ami id>?project=<id> or aws://<region>/<bucket>/<key>"

    def _provider(self) -> Provider:
        return service_conf.aws_provider(self.conf)

    def _object_client(self, project_id: str | None, writing: bool = False
                       ) -> tuple[Any, str]:
        project = self._project_cloud(project_id, f"reaching bucket {self.bucket}", writing)
        provider = service_conf.aws_provider(self.conf)
        return provider.client("s3", service_conf.account_of(project)), project.region or ""
