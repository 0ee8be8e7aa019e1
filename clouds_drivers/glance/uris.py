"""The location URIs of the cloud stores, as plain data.

Two shapes per store, one scheme per cloud:

- ``aws://us-east-2/ami-0f7919c33c90f5b58?project=<id>``: a cloud image the Clouds service
  registered; Glance holds no data, the location names the image in the cloud.
- ``aws://us-east-2/<bucket>/<key>?project=<id>``: image data uploaded to the store's bucket.

``project`` names the OpenStack project whose cloud account reads the object: Glance hands
the store the caller's context, which is not the owner's when a service (Clouds, Nova) asks.
Kept free of glance_store so the Clouds service builds the same URIs without it.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass

SCHEMES = ("aws", "yandex")
#: Yandex images are global to a folder; its locations name the region like AWS's do.
YANDEX_REGION = "ru-central1"


class BadLocation(ValueError):
    """Not a location of a cloud store; the message says which part is wrong."""


@dataclass(frozen=True)
class CloudLocation:
    scheme: str
    region: str
    cloud_image_id: str | None = None
    bucket: str | None = None
    key: str | None = None
    project_id: str | None = None

    @property
    def is_cloud_image(self) -> bool:
        return self.cloud_image_id is not None

    def uri(self) -> str:
        path = self.cloud_image_id if self.is_cloud_image else f"{self.bucket}/{self.key}"
        query = f"?{urllib.parse.urlencode({'project': self.project_id})}" \
            if self.project_id else ""
        return f"{self.scheme}://{self.region}/{path}{query}"


def cloud_image(scheme: str, region: str, image_id: str, project_id: str) -> CloudLocation:
    return CloudLocation(scheme, region, cloud_image_id=image_id, project_id=project_id)


def stored_object(scheme: str, region: str, bucket: str, key: str,
                  project_id: str | None) -> CloudLocation:
    return CloudLocation(scheme, region, bucket=bucket, key=key, project_id=project_id)


def parse(uri: str) -> CloudLocation:
    pieces = urllib.parse.urlsplit(uri)
    if pieces.scheme not in SCHEMES:
        raise BadLocation(f"{uri}: the scheme is not one of {', '.join(SCHEMES)}")
    if not pieces.netloc or "@" in pieces.netloc:
        raise BadLocation(f"{uri}: expected {pieces.scheme}://<region>/...")
    parts = [p for p in pieces.path.split("/") if p]
    project = urllib.parse.parse_qs(pieces.query).get("project", [None])[0]
    if len(parts) == 1:
        if not project:
            raise BadLocation(f"{uri}: a cloud image location needs "
                              "?project=<OpenStack project id>")
        return cloud_image(pieces.scheme, pieces.netloc, parts[0], project)
    if len(parts) >= 2:
        return stored_object(pieces.scheme, pieces.netloc, parts[0], "/".join(parts[1:]),
                             project)
    raise BadLocation(f"{uri}: expected <region>/<cloud image id> or <region>/<bucket>/<key>")
