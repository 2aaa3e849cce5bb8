"""The web client (issue 18): indexes for the compose page's recipient search.

Revision ID: 0009_client
Revises: 0003_security_py
"""

from migrations_sql import apply_sql

revision = "0009_client"
down_revision = "0008_ops"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_sql("0009_client")


def downgrade() -> None:
    raise NotImplementedError("msghub migrations go forward only; restore a backup to go back")
