-- Queries of the work done after a rule run commits (msghub/rules/dispatch.py
-- and its helpers): HTTP requests, external exports, SQL imports, schedules.

-- name: http_claim
-- pending requests nobody holds, or whose holder's lease ran out (a crashed node)
UPDATE hub.http_requests r
SET claimed_by = %(node)s, claimed_at = clock_timestamp()
WHERE r.id IN (
    SELECT id FROM hub.http_requests
    WHERE status = 'pending'
      AND (claimed_at IS NULL OR claimed_at < now() - make_interval(secs => %(lease_s)s))
    ORDER BY id
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED)
RETURNING r.id, r.rule_id, r.method, r.url, r.headers, r.body, r.timeout_s, r.context, r.claimed_at

-- name: http_record
-- only while the claim is still ours: a request retaken after its lease ran
-- out is answered once, by whoever holds it now. The event carries the
-- asking event's message, so the follow-up run can reply().
WITH answered AS (
    UPDATE hub.http_requests
    SET status = %(status)s, response = %(response)s, done_at = now()
    WHERE id = %(id)s AND status = 'pending' AND claimed_by = %(node)s AND claimed_at = %(claimed_at)s
    RETURNING id, rule_id, message_id, method, url, context, response
)
INSERT INTO hub.events (type, message_id, payload)
SELECT 'http_response', message_id,
       jsonb_build_object('request_id', id, 'rule_id', rule_id, 'method', method,
                          'url', url, 'context', context, 'response', response)
FROM answered
RETURNING id

-- name: notify_events
SELECT pg_notify('msghub_events', '')

-- name: export_claim
-- one due write to an external database after after_id (a pass visits each
-- row once); the row stays locked while it is written. Retries back off from
-- the row's creation: due after backoff_s * (2^attempts - 1) seconds
-- (0, 1, 3, 7, 15 x backoff_s).
SELECT w.id, w.export_name, w.row_data, w.attempts, t.table_name, t.database_url, t.columns
FROM hub.export_writes w
JOIN hub.export_tables t ON t.name = w.export_name
WHERE w.status = 'pending' AND w.id > %(after_id)s AND t.database_url IS NOT NULL
  AND w.created_at + make_interval(secs => %(backoff_s)s * (power(2, w.attempts) - 1)) <= now()
ORDER BY w.id
LIMIT 1
FOR UPDATE OF w SKIP LOCKED

-- name: export_attempted
UPDATE hub.export_writes
SET status = %(status)s, attempts = attempts + 1, error = %(error)s,
    done_at = CASE WHEN %(status)s = 'done' THEN now() END
WHERE id = %(id)s

-- name: local_table_columns
-- the columns of a table in msghub's database (none: no such table); without
-- a schema, the one the search path finds
SELECT a.attname AS name
FROM pg_attribute a
WHERE a.attrelid = to_regclass(CASE WHEN %(schema)s::text IS NULL THEN quote_ident(%(table)s::text)
                                    ELSE quote_ident(%(schema)s::text) || '.' || quote_ident(%(table)s::text) END)
  AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum

-- name: import_claim_due
-- one enabled source whose interval has passed, locked until its rows are in
SELECT name, database_url, query, key_column, topic, last_key
FROM hub.import_sources
WHERE enabled AND (last_run_at IS NULL OR last_run_at + make_interval(secs => interval_s) <= now())
ORDER BY last_run_at NULLS FIRST, name
LIMIT 1
FOR UPDATE SKIP LOCKED

-- name: import_rows
-- one statement, so the import trigger makes the events in this order
INSERT INTO hub.import (topic, payload)
SELECT %(topic)s, p.payload
FROM unnest(%(payloads)s::jsonb[]) WITH ORDINALITY AS p (payload, n)
ORDER BY p.n

-- name: import_record
UPDATE hub.import_sources
SET last_key = %(last_key)s, last_run_at = now(), last_error = %(error)s
WHERE name = %(name)s

-- name: schedules_fire
-- due schedules fire once each; next_at moves past now() in whole intervals,
-- so missed intervals are skipped rather than fired in a burst
WITH due AS (
    SELECT name, next_at, interval_s
    FROM hub.schedules
    WHERE enabled AND next_at <= now()
    FOR UPDATE SKIP LOCKED
), fired AS (
    UPDATE hub.schedules s
    SET next_at = d.next_at
        + make_interval(secs => d.interval_s * (floor(extract(epoch FROM now() - d.next_at) / d.interval_s) + 1))
    FROM due d
    WHERE s.name = d.name
    RETURNING d.name, d.next_at AS due_at
)
INSERT INTO hub.events (type, payload)
SELECT 'schedule', jsonb_build_object('schedule', name, 'due_at', due_at)
FROM fired
ORDER BY due_at, name
RETURNING id

-- name: import_source_upsert
INSERT INTO hub.import_sources (name, database_url, query, key_column, topic, interval_s)
VALUES (%(name)s, %(database_url)s, %(query)s, %(key_column)s, %(topic)s, %(interval_s)s)
ON CONFLICT (name) DO UPDATE
SET database_url = EXCLUDED.database_url, query = EXCLUDED.query, key_column = EXCLUDED.key_column,
    topic = EXCLUDED.topic, interval_s = EXCLUDED.interval_s, last_error = NULL

-- name: import_source_enable
UPDATE hub.import_sources SET enabled = %(enabled)s WHERE name = %(name)s RETURNING name

-- name: import_source_reset
UPDATE hub.import_sources SET last_key = NULL, last_error = NULL WHERE name = %(name)s RETURNING name

-- name: import_source_remove
DELETE FROM hub.import_sources WHERE name = %(name)s RETURNING name

-- name: import_source_get
SELECT name, database_url, query, key_column, topic, last_key FROM hub.import_sources WHERE name = %(name)s

-- name: import_sources_list
SELECT name, database_url, topic, key_column, interval_s, enabled, last_key, last_run_at, last_error
FROM hub.import_sources ORDER BY name

-- name: export_table_upsert
INSERT INTO hub.export_tables (name, table_name, database_url, columns)
VALUES (%(name)s, %(table_name)s, %(database_url)s, %(columns)s)
ON CONFLICT (name) DO UPDATE
SET table_name = EXCLUDED.table_name, database_url = EXCLUDED.database_url, columns = EXCLUDED.columns

-- name: export_table_remove
DELETE FROM hub.export_tables WHERE name = %(name)s RETURNING name

-- name: export_tables_list
SELECT t.name, t.table_name, t.database_url, t.columns,
       count(w.id) FILTER (WHERE w.status = 'pending') AS pending,
       count(w.id) FILTER (WHERE w.status = 'failed') AS failed
FROM hub.export_tables t
LEFT JOIN hub.export_writes w ON w.export_name = t.name
GROUP BY t.name ORDER BY t.name

-- name: schedule_upsert
INSERT INTO hub.schedules (name, interval_s, next_at)
VALUES (%(name)s, %(interval_s)s, coalesce(%(first_at)s, now()))
ON CONFLICT (name) DO UPDATE
SET interval_s = EXCLUDED.interval_s, next_at = EXCLUDED.next_at

-- name: schedule_enable
UPDATE hub.schedules SET enabled = %(enabled)s WHERE name = %(name)s RETURNING name

-- name: schedule_remove
DELETE FROM hub.schedules WHERE name = %(name)s RETURNING name

-- name: schedules_list
SELECT name, interval_s, enabled, next_at FROM hub.schedules ORDER BY name

-- name: local_table_access
-- does the table exist in msghub's database, and may the hub's role insert into it
SELECT t.oid IS NOT NULL AS exists,
       coalesce(has_table_privilege('msghub_app', t.oid, 'INSERT'), false) AS insertable
FROM (SELECT to_regclass(CASE WHEN %(schema)s::text IS NULL THEN quote_ident(%(table)s::text)
                              ELSE quote_ident(%(schema)s::text) || '.' || quote_ident(%(table)s::text) END) AS oid) t
