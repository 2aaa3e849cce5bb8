-- What happens around every change of hub.messages, statement by statement
-- (transition tables, so a batch costs one trigger call, not one per row):
-- the status history, events for the rule runner, statistics deltas, and
-- NOTIFY wake-ups. NOTIFY payloads repeat within a transaction and PostgreSQL
-- folds repeats, so a transaction sends at most one per channel and payload.

CREATE TABLE hub.stats_daily (
    day            date NOT NULL,
    connection_id  bigint NOT NULL,   -- 0: no connection
    owner_user_id  bigint NOT NULL,   -- 0: no owning user
    channel        text NOT NULL,
    direction      text NOT NULL,
    status         text NOT NULL,
    messages       bigint NOT NULL,
    segments       bigint NOT NULL,
    PRIMARY KEY (day, connection_id, owner_user_id, channel, direction, status)
);

-- Append-only deltas written by the triggers below; hub.stats_rollup_v1()
-- folds them into stats_daily. Appending never waits on a lock, where
-- updating a shared counter row would serialise every writer.
CREATE TABLE hub.stats_deltas (
    day            date NOT NULL,
    connection_id  bigint NOT NULL,
    owner_user_id  bigint NOT NULL,
    channel        text NOT NULL,
    direction      text NOT NULL,
    status         text NOT NULL,
    messages       bigint NOT NULL,
    segments       bigint NOT NULL
);

-- Connections whose worker found its queue empty and waits for a NOTIFY.
-- Unlogged: a flag, rebuilt by the workers after a crash.
CREATE UNLOGGED TABLE hub.outbox_waiters (
    connection_id bigint PRIMARY KEY,
    since         timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION hub.messages_inserted_v1() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_conn bigint;
BEGIN
    INSERT INTO hub.message_status_log (message_id, status, at)
    SELECT id, status, status_at FROM new_rows;

    INSERT INTO hub.stats_deltas
    SELECT (created_at AT TIME ZONE 'UTC')::date, coalesce(connection_id, 0), coalesce(owner_user_id, 0),
           channel, direction, status, count(*), sum(coalesce(segments, 1))
    FROM new_rows
    GROUP BY 1, 2, 3, 4, 5, 6;

    -- the web UI's change feed (46_web.sql)
    INSERT INTO hub.message_changes (message_id, kind, owner_user_id, owner_group_id)
    SELECT id, CASE direction WHEN 'in' THEN 'received' ELSE 'queued' END, owner_user_id, owner_group_id
    FROM new_rows ORDER BY id;

    INSERT INTO hub.events (type, message_id, connection_id)
    SELECT 'message_received', id, connection_id FROM new_rows WHERE direction = 'in' ORDER BY id;
    IF FOUND THEN
        PERFORM pg_notify('msghub_events', '');
    END IF;

    -- wake only workers that wait for it: a NOTIFY holds a cluster-wide lock
    -- through the commit's WAL flush, so a NOTIFY on every integrator insert
    -- would serialise them all; a busy worker finds new rows by itself
    FOR v_conn IN
        SELECT DISTINCT n.connection_id FROM new_rows n
        WHERE n.status = 'queued'
          AND EXISTS (SELECT 1 FROM hub.outbox_waiters w WHERE w.connection_id = n.connection_id)
    LOOP
        PERFORM pg_notify('msghub_outbox', v_conn::text);
    END LOOP;
    IF EXISTS (SELECT 1 FROM new_rows WHERE direction = 'in') THEN
        PERFORM pg_notify('msghub_messages', '');
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION hub.messages_updated_v1() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_conn bigint;
BEGIN
    INSERT INTO hub.message_status_log (message_id, status, at, detail)
    SELECT n.id, n.status, n.status_at, n.failure_reason
    FROM new_rows n JOIN old_rows o ON o.id = n.id
    WHERE n.status IS DISTINCT FROM o.status;

    INSERT INTO hub.stats_deltas
    SELECT day, conn, owner, channel, direction, status, sum(messages), sum(segments)
    FROM (
        SELECT (o.created_at AT TIME ZONE 'UTC')::date AS day, coalesce(o.connection_id, 0) AS conn,
               coalesce(o.owner_user_id, 0) AS owner, o.channel, o.direction, o.status,
               -1 AS messages, -coalesce(o.segments, 1) AS segments
        FROM old_rows o JOIN new_rows n ON n.id = o.id
        WHERE (o.status, o.segments, o.connection_id, o.owner_user_id)
              IS DISTINCT FROM (n.status, n.segments, n.connection_id, n.owner_user_id)
        UNION ALL
        SELECT (n.created_at AT TIME ZONE 'UTC')::date, coalesce(n.connection_id, 0),
               coalesce(n.owner_user_id, 0), n.channel, n.direction, n.status,
               1, coalesce(n.segments, 1)
        FROM old_rows o JOIN new_rows n ON n.id = o.id
        WHERE (o.status, o.segments, o.connection_id, o.owner_user_id)
              IS DISTINCT FROM (n.status, n.segments, n.connection_id, n.owner_user_id)
    ) d
    GROUP BY 1, 2, 3, 4, 5, 6
    HAVING sum(messages) <> 0 OR sum(segments) <> 0;

    -- the web UI's change feed (46_web.sql); a claim (queued to sending)
    -- changes nothing a person needs to see at once
    INSERT INTO hub.message_changes (message_id, kind, owner_user_id, owner_group_id,
                                     prev_owner_user_id, prev_owner_group_id)
    SELECT n.id,
           CASE WHEN (n.owner_user_id, n.owner_group_id) IS DISTINCT FROM (o.owner_user_id, o.owner_group_id)
                THEN 'assigned'
                WHEN n.folder_id IS DISTINCT FROM o.folder_id THEN 'moved'
                ELSE 'status' END,
           n.owner_user_id, n.owner_group_id, o.owner_user_id, o.owner_group_id
    FROM new_rows n JOIN old_rows o ON o.id = n.id
    WHERE (n.status IS DISTINCT FROM o.status AND n.status <> 'sending')
       OR (n.owner_user_id, n.owner_group_id) IS DISTINCT FROM (o.owner_user_id, o.owner_group_id)
       OR n.folder_id IS DISTINCT FROM o.folder_id
    ORDER BY n.id;

    INSERT INTO hub.events (type, message_id, connection_id, payload)
    SELECT CASE n.status WHEN 'sent' THEN 'message_sent' ELSE 'message_failed' END,
           n.id, n.connection_id,
           CASE WHEN n.status = 'failed'
                THEN jsonb_build_object('failure_code', n.failure_code, 'failure_reason', n.failure_reason)
                ELSE '{}'::jsonb END
    FROM new_rows n JOIN old_rows o ON o.id = n.id
    WHERE n.status IS DISTINCT FROM o.status AND n.status IN ('sent', 'failed')
    ORDER BY n.id;
    IF FOUND THEN
        PERFORM pg_notify('msghub_events', '');
    END IF;

    FOR v_conn IN
        SELECT DISTINCT n.connection_id FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE n.status = 'queued' AND o.status IS DISTINCT FROM 'queued' AND n.next_attempt_at <= now()
    LOOP
        PERFORM pg_notify('msghub_outbox', coalesce(v_conn::text, ''));
    END LOOP;
    -- a claim (queued to sending) tells live pages nothing worth the
    -- cluster-wide NOTIFY lock on the queue's hottest path
    IF EXISTS (SELECT 1 FROM new_rows WHERE status <> 'sending') THEN
        PERFORM pg_notify('msghub_messages', '');
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION hub.messages_deleted_v1() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO hub.stats_deltas
    SELECT (created_at AT TIME ZONE 'UTC')::date, coalesce(connection_id, 0), coalesce(owner_user_id, 0),
           channel, direction, status, -count(*), -sum(coalesce(segments, 1))
    FROM old_rows
    GROUP BY 1, 2, 3, 4, 5, 6;
    RETURN NULL;
END
$$;

CREATE TRIGGER messages_inserted
    AFTER INSERT ON hub.messages REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION hub.messages_inserted_v1();

CREATE TRIGGER messages_updated
    AFTER UPDATE ON hub.messages REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION hub.messages_updated_v1();

CREATE TRIGGER messages_deleted
    AFTER DELETE ON hub.messages REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION hub.messages_deleted_v1();

-- Folds the deltas into stats_daily. Safe to run concurrently: each delta
-- row is deleted (and so counted) by exactly one caller.
CREATE FUNCTION hub.stats_rollup_v1() RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    v_rows bigint;
BEGIN
    WITH taken AS (
        DELETE FROM hub.stats_deltas RETURNING *
    ), folded AS (
        SELECT day, connection_id, owner_user_id, channel, direction, status,
               sum(messages) AS messages, sum(segments) AS segments
        FROM taken GROUP BY 1, 2, 3, 4, 5, 6
    )
    INSERT INTO hub.stats_daily AS s
    SELECT * FROM folded
    ON CONFLICT (day, connection_id, owner_user_id, channel, direction, status)
    DO UPDATE SET messages = s.messages + excluded.messages, segments = s.segments + excluded.segments;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    DELETE FROM hub.stats_daily WHERE messages = 0 AND segments = 0;
    RETURN v_rows;
END
$$;
