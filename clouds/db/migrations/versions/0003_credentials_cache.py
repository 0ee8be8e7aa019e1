"""Cached short-lived credentials per account; reverse lookup of mapped cloud resources"""

import sqlalchemy as sa
from alembic import op

from aos.db import Timestamp

revision = "3"
down_revision = "2"


def upgrade() -> None:
    with op.batch_alter_table("clouds") as batch:
        batch.add_column(sa.Column("session_credentials", sa.Text))
        batch.add_column(sa.Column("session_expires_at", Timestamp))
    op.create_index("ix_resources_cloud_resource", "resources",
                    ["cloud_id", "kind", "cloud_resource_id"])


def downgrade() -> None:
    op.drop_index("ix_resources_cloud_resource", table_name="resources")
    with op.batch_alter_table("clouds") as batch:
        batch.drop_column("session_expires_at")
        batch.drop_column("session_credentials")
