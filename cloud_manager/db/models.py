"""CloudManager tables (created by the migrations in ``migrations/versions``)."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from aos.db import Timestamp
from aos.db.clock import db_utcnow


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: Timestamp}


class Node(Base):
    """A compute node as the tracker last saw it."""

    __tablename__ = "nodes"
    id: Mapped[int] = mapped_column(primary_key=True)
    hostname: Mapped[str] = mapped_column(sa.String(255), unique=True)
    state: Mapped[str] = mapped_column(sa.String(32))
    reserve: Mapped[bool] = mapped_column(default=False)
    maintenance: Mapped[bool] = mapped_column(default=False)
    failed_checks: Mapped[int] = mapped_column(default=0)
    ok_checks: Mapped[int] = mapped_column(default=0)
    state_reason: Mapped[str | None] = mapped_column(sa.Text)
    state_since: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class NodeEvent(Base):
    """A state transition, an alert or an action on a node: the durable history."""

    __tablename__ = "node_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    hostname: Mapped[str | None] = mapped_column(sa.String(255), index=True)
    kind: Mapped[str] = mapped_column(sa.String(32))
    from_state: Mapped[str | None] = mapped_column(sa.String(32))
    to_state: Mapped[str | None] = mapped_column(sa.String(32))
    message: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class PowerDevice(Base):
    """A BMC or other power switch of one node; ``secret`` is Fernet-encrypted."""

    __tablename__ = "power_devices"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(255), unique=True)
    driver: Mapped[str] = mapped_column(sa.String(32))
    address: Mapped[str] = mapped_column(sa.String(255))
    port: Mapped[int | None]
    username: Mapped[str | None] = mapped_column(sa.String(255))
    secret: Mapped[str | None] = mapped_column(sa.Text)
    options: Mapped[str | None] = mapped_column(sa.Text)
    hostname: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    # On the database's clock: compared with when a task ended (did a device come since?).
    created_at: Mapped[datetime] = mapped_column(default=db_utcnow())
    updated_at: Mapped[datetime] = mapped_column(default=db_utcnow(), onupdate=db_utcnow())


class Task(Base):
    """A durable host task (evacuation); a restarted worker resumes it from its items."""

    __tablename__ = "tasks"
    __table_args__ = (sa.UniqueConstraint("active_node", name="uq_tasks_active_node"),)
    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(32))
    hostname: Mapped[str] = mapped_column(sa.String(255), index=True)
    # The hostname while the task is active, NULL once it ended: the unique constraint is
    # what keeps two active tasks of one node from existing (NULLs never collide).
    active_node: Mapped[str | None] = mapped_column(sa.String(255))
    state: Mapped[str] = mapped_column(sa.String(32), index=True)
    strategy: Mapped[str | None] = mapped_column(sa.String(32))
    reason: Mapped[str | None] = mapped_column(sa.Text)
    message: Mapped[str | None] = mapped_column(sa.Text)
    owner: Mapped[str | None] = mapped_column(sa.String(255))
    lease_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    finished_at: Mapped[datetime | None]
    # Id of the node's newest evacuation record in Nova before the task's first request: newer
    # records are this task's, whatever the clocks say.
    nova_migration_mark: Mapped[int | None]
    items: Mapped[list[TaskItem]] = relationship(
        back_populates="task", order_by="(TaskItem.priority.desc(), TaskItem.id)",
        cascade="all, delete-orphan",
    )


class TaskItem(Base):
    """One instance action of a host task, with where it goes and how far it got."""

    __tablename__ = "task_items"
    __table_args__ = (sa.UniqueConstraint("task_id", "instance_id",
                                          name="uq_task_items_task_instance"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[str] = mapped_column(sa.ForeignKey("tasks.id", ondelete="CASCADE"),
                                         index=True)
    instance_id: Mapped[str] = mapped_column(sa.String(36))
    instance_name: Mapped[str | None] = mapped_column(sa.String(255))
    priority: Mapped[int]
    target_host: Mapped[str | None] = mapped_column(sa.String(255))
    pool: Mapped[str | None] = mapped_column(sa.String(16))
    # cloud_manager.model.actions.ActionKind of the item's action.
    action: Mapped[str] = mapped_column(sa.String(32), server_default="evacuate")
    state: Mapped[str] = mapped_column(sa.String(32))
    attempts: Mapped[int] = mapped_column(default=0)
    message: Mapped[str | None] = mapped_column(sa.Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    task: Mapped[Task] = relationship(back_populates="items")


class NodeProvisioning(Base):
    """A bare node added by MAC: what its provisioning task needs (the node's power device
    is its row in ``power_devices``); ``mac`` unique: one machine, one node."""

    __tablename__ = "node_provisioning"
    hostname: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    mac: Mapped[str] = mapped_column(sa.String(17), unique=True)
    reserve: Mapped[bool]
    ip: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class InventoryHost(Base):
    """A compute host as node_sync and the listener last saw it (``model.inventory``).

    ``resources``: JSON of Placement's inventory per resource class (total, reserved,
    allocation_ratio) and its usage at the last sync; ``aggregates``: JSON list of names.
    """

    __tablename__ = "inventory_hosts"
    hostname: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    hypervisor_hostname: Mapped[str | None] = mapped_column(sa.String(255))
    enabled: Mapped[bool]
    forced_down: Mapped[bool]
    disabled_reason: Mapped[str | None] = mapped_column(sa.Text)
    az: Mapped[str | None] = mapped_column(sa.String(255))
    aggregates: Mapped[str] = mapped_column(sa.Text)
    resources: Mapped[str] = mapped_column(sa.Text)
    free_since: Mapped[datetime | None]
    changed_at: Mapped[datetime]


class InventoryInstance(Base):
    """An instance as Nova last described it; ``deleted`` rows wait for the next sync."""

    __tablename__ = "inventory_instances"
    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(255))
    host: Mapped[str | None] = mapped_column(sa.String(255), index=True)
    node: Mapped[str | None] = mapped_column(sa.String(255))
    state: Mapped[str] = mapped_column(sa.String(32))
    task_state: Mapped[str | None] = mapped_column(sa.String(64))
    ram_mb: Mapped[int]
    vcpus: Mapped[int]
    disk_gb: Mapped[int]
    az: Mapped[str | None] = mapped_column(sa.String(255))
    # JSON: the server's metadata and its flavor's extra specs (recovery priority, PCI).
    details: Mapped[str] = mapped_column(sa.Text)
    deleted: Mapped[bool]
    changed_at: Mapped[datetime]


class InventorySync(Base):
    """One run of node_sync: when, how much it read, and what it repaired."""

    __tablename__ = "inventory_syncs"
    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime] = mapped_column(index=True)
    hosts: Mapped[int]
    instances: Mapped[int]
    repairs: Mapped[int]
    summary: Mapped[str] = mapped_column(sa.Text)


class StoragePool(Base):
    """A Cinder pool as storage_sync last saw it. Capacities: GiB as text, or Cinder's word
    (infinite, unknown); ``hosts``: JSON list of compute hosts with one of its volumes
    attached."""

    __tablename__ = "storage_pools"
    name: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    backend: Mapped[str] = mapped_column(sa.String(255))
    volume_backend_name: Mapped[str | None] = mapped_column(sa.String(255))
    total_gb: Mapped[str | None] = mapped_column(sa.String(32))
    free_gb: Mapped[str | None] = mapped_column(sa.String(32))
    allocated_gb: Mapped[str | None] = mapped_column(sa.String(32))
    enabled: Mapped[bool]
    state: Mapped[str] = mapped_column(sa.String(16))
    state_reason: Mapped[str] = mapped_column(sa.Text)
    state_since: Mapped[datetime]
    hosts: Mapped[str] = mapped_column(sa.Text)
    reported_at: Mapped[datetime]


class StorageSync(Base):
    """One run of storage_sync: ``ok`` false when Cinder could not be read (nothing changed)."""

    __tablename__ = "storage_syncs"
    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime] = mapped_column(index=True)
    ok: Mapped[bool]
    pools: Mapped[int]
    message: Mapped[str] = mapped_column(sa.Text)
