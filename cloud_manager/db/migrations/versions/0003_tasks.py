"""Durable host tasks (evacuation) and their per-instance items"""

import sqlalchemy as sa
from alembic import op

from aos.db import Timestamp

revision = "3"
down_revision = "2"


def upgrade() -> None:
    op.create_table(
        "tasks",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("hostname", sa.String(255), nullable=False, index=True),
        sa.Column("state", sa.String(32), nullable=False, index=True),
        sa.Column("strategy", sa.String(32)),
        sa.Column("reason", sa.Text),
        sa.Column("message", sa.Text),
        sa.Column("owner", sa.String(255)),
        sa.Column("lease_until", Timestamp),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.Column("finished_at", Timestamp),
    )
    op.create_table(
        "task_items",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "task_id",
            sa.String(36),
            sa.ForeignKey("tasks.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("instance_id", sa.String(36), nullable=False),
        sa.Column("instance_name", sa.String(255)),
        sa.Column("priority", sa.Integer, nullable=False),
        sa.Column("target_host", sa.String(255)),
        sa.Column("pool", sa.String(16)),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, default=0),
        sa.Column("message", sa.Text),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.UniqueConstraint("task_id", "instance_id", name="uq_task_items_task_instance"),
    )


def downgrade() -> None:
    op.drop_table("task_items")
    op.drop_table("tasks")
