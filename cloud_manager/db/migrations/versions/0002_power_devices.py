"""Power devices (IPMI, Redfish, SSH) with encrypted credentials"""

import sqlalchemy as sa
from alembic import op

from aos.db import Timestamp

revision = "2"
down_revision = "1"


def upgrade() -> None:
    op.create_table(
        "power_devices",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(255), nullable=False, unique=True),
        sa.Column("driver", sa.String(32), nullable=False),
        sa.Column("address", sa.String(255), nullable=False),
        sa.Column("port", sa.Integer),
        sa.Column("username", sa.String(255)),
        sa.Column("secret", sa.Text),
        sa.Column("options", sa.Text),
        sa.Column("hostname", sa.String(255), unique=True),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("power_devices")
