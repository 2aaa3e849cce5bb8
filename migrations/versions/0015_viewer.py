"""A disabled user sees nothing through the views, also from an integrator login (issue 10).

Revision ID: 0015_viewer
Revises: 0010_perf
"""

from migrations_sql import apply_sql

revision = "0015_viewer"
down_revision = "0010_perf"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_sql("0015_viewer")


def downgrade() -> None:
    raise NotImplementedError("msghub migrations go forward only; restore a backup to go back")
