-- The outbound queue. Workers claim with SKIP LOCKED, send, and record the
-- outcome of a whole batch in one call. "attempts" doubles as a fencing
-- token: a result is recorded only for the attempt that claimed the row, so
-- a worker that comes back after its message was recovered changes nothing.

-- Claims up to p_limit due messages of one connection. Due rows past their
-- validity fail as expired instead of being sent. A full batch means more
-- may be waiting: the worker is busy and will look again by itself, so it
-- stops waiting for NOTIFYs (see hub.outbox_waiters). A partial batch
-- drained the queue, and the next insert should wake the worker at once.
CREATE FUNCTION hub.claim_outbound_v1(p_connection_id bigint, p_node text, p_limit integer)
RETURNS SETOF hub.messages
-- plpgsql, not sql: its plan is cached per session, where an SQL function
-- would plan this statement (and its row-level security) on every call
LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY
    WITH due AS (
        SELECT id, valid_until IS NOT NULL AND valid_until <= now() AS expired
        FROM hub.messages
        WHERE connection_id = p_connection_id AND status = 'queued' AND next_attempt_at <= now()
        ORDER BY priority DESC, next_attempt_at, id
        LIMIT p_limit
        FOR UPDATE SKIP LOCKED
    ), awake AS (
        DELETE FROM hub.outbox_waiters
        WHERE connection_id = p_connection_id AND (SELECT count(*) FROM due) = p_limit
    ), expired AS (
        UPDATE hub.messages m
        SET status = 'failed', status_at = clock_timestamp(), failure_code = 'expired',
            failure_reason = format('validity period ended at %s before it could be sent', m.valid_until)
        FROM due WHERE m.id = due.id AND due.expired
    )
    UPDATE hub.messages m
    SET status = 'sending', status_at = clock_timestamp(), claimed_by = p_node,
        claimed_at = clock_timestamp(), attempts = m.attempts + 1
    FROM due WHERE m.id = due.id AND NOT due.expired
    RETURNING m.*;
END
$$;

-- A worker found nothing to claim and will wait for a NOTIFY: from now on
-- inserts for its connection send one. It claims once more after this, so
-- a row committed in between is not left waiting for the next poll.
CREATE FUNCTION hub.outbox_wait_v1(p_connection_id bigint) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO hub.outbox_waiters (connection_id) VALUES (p_connection_id)
    ON CONFLICT (connection_id) DO NOTHING
$$;

-- Records the outcome of a batch of sends. p_outcomes[i] is one of
--   sent       accepted by the far side; p_refs[i] is its reference
--   retry      failed for now: queued again with backoff, until max_attempts
--   uncertain  written to the link but no answer came: retried like "retry"
--              and flagged possible_duplicate
--   failed     refused for good: p_codes[i] / p_reasons[i] say why
-- p_segments[i] is the number of SMS parts (NULL for other channels); the
-- p_segment_* arrays list the parts of sent messages with their references.
CREATE FUNCTION hub.record_results_v1(
    p_ids bigint[], p_attempts integer[], p_outcomes text[], p_refs text[],
    p_segments integer[], p_codes text[], p_reasons text[],
    p_segment_message_ids bigint[], p_segment_seqs integer[], p_segment_totals integer[],
    p_segment_refs text[])
RETURNS integer
LANGUAGE plpgsql
-- without bitmap scans, which never mark an index entry dead: through
-- messages_sending (status = 'sending') they visited an entry for every
-- message sent since the last vacuum, so the call's cost grew with the
-- table; an index scan skips the entries it once found dead
-- (docs/PERFORMANCE.md, "Growth with table size")
SET enable_bitmapscan = off
AS $$
DECLARE
    v_count integer;
    v_base bigint := hub.setting_int('retry_base_s');
    v_max bigint := hub.setting_int('retry_max_s');
BEGIN
    -- This transaction need not wait for its WAL flush: if a crash loses it,
    -- its messages are back in "sending" (the claim was flushed) and the
    -- lease recovers them flagged possible_duplicate. Nothing is lost.
    PERFORM set_config('synchronous_commit', 'off', true);
    IF EXISTS (SELECT 1 FROM unnest(p_outcomes) o WHERE o NOT IN ('sent', 'retry', 'uncertain', 'failed')) THEN
        RAISE EXCEPTION 'record_results_v1: unknown outcome in %', p_outcomes USING ERRCODE = 'invalid_parameter_value';
    END IF;
    UPDATE hub.messages m
    SET status = CASE
            WHEN r.outcome = 'sent' THEN 'sent'
            WHEN r.outcome = 'failed' OR m.attempts >= c.max_attempts THEN 'failed'
            ELSE 'queued' END,
        status_at = clock_timestamp(),
        operator_ref = CASE WHEN r.outcome = 'sent' THEN r.ref ELSE m.operator_ref END,
        segments = coalesce(r.segments, m.segments),
        failure_code = CASE WHEN r.outcome = 'sent' THEN NULL
            WHEN r.outcome IN ('retry', 'uncertain') AND m.attempts >= c.max_attempts THEN 'attempts_exhausted'
            ELSE r.code END,
        failure_reason = CASE WHEN r.outcome = 'sent' THEN NULL
            WHEN r.outcome IN ('retry', 'uncertain') AND m.attempts >= c.max_attempts
            THEN format('gave up after %s attempts; last error: %s', m.attempts, r.reason)
            ELSE r.reason END,
        possible_duplicate = m.possible_duplicate OR r.outcome = 'uncertain',
        next_attempt_at = CASE WHEN r.outcome IN ('retry', 'uncertain')
            THEN now() + make_interval(secs => least(v_max, v_base * 2 ^ (m.attempts - 1)))
            ELSE m.next_attempt_at END,
        claimed_by = NULL
    FROM unnest(p_ids, p_attempts, p_outcomes, p_refs, p_segments, p_codes, p_reasons)
         AS r(id, attempt, outcome, ref, segments, code, reason),
         hub.connections c
    WHERE m.id = r.id AND m.attempts = r.attempt AND m.status = 'sending' AND c.id = m.connection_id;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    IF cardinality(p_segment_message_ids) > 0 THEN
        PERFORM hub.record_segments_v1(p_segment_message_ids, p_segment_seqs, p_segment_totals, p_segment_refs);
    END IF;
    RETURN v_count;
END
$$;

-- Records the operator references of the SMS parts of sent messages, and
-- applies any delivery report that arrived before them.
CREATE FUNCTION hub.record_segments_v1(
    p_message_ids bigint[], p_seqs integer[], p_totals integer[], p_refs text[])
RETURNS void
LANGUAGE plpgsql
-- the plan plpgsql caches per session was made while hub.messages was
-- small: a hash join over the whole table, whose cost then grew with it;
-- without sequential scans its cached plan looks messages up by key
SET enable_seqscan = off
AS $$
DECLARE
    v_report record;
BEGIN
    INSERT INTO hub.sms_segments (message_id, seq, total, connection_id, operator_ref)
    SELECT s.message_id, s.seq, s.total, m.connection_id, s.ref
    FROM unnest(p_message_ids, p_seqs, p_totals, p_refs) AS s(message_id, seq, total, ref)
    JOIN hub.messages m ON m.id = s.message_id
    ON CONFLICT (message_id, seq) DO UPDATE SET operator_ref = excluded.operator_ref, status = 'sent',
        status_at = clock_timestamp(), reason = NULL;

    FOR v_report IN
        SELECT d.id, d.connection_id, d.operator_ref, d.status, d.reason
        FROM hub.delivery_reports d
        JOIN hub.messages m ON m.connection_id = d.connection_id
        JOIN unnest(p_message_ids, p_refs) AS s(message_id, ref) ON s.message_id = m.id AND s.ref = d.operator_ref
        WHERE d.message_id IS NULL
        ORDER BY d.id
    LOOP
        PERFORM hub.apply_delivery_report_v1(v_report.id);
    END LOOP;
END
$$;

-- Applies one stored delivery report to its segment and message. A message
-- is delivered when all its parts are; it fails when any part fails.
CREATE FUNCTION hub.apply_delivery_report_v1(p_report_id bigint)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    v_report hub.delivery_reports;
    v_message_id bigint;
    v_total integer;
    v_delivered integer;
    v_failed integer;
BEGIN
    SELECT * INTO v_report FROM hub.delivery_reports WHERE id = p_report_id;
    -- references can repeat over time (an SMSC's clock-based ones): the
    -- newest open segment with this reference is the one reported on
    UPDATE hub.sms_segments s
    SET status = v_report.status, status_at = v_report.reported_at, reason = v_report.reason
    FROM (SELECT message_id, seq FROM hub.sms_segments
          WHERE connection_id = v_report.connection_id AND operator_ref = v_report.operator_ref
            AND status NOT IN ('delivered', 'failed')
          ORDER BY message_id DESC LIMIT 1) t
    WHERE s.message_id = t.message_id AND s.seq = t.seq
    RETURNING s.message_id INTO v_message_id;
    IF v_message_id IS NULL THEN
        -- not a segment: a message sent as a whole (MMS, e-mail) with this reference
        SELECT id INTO v_message_id FROM hub.messages
        WHERE connection_id = v_report.connection_id AND operator_ref = v_report.operator_ref
          AND direction = 'out' AND status IN ('sent', 'delivered')
        ORDER BY id DESC LIMIT 1;
        IF v_message_id IS NULL THEN
            RETURN NULL;
        END IF;
        v_total := 1;
        v_delivered := CASE WHEN v_report.status = 'delivered' THEN 1 ELSE 0 END;
        v_failed := CASE WHEN v_report.status = 'failed' THEN 1 ELSE 0 END;
    ELSE
        -- reports on the parts of one message may be stored at the same
        -- moment: whoever locks the message second counts after the first
        -- committed, so the last report always sees every part
        PERFORM FROM hub.messages WHERE id = v_message_id FOR UPDATE;
        SELECT count(*), count(*) FILTER (WHERE status = 'delivered'), count(*) FILTER (WHERE status = 'failed')
        INTO v_total, v_delivered, v_failed
        FROM hub.sms_segments WHERE message_id = v_message_id;
    END IF;

    UPDATE hub.delivery_reports SET message_id = v_message_id WHERE id = p_report_id;
    UPDATE hub.messages
    SET status = CASE WHEN v_failed > 0 THEN 'failed' ELSE 'delivered' END,
        status_at = clock_timestamp(),
        failure_code = CASE WHEN v_failed > 0 THEN 'undelivered' END,
        failure_reason = CASE WHEN v_failed > 0 THEN coalesce(v_report.reason, 'not delivered') END
    WHERE id = v_message_id AND status = 'sent' AND (v_failed > 0 OR v_delivered = v_total);

    INSERT INTO hub.events (type, message_id, connection_id, payload)
    VALUES ('delivery_report', v_message_id, v_report.connection_id,
            jsonb_build_object('status', v_report.status, 'reason', v_report.reason,
                               'operator_ref', v_report.operator_ref));
    PERFORM pg_notify('msghub_events', '');
    RETURN v_message_id;
END
$$;

-- Stores a delivery report and applies it when its segment is known.
-- Returns the message id, or NULL while the report waits for its submit.
CREATE FUNCTION hub.record_delivery_v1(
    p_connection_id bigint, p_operator_ref text, p_status text, p_reason text)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    v_id bigint;
BEGIN
    INSERT INTO hub.delivery_reports (connection_id, operator_ref, status, reason)
    VALUES (p_connection_id, p_operator_ref, p_status, p_reason)
    RETURNING id INTO v_id;
    RETURN hub.apply_delivery_report_v1(v_id);
END
$$;

-- Applies reports still waiting for their submit. A report and the record
-- of its submit can commit at the same moment, each not yet seeing the
-- other; this sweep (run every few seconds) settles them. Reports older
-- than an hour that match nothing stay unmatched for good.
CREATE FUNCTION hub.apply_pending_reports_v1() RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v_report_id bigint;
    v_applied integer := 0;
BEGIN
    FOR v_report_id IN
        SELECT d.id FROM hub.delivery_reports d
        WHERE d.message_id IS NULL AND d.reported_at > now() - interval '1 hour'
          AND (EXISTS (SELECT 1 FROM hub.sms_segments s
                       WHERE s.connection_id = d.connection_id AND s.operator_ref = d.operator_ref)
               OR EXISTS (SELECT 1 FROM hub.messages m
                          WHERE m.connection_id = d.connection_id AND m.operator_ref = d.operator_ref))
        ORDER BY d.id
        FOR UPDATE SKIP LOCKED
    LOOP
        IF hub.apply_delivery_report_v1(v_report_id) IS NOT NULL THEN
            v_applied := v_applied + 1;
        END IF;
    END LOOP;
    RETURN v_applied;
END
$$;

-- Returns messages stuck in "sending" to the queue: claimed longer ago than
-- the lease, or claimed by a node that stopped sending heartbeats. They may
-- have reached the far side, so they are flagged possible_duplicate.
CREATE FUNCTION hub.recover_stuck_v1(p_node_timeout interval DEFAULT interval '30 seconds')
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v_count integer;
BEGIN
    UPDATE hub.messages m
    SET status = 'queued', status_at = clock_timestamp(), claimed_by = NULL,
        possible_duplicate = true, next_attempt_at = now(),
        failure_reason = format('recovered from sending (claimed by %s at %s)', m.claimed_by, m.claimed_at)
    WHERE m.id IN (
        SELECT id FROM hub.messages
        WHERE status = 'sending'
          AND (claimed_at < now() - make_interval(secs => hub.setting_int('sending_lease_s'))
               OR claimed_by NOT IN (SELECT name FROM hub.nodes WHERE heartbeat_at > now() - p_node_timeout))
        FOR UPDATE SKIP LOCKED);
    GET DIAGNOSTICS v_count = ROW_COUNT;
    RETURN v_count;
END
$$;

-- Fails queued messages whose validity ended while they waited (deferred
-- ones, or ones behind a connection that is down or disabled).
CREATE FUNCTION hub.expire_queued_v1() RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v_count integer;
BEGIN
    UPDATE hub.messages m
    SET status = 'failed', status_at = clock_timestamp(), failure_code = 'expired',
        failure_reason = format('validity period ended at %s before it could be sent', m.valid_until)
    WHERE m.id IN (
        SELECT id FROM hub.messages
        WHERE status = 'queued' AND valid_until <= now()
        FOR UPDATE SKIP LOCKED);
    GET DIAGNOSTICS v_count = ROW_COUNT;
    RETURN v_count;
END
$$;

-- Cancels a message that has not been handed to a connection yet.
CREATE FUNCTION hub.cancel_v1(p_message_id bigint) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE hub.messages
    SET status = 'failed', status_at = clock_timestamp(), failure_code = 'cancelled',
        failure_reason = 'cancelled before sending'
    WHERE id = p_message_id AND status = 'queued';
    RETURN FOUND;
END
$$;

-- Stores what a connector received. One call, one message, one transaction
-- with its parts.
CREATE FUNCTION hub.receive_message_v1(
    p_connection_id bigint, p_channel text, p_sender text, p_recipients text[], p_subject text,
    p_body text, p_meta jsonb DEFAULT '{}', p_parts jsonb DEFAULT '[]', p_operator_ref text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    v_id bigint;
BEGIN
    INSERT INTO hub.messages (channel, direction, connection_id, sender, recipients, subject, body, status,
                              operator_ref, meta)
    VALUES (p_channel, 'in', p_connection_id, p_sender, p_recipients, p_subject, coalesce(p_body, ''),
            'received', p_operator_ref, coalesce(p_meta, '{}'))
    RETURNING id INTO v_id;
    INSERT INTO hub.message_parts (message_id, seq, content_type, filename, content_id, data)
    SELECT v_id, p.n, p.part ->> 'content_type', p.part ->> 'filename', p.part ->> 'content_id',
           decode(p.part ->> 'data', 'base64')
    FROM jsonb_array_elements(p_parts) WITH ORDINALITY AS p(part, n);
    RETURN v_id;
END
$$;

-- Moves a connection to a new state; going up or down records an event.
CREATE FUNCTION hub.set_connection_state_v1(
    p_connection_id bigint, p_state text, p_error text DEFAULT NULL, p_node text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_old text;
BEGIN
    SELECT state INTO v_old FROM hub.connections WHERE id = p_connection_id FOR UPDATE;
    UPDATE hub.connections
    SET state = p_state,
        state_since = CASE WHEN state = p_state THEN state_since ELSE now() END,
        last_error = coalesce(p_error, last_error),
        last_error_at = CASE WHEN p_error IS NULL THEN last_error_at ELSE now() END,
        node = p_node
    WHERE id = p_connection_id;
    IF v_old IS DISTINCT FROM p_state AND p_state IN ('up', 'down') THEN
        INSERT INTO hub.events (type, connection_id, payload)
        VALUES (CASE p_state WHEN 'up' THEN 'connection_up' ELSE 'connection_down' END, p_connection_id,
                jsonb_build_object('error', p_error, 'previous', v_old));
        PERFORM pg_notify('msghub_events', '');
    END IF;
END
$$;
