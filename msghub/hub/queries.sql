-- Named queries used by msghub's Python code (see queries.py).

-- name: claim_outbound
SELECT * FROM hub.claim_outbound_v1(%(connection_id)s, %(node)s, %(limit)s)

-- name: outbox_wait
SELECT hub.outbox_wait_v1(%(connection_id)s)

-- name: message_attachments
SELECT message_id, content_type, filename, content_id, data
FROM hub.message_parts WHERE message_id = ANY(%(ids)s) ORDER BY message_id, seq

-- name: message_copies
-- the Cc and Bcc addresses of claimed MMS (hub.outbox.cc and bcc, kept in meta)
SELECT id, meta -> 'cc' AS cc, meta -> 'bcc' AS bcc
FROM hub.messages WHERE id = ANY(%(ids)s) AND (meta ? 'cc' OR meta ? 'bcc')

-- name: record_results
SELECT hub.record_results_v1(%(ids)s, %(attempts)s, %(outcomes)s, %(refs)s, %(segments)s,
                             %(codes)s, %(reasons)s, %(segment_message_ids)s, %(segment_seqs)s,
                             %(segment_totals)s, %(segment_refs)s) AS recorded

-- name: record_delivery
SELECT hub.record_delivery_v1(%(connection_id)s, %(operator_ref)s, %(status)s, %(reason)s) AS message_id

-- name: find_received
-- a message a connection received already (a far side that sent it again after its answer was lost)
SELECT id FROM hub.messages
WHERE connection_id = %(connection_id)s AND operator_ref = %(operator_ref)s AND direction = 'in'
  AND meta @> %(meta)s
LIMIT 1

-- name: receive_message
SELECT hub.receive_message_v1(%(connection_id)s, %(channel)s, %(sender)s, %(recipients)s, %(subject)s,
                              %(body)s, %(meta)s, %(parts)s, %(operator_ref)s) AS id

-- name: set_connection_state
SELECT hub.set_connection_state_v1(%(connection_id)s, %(state)s, %(error)s, %(node)s)

-- name: set_connection_meta
SELECT hub.set_connection_meta_v1(%(connection_id)s, %(meta)s)

-- name: modem_connections
-- What is configured already, to tell a new device from a known one (services/modems.py).
SELECT name, config, meta FROM hub.connections WHERE kind = 'modem' ORDER BY name

-- name: modem_autodetect_setting
SELECT value FROM hub.settings WHERE key = 'modem_autodetect'

-- name: modem_scan_globs_setting
SELECT value FROM hub.settings WHERE key = 'modem_scan_globs'

-- name: list_connections
SELECT id, name, kind, channels, config, enabled, is_default, max_attempts, state, state_since,
       last_error, last_error_at, node, updated_at
FROM hub.connections ORDER BY name

-- name: connection_by_name
SELECT id, name, kind, channels, config, enabled, is_default, max_attempts, state, state_since,
       last_error, last_error_at, node, updated_at
FROM hub.connections WHERE name = %(name)s

-- name: connection_by_id
SELECT id, name, kind, channels, config, enabled, is_default, max_attempts, state, state_since,
       last_error, last_error_at, node, updated_at
FROM hub.connections WHERE id = %(id)s

-- name: insert_connection
INSERT INTO hub.connections (name, kind, channels, config, enabled, is_default, max_attempts)
VALUES (%(name)s, %(kind)s, %(channels)s, %(config)s, %(enabled)s, %(is_default)s, %(max_attempts)s)
RETURNING id

-- name: update_connection
UPDATE hub.connections
SET config = %(config)s, channels = %(channels)s, enabled = %(enabled)s, is_default = %(is_default)s,
    max_attempts = %(max_attempts)s, updated_at = now()
WHERE id = %(id)s

-- name: fail_connection_messages
UPDATE hub.messages SET status = 'failed', status_at = clock_timestamp(),
    failure_code = 'connection_removed', failure_reason = 'its connection was removed'
WHERE connection_id = %(id)s AND status IN ('queued', 'sending')

-- name: delete_connection
DELETE FROM hub.connections WHERE id = %(id)s

-- name: connection_pending
SELECT count(*) AS pending FROM hub.messages
WHERE connection_id = %(id)s AND status IN ('queued', 'sending')

-- name: try_lock_connection
SELECT pg_try_advisory_lock(hashtext('msghub.connection'), %(id)s::integer) AS locked

-- name: unlock_connection
SELECT pg_advisory_unlock(hashtext('msghub.connection'), %(id)s::integer) AS unlocked

-- name: node_heartbeat
INSERT INTO hub.nodes (name, host, pid, roles, site) VALUES (%(name)s, %(host)s, %(pid)s, %(roles)s, %(site)s)
ON CONFLICT (name) DO UPDATE SET heartbeat_at = now(), host = excluded.host, pid = excluded.pid,
    roles = excluded.roles, site = excluded.site

-- name: node_leave
DELETE FROM hub.nodes WHERE name = %(name)s

-- name: release_node_connections
UPDATE hub.connections SET state = 'stopped', state_since = now(), node = NULL
WHERE node = %(name)s

-- name: recover_stuck
SELECT hub.recover_stuck_v1() AS recovered

-- name: apply_pending_reports
SELECT hub.apply_pending_reports_v1() AS applied

-- name: expire_queued
SELECT hub.expire_queued_v1() AS expired

-- name: stats_rollup
SELECT hub.stats_rollup_v1() AS folded

-- name: cost_rollup
SELECT hub.cost_rollup_v1() AS folded

-- name: purge_events
DELETE FROM hub.events
WHERE done_at < now() - make_interval(days => hub.setting_int('event_retention_days')::integer)

-- name: purge_rule_records
-- What the rule engine keeps, kept as long as the events it came from; the
-- auto-reply and HTTP counters only for the hour or minute they count.
WITH log AS (
    DELETE FROM hub.rule_log
    WHERE at < now() - make_interval(days => hub.setting_int('event_retention_days')::integer)
), http AS (
    DELETE FROM hub.http_requests
    WHERE status <> 'pending' AND done_at < now() - make_interval(days => hub.setting_int('event_retention_days')::integer)
), exports AS (
    DELETE FROM hub.export_writes
    WHERE status <> 'pending' AND done_at < now() - make_interval(days => hub.setting_int('event_retention_days')::integer)
), http_counts AS (
    DELETE FROM hub.rule_http_counts WHERE minute < date_trunc('minute', now())
)
DELETE FROM hub.auto_reply_counts WHERE hour < date_trunc('hour', now())

-- name: purge_web_sessions
DELETE FROM hub.web_sessions WHERE expires_at < now()

-- name: purge_message_changes
-- The web UI's change feed keeps a day: enough for any browser to reconnect.
SELECT hub.message_changes_prune_v1(make_interval(hours => %(keep_hours)s)) AS deleted

-- name: connection_status
-- with where each may run and, when no live node may take it, why (schema/85_sites.sql)
SELECT s.*, p.runs_on, p.no_node_reason
FROM hub.connection_status s JOIN hub.connection_placement p ON p.id = s.id
ORDER BY s.name

-- name: queue_depth
SELECT status, count(*) AS messages FROM hub.messages
WHERE status IN ('queued', 'sending') GROUP BY status

-- name: recent_messages
SELECT m.id, m.channel, m.direction, c.name AS connection, m.sender, m.recipients, m.body,
       m.status, m.status_at, m.failure_reason
FROM hub.messages m LEFT JOIN hub.connections c ON c.id = m.connection_id
ORDER BY m.id DESC LIMIT %(limit)s

-- name: message_history
SELECT status, at, detail FROM hub.message_status_log WHERE message_id = %(id)s ORDER BY at

-- name: user_by_name
SELECT id, username, display_name, role, password_hash, auth_source, enabled, failed_logins,
       locked_until
FROM hub.users WHERE username = %(username)s

-- name: insert_user
INSERT INTO hub.users (username, display_name, email, role, password_hash)
VALUES (%(username)s, %(display_name)s, %(email)s, %(role)s, %(password_hash)s)
RETURNING id

-- name: user_password
UPDATE hub.users SET password_hash = %(password_hash)s, failed_logins = 0, locked_until = NULL
WHERE id = %(id)s AND auth_source = 'local' RETURNING username

-- name: user_auth_source
SELECT username, auth_source FROM hub.users WHERE id = %(id)s

-- name: list_users
SELECT u.id, u.username, u.display_name, u.role, u.auth_source, u.enabled, u.last_login_at,
       coalesce(array_agg(g.name ORDER BY g.name) FILTER (WHERE g.name IS NOT NULL), '{}') AS groups
FROM hub.users u
LEFT JOIN hub.memberships m ON m.user_id = u.id
LEFT JOIN hub.groups g ON g.id = m.group_id
GROUP BY u.id ORDER BY u.username

-- name: lock_first_admin
-- two nodes starting on an empty database: the second waits, then finds the admin
SELECT pg_advisory_xact_lock(hashtext('msghub.first_admin'))

-- name: count_users
SELECT count(*) AS users FROM hub.users

-- name: login_failed
UPDATE hub.users u
SET (failed_logins, locked_until, last_failed_login_at) =
    (SELECT b.failures, b.locked_until, now()
     FROM hub.login_backoff_v1(u.failed_logins, u.last_failed_login_at, u.locked_until, %(threshold)s) b)
WHERE id = %(id)s
RETURNING failed_logins, locked_until

-- name: login_name_locked
-- a name no account has, locked as an account would be (hub.login_backoff_v1)
SELECT EXISTS (SELECT 1 FROM hub.login_failures
               WHERE scope = 'name' AND key = %(name)s AND locked_until > now()) AS locked

-- name: login_name_failed
INSERT INTO hub.login_failures AS f (scope, key, failures, locked_until)
SELECT 'name', %(name)s, b.failures, b.locked_until FROM hub.login_backoff_v1(0, NULL, NULL, %(threshold)s) b
ON CONFLICT (scope, key) DO UPDATE
SET (failures, locked_until, last_failed_at) =
    (SELECT b.failures, b.locked_until, now()
     FROM hub.login_backoff_v1(f.failures, f.last_failed_at, f.locked_until, %(threshold)s) b)

-- name: login_name_forget
-- the name became an account (a first directory login): the account counts from now on
DELETE FROM hub.login_failures WHERE scope = 'name' AND key = ANY(%(names)s)

-- name: address_blocked
SELECT EXISTS (SELECT 1 FROM hub.login_failures
               WHERE scope = %(scope)s AND key = %(address)s AND failures >= %(limit)s
                 AND window_start > now() - make_interval(secs => %(window_s)s)) AS blocked

-- name: address_failed
-- one window per address: counting starts again once it is over
INSERT INTO hub.login_failures AS f (scope, key, failures) VALUES (%(scope)s, %(address)s, 1)
ON CONFLICT (scope, key) DO UPDATE
SET failures = CASE WHEN f.window_start > now() - make_interval(secs => %(window_s)s) THEN f.failures + 1 ELSE 1 END,
    window_start = CASE WHEN f.window_start > now() - make_interval(secs => %(window_s)s)
                        THEN f.window_start ELSE now() END,
    last_failed_at = now()

-- name: purge_login_failures
DELETE FROM hub.login_failures WHERE last_failed_at < now() - interval '1 day'

-- name: end_sessions
SELECT hub.end_sessions_v1(%(user_id)s) AS ended

-- name: login_succeeded
UPDATE hub.users SET failed_logins = 0, locked_until = NULL, last_login_at = now() WHERE id = %(id)s

-- name: audit
INSERT INTO hub.audit_log (actor_user_id, actor, action, target, detail, source)
VALUES (%(actor_user_id)s, %(actor)s, %(action)s, %(target)s, %(detail)s, %(source)s)

-- name: create_web_session
INSERT INTO hub.web_sessions (token_sha256, user_id, csrf_token, expires_at)
VALUES (%(token_sha256)s, %(user_id)s, %(csrf_token)s, now() + make_interval(secs => %(ttl_s)s))

-- name: web_session
UPDATE hub.web_sessions s SET last_seen_at = now()
FROM hub.users u
WHERE s.token_sha256 = %(token_sha256)s AND s.expires_at > now() AND u.id = s.user_id AND u.enabled
RETURNING s.user_id, s.csrf_token, u.username, u.display_name, u.role

-- name: delete_web_session
DELETE FROM hub.web_sessions WHERE token_sha256 = %(token_sha256)s

-- name: outbox_messages
SELECT id FROM hub.messages WHERE outbox_id = %(id)s ORDER BY id

-- name: demo_reply
SELECT sender, text FROM hub.inbox WHERE sender = %(sender)s AND id > %(after)s ORDER BY id LIMIT 1

-- name: queue_message_full
INSERT INTO hub.outbox (channel, recipients, sender, subject, text, attachments, connection, send_at,
                        valid_until, delivery_report, priority, transliterate, correlation_id,
                        idempotency_key)
VALUES (%(channel)s, %(recipients)s, %(sender)s, %(subject)s, %(text)s, %(attachments)s, %(connection)s,
        %(send_at)s, %(valid_until)s, %(delivery_report)s, %(priority)s, %(transliterate)s,
        %(correlation_id)s, %(idempotency_key)s)
RETURNING id

-- name: bench_insert
INSERT INTO hub.outbox (recipient, text, connection, correlation_id)
SELECT r, t, %(connection)s, c FROM unnest(%(recipients)s::text[], %(texts)s::text[], %(correlation_ids)s::text[]) AS u(r, t, c)

-- name: bench_sent_times
SELECT m.correlation_id, l.at AS sent_at
FROM hub.messages m JOIN hub.message_status_log l ON l.message_id = m.id AND l.status = 'sent'
WHERE m.correlation_id LIKE %(pattern)s

-- name: bench_raw_create
CREATE TABLE IF NOT EXISTS public.msghub_bench_raw (id bigserial PRIMARY KEY, payload text NOT NULL,
                                                   created_at timestamptz NOT NULL DEFAULT now())

-- name: bench_raw_insert
INSERT INTO public.msghub_bench_raw (payload) VALUES (%(payload)s)

-- name: bench_raw_drop
DROP TABLE IF EXISTS public.msghub_bench_raw

-- name: bench_stats_connections
INSERT INTO hub.connections (name, kind, channels)
SELECT 'bench-stats-' || n, 'loopback', '{sms,mms,email}' FROM generate_series(1, 10) n
ON CONFLICT (name) DO NOTHING

-- name: bench_stats_groups
INSERT INTO hub.groups (name)
SELECT 'bench-stats-' || n FROM generate_series(1, 5) n
ON CONFLICT (name) DO NOTHING

-- name: bench_stats_fill
-- priced as tariffs would (40 destination prefixes, a price each), owned by five groups
INSERT INTO hub.messages (channel, direction, connection_id, sender, recipients, body, status,
                          created_at, segments, owner_group_id, unit_price, currency, tariff_prefix,
                          estimated_cost)
SELECT CASE WHEN n %% 10 = 0 THEN 'email' ELSE 'sms' END,
       CASE WHEN n %% 3 = 0 THEN 'in' ELSE 'out' END,
       c.id, '+15550000', ARRAY['+1555' || lpad((n %% 10000000)::text, 7, '0')], 'bench stats',
       CASE WHEN n %% 3 = 0 THEN 'received' WHEN n %% 17 = 0 THEN 'failed' ELSE 'delivered' END,
       now() - make_interval(days => (n %% %(days)s)::integer, secs => (n %% 86400)::double precision),
       1 + (n %% 4 = 0)::integer, g.id, 0.04 + (n %% 40) * 0.001, 'EUR', '+' || (10 + n %% 40),
       (0.04 + (n %% 40) * 0.001) * (1 + (n %% 4 = 0)::integer)
FROM generate_series(1, %(messages)s) n
JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM hub.connections
      WHERE name LIKE 'bench-stats-%%') c ON c.k = n %% 10
JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM hub.groups
      WHERE name LIKE 'bench-stats-%%') g ON g.k = n %% 5

-- name: bench_memory_fill
INSERT INTO hub.messages (channel, direction, connection_id, sender, recipients, body, status)
SELECT 'sms', 'out', c.id, '+15550000', ARRAY['+1555' || lpad((n %% 10000000)::text, 7, '0')], 'bench memory',
       'queued'
FROM generate_series(1, %(messages)s) n, hub.connections c
WHERE c.name = %(connection)s

-- name: bench_memory_counts
SELECT count(*) FILTER (WHERE m.status = 'sent') AS sent, count(*) FILTER (WHERE m.status = 'queued') AS queued
FROM hub.messages m JOIN hub.connections c ON c.id = m.connection_id
WHERE c.name = %(connection)s

-- name: bench_fill_analyze
ANALYZE hub.messages, hub.message_status_log, hub.message_changes, hub.events

-- name: bench_stats_query
SELECT day, connection, direction, messages, segments, sent, delivered, failed
FROM hub.stats_by_connection_day
WHERE day >= current_date - %(days)s
ORDER BY day, connection

-- name: bench_stats_total
SELECT count(*) AS messages FROM hub.messages

-- name: act_as_user
SELECT set_config('msghub.user_id', %(user_id)s, true), set_config('msghub.system', 'off', true)

-- name: message_by_id
SELECT m.id, m.channel, m.direction, c.name AS connection, m.sender, m.recipients, m.subject, m.body,
       m.status, m.status_at, m.created_at, m.failure_reason, m.possible_duplicate,
       u.username AS owner_user, g.name AS owner_group
FROM hub.messages m
LEFT JOIN hub.connections c ON c.id = m.connection_id
LEFT JOIN hub.users u ON u.id = m.owner_user_id
LEFT JOIN hub.groups g ON g.id = m.owner_group_id
WHERE m.id = %(id)s

-- name: insert_group
INSERT INTO hub.groups (name, description) VALUES (%(name)s, %(description)s) RETURNING id

-- name: group_by_name
SELECT id, name, description FROM hub.groups WHERE name = %(name)s

-- name: delete_group
DELETE FROM hub.groups WHERE id = %(id)s

-- name: list_groups
SELECT g.name, g.description,
       coalesce(array_agg(u.username ORDER BY u.username) FILTER (WHERE u.id IS NOT NULL), '{}') AS members
FROM hub.groups g
LEFT JOIN hub.memberships m ON m.group_id = g.id
LEFT JOIN hub.users u ON u.id = m.user_id
GROUP BY g.id ORDER BY g.name

-- name: add_membership
INSERT INTO hub.memberships (user_id, group_id) VALUES (%(user_id)s, %(group_id)s) ON CONFLICT DO NOTHING

-- name: remove_membership
DELETE FROM hub.memberships WHERE user_id = %(user_id)s AND group_id = %(group_id)s

-- name: insert_integrator_login
INSERT INTO hub.integrator_logins (role_name, user_id, group_id) VALUES (%(role_name)s, %(user_id)s, %(group_id)s)

-- name: delete_integrator_login
DELETE FROM hub.integrator_logins WHERE role_name = %(role_name)s

-- name: role_oid
SELECT oid FROM pg_roles WHERE rolname = %(name)s

-- name: end_role_connections
-- Closes the role's sessions when this login may signal them (a superuser
-- or a member of pg_signal_backend); signalled says whether it could.
SELECT s.allowed AS signalled,
       count(a.pid) FILTER (WHERE CASE WHEN s.allowed THEN pg_terminate_backend(a.pid) ELSE false END) AS ended
FROM (SELECT pg_has_role(current_user, 'pg_signal_backend', 'MEMBER')
             OR coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = current_user), false) AS allowed) s
LEFT JOIN pg_stat_activity a ON a.usesysid = %(oid)s AND a.pid <> pg_backend_pid()
GROUP BY s.allowed

-- name: current_role
SELECT current_user AS role

-- name: reset_role_local
-- back to the database login for the rest of the transaction (roles are its to create)
SET LOCAL ROLE NONE

-- name: list_integrator_logins
SELECT i.role_name, u.username, g.name AS group_name, i.created_at
FROM hub.integrator_logins i
LEFT JOIN hub.users u ON u.id = i.user_id
LEFT JOIN hub.groups g ON g.id = i.group_id
ORDER BY i.role_name

-- name: role_exists
SELECT 1 AS present FROM pg_roles WHERE rolname = %(name)s

-- name: grant_connection
INSERT INTO hub.connection_grants (connection_id, user_id, group_id)
VALUES (%(connection_id)s, %(user_id)s, %(group_id)s) ON CONFLICT DO NOTHING

-- name: revoke_connection
DELETE FROM hub.connection_grants
WHERE connection_id = %(connection_id)s AND user_id IS NOT DISTINCT FROM %(user_id)s
  AND group_id IS NOT DISTINCT FROM %(group_id)s

-- name: assign_message
SELECT hub.assign_v2(%(message_id)s, %(user_id)s, %(group_id)s, %(actor)s) AS assigned

-- name: bench_rls_fill
WITH u AS (
    INSERT INTO hub.users (username, role)
    SELECT 'bench-rls-' || n, 'user' FROM generate_series(1, 100) n
    ON CONFLICT (username) DO UPDATE SET role = excluded.role
    RETURNING id
), g AS (
    INSERT INTO hub.groups (name) SELECT 'bench-rls-' || n FROM generate_series(1, 20) n
    ON CONFLICT (name) DO UPDATE SET description = hub.groups.description
    RETURNING id
), uu AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM u),
   gg AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM g),
   members AS (
    INSERT INTO hub.memberships (user_id, group_id)
    SELECT uu.id, gg.id FROM uu JOIN gg ON gg.k IN (uu.k %% 20, (uu.k + 7) %% 20)
    ON CONFLICT DO NOTHING
)
INSERT INTO hub.messages (channel, direction, sender, recipients, body, status, owner_user_id, owner_group_id)
SELECT 'sms', 'in', '+1555' || lpad((n %% 10000000)::text, 7, '0'), '{+15550000}', 'bench rls ' || n, 'received',
       CASE WHEN n %% 2 = 0 THEN (SELECT id FROM uu WHERE k = n %% 100) END,
       CASE WHEN n %% 2 = 1 THEN (SELECT id FROM gg WHERE k = n %% 20) END
FROM generate_series(1, %(messages)s) n

-- name: bench_rls_user
SELECT u.id, array_agg(m.group_id) AS groups FROM hub.users u JOIN hub.memberships m ON m.user_id = u.id
WHERE u.username = 'bench-rls-1' GROUP BY u.id

-- name: bench_rls_inbox
SELECT id, sender, body, created_at FROM hub.messages WHERE direction = 'in' ORDER BY id DESC LIMIT 50

-- name: bench_rls_inbox_explicit
SELECT id, sender, body, created_at FROM hub.messages
WHERE direction = 'in' AND (owner_user_id = %(user_id)s OR owner_group_id = ANY (%(groups)s))
ORDER BY id DESC LIMIT 50

-- name: bench_rls_analyze
ANALYZE hub.messages

-- name: bench_rls_as_hub
SET ROLE msghub_app

-- name: bench_rls_as_user
SELECT set_config('msghub.user_id', %(user_id)s, false), set_config('msghub.system', 'off', false)

-- name: assignees
SELECT 'user:' || id AS value, username || CASE WHEN display_name <> '' THEN ' (' || display_name || ')' ELSE '' END
       AS label
FROM hub.users WHERE enabled
UNION ALL
SELECT 'group:' || id, 'group ' || name FROM hub.groups
ORDER BY 2

-- ---------------------------------------------------------------- sessions and housekeeping of the kernel

-- name: ping
-- a database round trip: the health check, and the listener's test of a silent link
SELECT 1

-- name: set_role_app
SET ROLE msghub_app

-- name: set_system_mode
-- the hub's own connections see every row (schema/15_identity.sql)
SET msghub.system = 'on'

-- name: database_exists
SELECT 1 FROM pg_database WHERE datname = %(name)s

-- name: schema_revision
SELECT version_num FROM hub.alembic_version

-- name: account_locked
SELECT %(t)s::timestamptz > now() AS locked
