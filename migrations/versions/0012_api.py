"""The HTTP API grows (issue 15): API keys get a contacts scope; send forms
get a footer, a text after sending, and their channels (sms, mms, email).

Revision ID: 0012_api
Revises: 0015_viewer
"""

from migrations_sql import apply_sql

revision = "0012_api"
down_revision = "0015_viewer"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_sql("0012_api")


def downgrade() -> None:
    raise NotImplementedError("msghub migrations go forward only; restore a backup to go back")
