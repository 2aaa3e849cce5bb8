"""The durable path's speed (issue 19): the functions that record a window
of results get plans whose cost does not grow with hub.messages.

Revision ID: 0010_perf
Revises: 0003_security_py
"""

from migrations_sql import apply_sql

revision = "0010_perf"
down_revision = "0007_gateway"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_sql("0010_perf")


def downgrade() -> None:
    raise NotImplementedError("msghub migrations go forward only; restore a backup to go back")
