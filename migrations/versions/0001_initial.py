"""The initial schema.

Revision ID: 0001_initial
Revises:
"""

from migrations_sql import apply_sql

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_sql("0001_initial")


def downgrade() -> None:
    raise NotImplementedError("msghub migrations go forward only; restore a backup to go back")
