"""E-mail bookkeeping: POP3 UIDLs, SMTP acceptances, Message-ID threads.

Revision ID: 0005_email
Revises: 0001_initial
"""

from migrations_sql import apply_sql

revision = "0005_email"
down_revision = "0004_modem"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_sql("0005_email")


def downgrade() -> None:
    raise NotImplementedError("msghub migrations go forward only; restore a backup to go back")
