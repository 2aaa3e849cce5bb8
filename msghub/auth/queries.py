"""Named SQL of external authentication, auth_queries.sql (see msghub.hub.queries)."""

from __future__ import annotations

from msghub.hub.queries import Queries

AUTH_QUERIES = Queries.beside(__file__, "auth_queries.sql")
