"""Named SQL of the development tools (see msghub.hub.queries for the
convention): bench_queries.sql (the benchmarks' own statements),
bench_email_queries.sql (`msghub bench email`) and chaos_queries.sql
(`msghub bench chaos`)."""

from __future__ import annotations

from msghub.hub.queries import Queries

BENCH_QUERIES = Queries.beside(__file__, "bench_queries.sql")
BENCH_EMAIL_QUERIES = Queries.beside(__file__, "bench_email_queries.sql")
CHAOS_QUERIES = Queries.beside(__file__, "chaos_queries.sql")
