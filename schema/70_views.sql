-- Views for integrators and reports (docs/INTEGRATION.md). Views run with
-- their owner's rights, which row-level security does not restrict, so the
-- message views apply the same visibility rule themselves (this also works
-- on PostgreSQL 13 and 14, which have no security_invoker views).

-- What arrived.
CREATE VIEW hub.inbox AS
SELECT m.id, m.channel, c.name AS connection, m.sender, m.recipients, m.subject, m.body AS text,
       m.created_at AS received_at, f.name AS folder, m.owner_user_id, m.owner_group_id,
       (SELECT count(*) FROM hub.message_parts p WHERE p.message_id = m.id) AS part_count, m.meta
FROM hub.messages m
LEFT JOIN hub.connections c ON c.id = m.connection_id
LEFT JOIN hub.folders f ON f.id = m.folder_id
WHERE m.direction = 'in' AND hub.visible_to_v1(m.owner_user_id, m.owner_group_id, (SELECT (hub.viewer_v1()).sees_all), (SELECT (hub.viewer_v1()).user_id),
        (SELECT (hub.viewer_v1()).groups), (SELECT (hub.viewer_v1()).sees_unassigned));

-- The status of what was sent, by message; correlation_id and
-- idempotency_key find an integrator's rows.
CREATE VIEW hub.message_status AS
SELECT m.id AS message_id, m.outbox_id, o.idempotency_key, m.correlation_id, m.channel,
       c.name AS connection, m.recipients[1] AS recipient, m.status, m.status_at, m.attempts,
       m.segments, m.operator_ref, m.failure_code, m.failure_reason, m.possible_duplicate,
       m.send_at, m.valid_until, m.created_at, m.estimated_cost, m.cost, m.currency, m.route_reason
FROM hub.messages m
LEFT JOIN hub.outbox o ON o.id = m.outbox_id
LEFT JOIN hub.connections c ON c.id = m.connection_id
WHERE m.direction = 'out' AND hub.visible_to_v1(m.owner_user_id, m.owner_group_id, (SELECT (hub.viewer_v1()).sees_all), (SELECT (hub.viewer_v1()).user_id),
        (SELECT (hub.viewer_v1()).groups), (SELECT (hub.viewer_v1()).sees_unassigned));

-- Messages and SMS segments by day (UTC), connection, owning user, channel,
-- direction and status, counting the messages the viewer sees (as
-- hub.inbox and hub.message_status do). For those who see every message
-- (admins, the hub in system mode): the folded totals plus deltas not yet
-- folded, so the view is exact at every moment and reads only small
-- tables. For everyone else: counted from the messages they see, through
-- the owner indexes (the totals keep no group, and would show others' counts).
CREATE VIEW hub.stats_messages AS
SELECT s.day, s.connection_id, c.name AS connection, s.owner_user_id, u.username,
       s.channel, s.direction, s.status, s.messages, s.segments
FROM (
    SELECT day, connection_id, owner_user_id, channel, direction, status,
           sum(messages)::bigint AS messages, sum(segments)::bigint AS segments
    FROM (
        SELECT day, connection_id, owner_user_id, channel, direction, status, messages, segments
        FROM hub.stats_daily
        UNION ALL
        SELECT day, connection_id, owner_user_id, channel, direction, status, messages, segments
        FROM hub.stats_deltas
    ) t
    WHERE (SELECT (hub.viewer_v1()).sees_all)
    GROUP BY 1, 2, 3, 4, 5, 6
    HAVING sum(messages) <> 0
    UNION ALL
    -- hub.visible_to_v1 as three disjoint branches, each served by an owner
    -- index: own, a group's (not own), unassigned (for operators)
    SELECT (m.created_at AT TIME ZONE 'UTC')::date, coalesce(m.connection_id, 0), coalesce(m.owner_user_id, 0),
           m.channel, m.direction, m.status, count(*), sum(coalesce(m.segments, 1))::bigint
    FROM (
        SELECT created_at, connection_id, owner_user_id, channel, direction, status, segments
        FROM hub.messages
        WHERE owner_user_id = (SELECT (hub.viewer_v1()).user_id)
        UNION ALL
        SELECT created_at, connection_id, owner_user_id, channel, direction, status, segments
        FROM hub.messages
        WHERE owner_group_id = ANY ((SELECT (hub.viewer_v1()).groups)::bigint[])
          AND (owner_user_id = (SELECT (hub.viewer_v1()).user_id)) IS NOT TRUE
        UNION ALL
        SELECT created_at, connection_id, owner_user_id, channel, direction, status, segments
        FROM hub.messages
        WHERE owner_user_id IS NULL AND owner_group_id IS NULL AND (SELECT (hub.viewer_v1()).sees_unassigned)
    ) m
    WHERE NOT (SELECT (hub.viewer_v1()).sees_all)
    GROUP BY 1, 2, 3, 4, 5, 6
) s
LEFT JOIN hub.connections c ON c.id = nullif(s.connection_id, 0)
LEFT JOIN hub.users u ON u.id = nullif(s.owner_user_id, 0);

CREATE VIEW hub.stats_by_connection_day AS
SELECT day, connection_id, connection, direction,
       sum(messages)::bigint AS messages,
       sum(segments)::bigint AS segments,
       coalesce(sum(messages) FILTER (WHERE status IN ('sent', 'delivered')), 0)::bigint AS sent,
       coalesce(sum(messages) FILTER (WHERE status = 'delivered'), 0)::bigint AS delivered,
       coalesce(sum(messages) FILTER (WHERE status = 'failed'), 0)::bigint AS failed,
       coalesce(sum(messages) FILTER (WHERE status IN ('queued', 'sending')), 0)::bigint AS pending,
       coalesce(sum(messages) FILTER (WHERE status = 'received'), 0)::bigint AS received
FROM hub.stats_messages
GROUP BY day, connection_id, connection, direction;

CREATE VIEW hub.stats_by_user_day AS
SELECT day, owner_user_id, username, channel, direction,
       sum(messages)::bigint AS messages, sum(segments)::bigint AS segments
FROM hub.stats_messages
GROUP BY day, owner_user_id, username, channel, direction;

-- Connections with their queue depth, for `msghub status` and the web page.
-- Connections are shared by everyone, and so is their queue depth (a count
-- of everyone's messages, no content); integrators are not granted it.
CREATE VIEW hub.connection_status AS
SELECT c.id, c.name, c.kind, c.enabled, c.state, c.state_since, c.last_error, c.last_error_at, c.node,
       (SELECT count(*) FROM hub.messages m WHERE m.connection_id = c.id AND m.status = 'queued') AS queued,
       (SELECT count(*) FROM hub.messages m WHERE m.connection_id = c.id AND m.status = 'sending') AS sending
FROM hub.connections c;
