"""Named SQL of the gateway (see msghub.hub.queries for the convention)."""

from __future__ import annotations

from msghub.hub.queries import Queries

GATEWAY_QUERIES = Queries.beside(__file__, "gateway_queries.sql")
