"""Alembic environment: each revision applies a checked-in .sql file.

msghub runs alembic programmatically (msghub.hub.migrate); the URL comes in
through the config's "sqlalchemy.url" main option.
"""

from alembic import context
from sqlalchemy import create_engine, text

VERSION_SCHEMA = "hub"


def run_migrations_online() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    assert url, "msghub.hub.migrate sets sqlalchemy.url"
    engine = create_engine(url)
    with engine.connect() as connection:
        # alembic creates its version table before the first revision runs
        connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {VERSION_SCHEMA}"))
        context.configure(
            connection=connection,
            version_table_schema=VERSION_SCHEMA,
            transaction_per_migration=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("msghub migrations run online only: msghub migrate")
run_migrations_online()
