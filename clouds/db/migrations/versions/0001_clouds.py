"""Public cloud accounts bound to OpenStack projects"""

import sqlalchemy as sa
from alembic import op

from aos.db import Timestamp

revision = "1"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "clouds",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("project_id", sa.String(64), nullable=False, unique=True),
        sa.Column("provider", sa.String(16), nullable=False),
        sa.Column("region", sa.String(64)),
        sa.Column("availability_zone", sa.String(64), nullable=False),
        sa.Column("credentials", sa.Text, nullable=False),
        sa.Column("options", sa.Text),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("clouds")
