"""MMS copies (issue 14): hub.outbox.cc and bcc, checked by the outbox
trigger (hub.outbox_accept_v3) and kept in each queued message's meta.

Revision ID: 0014_mms
Revises: 0011_costs
"""

from migrations_sql import apply_sql

revision = "0014_mms"
down_revision = "0011_costs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_sql("0014_mms")


def downgrade() -> None:
    raise NotImplementedError("msghub migrations go forward only; restore a backup to go back")
