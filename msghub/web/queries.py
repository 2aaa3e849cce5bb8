"""Named SQL of the contacts, connections, statistics, admin and API pages
(admin_queries.sql beside this module; see msghub.hub.queries)."""

from __future__ import annotations

from pathlib import Path

from msghub.hub.queries import load_queries

ADMIN_QUERIES = load_queries(Path(__file__).with_name("admin_queries.sql"))
