"""Quotas give back what a message the operator never took was charged (issue 16).

Revision ID: 0016_quota_refunds
Revises: 0014_mms
"""

from migrations_sql import apply_sql

revision = "0016_quota_refunds"
down_revision = "0014_mms"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_sql("0016_quota_refunds")


def downgrade() -> None:
    raise NotImplementedError("msghub migrations go forward only; restore a backup to go back")
