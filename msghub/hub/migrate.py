"""Applies alembic migrations, and refuses a database newer than this code."""

from __future__ import annotations

import logging
import sys

import psycopg
from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory

from msghub.errors import HubError
from msghub.hub.db import connect, sqlalchemy_url
from msghub.hub.paths import migrations_dir
from msghub.hub.queries import QUERIES

log = logging.getLogger(__name__)


class SchemaTooNewError(HubError):
    """The database was migrated by a newer msghub."""


def _alembic_config(url: str) -> AlembicConfig:
    # revisions import migrations_sql from the migrations directory
    migrations = str(migrations_dir())
    if migrations not in sys.path:
        sys.path.insert(0, migrations)
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.set_main_option("sqlalchemy.url", sqlalchemy_url(url).replace("%", "%%"))
    return cfg


def current_revision(url: str) -> str | None:
    with connect(url) as conn:
        try:
            row = conn.execute(QUERIES["schema_revision"]).fetchone()
        except psycopg.errors.UndefinedTable:
            return None
        except psycopg.errors.InvalidSchemaName:
            return None
    return str(row["version_num"]) if row else None


def head_revision() -> str:
    head = ScriptDirectory.from_config(_alembic_config("postgresql://x")).get_current_head()
    assert head is not None
    return head


def check_not_newer(url: str) -> str | None:
    """Returns the database's revision; raises when this code does not know it."""
    revision = current_revision(url)
    if revision is None:
        return None
    script = ScriptDirectory.from_config(_alembic_config(url))
    known = {rev.revision for rev in script.walk_revisions()}
    if revision not in known:
        raise SchemaTooNewError(
            f"the database schema is at revision {revision}, newer than this msghub "
            f"(which knows up to {script.get_current_head()}): upgrade msghub before running it here")
    return revision


def migrate(url: str) -> tuple[str | None, str]:
    """Upgrades to head; idempotent. Returns (revision before, revision after)."""
    before = check_not_newer(url)
    head = head_revision()
    if before != head:
        log.info("migrating database from %s to %s", before or "empty", head)
        command.upgrade(_alembic_config(url), "head")
    return before, head
