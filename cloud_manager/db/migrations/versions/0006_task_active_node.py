"""One active task per node, kept by a unique constraint (not by a check before the insert)"""

import sqlalchemy as sa
from alembic import op

revision = "6"
down_revision = "5"

ACTIVE = ("pending", "fencing", "evacuating")


def upgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("active_node", sa.String(255)))
    tasks = sa.table("tasks", sa.column("id", sa.String), sa.column("hostname", sa.String),
                     sa.column("state", sa.String), sa.column("created_at", sa.DateTime),
                     sa.column("active_node", sa.String))
    conn = op.get_bind()
    # The newest active task of each node keeps the slot (older duplicates stay as they are).
    newest: dict[str, str] = {}
    for task_id, hostname in conn.execute(
            sa.select(tasks.c.id, tasks.c.hostname).where(tasks.c.state.in_(ACTIVE))
            .order_by(tasks.c.created_at)):
        newest[hostname] = task_id
    for hostname, task_id in newest.items():
        conn.execute(tasks.update().where(tasks.c.id == task_id)
                     .values(active_node=hostname))
    with op.batch_alter_table("tasks") as batch:
        batch.create_unique_constraint("uq_tasks_active_node", ["active_node"])


def downgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.drop_constraint("uq_tasks_active_node", type_="unique")
        batch.drop_column("active_node")
