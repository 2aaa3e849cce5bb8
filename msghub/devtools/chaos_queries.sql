-- What `msghub bench chaos` (msghub/devtools/chaos.py) writes and counts.

-- name: chaos_max_attempts
-- a killed hub costs attempts: enough that no message fails for it
UPDATE hub.connections SET max_attempts = 100 WHERE name = %(name)s

-- name: chaos_insert
-- the idempotency key makes an insert retried after a broken connection queue one message, not two
INSERT INTO hub.outbox (recipient, text, connection, correlation_id, idempotency_key)
VALUES (%(recipient)s, %(text)s, %(connection)s, %(correlation_id)s, %(correlation_id)s)

-- name: chaos_holder
SELECT state, coalesce(node, '') AS node FROM hub.connections WHERE name = %(name)s

-- name: chaos_unfinished
SELECT count(*)::bigint AS unfinished FROM hub.messages
WHERE correlation_id LIKE %(pattern)s AND status IN ('queued', 'sending')

-- name: chaos_outcomes
SELECT correlation_id, status, possible_duplicate FROM hub.messages
WHERE correlation_id LIKE %(pattern)s

-- name: chaos_inbound
SELECT body, count(*)::bigint AS copies FROM hub.messages
WHERE direction = 'in' AND body LIKE %(pattern)s
GROUP BY body

-- name: chaos_ready
-- the hub migrated the database and registered its node
SELECT 1 AS ready FROM hub.nodes WHERE name = %(node)s
