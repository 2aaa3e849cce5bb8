"""Issue 10, the SQL side: lists and keys resolved among what the sender sees,
bounded times and texts at hub.outbox, views that show what the viewer sees.

Revision ID: 0002_security_sql
Revises: 0001_initial
"""

from migrations_sql import apply_sql

revision = "0002_security_sql"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_sql("0002_security_sql")


def downgrade() -> None:
    raise NotImplementedError("msghub migrations go forward only; restore a backup to go back")
