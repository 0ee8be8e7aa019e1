"""Task items name their action (evacuate, live-migrate), so any plan's actions resume"""

import sqlalchemy as sa
from alembic import op

revision = "5"
down_revision = "4"


def upgrade() -> None:
    op.add_column("task_items", sa.Column("action", sa.String(32), nullable=False,
                                          server_default="evacuate"))


def downgrade() -> None:
    with op.batch_alter_table("task_items") as batch:
        batch.drop_column("action")
