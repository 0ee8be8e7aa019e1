"""Bare nodes added by MAC (``openstack aos node add``): one row per node being provisioned"""

import sqlalchemy as sa
from alembic import op

from aos.db import Timestamp

revision = "9"
down_revision = "8"


def upgrade() -> None:
    op.create_table(
        "node_provisioning",
        sa.Column("hostname", sa.String(255), primary_key=True),
        sa.Column("mac", sa.String(17), nullable=False, unique=True),
        sa.Column("reserve", sa.Boolean, nullable=False),
        sa.Column("ip", sa.String(64)),
        sa.Column("created_at", Timestamp, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("node_provisioning")
