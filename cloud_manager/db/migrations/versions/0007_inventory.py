"""CloudManager's inventory: compute hosts, their instances, and the runs of node_sync"""

import sqlalchemy as sa
from alembic import op

from aos.db import Timestamp

revision = "7"
down_revision = "6"


def upgrade() -> None:
    op.create_table(
        "inventory_hosts",
        sa.Column("hostname", sa.String(255), primary_key=True),
        sa.Column("hypervisor_hostname", sa.String(255)),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("forced_down", sa.Boolean, nullable=False),
        sa.Column("disabled_reason", sa.Text),
        sa.Column("az", sa.String(255)),
        sa.Column("aggregates", sa.Text, nullable=False),
        sa.Column("resources", sa.Text, nullable=False),
        sa.Column("free_since", Timestamp),
        sa.Column("changed_at", Timestamp, nullable=False),
    )
    op.create_table(
        "inventory_instances",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("host", sa.String(255), index=True),
        sa.Column("node", sa.String(255)),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("task_state", sa.String(64)),
        sa.Column("ram_mb", sa.Integer, nullable=False),
        sa.Column("vcpus", sa.Integer, nullable=False),
        sa.Column("disk_gb", sa.Integer, nullable=False),
        sa.Column("az", sa.String(255)),
        sa.Column("details", sa.Text, nullable=False),
        sa.Column("deleted", sa.Boolean, nullable=False),
        sa.Column("changed_at", Timestamp, nullable=False),
    )
    op.create_table(
        "inventory_syncs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("started_at", Timestamp, nullable=False),
        sa.Column("finished_at", Timestamp, nullable=False, index=True),
        sa.Column("hosts", sa.Integer, nullable=False),
        sa.Column("instances", sa.Integer, nullable=False),
        sa.Column("repairs", sa.Integer, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("inventory_syncs")
    op.drop_table("inventory_instances")
    op.drop_table("inventory_hosts")
