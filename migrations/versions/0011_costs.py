"""Costs (issue 16): tariffs per connection, the cost of each message
(estimated when queued, fixed when sent), quotas held by hub.outbox,
least-cost routing, and cost statistics.

Revision ID: 0011_costs
Revises: 0012_api
"""

from migrations_sql import apply_sql

revision = "0011_costs"
down_revision = "0012_api"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_sql("0011_costs")


def downgrade() -> None:
    raise NotImplementedError("msghub migrations go forward only; restore a backup to go back")
