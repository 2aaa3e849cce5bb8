-- Events drive the rule runner; rules and rule tests are stored here (the
-- runner itself is its own module).

CREATE TABLE hub.events (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    type          text NOT NULL
                  CONSTRAINT events_type_known CHECK (type IN (
                      'message_received', 'message_sent', 'message_failed', 'delivery_report',
                      'connection_up', 'connection_down', 'data_imported', 'schedule', 'http_response',
                      'quota_warning')),
    message_id    bigint REFERENCES hub.messages (id) ON DELETE CASCADE,
    connection_id bigint REFERENCES hub.connections (id) ON DELETE SET NULL,
    payload       jsonb NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL DEFAULT now(),
    claimed_by    text,
    claimed_at    timestamptz,
    done_at       timestamptz,
    attempts      integer NOT NULL DEFAULT 0,
    error         text
);

CREATE INDEX events_pending ON hub.events (id) WHERE done_at IS NULL;
CREATE INDEX events_done ON hub.events (done_at) WHERE done_at IS NOT NULL;
CREATE INDEX events_message ON hub.events (message_id);

-- Integrators hand data to rules: INSERT INTO hub.import (topic, payload).
CREATE TABLE hub.import (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    topic      text NOT NULL CONSTRAINT import_topic_not_blank CHECK (btrim(topic) <> ''),
    payload    jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE hub.rules (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name            text NOT NULL UNIQUE CONSTRAINT rules_name_not_blank CHECK (btrim(name) <> ''),
    -- the event types the rule runs for
    events          text[] NOT NULL DEFAULT '{message_received}',
    position        integer NOT NULL DEFAULT 0,
    enabled         boolean NOT NULL DEFAULT true,
    -- 'javascript' is hand-written; 'visual' keeps the editor's model in
    -- "model" and its compiled JavaScript in "source"
    kind            text NOT NULL DEFAULT 'javascript' CONSTRAINT rules_kind_known CHECK (kind IN ('javascript', 'visual')),
    source          text NOT NULL DEFAULT '',
    model           jsonb,
    stop_processing boolean NOT NULL DEFAULT false,
    owner_user_id   bigint REFERENCES hub.users (id) ON DELETE CASCADE,
    owner_group_id  bigint REFERENCES hub.groups (id) ON DELETE CASCADE,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX rules_owner_user ON hub.rules (owner_user_id);

-- Runners cache the rules; any change tells them to reload.
CREATE FUNCTION hub.notify_rules_change_v1() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('msghub_rules', '');
    RETURN NULL;
END
$$;

CREATE INDEX rules_owner_group ON hub.rules (owner_group_id);

CREATE TRIGGER rules_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON hub.rules
    FOR EACH STATEMENT EXECUTE FUNCTION hub.notify_rules_change_v1();

CREATE TABLE hub.rule_tests (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    rule_id     bigint NOT NULL REFERENCES hub.rules (id) ON DELETE CASCADE,
    name        text NOT NULL,
    -- the simulated event, what lookups find (state, contacts, lists),
    -- mock HTTP responses and the expected actions: docs/RULES.md
    event       jsonb NOT NULL,
    fixtures    jsonb NOT NULL DEFAULT '{}',
    mocks       jsonb NOT NULL DEFAULT '[]',
    expected    jsonb NOT NULL,
    last_run_at timestamptz,
    last_result jsonb
);

CREATE UNIQUE INDEX rule_tests_rule_name ON hub.rule_tests (rule_id, name);

-- Imports become data_imported events, one statement at a time.
CREATE FUNCTION hub.import_to_events_v1() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO hub.events (type, payload)
    SELECT 'data_imported', jsonb_build_object('import_id', n.id, 'topic', n.topic, 'row', n.payload)
    FROM new_rows n ORDER BY n.id;
    PERFORM pg_notify('msghub_events', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER import_events
    AFTER INSERT ON hub.import REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION hub.import_to_events_v1();

-- What rules keep between runs: state.set/incr/add (one JSON value per key).
CREATE TABLE hub.rule_state (
    rule_id    bigint NOT NULL REFERENCES hub.rules (id) ON DELETE CASCADE,
    key        text NOT NULL,
    value      jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (rule_id, key)
);

-- What rules said (log.info/warn/error) and how they failed, with the event.
CREATE TABLE hub.rule_log (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    rule_id  bigint REFERENCES hub.rules (id) ON DELETE CASCADE,
    event_id bigint,
    level    text NOT NULL CONSTRAINT rule_log_level_known CHECK (level IN ('info', 'warn', 'error')),
    message  text NOT NULL,
    at       timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE INDEX rule_log_rule ON hub.rule_log (rule_id, id);
CREATE INDEX rule_log_at ON hub.rule_log (at);

-- http.request() calls: written with the rule's other actions, performed
-- after the commit by the runner's dispatcher; the answer becomes an
-- http_response event.
CREATE TABLE hub.http_requests (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    rule_id      bigint REFERENCES hub.rules (id) ON DELETE SET NULL,
    event_id     bigint,
    -- the message of the event that asked: the answer's event carries it,
    -- so the follow-up run can reply()
    message_id   bigint REFERENCES hub.messages (id) ON DELETE SET NULL,
    method       text NOT NULL,
    url          text NOT NULL,
    headers      jsonb NOT NULL DEFAULT '{}',
    body         text,
    timeout_s    real NOT NULL DEFAULT 10,
    context      jsonb NOT NULL DEFAULT 'null',
    status       text NOT NULL DEFAULT 'pending'
                 CONSTRAINT http_requests_status_known CHECK (status IN ('pending', 'done', 'failed')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    claimed_by   text,
    claimed_at   timestamptz,
    done_at      timestamptz,
    response     jsonb,
    -- 0, or one more than the request whose answer the asking run was for
    -- (hub.rule_http_request_v1 limits it)
    chain_depth  integer NOT NULL DEFAULT 0
);

CREATE INDEX http_requests_pending ON hub.http_requests (id) WHERE status = 'pending';

-- Tables rules may write with sql.insert(name, row), allowed by an
-- administrator: in msghub's own database (database_url NULL, same
-- transaction as the rule's other actions) or in an external one named by an
-- SQLAlchemy URL (written after the commit, through hub.export_writes).
CREATE TABLE hub.export_tables (
    name         text PRIMARY KEY CONSTRAINT export_tables_name_ok CHECK (name ~ '^[A-Za-z_][A-Za-z0-9_]*$'),
    table_name   text NOT NULL CONSTRAINT export_tables_table_ok
                 CHECK (table_name ~ '^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$'),
    database_url text,
    -- the columns a rule may fill; NULL: any column of the table
    columns      text[],
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE hub.export_writes (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    export_name text NOT NULL REFERENCES hub.export_tables (name) ON DELETE CASCADE,
    rule_id     bigint REFERENCES hub.rules (id) ON DELETE SET NULL,
    row_data    jsonb NOT NULL,
    status      text NOT NULL DEFAULT 'pending'
                CONSTRAINT export_writes_status_known CHECK (status IN ('pending', 'done', 'failed')),
    attempts    integer NOT NULL DEFAULT 0,
    error       text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    done_at     timestamptz
);

CREATE INDEX export_writes_pending ON hub.export_writes (id) WHERE status = 'pending';

-- External databases polled for new rows: each row becomes a hub.import row
-- (and so a data_imported event). The query selects rows whose key column is
-- greater than :last_key, which is remembered.
CREATE TABLE hub.import_sources (
    name         text PRIMARY KEY CONSTRAINT import_sources_name_not_blank CHECK (btrim(name) <> ''),
    database_url text NOT NULL,
    query        text NOT NULL,
    key_column   text NOT NULL,
    topic        text NOT NULL,
    interval_s   integer NOT NULL DEFAULT 60 CONSTRAINT import_sources_interval_positive CHECK (interval_s > 0),
    enabled      boolean NOT NULL DEFAULT true,
    last_key     jsonb,
    last_run_at  timestamptz,
    last_error   text
);

-- Timed rules: a schedule event every interval_s seconds for the named topic.
CREATE TABLE hub.schedules (
    name        text PRIMARY KEY CONSTRAINT schedules_name_not_blank CHECK (btrim(name) <> ''),
    interval_s  integer NOT NULL CONSTRAINT schedules_interval_positive CHECK (interval_s > 0),
    enabled     boolean NOT NULL DEFAULT true,
    next_at     timestamptz NOT NULL DEFAULT now()
);

-- SMS voting. A poll's options carry keywords; votes are matched by the
-- runner (msghub.rules.keywords: case, accents and noise ignored).
CREATE TABLE hub.polls (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name               text NOT NULL UNIQUE CONSTRAINT polls_name_not_blank CHECK (btrim(name) <> ''),
    question           text NOT NULL,
    opens_at           timestamptz,
    closes_at          timestamptz,
    one_vote_per_sender boolean NOT NULL DEFAULT true,
    -- replies; NULL: no reply. {option} is replaced by the option's label.
    reply_vote         text,
    reply_revote       text,
    reply_closed       text DEFAULT 'Sorry, voting is closed.',
    reply_unknown      text,
    owner_user_id      bigint REFERENCES hub.users (id) ON DELETE CASCADE,
    owner_group_id     bigint REFERENCES hub.groups (id) ON DELETE CASCADE,
    created_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT polls_opens_before_closes CHECK (opens_at IS NULL OR closes_at IS NULL OR opens_at < closes_at)
);

CREATE TABLE hub.poll_options (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    poll_id  bigint NOT NULL REFERENCES hub.polls (id) ON DELETE CASCADE,
    position integer NOT NULL,
    label    text NOT NULL CONSTRAINT poll_options_label_not_blank CHECK (btrim(label) <> ''),
    keywords text[] NOT NULL CONSTRAINT poll_options_has_keyword CHECK (cardinality(keywords) > 0),
    UNIQUE (poll_id, position)
);

CREATE TABLE hub.poll_votes (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    poll_id    bigint NOT NULL REFERENCES hub.polls (id) ON DELETE CASCADE,
    option_id  bigint NOT NULL REFERENCES hub.poll_options (id) ON DELETE CASCADE,
    sender     text NOT NULL,
    -- the sender for one-vote polls (a re-vote updates the row), the
    -- message otherwise
    voter_key  text NOT NULL,
    message_id bigint REFERENCES hub.messages (id) ON DELETE SET NULL,
    voted_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (poll_id, voter_key)
);

CREATE INDEX poll_votes_option ON hub.poll_votes (option_id);

-- Counts per option, zero included: what charts and reports read. Only
-- the polls the viewer sees (a view runs with its owner's rights, which
-- row-level security does not restrict, so it applies the rule itself).
CREATE VIEW hub.poll_results AS
SELECT p.id AS poll_id, p.name AS poll, p.question, o.id AS option_id, o.position, o.label,
       count(v.id) AS votes,
       round(100.0 * count(v.id) / nullif(sum(count(v.id)) OVER (PARTITION BY p.id), 0), 1) AS percent
FROM hub.polls p
JOIN hub.poll_options o ON o.poll_id = p.id
LEFT JOIN hub.poll_votes v ON v.option_id = o.id
WHERE hub.visible_to_v1(p.owner_user_id, p.owner_group_id, (SELECT (hub.viewer_v1()).sees_all), (SELECT (hub.viewer_v1()).user_id),
        (SELECT (hub.viewer_v1()).groups), (SELECT (hub.viewer_v1()).sees_unassigned))
GROUP BY p.id, o.id;

-- One vote: p_option_id NULL means no option matched. Returns the outcome
-- ('vote', 'revote', 'same', 'closed', 'not_open', 'unknown') and the reply
-- text to send, if any.
CREATE FUNCTION hub.poll_vote_v1(p_poll_id bigint, p_option_id bigint, p_sender text, p_message_id bigint,
                                 OUT outcome text, OUT reply text)
LANGUAGE plpgsql AS $$
DECLARE
    v_poll hub.polls;
    v_label text;
    v_previous bigint;
BEGIN
    SELECT * INTO v_poll FROM hub.polls WHERE id = p_poll_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no poll with id %', p_poll_id USING ERRCODE = 'no_data_found';
    END IF;
    IF v_poll.opens_at IS NOT NULL AND now() < v_poll.opens_at THEN
        outcome := 'not_open'; reply := v_poll.reply_closed; RETURN;
    END IF;
    IF v_poll.closes_at IS NOT NULL AND now() >= v_poll.closes_at THEN
        outcome := 'closed'; reply := v_poll.reply_closed; RETURN;
    END IF;
    IF p_option_id IS NULL THEN
        outcome := 'unknown'; reply := v_poll.reply_unknown; RETURN;
    END IF;
    SELECT label INTO v_label FROM hub.poll_options WHERE id = p_option_id AND poll_id = p_poll_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'option % is not an option of poll %', p_option_id, p_poll_id USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF v_poll.one_vote_per_sender THEN
        SELECT option_id INTO v_previous FROM hub.poll_votes
        WHERE poll_id = p_poll_id AND voter_key = p_sender FOR UPDATE;
        IF FOUND THEN
            IF v_previous = p_option_id THEN
                outcome := 'same';
            ELSE
                UPDATE hub.poll_votes SET option_id = p_option_id, message_id = p_message_id, voted_at = now()
                WHERE poll_id = p_poll_id AND voter_key = p_sender;
                outcome := 'revote';
                PERFORM pg_notify('msghub_polls', p_poll_id::text);
            END IF;
            reply := replace(coalesce(v_poll.reply_revote, v_poll.reply_vote), '{option}', v_label);
            RETURN;
        END IF;
        INSERT INTO hub.poll_votes (poll_id, option_id, sender, voter_key, message_id)
        VALUES (p_poll_id, p_option_id, p_sender, p_sender, p_message_id)
        ON CONFLICT (poll_id, voter_key) DO UPDATE SET option_id = EXCLUDED.option_id;
    ELSE
        INSERT INTO hub.poll_votes (poll_id, option_id, sender, voter_key, message_id)
        VALUES (p_poll_id, p_option_id, p_sender, coalesce(p_message_id::text, gen_random_uuid()::text), p_message_id)
        ON CONFLICT (poll_id, voter_key) DO NOTHING;
    END IF;
    PERFORM pg_notify('msghub_polls', p_poll_id::text);
    outcome := 'vote';
    reply := replace(v_poll.reply_vote, '{option}', v_label);
END
$$;

-- Automatic answers per address and hour: two auto-responders answering each
-- other would otherwise never stop. Counted by hub.auto_reply_allowed_v1.
CREATE UNLOGGED TABLE hub.auto_reply_counts (
    address text NOT NULL,
    hour    timestamptz NOT NULL,
    replies integer NOT NULL,
    PRIMARY KEY (address, hour)
);

-- Counts one automatic answer to the address; false once the hour's limit
-- (setting auto_reply_limit_per_hour) is passed.
CREATE FUNCTION hub.auto_reply_allowed_v1(p_address text) RETURNS boolean
LANGUAGE sql AS $$
    INSERT INTO hub.auto_reply_counts AS c (address, hour, replies)
    VALUES (p_address, date_trunc('hour', now()), 1)
    ON CONFLICT (address, hour) DO UPDATE SET replies = c.replies + 1
    RETURNING replies <= hub.setting_int('auto_reply_limit_per_hour')
$$;

-- An automatic answer to a received message (reply() in rules, poll
-- replies): to its sender, on the link it came in on when the channel is the
-- same, owned by the message's owners; an e-mail answer's subject is "Re: "
-- and the received one (not doubled). Returns the hub.outbox id, or NULL when
-- withheld because the address reached its hourly limit.
CREATE FUNCTION hub.auto_reply_v1(p_message_id bigint, p_text text, p_channel text, p_subject text,
                                  p_attachments jsonb, p_delivery_report boolean, p_priority smallint,
                                  p_correlation_id text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    v_message hub.messages;
    v_channel text;
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
    IF v_channel = v_message.channel THEN
        SELECT name INTO v_connection FROM hub.connections WHERE id = v_message.connection_id;
    END IF;
    INSERT INTO hub.outbox (channel, recipient, subject, text, attachments, connection, delivery_report, priority,
                            created_by, owner_group_id, correlation_id)
    VALUES (v_channel, v_message.sender,
            coalesce(p_subject, CASE WHEN v_channel = 'email'
                                     THEN CASE WHEN coalesce(v_message.subject, '') ILIKE 're:%'
                                               THEN v_message.subject
                                               ELSE btrim('Re: ' || coalesce(v_message.subject, '')) END
                                END),
            p_text, p_attachments, v_connection, coalesce(p_delivery_report, false), coalesce(p_priority, 1),
            v_message.owner_user_id, v_message.owner_group_id, p_correlation_id)
    RETURNING id INTO v_outbox_id;
    RETURN v_outbox_id;
END
$$;

-- A vote by a received message, and the poll's answer queued back to the
-- voter on the link the vote came in on: one round trip for the runner.
CREATE FUNCTION hub.poll_vote_reply_v1(p_poll_id bigint, p_option_id bigint, p_message_id bigint,
                                       p_correlation_id text, OUT outcome text, OUT reply text)
LANGUAGE plpgsql AS $$
DECLARE
    v_message hub.messages;
BEGIN
    SELECT * INTO v_message FROM hub.messages WHERE id = p_message_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no message with id %', p_message_id USING ERRCODE = 'no_data_found';
    END IF;
    SELECT v.outcome, v.reply INTO outcome, reply
    FROM hub.poll_vote_v1(p_poll_id, p_option_id, v_message.sender, p_message_id) v;
    IF reply IS NOT NULL AND v_message.direction = 'in'
       AND hub.auto_reply_v1(p_message_id, reply, NULL, NULL, NULL, false, NULL, p_correlation_id) IS NULL THEN
        reply := NULL;  -- the vote counts; the answer is withheld
    END IF;
END
$$;

-- hub.poll_vote_reply_v1 in a subtransaction of its own: a failure is
-- returned as error text and leaves the caller's transaction usable.
CREATE FUNCTION hub.poll_vote_reply_safe_v1(p_poll_id bigint, p_option_id bigint, p_message_id bigint,
                                            p_correlation_id text,
                                            OUT outcome text, OUT reply text, OUT error text)
LANGUAGE plpgsql AS $$
BEGIN
    SELECT v.outcome, v.reply INTO outcome, reply
    FROM hub.poll_vote_reply_v1(p_poll_id, p_option_id, p_message_id, p_correlation_id) v;
EXCEPTION WHEN OTHERS THEN
    error := SQLERRM;
END
$$;
