"""One database transaction for a CLI command (shared by every command module)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg

from msghub.app.runtime import open_database
from msghub.hub.config import Config
from msghub.hub.db import connect


def with_db(config: Config, fn: Callable[[psycopg.Connection[Any]], Any]) -> Any:
    """Runs fn in one transaction on the configured database (embedded or
    not), after checking the schema is not newer than this msghub; commits
    when fn returns. Returns what fn returned."""
    with open_database(config) as db:
        from msghub.hub.migrate import check_not_newer

        check_not_newer(db.url)
        with connect(db.url) as conn:
            result = fn(conn)
            conn.commit()
            return result
