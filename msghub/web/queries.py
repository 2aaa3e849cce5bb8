"""Named SQL of the web pages (see msghub.hub.queries for the convention):
web_queries.sql (folders, messages, live updates, polls), admin_queries.sql
(contacts, connections, statistics, admin and API pages) and
rules_queries.sql (the rules pages), metrics_queries.sql (/metrics, /readyz) and
api_queries.sql (the HTTP API beyond sending)."""

from __future__ import annotations

from msghub.hub.queries import Queries

WEB_QUERIES = Queries.beside(__file__, "web_queries.sql")
ADMIN_QUERIES = Queries.beside(__file__, "admin_queries.sql")
RULES_QUERIES = Queries.beside(__file__, "rules_queries.sql")
METRICS_QUERIES = Queries.beside(__file__, "metrics_queries.sql")
API_QUERIES = Queries.beside(__file__, "api_queries.sql")
