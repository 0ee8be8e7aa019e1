"""Compute nodes and the history of their states"""

import sqlalchemy as sa
from alembic import op

from aos.db import Timestamp

revision = "1"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "nodes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("hostname", sa.String(255), nullable=False, unique=True),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("reserve", sa.Boolean, nullable=False, default=False),
        sa.Column("maintenance", sa.Boolean, nullable=False, default=False),
        sa.Column("failed_checks", sa.Integer, nullable=False, default=0),
        sa.Column("ok_checks", sa.Integer, nullable=False, default=0),
        sa.Column("state_reason", sa.Text),
        sa.Column("state_since", Timestamp, nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
    )
    op.create_table(
        "node_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("hostname", sa.String(255), index=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("from_state", sa.String(32)),
        sa.Column("to_state", sa.String(32)),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("created_at", Timestamp, nullable=False, index=True),
    )


def downgrade() -> None:
    op.drop_table("node_events")
    op.drop_table("nodes")
