"""Reading and writing Clouds state; callers own the transaction (aos.db.transaction).

Secrets arrive here already encrypted: this module never sees credentials in clear.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from aos.db.clock import db_utcnow
from clouds.db.models import Cloud, ImageUpload, Resource

#: What drivers map: OpenStack objects that live in the cloud while the row exists.
RESOURCE_KINDS = ("instance", "volume", "snapshot", "image", "network", "subnet", "router",
                  "floating_ip")
#: What the Clouds API itself registers in OpenStack (nothing of ours lives in the cloud).
REGISTRATION_KINDS = ("registered_image", "flavor")
KINDS = RESOURCE_KINDS + REGISTRATION_KINDS


class NotFound(LookupError):
    pass


class Conflict(Exception):
    pass


# --- accounts -------------------------------------------------------------------------------

def clouds(session: Session, provider: str | None = None) -> list[Cloud]:
    query = sa.select(Cloud).order_by(Cloud.project_id)
    if provider:
        query = query.where(Cloud.provider == provider)
    return list(session.scalars(query))


def find_cloud(session: Session, project_id: str) -> Cloud | None:
    return session.scalar(sa.select(Cloud).where(Cloud.project_id == project_id))


def cloud_of_project(session: Session, project_id: str, label: str | None = None) -> Cloud:
    found = find_cloud(session, project_id)
    if found is None:
        raise NotFound(f"project {label or project_id} has no cloud account")
    return found


def ensure_no_cloud(session: Session, project_id: str, label: str | None = None) -> None:
    existing = find_cloud(session, project_id)
    if existing is not None:
        raise Conflict(f"project {label or project_id} already has a {existing.provider} "
                       "account: delete it first or change it with 'set'")


def add_cloud(session: Session, *, project_id: str, provider: str, region: str | None,
              zone: str, credentials: str, options: dict[str, Any], label: str | None = None
              ) -> Cloud:
    """A new account; Conflict when the project already has one (also under a race)."""
    ensure_no_cloud(session, project_id, label)
    row = Cloud(project_id=project_id, provider=provider, region=region,
                availability_zone=zone, credentials=credentials,
                options=json.dumps(options, sort_keys=True))
    session.add(row)
    try:
        session.flush()
    except sa_exc.IntegrityError:
        raise Conflict(f"project {label or project_id} already has a cloud account") from None
    return row


def options_of(row: Cloud) -> dict[str, Any]:
    return json.loads(row.options) if row.options else {}


def update_cloud(row: Cloud, *, region: str | None, zone: str, credentials: str,
                 options: dict[str, Any]) -> None:
    """New place or keys: the cached short-lived credentials belong to the old ones."""
    row.region = region
    row.availability_zone = zone
    row.credentials = credentials
    row.options = json.dumps(options, sort_keys=True)
    row.session_credentials = None
    row.session_expires_at = None


def delete_cloud(session: Session, row: Cloud) -> None:
    session.execute(sa.delete(Resource).where(Resource.cloud_id == row.id))
    session.delete(row)
    session.flush()


def save_session_credentials(row: Cloud, token: str, expires_at: datetime) -> None:
    row.session_credentials = token
    row.session_expires_at = expires_at


# --- resource map ---------------------------------------------------------------------------

def resource_counts(session: Session, cloud_id: int) -> dict[str, int]:
    rows = session.execute(sa.select(Resource.kind, sa.func.count())
                           .where(Resource.cloud_id == cloud_id).group_by(Resource.kind))
    return {kind: count for kind, count in rows}


def live_resources(session: Session, cloud_id: int) -> dict[str, int]:
    """Counts of mapped objects that live in the cloud (what blocks deleting an account)."""
    return {kind: count for kind, count in resource_counts(session, cloud_id).items()
            if kind in RESOURCE_KINDS}


def record(session: Session, cloud_id: int, kind: str, openstack_id: str,
           cloud_resource_id: str, data: dict[str, Any] | None = None) -> tuple[Resource, bool]:
    """Map ``openstack_id`` to ``cloud_resource_id``; (row, created). Idempotent.

    Mapping an OpenStack object to a second cloud object is a Conflict: one of them would
    be lost track of.
    """
    existing = find_mapping(session, cloud_id, kind, openstack_id)
    if existing is not None:
        if existing.cloud_resource_id != cloud_resource_id:
            raise Conflict(f"{kind} {openstack_id} is already mapped to "
                           f"{existing.cloud_resource_id}, not {cloud_resource_id}")
        if data is not None:
            existing.data = json.dumps(data, sort_keys=True)
        return existing, False
    row = Resource(cloud_id=cloud_id, kind=kind, openstack_id=openstack_id,
                   cloud_resource_id=cloud_resource_id,
                   data=json.dumps(data, sort_keys=True) if data is not None else None)
    session.add(row)
    try:
        session.flush()
    except sa_exc.IntegrityError:
        raise Conflict(f"{kind} {openstack_id} was mapped concurrently") from None
    return row, True


def find_mapping(session: Session, cloud_id: int, kind: str, openstack_id: str
                 ) -> Resource | None:
    return session.scalar(sa.select(Resource).where(
        Resource.cloud_id == cloud_id, Resource.kind == kind,
        Resource.openstack_id == openstack_id))


def mapping(session: Session, cloud_id: int, kind: str, openstack_id: str) -> Resource:
    found = find_mapping(session, cloud_id, kind, openstack_id)
    if found is None:
        raise NotFound(f"no {kind} {openstack_id} in the resource map")
    return found


def find_mapping_of_cloud(session: Session, cloud_id: int, kind: str,
                          cloud_resource_id: str) -> Resource | None:
    return session.scalar(sa.select(Resource).where(
        Resource.cloud_id == cloud_id, Resource.kind == kind,
        Resource.cloud_resource_id == cloud_resource_id).order_by(Resource.id).limit(1))


def mapping_of_cloud_resource(session: Session, cloud_id: int, kind: str,
                              cloud_resource_id: str) -> Resource:
    found = find_mapping_of_cloud(session, cloud_id, kind, cloud_resource_id)
    if found is None:
        raise NotFound(f"no {kind} mapped to cloud resource {cloud_resource_id}")
    return found


def resources(session: Session, cloud_id: int, kind: str | None = None,
              drifted: bool = False) -> list[Resource]:
    query = sa.select(Resource).where(Resource.cloud_id == cloud_id)
    if kind:
        query = query.where(Resource.kind == kind)
    if drifted:
        query = query.where(Resource.drift.is_not(None))
    return list(session.scalars(query.order_by(Resource.kind, Resource.id)))


def mapped_ids(session: Session, cloud_id: int, kinds: tuple[str, ...],
               kind: str | None = None) -> list[tuple[str, str, str]]:
    """(kind, OpenStack id, cloud id) of the mapped rows of ``kinds``: plain rows, no ORM
    objects (a drift check reads the whole map)."""
    query = sa.select(Resource.kind, Resource.openstack_id, Resource.cloud_resource_id).where(
        Resource.cloud_id == cloud_id, Resource.kind.in_(kinds))
    if kind:
        query = query.where(Resource.kind == kind)
    return [tuple(row) for row in session.execute(query)]


def store_drift(session: Session, cloud_id: int, kinds: set[str],
                found: dict[tuple[str, str], str], now: datetime) -> None:
    """The outcome of one check of ``kinds``: rows in ``found`` drift (since the first time
    it was seen), the others of those kinds do not. Two statements plus one per change."""
    if not kinds:
        return
    judged = sa.and_(Resource.cloud_id == cloud_id, Resource.kind.in_(sorted(kinds)))
    drifting = {(kind, openstack_id): reason for (kind, openstack_id), reason in found.items()
                if kind in kinds}
    stored = {(k, o): d for k, o, d in session.execute(
        sa.select(Resource.kind, Resource.openstack_id, Resource.drift)
        .where(judged, Resource.drift.is_not(None)))}
    for kind, openstack_id in set(stored) - set(drifting):
        session.execute(sa.update(Resource).where(
            judged, Resource.kind == kind, Resource.openstack_id == openstack_id)
            .values(drift=None, drift_since=None))
    for (kind, openstack_id), reason in drifting.items():
        if stored.get((kind, openstack_id)) != reason:
            session.execute(sa.update(Resource).where(
                judged, Resource.kind == kind, Resource.openstack_id == openstack_id)
                .values(drift=reason, drift_since=now))
    session.flush()


def forget(session: Session, row: Resource) -> None:
    session.delete(row)
    session.flush()


def data_of(row: Resource) -> dict[str, Any]:
    return json.loads(row.data) if row.data else {}


# --- image uploads --------------------------------------------------------------------------

def find_upload(session: Session, cloud_id: int, image_id: str) -> ImageUpload | None:
    return session.scalar(sa.select(ImageUpload).where(
        ImageUpload.cloud_id == cloud_id, ImageUpload.image_id == image_id))


def upload(session: Session, upload_id: int) -> ImageUpload:
    found = session.get(ImageUpload, upload_id)
    if found is None:
        raise NotFound(f"no image upload {upload_id}")
    return found


def uploads(session: Session, cloud_id: int) -> list[ImageUpload]:
    return list(session.scalars(sa.select(ImageUpload).where(ImageUpload.cloud_id == cloud_id)
                                .order_by(ImageUpload.id)))


def _lease_free(owner: str) -> Any:
    return sa.or_(ImageUpload.owner.is_(None), ImageUpload.owner == owner,
                  ImageUpload.lease_until.is_(None), ImageUpload.lease_until < db_utcnow())


def claim_upload(session: Session, upload_id: int, owner: str, lease_seconds: float) -> bool:
    """Take the upload's lease if it is free, expired or ``owner``'s already (one conditional
    UPDATE: two workers cannot both get it); False while another worker holds it."""
    result = session.execute(sa.update(ImageUpload).where(
        ImageUpload.id == upload_id, _lease_free(owner)).values(
        owner=owner, lease_until=db_utcnow(lease_seconds)))
    return result.rowcount == 1


def save_upload(session: Session, upload_id: int, owner: str, lease_seconds: float | None,
                **values: Any) -> bool:
    """Write ``values`` and extend the lease (None: release it) if ``owner`` still holds it;
    False when another worker took the upload over (nothing written)."""
    lease = {"owner": None, "lease_until": None} if lease_seconds is None else \
        {"lease_until": db_utcnow(lease_seconds)}
    result = session.execute(sa.update(ImageUpload).where(
        ImageUpload.id == upload_id, ImageUpload.owner == owner).values(**lease, **values))
    return result.rowcount == 1


def add_upload(session: Session, cloud_id: int, image_id: str, size: int) -> ImageUpload:
    row = ImageUpload(cloud_id=cloud_id, image_id=image_id, state="pending", size=size,
                      bytes_done=0, import_progress=0)
    session.add(row)
    try:
        session.flush()
    except sa_exc.IntegrityError:
        raise Conflict(f"image {image_id} is being uploaded already") from None
    return row
