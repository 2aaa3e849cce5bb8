"""Applies a revision's checked-in SQL file (migrations/sql/<revision>.sql); revisions import it
from the migrations directory, which msghub.hub.migrate puts on sys.path.

The SQL goes to psycopg as is, bypassing SQLAlchemy's parameter parsing, so
colons and percent signs in function bodies need no escaping.
"""

from pathlib import Path

from alembic import op

SQL_DIR = Path(__file__).resolve().parent / "sql"


def apply_sql(revision: str) -> None:
    sql = (SQL_DIR / f"{revision}.sql").read_text(encoding="utf-8")
    driver_connection = op.get_bind().connection.driver_connection
    driver_connection.execute(sql)
