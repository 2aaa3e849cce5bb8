"""Named SQL of the services (see msghub.hub.queries for the convention):
email_queries.sql (the e-mail connectors' bookkeeping, services/email_link.py) and
costs_queries.sql (tariffs and quotas, services/costs.py)."""

from __future__ import annotations

from msghub.hub.queries import Queries

EMAIL_QUERIES = Queries.beside(__file__, "email_queries.sql")
COSTS_QUERIES = Queries.beside(__file__, "costs_queries.sql")
