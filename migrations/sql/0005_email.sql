-- E-mail bookkeeping (issue 13): what each POP3 connection fetched (by
-- UIDL), what each SMTP server accepted, and the Message-ID threads that put
-- a reply into its conversation. Messages and their parts stay in
-- hub.messages / hub.message_parts; these tables only hang off them.

-- Generated Message-IDs must be unique in the world (Gmail, for one, drops a
-- mail whose Message-ID it has seen): each installation mixes in its own
-- random salt, made on first use (empty until then).
INSERT INTO hub.settings (key, value, description) VALUES
    ('email_message_id_salt', '',
     'random per installation, made on first use: makes generated Message-IDs unique to it (keep it when moving the database)');

CREATE FUNCTION hub.email_message_id_salt_v1() RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    -- a second caller waits for the first one's row and then finds it set
    UPDATE hub.settings SET value = md5(random()::text || clock_timestamp()::text)
    WHERE key = 'email_message_id_salt' AND value = '';
    RETURN (SELECT value FROM hub.settings WHERE key = 'email_message_id_salt');
END
$$;

-- A mail is fetched once, ever: its UIDL is recorded in the transaction that
-- stores it, so a restart, a crash between fetch and commit, or a second
-- node repeats nothing (the row exists) and loses nothing (no row, no commit).
CREATE TABLE hub.pop3_seen (
    connection_id bigint NOT NULL REFERENCES hub.connections (id) ON DELETE CASCADE,
    uidl          text NOT NULL,
    -- stored (a message), report (a bounce/DSN applied to the message it
    -- answers), too_large (stored with its headers only)
    outcome       text NOT NULL CONSTRAINT pop3_seen_outcome_known CHECK (outcome IN ('stored', 'report', 'too_large')),
    message_id    bigint REFERENCES hub.messages (id) ON DELETE SET NULL,
    size_bytes    bigint,
    fetched_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- set once the mail was removed from the server (delete_after_fetch)
    deleted_at    timestamptz,
    PRIMARY KEY (connection_id, uidl)
);

CREATE INDEX pop3_seen_undeleted ON hub.pop3_seen (connection_id) WHERE deleted_at IS NULL;

-- What an SMTP server accepted, written the moment it said 250 to DATA and
-- before the queue records the batch: a retry finds the row and sends nothing.
CREATE TABLE hub.smtp_accepted (
    message_id    bigint PRIMARY KEY REFERENCES hub.messages (id) ON DELETE CASCADE,
    connection_id bigint REFERENCES hub.connections (id) ON DELETE SET NULL,
    attempt       integer NOT NULL,
    header_id     text NOT NULL,
    server_reply  text,
    -- [{"address": ..., "code": 250, "reply": "..."}] per envelope recipient
    recipients    jsonb NOT NULL DEFAULT '[]',
    accepted_at   timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- One row per e-mail message, in or out: its Message-ID and what it
-- answers. conversation_id is the id of the conversation's first message.
CREATE TABLE hub.email_threads (
    message_id      bigint PRIMARY KEY REFERENCES hub.messages (id) ON DELETE CASCADE,
    header_id       text NOT NULL,
    in_reply_to     text,
    refs            text[] NOT NULL DEFAULT '{}',
    conversation_id bigint NOT NULL
);

CREATE INDEX email_threads_header ON hub.email_threads (header_id);

-- An outbound message queued as the answer to a received one (rules'
-- reply(), hub.auto_reply_v2), whatever the two channels: the e-mail
-- answer carries In-Reply-To and joins the answered message's conversation.
CREATE TABLE hub.email_replies (
    message_id bigint PRIMARY KEY REFERENCES hub.messages (id) ON DELETE CASCADE,
    answers_id bigint NOT NULL REFERENCES hub.messages (id) ON DELETE CASCADE
);

CREATE INDEX email_replies_answers ON hub.email_replies (answers_id);
CREATE INDEX email_threads_conversation ON hub.email_threads (conversation_id);

-- The conversation a mail belongs to: that of the newest known message it
-- answers (In-Reply-To first, then References newest first), else its own.
CREATE FUNCTION hub.email_conversation_v1(p_message_id bigint, p_in_reply_to text, p_refs text[])
RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT coalesce(
        (SELECT t.conversation_id
         FROM unnest(array_prepend(p_in_reply_to, coalesce(p_refs, '{}'))) WITH ORDINALITY AS r(header_id, n)
         JOIN hub.email_threads t ON t.header_id = r.header_id
         WHERE r.header_id IS NOT NULL
         ORDER BY (r.n = 1) DESC, r.n DESC, t.message_id DESC
         LIMIT 1),
        p_message_id)
$$;

CREATE FUNCTION hub.email_thread_v1(p_message_id bigint, p_header_id text, p_in_reply_to text, p_refs text[],
                                    p_conversation_id bigint DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    v_conversation bigint := coalesce(p_conversation_id,
                                      hub.email_conversation_v1(p_message_id, p_in_reply_to, p_refs));
BEGIN
    INSERT INTO hub.email_threads (message_id, header_id, in_reply_to, refs, conversation_id)
    VALUES (p_message_id, p_header_id, p_in_reply_to, coalesce(p_refs, '{}'), v_conversation)
    ON CONFLICT (message_id) DO NOTHING;
    RETURN v_conversation;
END
$$;

-- Which of these UIDLs a POP3 connection has not fetched yet, in the order given.
CREATE FUNCTION hub.pop3_unseen_v1(p_connection_id bigint, p_uidls text[]) RETURNS SETOF text
LANGUAGE sql STABLE AS $$
    SELECT u.uidl FROM unnest(p_uidls) WITH ORDINALITY AS u(uidl, n)
    WHERE NOT EXISTS (SELECT FROM hub.pop3_seen s WHERE s.connection_id = p_connection_id AND s.uidl = u.uidl)
    ORDER BY u.n
$$;

-- Stores one fetched mail with its UIDL, once: returns the new message's id,
-- or NULL when this UIDL was stored before (by a crashed run, another node).
CREATE FUNCTION hub.pop3_receive_v1(
    p_connection_id bigint, p_uidl text, p_outcome text, p_size bigint, p_sender text, p_recipients text[],
    p_subject text, p_body text, p_meta jsonb, p_parts jsonb, p_header_id text, p_in_reply_to text,
    p_refs text[])
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    v_id bigint;
BEGIN
    INSERT INTO hub.pop3_seen (connection_id, uidl, outcome, size_bytes)
    VALUES (p_connection_id, p_uidl, p_outcome, p_size)
    ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    v_id := hub.receive_message_v1(p_connection_id, 'email', p_sender, p_recipients, p_subject, p_body,
                                   p_meta, p_parts, p_header_id);
    UPDATE hub.pop3_seen SET message_id = v_id WHERE connection_id = p_connection_id AND uidl = p_uidl;
    IF p_header_id IS NOT NULL THEN
        PERFORM hub.email_thread_v1(v_id, p_header_id, p_in_reply_to, p_refs);
    END IF;
    RETURN v_id;
END
$$;

-- Applies a fetched bounce or DSN to the message it answers (found by its
-- Message-ID, or by the envelope id msghub gave at MAIL FROM), once per
-- UIDL. Returns the answered message's id, or NULL when it matches none of
-- ours (the caller then stores the mail as an ordinary one).
CREATE FUNCTION hub.pop3_report_v1(p_connection_id bigint, p_uidl text, p_size bigint, p_header_id text,
                                   p_envelope_id text, p_status text, p_reason text)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    v_message hub.messages;
    -- CASE: the cast only runs on an id msghub could have written
    v_envelope_message bigint := CASE WHEN p_envelope_id ~ '^msghub\.[0-9]{1,18}$'
                                      THEN substr(p_envelope_id, 8)::bigint END;
BEGIN
    SELECT m.* INTO v_message FROM hub.smtp_accepted a JOIN hub.messages m ON m.id = a.message_id
    WHERE a.header_id = p_header_id OR a.message_id = v_envelope_message
    ORDER BY a.accepted_at DESC LIMIT 1;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    INSERT INTO hub.pop3_seen (connection_id, uidl, outcome, size_bytes, message_id)
    VALUES (p_connection_id, p_uidl, 'report', p_size, v_message.id)
    ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
        RETURN v_message.id;  -- applied before
    END IF;
    PERFORM hub.record_delivery_v1(v_message.connection_id,
                                   (SELECT header_id FROM hub.smtp_accepted WHERE message_id = v_message.id),
                                   p_status, p_reason);
    RETURN v_message.id;
END
$$;

-- Records what the SMTP server accepted, at once (see hub.smtp_accepted);
-- the outbound mail joins its thread. Repeating it changes nothing.
CREATE FUNCTION hub.smtp_accept_v1(p_message_id bigint, p_connection_id bigint, p_attempt integer, p_header_id text,
                                   p_server_reply text, p_recipients jsonb, p_in_reply_to text, p_refs text[])
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO hub.smtp_accepted (message_id, connection_id, attempt, header_id, server_reply, recipients)
    VALUES (p_message_id, p_connection_id, p_attempt, p_header_id, p_server_reply, coalesce(p_recipients, '[]'))
    ON CONFLICT (message_id) DO NOTHING;
    PERFORM hub.email_thread_v1(p_message_id, p_header_id, p_in_reply_to, p_refs,
                                (SELECT conversation_id FROM hub.email_answers_v1(p_message_id)));
END
$$;

-- What an outbound e-mail answers: the message it was queued to answer
-- (hub.email_replies: an e-mail, or an SMS answered by e-mail), else the
-- newest e-mail received from its recipient whose subject it repeats after
-- "Re:" (an answer written in the web UI or by an integrator). header_id is
-- NULL when the answered message is no e-mail; conversation_id is then the
-- answered message's own conversation.
CREATE FUNCTION hub.email_answers_v1(p_message_id bigint, OUT header_id text, OUT refs text[],
                                     OUT conversation_id bigint)
LANGUAGE sql STABLE AS $$
    SELECT * FROM (
        SELECT t.header_id, coalesce(t.refs, '{}'), coalesce(t.conversation_id, r.answers_id)
        FROM hub.email_replies r LEFT JOIN hub.email_threads t ON t.message_id = r.answers_id
        WHERE r.message_id = p_message_id
        UNION ALL
        SELECT * FROM (
            SELECT t.header_id, t.refs, t.conversation_id
            FROM hub.messages o
            JOIN hub.messages m ON m.direction = 'in' AND m.channel = 'email'
                               AND lower(m.sender) = lower(o.recipients[1]) AND m.id < o.id
                               AND regexp_replace(coalesce(o.subject, ''), '^\s*(re|aw|sv):\s*', '', 'i')
                                   = regexp_replace(coalesce(m.subject, ''), '^\s*(re|aw|sv):\s*', '', 'i')
            JOIN hub.email_threads t ON t.message_id = m.id
            WHERE o.id = p_message_id AND coalesce(o.subject, '') ~* '^\s*(re|aw|sv):'
              AND NOT EXISTS (SELECT FROM hub.email_replies WHERE message_id = p_message_id)
            ORDER BY m.id DESC
            LIMIT 1) heuristic
    ) found
    LIMIT 1
$$;

-- hub.auto_reply_v1, and an answer on another channel goes to the sender's
-- address on that channel from the address book (an SMS answered by e-mail
-- goes to the e-mail of the contact with the SMS's number, and the other way
-- round); the answer is remembered in hub.email_replies for threading.
CREATE FUNCTION hub.auto_reply_v2(p_message_id bigint, p_text text, p_channel text, p_subject text,
                                  p_attachments jsonb, p_delivery_report boolean, p_priority smallint,
                                  p_correlation_id text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    v_message hub.messages;
    v_channel text;
    v_recipient text;
    v_connection text;
    v_outbox_id bigint;
BEGIN
    SELECT * INTO v_message FROM hub.messages WHERE id = p_message_id;
    IF NOT FOUND OR v_message.direction <> 'in' THEN
        RAISE EXCEPTION 'only a received message can be answered (message %)', p_message_id
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT hub.auto_reply_allowed_v1(v_message.sender) THEN
        RETURN NULL;
    END IF;
    v_channel := coalesce(p_channel, v_message.channel);
    v_recipient := v_message.sender;
    IF v_channel = v_message.channel THEN
        SELECT name INTO v_connection FROM hub.connections WHERE id = v_message.connection_id;
    ELSIF (v_channel = 'email') <> (v_message.channel = 'email') THEN
        SELECT CASE WHEN v_channel = 'email' THEN c.email ELSE c.phone END INTO v_recipient
        FROM hub.contacts c
        WHERE CASE WHEN v_message.channel = 'email' THEN lower(c.email) = lower(v_message.sender)
                   ELSE c.phone = v_message.sender END
          AND CASE WHEN v_channel = 'email' THEN c.email ELSE c.phone END IS NOT NULL
          AND (c.owner_user_id IS NOT DISTINCT FROM v_message.owner_user_id
               OR c.owner_group_id IS NOT DISTINCT FROM v_message.owner_group_id
               OR (c.owner_user_id IS NULL AND c.owner_group_id IS NULL))
        ORDER BY c.id LIMIT 1;
        IF v_recipient IS NULL THEN
            RAISE EXCEPTION 'cannot answer % by %: no contact with that address has one', v_message.sender,
                CASE v_channel WHEN 'email' THEN 'e-mail' ELSE v_channel END
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END IF;
    INSERT INTO hub.outbox (channel, recipient, subject, text, attachments, connection, delivery_report, priority,
                            created_by, owner_group_id, correlation_id)
    VALUES (v_channel, v_recipient,
            -- an e-mail answer to a message without a subject (an SMS) says what it answers
            coalesce(p_subject, CASE WHEN v_channel = 'email'
                                     THEN CASE WHEN coalesce(v_message.subject, '') ILIKE 're:%'
                                               THEN v_message.subject
                                               WHEN coalesce(btrim(v_message.subject), '') = ''
                                               THEN format('Re: %s from %s', upper(v_message.channel),
                                                           v_message.sender)
                                               ELSE 'Re: ' || v_message.subject END
                                END),
            p_text, p_attachments, v_connection, coalesce(p_delivery_report, false), coalesce(p_priority, 1),
            v_message.owner_user_id, v_message.owner_group_id, p_correlation_id)
    RETURNING id INTO v_outbox_id;
    INSERT INTO hub.email_replies (message_id, answers_id)
    SELECT m.id, p_message_id FROM hub.messages m WHERE m.outbox_id = v_outbox_id;
    RETURN v_outbox_id;
END
$$;

ALTER TABLE hub.pop3_seen ENABLE ROW LEVEL SECURITY;
CREATE POLICY system_only ON hub.pop3_seen TO msghub_app USING ((SELECT hub.sees_all_v1())) WITH CHECK (true);
ALTER TABLE hub.smtp_accepted ENABLE ROW LEVEL SECURITY;
CREATE POLICY system_only ON hub.smtp_accepted TO msghub_app USING ((SELECT hub.sees_all_v1())) WITH CHECK (true);
ALTER TABLE hub.email_replies ENABLE ROW LEVEL SECURITY;
CREATE POLICY visible ON hub.email_replies TO msghub_app
    USING (EXISTS (SELECT FROM hub.messages m WHERE m.id = message_id)) WITH CHECK (true);
ALTER TABLE hub.email_threads ENABLE ROW LEVEL SECURITY;
CREATE POLICY visible ON hub.email_threads TO msghub_app
    USING (EXISTS (SELECT FROM hub.messages m WHERE m.id = message_id)) WITH CHECK (true);
GRANT SELECT, INSERT, UPDATE, DELETE ON hub.pop3_seen, hub.smtp_accepted, hub.email_threads, hub.email_replies
    TO msghub_app;
