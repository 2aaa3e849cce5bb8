"""Named SQL of the rules (see msghub.hub.queries for the convention):
dispatch_queries.sql (the after-commit dispatchers and their CLI),
runner_queries.sql (the actions the runner applies) and store_queries.sql
(rules, rule tests, polls)."""

from __future__ import annotations

from msghub.hub.queries import Queries

DISPATCH_QUERIES = Queries.beside(__file__, "dispatch_queries.sql")
RUNNER_QUERIES = Queries.beside(__file__, "runner_queries.sql")
STORE_QUERIES = Queries.beside(__file__, "store_queries.sql")
