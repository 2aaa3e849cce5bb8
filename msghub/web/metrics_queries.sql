-- What /metrics and /readyz read from the database (msghub/web/pages/ops.py):
-- the truth every node shares, so any node's scrape gives the same figures.

-- name: metrics_connections
-- per connection: its state and holder, its queue, and how long the oldest
-- due message has waited (a message scheduled for later waits from send_at)
SELECT c.name AS connection, c.kind, c.state, coalesce(c.node, '') AS node,
       coalesce(q.queued, 0)::bigint AS queued, coalesce(q.sending, 0)::bigint AS sending,
       coalesce(q.oldest_s, 0)::float8 AS oldest_s
FROM hub.connections c
LEFT JOIN (
    SELECT connection_id,
           count(*) FILTER (WHERE status = 'queued') AS queued,
           count(*) FILTER (WHERE status = 'sending') AS sending,
           extract(epoch FROM now() - min(least(now(), greatest(created_at, coalesce(send_at, created_at))))
                   FILTER (WHERE status = 'queued')) AS oldest_s
    FROM hub.messages
    WHERE status IN ('queued', 'sending')
    GROUP BY connection_id
) q ON q.connection_id = c.id
ORDER BY c.name

-- name: metrics_messages
-- messages by their status now, from the statistics (small tables, exact)
SELECT coalesce(connection, '') AS connection, channel, direction, status, sum(messages)::bigint AS messages
FROM hub.stats_messages
GROUP BY 1, 2, 3, 4
ORDER BY 1, 2, 3, 4

-- name: metrics_failures
-- outbound messages that failed in the last %(window_s)s seconds, by failure code
SELECT coalesce(c.name, '') AS connection, coalesce(m.failure_code, '') AS code, count(*)::bigint AS failed
FROM hub.messages m
LEFT JOIN hub.connections c ON c.id = m.connection_id
WHERE m.created_at > now() - make_interval(secs => %(window_s)s)
  AND m.status = 'failed' AND m.direction = 'out'
GROUP BY 1, 2
ORDER BY 1, 2

-- name: metrics_report_latency
-- from sent to delivered, for messages delivered among those created in the window
SELECT coalesce(c.name, '') AS connection, count(*)::bigint AS reports,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY l.latency_s)::float8 AS p50,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY l.latency_s)::float8 AS p90,
       percentile_cont(0.99) WITHIN GROUP (ORDER BY l.latency_s)::float8 AS p99
FROM hub.messages m
LEFT JOIN hub.connections c ON c.id = m.connection_id
CROSS JOIN LATERAL (
    SELECT extract(epoch FROM max(s.at) FILTER (WHERE s.status = 'delivered')
                              - min(s.at) FILTER (WHERE s.status = 'sent'))::float8 AS latency_s
    FROM hub.message_status_log s
    WHERE s.message_id = m.id
) l
WHERE m.created_at > now() - make_interval(secs => %(window_s)s)
  AND m.status = 'delivered' AND m.direction = 'out' AND l.latency_s IS NOT NULL
GROUP BY 1
ORDER BY 1

-- name: metrics_nodes
SELECT name AS node, host, extract(epoch FROM heartbeat_at)::float8 AS heartbeat_s,
       extract(epoch FROM now() - heartbeat_at)::float8 AS age_s
FROM hub.nodes
ORDER BY name

-- name: metrics_events_pending
SELECT count(*)::bigint AS pending FROM hub.events WHERE done_at IS NULL

-- name: metrics_rule_errors
-- rule failures every node logged in the window, by rule
SELECT coalesce(r.name, '') AS rule, count(*)::bigint AS errors
FROM hub.rule_log l
LEFT JOIN hub.rules r ON r.id = l.rule_id
WHERE l.at > now() - make_interval(secs => %(window_s)s) AND l.level = 'error'
GROUP BY 1
ORDER BY 1

-- name: ready_connections
-- this node's connections that are not up
SELECT name, state, coalesce(last_error, '') AS last_error
FROM hub.connections
WHERE node = %(node)s AND enabled AND state <> 'up'
ORDER BY name
