"""Image uploads get a lease: one worker carries an upload on at a time"""

import sqlalchemy as sa
from alembic import op

from aos.db import Timestamp

revision = "6"
down_revision = "5"


def upgrade() -> None:
    with op.batch_alter_table("image_uploads") as batch:
        batch.add_column(sa.Column("owner", sa.String(128)))
        batch.add_column(sa.Column("lease_until", Timestamp))


def downgrade() -> None:
    with op.batch_alter_table("image_uploads") as batch:
        batch.drop_column("lease_until")
        batch.drop_column("owner")
