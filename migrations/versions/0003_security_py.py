"""Logins and rule limits (issue 10): lockout of unknown names, a limit per
client address, sessions ended by the database, HTTP limits per rule.

Revision ID: 0003_security_py
Revises: 0001_initial
"""

from migrations_sql import apply_sql

revision = "0003_security_py"
down_revision = "0002_security_sql"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_sql("0003_security_py")


def downgrade() -> None:
    raise NotImplementedError("msghub migrations go forward only; restore a backup to go back")
