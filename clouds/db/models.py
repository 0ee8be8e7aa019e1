"""Clouds tables (created by the migrations in ``migrations/versions``)."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from aos.db import Timestamp


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: Timestamp}


class Cloud(Base):
    """The public-cloud account of one OpenStack project.

    ``credentials`` and ``session_credentials`` hold SecretBox tokens, never clear text;
    ``options`` is JSON (e.g. Yandex's folder id).
    """

    __tablename__ = "clouds"
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    provider: Mapped[str] = mapped_column(sa.String(16))
    region: Mapped[str | None] = mapped_column(sa.String(64))
    availability_zone: Mapped[str] = mapped_column(sa.String(64))
    credentials: Mapped[str] = mapped_column(sa.Text)
    options: Mapped[str | None] = mapped_column(sa.Text)
    session_credentials: Mapped[str | None] = mapped_column(sa.Text)
    session_expires_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Resource(Base):
    """An OpenStack object and the cloud object that stands for it.

    ``drift`` is what the last reconcile found wrong with the cloud object ("missing in the
    cloud"), ``drift_since`` when it was first found; both clear once the object is back.
    """

    __tablename__ = "resources"
    __table_args__ = (
        sa.UniqueConstraint("cloud_id", "kind", "openstack_id", name="uq_resources_mapping"),
        sa.Index("ix_resources_cloud_resource", "cloud_id", "kind", "cloud_resource_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    cloud_id: Mapped[int] = mapped_column(sa.ForeignKey("clouds.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(32))
    openstack_id: Mapped[str] = mapped_column(sa.String(64))
    cloud_resource_id: Mapped[str] = mapped_column(sa.String(255))
    data: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    drift: Mapped[str | None] = mapped_column(sa.String(64))
    drift_since: Mapped[datetime | None] = mapped_column()


class ImageUpload(Base):
    """A Glance image on its way to the project's cloud; one per image and account.

    ``state`` goes pending → uploading → importing → registering → done, or failed (a new
    request starts a failed one again); ``import_task_id`` lets a restarted worker poll the
    cloud's import instead of starting another. ``owner`` holds it until ``lease_until`` (on
    the database's clock): a message delivered twice never runs one upload twice at once.
    """

    __tablename__ = "image_uploads"
    __table_args__ = (sa.UniqueConstraint("cloud_id", "image_id", name="uq_image_uploads_image"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    cloud_id: Mapped[int] = mapped_column(sa.ForeignKey("clouds.id", ondelete="CASCADE"))
    image_id: Mapped[str] = mapped_column(sa.String(64))
    state: Mapped[str] = mapped_column(sa.String(16))
    size: Mapped[int] = mapped_column(sa.BigInteger)
    bytes_done: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    import_progress: Mapped[int] = mapped_column(default=0)
    import_task_id: Mapped[str | None] = mapped_column(sa.String(64))
    cloud_image_id: Mapped[str | None] = mapped_column(sa.String(255))
    glance_image_id: Mapped[str | None] = mapped_column(sa.String(64))
    error: Mapped[str | None] = mapped_column(sa.Text)
    owner: Mapped[str | None] = mapped_column(sa.String(128))
    lease_until: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
