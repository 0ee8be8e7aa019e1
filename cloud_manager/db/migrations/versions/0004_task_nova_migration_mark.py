"""Tasks remember the newest Nova evacuation record of their node before they began"""

import sqlalchemy as sa
from alembic import op

revision = "4"
down_revision = "3"


def upgrade() -> None:
    op.add_column("tasks", sa.Column("nova_migration_mark", sa.Integer))


def downgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("nova_migration_mark")
