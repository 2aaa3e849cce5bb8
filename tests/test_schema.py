"""The schema in schema/ and the migrations agree, and migrate is safe to repeat."""

from __future__ import annotations

import psycopg
import pytest

from msghub.hub.migrate import SchemaTooNewError, current_revision, head_revision, migrate
from msghub.hub.paths import schema_dir
from tests.schema_snapshot import snapshot


def _fresh(pg_server, name: str) -> str:
    with psycopg.connect(pg_server.admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return pg_server.url(name)


def test_alembic_upgrade_gives_exactly_the_schema_directory(pg_server):
    from_schema = _fresh(pg_server, "msghub_test_from_schema")
    from_migrations = _fresh(pg_server, "msghub_test_from_migrations")
    with psycopg.connect(from_schema, autocommit=True) as conn:
        for path in sorted(schema_dir().glob("*.sql")):
            conn.execute(path.read_text(encoding="utf-8"))
    migrate(from_migrations)

    expected = snapshot(from_schema)
    actual = snapshot(from_migrations)
    assert expected["functions"], "the snapshot must see the schema's functions"
    for part in expected:
        assert actual[part] == expected[part], f"{part} differ between schema/ and the migrations"


def test_migrate_is_idempotent(pg_server):
    url = _fresh(pg_server, "msghub_test_idempotent")
    assert migrate(url) == (None, head_revision())
    before = snapshot(url)
    assert migrate(url) == (head_revision(), head_revision())
    assert snapshot(url) == before


def test_migrate_refuses_a_database_newer_than_the_code(db_url):
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("UPDATE hub.alembic_version SET version_num = '9999_from_the_future'")
    with pytest.raises(SchemaTooNewError, match=r"9999_from_the_future.*newer than this msghub"):
        migrate(db_url)
    assert current_revision(db_url) == "9999_from_the_future"
