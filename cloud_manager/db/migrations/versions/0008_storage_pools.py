"""Cinder's storage pools as storage_sync sees them, and its runs"""

import sqlalchemy as sa
from alembic import op

from aos.db import Timestamp

revision = "8"
down_revision = "7"


def upgrade() -> None:
    op.create_table(
        "storage_pools",
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("backend", sa.String(255), nullable=False),
        sa.Column("volume_backend_name", sa.String(255)),
        sa.Column("total_gb", sa.String(32)),
        sa.Column("free_gb", sa.String(32)),
        sa.Column("allocated_gb", sa.String(32)),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("state_reason", sa.Text, nullable=False),
        sa.Column("state_since", Timestamp, nullable=False),
        sa.Column("hosts", sa.Text, nullable=False),
        sa.Column("reported_at", Timestamp, nullable=False),
    )
    op.create_table(
        "storage_syncs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("started_at", Timestamp, nullable=False),
        sa.Column("finished_at", Timestamp, nullable=False, index=True),
        sa.Column("ok", sa.Boolean, nullable=False),
        sa.Column("pools", sa.Integer, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("storage_syncs")
    op.drop_table("storage_pools")
