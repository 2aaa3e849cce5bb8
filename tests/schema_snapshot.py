"""A normalized description of a database's hub schema, for comparing two
databases: tables and columns, constraints, indexes, views, functions,
triggers, policies, grants-free; plus the rows that set-up seeds."""

from __future__ import annotations

from typing import Any

import psycopg

CATALOG_QUERIES = {
    "columns": """
        SELECT table_name, column_name, data_type, is_nullable, column_default, is_identity
        FROM information_schema.columns
        WHERE table_schema = 'hub' AND table_name <> 'alembic_version'
        ORDER BY table_name, column_name""",
    "tables": """
        SELECT c.relname, c.relkind, c.relpersistence, obj_description(c.oid, 'pg_class') AS comment
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'hub' AND c.relkind IN ('r', 'v', 'm', 'p') AND c.relname <> 'alembic_version'
        ORDER BY c.relname""",
    "constraints": """
        SELECT cl.relname, con.conname, pg_get_constraintdef(con.oid)
        FROM pg_constraint con JOIN pg_class cl ON cl.oid = con.conrelid
        JOIN pg_namespace n ON n.oid = cl.relnamespace
        WHERE n.nspname = 'hub' AND cl.relname <> 'alembic_version'
        ORDER BY 1, 2""",
    "indexes": """
        SELECT tablename, indexname, indexdef FROM pg_indexes
        WHERE schemaname = 'hub' AND tablename <> 'alembic_version' ORDER BY 1, 2""",
    "views": """
        SELECT viewname, definition FROM pg_views WHERE schemaname = 'hub' ORDER BY 1""",
    "functions": """
        SELECT p.proname, pg_get_function_identity_arguments(p.oid), pg_get_functiondef(p.oid)
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'hub' ORDER BY 1, 2""",
    "triggers": """
        SELECT c.relname, t.tgname, pg_get_triggerdef(t.oid)
        FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'hub' AND NOT t.tgisinternal ORDER BY 1, 2""",
    "policies": """
        SELECT tablename, policyname, permissive, roles::text, cmd, qual, with_check
        FROM pg_policies WHERE schemaname = 'hub' ORDER BY 1, 2""",
    "rls": """
        SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'hub' AND c.relkind = 'r' AND c.relname <> 'alembic_version' ORDER BY 1""",
    "sequences": """
        SELECT sequence_name, data_type, start_value, increment FROM information_schema.sequences
        WHERE sequence_schema = 'hub' ORDER BY 1""",
    "seed_roles": "SELECT name, description FROM hub.roles ORDER BY name",
    "seed_settings": "SELECT key, value, description FROM hub.settings ORDER BY key",
}


def snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    with psycopg.connect(url) as conn:
        return {name: conn.execute(query).fetchall() for name, query in CATALOG_QUERIES.items()}
