-- scripts/perf-pg15: forget the counters before each benchmark.
SELECT pg_stat_statements_reset();
SELECT pg_stat_reset();
SELECT pg_stat_reset_shared('wal');
