"""GSM modems: hub.connections.meta and set_connection_meta_v1.

Revision ID: 0004_modem
Revises: 0001_initial
"""

from migrations_sql import apply_sql

revision = "0004_modem"
down_revision = "0003_security_py"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_sql("0004_modem")


def downgrade() -> None:
    raise NotImplementedError("msghub migrations go forward only; restore a backup to go back")
