"""Named SQL of the composition root (see msghub.hub.queries for the
convention): sites_queries.sql (pinned connections, `msghub site`)."""

from __future__ import annotations

from typing import TypedDict

from msghub.hub.queries import Queries

SITES_QUERIES = Queries.beside(__file__, "sites_queries.sql")


class IdRow(TypedDict):
    id: int
