"""Uploads of Glance images to a project's cloud (worker tasks with progress)"""

import sqlalchemy as sa
from alembic import op

from aos.db import Timestamp

revision = "4"
down_revision = "3"


def upgrade() -> None:
    op.create_table(
        "image_uploads",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("cloud_id", sa.Integer, sa.ForeignKey("clouds.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("image_id", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("bytes_done", sa.BigInteger, nullable=False),
        sa.Column("import_progress", sa.Integer, nullable=False),
        sa.Column("import_task_id", sa.String(64)),
        sa.Column("cloud_image_id", sa.String(255)),
        sa.Column("glance_image_id", sa.String(64)),
        sa.Column("error", sa.Text),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.UniqueConstraint("cloud_id", "image_id", name="uq_image_uploads_image"),
    )


def downgrade() -> None:
    op.drop_table("image_uploads")
