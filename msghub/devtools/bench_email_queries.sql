-- Named queries of `msghub bench email` (msghub/devtools/bench_email.py).

-- name: insert
INSERT INTO hub.outbox (channel, recipient, subject, text, connection, correlation_id)
SELECT 'email', %(recipient)s, 'bench ' || i, 'bench mail number ' || i, %(connection)s, %(tag)s || '-' || i
FROM generate_series(%(first)s::int, %(last)s::int) AS i

-- name: accepted
SELECT count(*) AS n, min(o.created_at) AS first_insert, max(a.accepted_at) AS last_accept,
       coalesce(percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM a.accepted_at - o.created_at)), 0)
           * 1000 AS p99_ms,
       coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM a.accepted_at - o.created_at)), 0)
           * 1000 AS p50_ms
FROM hub.messages m
JOIN hub.outbox o ON o.id = m.outbox_id
JOIN hub.smtp_accepted a ON a.message_id = m.id
WHERE m.correlation_id LIKE %(pattern)s

-- name: failed
SELECT count(*) AS n, min(failure_reason) AS reason FROM hub.messages
WHERE correlation_id LIKE %(pattern)s AND status = 'failed'
