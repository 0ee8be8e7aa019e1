"""Mapping of OpenStack resources to public cloud resources"""

import sqlalchemy as sa
from alembic import op

from aos.db import Timestamp

revision = "2"
down_revision = "1"


def upgrade() -> None:
    op.create_table(
        "resources",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "cloud_id", sa.Integer, sa.ForeignKey("clouds.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("openstack_id", sa.String(64), nullable=False),
        sa.Column("cloud_resource_id", sa.String(255), nullable=False),
        sa.Column("data", sa.Text),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.UniqueConstraint("cloud_id", "kind", "openstack_id", name="uq_resources_mapping"),
    )


def downgrade() -> None:
    op.drop_table("resources")
