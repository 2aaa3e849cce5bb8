"""Sites: hub.nodes.site, connections pinned to a site or a node, hub.connection_placement.

Revision ID: 0008_ops
Revises: 0001_initial
"""

from migrations_sql import apply_sql

revision = "0008_ops"
down_revision = "0005_email"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_sql("0008_ops")


def downgrade() -> None:
    raise NotImplementedError("msghub migrations go forward only; restore a backup to go back")
