"""The Kannel-compatible sendsms tables (schema/85_gateway.sql).

Revision ID: 0007_gateway
Revises: 0001_initial
"""

from migrations_sql import apply_sql

revision = "0007_gateway"
down_revision = "0009_client"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_sql("0007_gateway")


def downgrade() -> None:
    raise NotImplementedError("msghub migrations go forward only; restore a backup to go back")
