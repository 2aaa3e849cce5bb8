-- scripts/perf-pg15: what one benchmark cost the database, read right after it.
-- The statements that took the most time (nested ones too: pg_stat_statements.track = all,
-- so the statements inside the outbox trigger and the plpgsql functions show one by one).
\pset footer off
\echo '== top statements by total time'
SELECT calls,
       round(total_exec_time::numeric, 1) AS total_ms,
       round(mean_exec_time::numeric, 3) AS mean_ms,
       rows,
       toplevel,
       left(regexp_replace(query, '\s+', ' ', 'g'), 160) AS query
  FROM pg_stat_statements
 WHERE query NOT ILIKE '%pg_stat_%'
 ORDER BY total_exec_time DESC
 LIMIT 30;

\echo '== rows written per table (inserts, updates, deletes since the reset)'
SELECT relname,
       n_tup_ins AS inserted,
       n_tup_upd AS updated,
       n_tup_hot_upd AS hot_updated,
       n_tup_del AS deleted,
       n_live_tup AS live,
       n_dead_tup AS dead
  FROM pg_stat_user_tables
 WHERE n_tup_ins + n_tup_upd + n_tup_del > 0
 ORDER BY n_tup_ins + n_tup_upd + n_tup_del DESC;

\echo '== rows written, all tables'
SELECT sum(n_tup_ins + n_tup_upd + n_tup_del) AS rows_written
  FROM pg_stat_user_tables;

\echo '== transactions and WAL'
SELECT xact_commit, xact_rollback, blks_hit, blks_read
  FROM pg_stat_database
 WHERE datname = current_database();
SELECT wal_records, wal_bytes, wal_fpi FROM pg_stat_wal;
