"""Named SQL of the development tools (see msghub.hub.queries for the
convention): chaos_queries.sql (`msghub bench chaos`)."""

from __future__ import annotations

from msghub.hub.queries import Queries

CHAOS_QUERIES = Queries.beside(__file__, "chaos_queries.sql")
