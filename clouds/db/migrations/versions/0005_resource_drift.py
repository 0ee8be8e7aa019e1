"""Drift stored on the resource map: what the last reconcile found, and since when"""

import sqlalchemy as sa
from alembic import op

from aos.db import Timestamp

revision = "5"
down_revision = "4"


def upgrade() -> None:
    with op.batch_alter_table("resources") as batch:
        batch.add_column(sa.Column("drift", sa.String(64)))
        batch.add_column(sa.Column("drift_since", Timestamp))


def downgrade() -> None:
    with op.batch_alter_table("resources") as batch:
        batch.drop_column("drift_since")
        batch.drop_column("drift")
