-- msghub schema: the whole current database. Files apply in name order.
-- Everything lives in schema "hub"; integrators read and write its tables
-- and views (docs/INTEGRATION.md).

-- IF NOT EXISTS: alembic keeps its version table in this schema and creates
-- it before the first revision runs.
CREATE SCHEMA IF NOT EXISTS hub;

COMMENT ON SCHEMA hub IS 'msghub: unified SMS, MMS and e-mail server';

-- Hub-wide settings that SQL functions need (limits, retention). Python reads
-- its own settings from the environment; these are the ones the database
-- enforces itself, so an integrator's INSERT is checked the same way.
CREATE TABLE hub.settings (
    key         text PRIMARY KEY,
    value       text NOT NULL,
    description text NOT NULL
);

INSERT INTO hub.settings (key, value, description) VALUES
    ('mms_max_bytes', '307200', 'largest MMS (sum of attachments) accepted by hub.outbox, in bytes'),
    ('email_max_bytes', '10485760', 'largest e-mail (sum of attachments) accepted by hub.outbox, in bytes'),
    ('retry_base_s', '5', 'first retry delay of a failed send, doubled per attempt'),
    ('retry_max_s', '3600', 'longest retry delay of a failed send'),
    ('sending_lease_s', '60', 'a message in sending longer than this is returned to the queue'),
    ('event_retention_days', '30', 'processed events older than this are deleted'),
    ('auto_reply_limit_per_hour', '10', 'most automatic answers (reply() and poll replies) one address gets per hour');

-- Reads a numeric setting; STABLE so a statement reads it once per call site.
CREATE FUNCTION hub.setting_int(p_key text) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT value::bigint FROM hub.settings WHERE key = p_key
$$;
-- People: users, groups, memberships, roles. Every user-owned row elsewhere
-- carries owner_user_id / owner_group_id so row-level security can key on it.

CREATE TABLE hub.roles (
    name        text PRIMARY KEY,
    description text NOT NULL
);

INSERT INTO hub.roles (name, description) VALUES
    ('admin', 'everything'),
    ('operator', 'the messages of their groups, and connection status'),
    ('user', 'their own and their groups'' messages, contacts, folders and rules'),
    ('integrator', 'SQL and API access as a named hub user');

CREATE TABLE hub.users (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username        text NOT NULL UNIQUE
                    CONSTRAINT users_username_format CHECK (username ~ '^[A-Za-z0-9_.@-]{1,64}$'),
    display_name    text NOT NULL DEFAULT '',
    email           text,
    role            text NOT NULL DEFAULT 'user' REFERENCES hub.roles (name),
    -- argon2 hash; NULL for accounts that authenticate elsewhere (PAM, LDAP)
    password_hash   text CONSTRAINT users_password_hash_argon2 CHECK (password_hash LIKE '$argon2%'),
    auth_source     text NOT NULL DEFAULT 'local'
                    CONSTRAINT users_auth_source CHECK (auth_source IN ('local', 'pam', 'ldap')),
    enabled         boolean NOT NULL DEFAULT true,
    failed_logins   integer NOT NULL DEFAULT 0,
    locked_until    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_login_at   timestamptz
);

CREATE TABLE hub.groups (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL UNIQUE CONSTRAINT groups_name_not_blank CHECK (btrim(name) <> ''),
    description text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE hub.memberships (
    user_id  bigint NOT NULL REFERENCES hub.users (id) ON DELETE CASCADE,
    group_id bigint NOT NULL REFERENCES hub.groups (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, group_id)
);

CREATE INDEX memberships_group ON hub.memberships (group_id);

-- Browser sessions of the web app. The cookie carries a random token; only
-- its SHA-256 is stored, so a leaked table does not leak sessions.
CREATE TABLE hub.web_sessions (
    token_sha256 bytea PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES hub.users (id) ON DELETE CASCADE,
    csrf_token   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);

CREATE INDEX web_sessions_user ON hub.web_sessions (user_id);

CREATE TABLE hub.audit_log (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at            timestamptz NOT NULL DEFAULT now(),
    actor_user_id bigint REFERENCES hub.users (id) ON DELETE SET NULL,
    actor         text NOT NULL,
    action        text NOT NULL,
    target        text,
    detail        jsonb NOT NULL DEFAULT '{}',
    source        text
);

CREATE INDEX audit_log_at ON hub.audit_log (at);
-- Who is asking: the hub user of the current transaction, for row-level
-- security (policies in 80_access_control.sql) and for the views.
--
-- Three kinds of session:
--   * the hub's own processes: members of role msghub_app. Their connections
--     run as msghub_app (SET ROLE) and say who they act for per transaction:
--     msghub.user_id (a web request) or msghub.system = on (the workers).
--   * integrators: database logins mapped to a hub user or group in
--     hub.integrator_logins. Settings they set themselves are ignored.
--   * anyone else (the schema owner, a DBA): no hub identity, so the views
--     show nothing unless they SET msghub.system = on.
-- Everything keys on session_user, which SECURITY DEFINER functions do not
-- change, so the outbox trigger sees the same identity as its caller. The
-- viewer function is SECURITY DEFINER: integrators may not read the
-- mapping tables it consults.

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'msghub_app') THEN
        CREATE ROLE msghub_app NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'msghub_integrator') THEN
        CREATE ROLE msghub_integrator NOLOGIN;
    END IF;
    -- whoever migrates runs the hub too unless told otherwise: let them
    -- SET ROLE msghub_app (superusers may already)
    IF NOT pg_has_role(current_user, 'msghub_app', 'MEMBER') THEN
        EXECUTE format('GRANT msghub_app TO %I', current_user);
    END IF;
END
$$;

CREATE TABLE hub.integrator_logins (
    role_name  text PRIMARY KEY,
    user_id    bigint REFERENCES hub.users (id) ON DELETE CASCADE,
    group_id   bigint REFERENCES hub.groups (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT integrator_logins_maps_to_someone CHECK (user_id IS NOT NULL OR group_id IS NOT NULL)
);

CREATE FUNCTION hub.is_app_session_v1() RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT pg_has_role(session_user, 'msghub_app', 'MEMBER')
$$;

-- Everything the visibility rule needs to know about the current session,
-- in one call with cached plans.
CREATE TYPE hub.viewer AS (sees_all boolean, user_id bigint, groups bigint[], sees_unassigned boolean);

CREATE FUNCTION hub.viewer_v1() RETURNS hub.viewer
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = hub, pg_catalog AS $$
DECLARE
    v_app boolean := pg_has_role(session_user, 'msghub_app', 'MEMBER');
    v_user bigint;
    v_group bigint;
    v_integrator boolean := false;
    v_role text;
    v_groups bigint[];
BEGIN
    IF v_app AND current_setting('msghub.system', true) = 'on' THEN
        -- the hub's workers, on the queue's hot path: no lookups needed
        RETURN ROW(true, NULL, '{}', false)::hub.viewer;
    END IF;
    IF v_app THEN
        v_user := nullif(current_setting('msghub.user_id', true), '')::bigint;
    ELSE
        SELECT user_id, group_id INTO v_user, v_group FROM hub.integrator_logins WHERE role_name = session_user;
        v_integrator := FOUND;
    END IF;
    SELECT role INTO v_role FROM hub.users WHERE id = v_user AND enabled;
    SELECT coalesce(array_agg(group_id), '{}') INTO v_groups FROM hub.memberships WHERE user_id = v_user;
    IF v_group IS NOT NULL THEN
        v_groups := v_groups || v_group;
    END IF;
    RETURN ROW(coalesce(v_role = 'admin', false)
                   OR (NOT v_integrator AND coalesce(current_setting('msghub.system', true), '') = 'on'),
               v_user, v_groups, coalesce(v_role = 'operator', false))::hub.viewer;
END
$$;

-- Projections of the viewer, for functions and triggers.
CREATE FUNCTION hub.current_user_id_v1() RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT (hub.viewer_v1()).user_id
$$;

-- The groups whose rows the current user sees: their memberships, and for
-- an integrator login mapped to a group, that group.
CREATE FUNCTION hub.my_groups_v1() RETURNS bigint[]
LANGUAGE sql STABLE AS $$
    SELECT (hub.viewer_v1()).groups
$$;

-- Sees every row: the hub's workers (msghub.system = on), admins, and
-- sessions without any hub identity that asked for it (the owner or a
-- DBA); integrators cannot, their settings are ignored.
CREATE FUNCTION hub.sees_all_v1() RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT (hub.viewer_v1()).sees_all
$$;

-- The visibility rule of every user-owned row: its owner is the viewer or
-- one of the viewer's groups; unassigned rows wait for an operator to take
-- them. Policies and views call it as
--   hub.visible_to_v1(owner_user_id, owner_group_id, (SELECT (hub.viewer_v1()).sees_all),
--       (SELECT (hub.viewer_v1()).user_id), (SELECT (hub.viewer_v1()).groups),
--       (SELECT (hub.viewer_v1()).sees_unassigned))
-- so that the planner inlines this plain expression and turns each
-- sub-select into an init plan, run once per query rather than per row. (A
-- function whose own body holds sub-selects is never inlined.)
CREATE FUNCTION hub.visible_to_v1(p_owner_user bigint, p_owner_group bigint, p_sees_all boolean,
                                  p_user bigint, p_groups bigint[], p_sees_unassigned boolean) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT p_sees_all
        OR p_owner_user = p_user
        OR p_owner_group = ANY (p_groups)
        OR (p_owner_user IS NULL AND p_owner_group IS NULL AND p_sees_unassigned)
$$;

-- The same rule for one row at a time, for functions (not for policies:
-- it asks who the viewer is on every call).
CREATE FUNCTION hub.visible_v1(p_owner_user bigint, p_owner_group bigint) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT hub.visible_to_v1(p_owner_user, p_owner_group, v.sees_all, v.user_id, v.groups, v.sees_unassigned)
    FROM hub.viewer_v1() v
$$;
-- Links to the world (a modem, an SMSC, an MMSC, a mail server) and the hub
-- nodes that hold them.

CREATE TABLE hub.nodes (
    name          text PRIMARY KEY,
    host          text NOT NULL,
    pid           integer NOT NULL,
    roles         text[] NOT NULL,
    started_at    timestamptz NOT NULL DEFAULT now(),
    heartbeat_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE hub.connections (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text NOT NULL UNIQUE
                  CONSTRAINT connections_name_format CHECK (name ~ '^[A-Za-z0-9_.-]{1,64}$'),
    kind          text NOT NULL,
    -- what the kind can carry, copied from its declaration so SQL routing
    -- needs no Python
    channels      text[] NOT NULL
                  CONSTRAINT connections_channels_known
                  CHECK (channels <@ ARRAY['sms', 'mms', 'email']::text[] AND cardinality(channels) > 0),
    config        jsonb NOT NULL DEFAULT '{}',
    enabled       boolean NOT NULL DEFAULT true,
    -- routing falls back to the default connection of a channel
    is_default    boolean NOT NULL DEFAULT false,
    max_attempts  integer NOT NULL DEFAULT 5
                  CONSTRAINT connections_max_attempts_range CHECK (max_attempts BETWEEN 1 AND 100),
    state         text NOT NULL DEFAULT 'stopped'
                  CONSTRAINT connections_state_known
                  CHECK (state IN ('stopped', 'connecting', 'up', 'down', 'disabled')),
    state_since   timestamptz NOT NULL DEFAULT now(),
    last_error    text,
    last_error_at timestamptz,
    -- the hub node whose supervisor holds the connection's advisory lock
    node          text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Number-prefix routing: the longest matching prefix wins, then priority.
CREATE TABLE hub.routes (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel       text NOT NULL CONSTRAINT routes_channel_known CHECK (channel IN ('sms', 'mms', 'email')),
    prefix        text NOT NULL DEFAULT '',
    connection_id bigint NOT NULL REFERENCES hub.connections (id) ON DELETE CASCADE,
    priority      integer NOT NULL DEFAULT 0
);

CREATE INDEX routes_channel ON hub.routes (channel, prefix);

-- One wake-up per transaction for supervisors and live pages. The payload is
-- empty so PostgreSQL folds repeats within a transaction into one.
CREATE FUNCTION hub.notify_connection_change_v1() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('msghub_connections', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER connections_notify
    AFTER INSERT OR UPDATE OR DELETE ON hub.connections
    FOR EACH STATEMENT EXECUTE FUNCTION hub.notify_connection_change_v1();
-- Messages and what hangs off them: parts, SMS segments, delivery reports,
-- status history; and the address book: contacts, lists, folders.

CREATE TABLE hub.folders (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name           text NOT NULL CONSTRAINT folders_name_not_blank CHECK (btrim(name) <> ''),
    owner_user_id  bigint REFERENCES hub.users (id) ON DELETE CASCADE,
    owner_group_id bigint REFERENCES hub.groups (id) ON DELETE CASCADE,
    created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX folders_owner_user ON hub.folders (owner_user_id);
CREATE INDEX folders_owner_group ON hub.folders (owner_group_id);

CREATE TABLE hub.contacts (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name           text NOT NULL DEFAULT '',
    phone          text,
    email          text,
    notes          text NOT NULL DEFAULT '',
    owner_user_id  bigint REFERENCES hub.users (id) ON DELETE CASCADE,
    owner_group_id bigint REFERENCES hub.groups (id) ON DELETE CASCADE,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT contacts_reachable CHECK (phone IS NOT NULL OR email IS NOT NULL)
);

CREATE INDEX contacts_owner_user ON hub.contacts (owner_user_id);
CREATE INDEX contacts_owner_group ON hub.contacts (owner_group_id);
CREATE INDEX contacts_phone ON hub.contacts (phone);

CREATE TABLE hub.lists (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name           text NOT NULL CONSTRAINT lists_name_not_blank CHECK (btrim(name) <> ''),
    description    text NOT NULL DEFAULT '',
    owner_user_id  bigint REFERENCES hub.users (id) ON DELETE CASCADE,
    owner_group_id bigint REFERENCES hub.groups (id) ON DELETE CASCADE,
    created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX lists_owner_user ON hub.lists (owner_user_id);
CREATE INDEX lists_owner_group ON hub.lists (owner_group_id);

CREATE TABLE hub.list_members (
    list_id    bigint NOT NULL REFERENCES hub.lists (id) ON DELETE CASCADE,
    contact_id bigint NOT NULL REFERENCES hub.contacts (id) ON DELETE CASCADE,
    PRIMARY KEY (list_id, contact_id)
);

CREATE INDEX list_members_contact ON hub.list_members (contact_id);

-- What integrators queue (see 50_outbox.sql); messages point back at it.
CREATE TABLE hub.outbox (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel         text NOT NULL DEFAULT 'sms',
    recipient       text,
    recipients      text[],
    list            text,
    sender          text,
    subject         text,
    text            text,
    -- [{"filename": .., "content_type": .., "data": base64}, ...]
    attachments     jsonb,
    connection      text,
    send_at         timestamptz,
    valid_until     timestamptz,
    delivery_report boolean NOT NULL DEFAULT false,
    priority        smallint NOT NULL DEFAULT 1,
    transliterate   boolean NOT NULL DEFAULT false,
    idempotency_key text UNIQUE,
    correlation_id  text,
    created_by      bigint REFERENCES hub.users (id) ON DELETE SET NULL,
    owner_group_id  bigint REFERENCES hub.groups (id) ON DELETE SET NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    -- filled in by the outbox trigger: how many messages this row queued
    message_count   integer NOT NULL DEFAULT 0
);

CREATE TABLE hub.messages (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel            text NOT NULL CONSTRAINT messages_channel_known CHECK (channel IN ('sms', 'mms', 'email')),
    direction          text NOT NULL CONSTRAINT messages_direction_known CHECK (direction IN ('in', 'out')),
    connection_id      bigint REFERENCES hub.connections (id) ON DELETE SET NULL,
    sender             text,
    -- outbound rows have exactly one recipient (the outbox fans out);
    -- inbound e-mail keeps every To and Cc address
    recipients         text[] NOT NULL CONSTRAINT messages_has_recipient CHECK (cardinality(recipients) > 0),
    subject            text,
    body               text NOT NULL DEFAULT '',
    status             text NOT NULL
                       CONSTRAINT messages_status_known
                       CHECK (status IN ('received', 'queued', 'sending', 'sent', 'delivered', 'failed')),
    status_at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    created_at         timestamptz NOT NULL DEFAULT now(),
    folder_id          bigint REFERENCES hub.folders (id) ON DELETE SET NULL,
    owner_user_id      bigint REFERENCES hub.users (id) ON DELETE SET NULL,
    owner_group_id     bigint REFERENCES hub.groups (id) ON DELETE SET NULL,
    created_by         bigint REFERENCES hub.users (id) ON DELETE SET NULL,
    -- the outbox row that queued it; no foreign key, because the outbox
    -- trigger queues messages before its own row exists and a deferred check
    -- per row would cost every insert (hub.outbox rows are never deleted
    -- while their messages exist)
    outbox_id          bigint,
    -- 0 bulk, 1 normal, 2 high, 3 urgent
    priority           smallint NOT NULL DEFAULT 1 CONSTRAINT messages_priority_range CHECK (priority BETWEEN 0 AND 3),
    delivery_report    boolean NOT NULL DEFAULT false,
    transliterate      boolean NOT NULL DEFAULT false,
    valid_until        timestamptz,
    send_at            timestamptz,
    -- when the queue may next try it: send_at at first, then retry backoff
    next_attempt_at    timestamptz NOT NULL DEFAULT now(),
    attempts           integer NOT NULL DEFAULT 0,
    claimed_by         text,
    claimed_at         timestamptz,
    failure_code       text,
    failure_reason     text,
    operator_ref       text,
    correlation_id     text,
    segments           smallint,
    -- set when a send may have reached the far side although no answer came
    -- back (a dropped link, a dead worker): the retry may be a duplicate
    possible_duplicate boolean NOT NULL DEFAULT false,
    -- free-form protocol details: e-mail headers, SMS encoding, partial flag
    meta               jsonb NOT NULL DEFAULT '{}',
    CONSTRAINT messages_send_before_expiry CHECK (send_at IS NULL OR valid_until IS NULL OR send_at <= valid_until)
);

-- The queue's claim: queued rows of one connection in priority order.
CREATE INDEX messages_queue ON hub.messages (connection_id, priority DESC, next_attempt_at, id)
    WHERE status = 'queued';
CREATE INDEX messages_sending ON hub.messages (claimed_at) WHERE status = 'sending';
CREATE INDEX messages_created ON hub.messages (created_at);
CREATE INDEX messages_connection_created ON hub.messages (connection_id, created_at);
-- by owner and by folder: partial indexes in 46_web.sql serve both the web
-- lists and the foreign keys' ON DELETE
CREATE INDEX messages_outbox ON hub.messages (outbox_id);
CREATE INDEX messages_correlation ON hub.messages (correlation_id) WHERE correlation_id IS NOT NULL;
CREATE INDEX messages_operator_ref ON hub.messages (connection_id, operator_ref) WHERE operator_ref IS NOT NULL;

CREATE TABLE hub.message_parts (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id   bigint NOT NULL REFERENCES hub.messages (id) ON DELETE CASCADE,
    seq          integer NOT NULL,
    content_type text NOT NULL,
    filename     text,
    content_id   text,
    data         bytea NOT NULL,
    UNIQUE (message_id, seq)
);

-- One row per SMS part sent; delivery reports are matched to these.
CREATE TABLE hub.sms_segments (
    message_id    bigint NOT NULL REFERENCES hub.messages (id) ON DELETE CASCADE,
    seq           integer NOT NULL,
    total         integer NOT NULL,
    connection_id bigint REFERENCES hub.connections (id) ON DELETE SET NULL,
    operator_ref  text,
    status        text NOT NULL DEFAULT 'sent'
                  CONSTRAINT sms_segments_status_known CHECK (status IN ('sent', 'buffered', 'delivered', 'failed')),
    status_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    reason        text,
    PRIMARY KEY (message_id, seq)
);

CREATE INDEX sms_segments_ref ON hub.sms_segments (connection_id, operator_ref);

-- Every delivery report as received, matched or not yet: a report may
-- overtake the record of the submit it answers.
CREATE TABLE hub.delivery_reports (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    connection_id bigint REFERENCES hub.connections (id) ON DELETE CASCADE,
    operator_ref  text NOT NULL,
    status        text NOT NULL CONSTRAINT delivery_reports_status_known CHECK (status IN ('buffered', 'delivered', 'failed')),
    reason        text,
    reported_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    message_id    bigint REFERENCES hub.messages (id) ON DELETE CASCADE
);

CREATE INDEX delivery_reports_unmatched ON hub.delivery_reports (connection_id, operator_ref)
    WHERE message_id IS NULL;
CREATE INDEX delivery_reports_message ON hub.delivery_reports (message_id);

-- Every status a message went through, with its time.
CREATE TABLE hub.message_status_log (
    message_id bigint NOT NULL REFERENCES hub.messages (id) ON DELETE CASCADE,
    status     text NOT NULL,
    at         timestamptz NOT NULL,
    detail     text
);

CREATE INDEX message_status_log_message ON hub.message_status_log (message_id, at);
-- Events drive the rule runner; rules and rule tests are stored here (the
-- runner itself is its own module).

CREATE TABLE hub.events (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    type          text NOT NULL
                  CONSTRAINT events_type_known CHECK (type IN (
                      'message_received', 'message_sent', 'message_failed', 'delivery_report',
                      'connection_up', 'connection_down', 'data_imported', 'schedule', 'http_response')),
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
    response     jsonb
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

-- Counts per option, zero included: what charts and reports read.
CREATE VIEW hub.poll_results AS
SELECT p.id AS poll_id, p.name AS poll, p.question, o.id AS option_id, o.position, o.label,
       count(v.id) AS votes,
       round(100.0 * count(v.id) / nullif(sum(count(v.id)) OVER (PARTITION BY p.id), 0), 1) AS percent
FROM hub.polls p
JOIN hub.poll_options o ON o.poll_id = p.id
LEFT JOIN hub.poll_votes v ON v.option_id = o.id
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
-- What the web UI needs beyond the messages themselves: a change feed for
-- live pages, and indexes for folder pages and full-text search.

-- One row per change a person would see on a page: a message received or
-- queued, a status change (except the queue's claim), an assignment, a move
-- to another folder. Written by the message triggers (45_message_triggers.sql)
-- one statement per batch. Rows older than a day are deleted by
-- hub.message_changes_prune_v1().
--
-- Readers page through it by transaction id, not by row id: ids are handed
-- out before commit, so a row with a lower id can become visible after one
-- with a higher id. A reader takes the rows with xid >= its watermark and
-- xid < the xmin of its snapshot (every transaction below xmin has ended),
-- then moves the watermark to that xmin. The watermark is the SSE event id:
-- a browser that reconnects with Last-Event-ID gets every change it missed.
CREATE TABLE hub.message_changes (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id          bigint NOT NULL,
    kind                text NOT NULL
                        CONSTRAINT message_changes_kind_known
                        CHECK (kind IN ('received', 'queued', 'status', 'assigned', 'moved')),
    -- the owners after the change and before it: a message assigned away
    -- must leave the old owner's open view too
    owner_user_id       bigint,
    owner_group_id      bigint,
    prev_owner_user_id  bigint,
    prev_owner_group_id bigint,
    xid                 xid8 NOT NULL DEFAULT pg_current_xact_id(),
    at                  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX message_changes_xid ON hub.message_changes (xid);
CREATE INDEX message_changes_at ON hub.message_changes (at);

CREATE FUNCTION hub.message_changes_prune_v1(p_keep interval DEFAULT '1 day') RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    v_rows bigint;
BEGIN
    DELETE FROM hub.message_changes WHERE at < now() - p_keep;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    RETURN v_rows;
END
$$;

-- The text that search looks at: subject and body, split into words without
-- stemming (messages come in every language).
CREATE FUNCTION hub.message_document_v1(p_subject text, p_body text) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT to_tsvector('simple'::regconfig, coalesce(p_subject, '') || ' ' || coalesce(p_body, ''))
$$;

-- What a person typed into the search box: every word must occur, as a
-- word or the start of one ("hel wor" finds "hello world").
CREATE FUNCTION hub.message_query_v1(p_text text) RETURNS tsquery
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(to_tsquery('simple'::regconfig,
                               string_agg(quote_literal(w) || ':*', ' & ')), ''::tsquery)
    FROM (SELECT lexeme AS w FROM unnest(to_tsvector('simple'::regconfig, coalesce(p_text, '')))) words
$$;

CREATE INDEX messages_search ON hub.messages USING gin (hub.message_document_v1(subject, body));

-- Folder pages: newest first, a page at a time (keyset on id).
CREATE INDEX messages_web_inbox ON hub.messages (id) WHERE direction = 'in' AND folder_id IS NULL;
CREATE INDEX messages_web_out ON hub.messages (status, id) WHERE direction = 'out' AND folder_id IS NULL;
CREATE INDEX messages_web_folder ON hub.messages (folder_id, id) WHERE folder_id IS NOT NULL;
-- ... and per owner, for users who see a small part of the table
CREATE INDEX messages_web_owner_user ON hub.messages (owner_user_id, id) WHERE owner_user_id IS NOT NULL;
CREATE INDEX messages_web_owner_group ON hub.messages (owner_group_id, id) WHERE owner_group_id IS NOT NULL;
CREATE INDEX messages_web_unassigned ON hub.messages (id) WHERE owner_user_id IS NULL AND owner_group_id IS NULL;

-- One page of a message list for the current viewer: the ids, newest
-- first, below p_before (NULL: the first page), matching p_q ('' for all).
-- p_view: 'inbox', 'outbox', 'sent', 'failed', 'folder' (p_folder_id) or
-- 'all' (search).
--
-- Why a function: row-level security must run its policy before any
-- operator that is not LEAKPROOF, and text search's @@ is not, so under the
-- policy PostgreSQL cannot use the search index at all. This function runs
-- as the table owner and applies the same rule as the policy
-- (hub.visible_to_v1) itself, one branch per way of seeing a message (own,
-- through a group, unassigned), each of which an index serves in id order.
-- Searching, the planner cannot tell how common a word typed so far is
-- (the search matches word starts, and it guesses 2% for a prefix), so
-- this function looks it up in the statistics of the search index: when
-- every word is common (3% of messages or more) the newest
-- messages are read in id order until a page is full; otherwise the search
-- index finds the few matches (index scans in id order are turned off for
-- that statement). The caller reads the rows themselves under row-level
-- security.
CREATE FUNCTION hub.web_message_ids_v1(p_view text, p_folder_id bigint, p_q text, p_before bigint, p_limit integer)
RETURNS SETOF bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = hub, pg_catalog AS $$
DECLARE
    v hub.viewer := hub.viewer_v1();
    v_where text;
    v_branch text;
    v_sql text;
    v_rarest double precision;
    v_indexscan text := current_setting('enable_indexscan');
BEGIN
    v_where := CASE p_view
        WHEN 'inbox' THEN $w$m.direction = 'in' AND m.folder_id IS NULL$w$
        WHEN 'outbox' THEN $w$m.direction = 'out' AND m.folder_id IS NULL AND m.status IN ('queued', 'sending')$w$
        WHEN 'sent' THEN $w$m.direction = 'out' AND m.folder_id IS NULL AND m.status IN ('sent', 'delivered')$w$
        WHEN 'failed' THEN $w$m.direction = 'out' AND m.folder_id IS NULL AND m.status = 'failed'$w$
        WHEN 'folder' THEN $w$m.folder_id = $1$w$
        WHEN 'all' THEN 'true'
    END;
    IF v_where IS NULL THEN
        RAISE EXCEPTION 'unknown message view %', p_view USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_where := v_where || $w$ AND ($2 = '' OR hub.message_document_v1(m.subject, m.body) @@ hub.message_query_v1($2))
        AND ($3::bigint IS NULL OR m.id < $3)$w$;
    v_branch := 'SELECT m.id FROM hub.messages m WHERE ' || v_where || ' AND %s ORDER BY m.id DESC LIMIT $4';
    IF v.sees_all THEN
        v_sql := format(v_branch, 'true');
    ELSE
        v_sql := '(' || format(v_branch, 'm.owner_user_id = $5') || ')';
        IF cardinality(v.groups) > 0 THEN
            v_sql := v_sql || ' UNION ALL (' || format(v_branch,
                'm.owner_group_id = ANY ($6) AND m.owner_user_id IS DISTINCT FROM $5') || ')';
        END IF;
        IF v.sees_unassigned THEN
            v_sql := v_sql || ' UNION ALL (' || format(v_branch,
                'm.owner_user_id IS NULL AND m.owner_group_id IS NULL') || ')';
        END IF;
        v_sql := 'SELECT id FROM (' || v_sql || ') b ORDER BY id DESC LIMIT $4';
    END IF;
    IF coalesce(p_q, '') <> '' THEN
        -- how common the rarest word is: the summed frequencies of the
        -- index's most common lexemes that start with it (0: none do)
        SELECT min(coalesce((SELECT sum(e.freq) FROM unnest(st.elems, st.freqs) AS e(elem, freq)
                             WHERE left(e.elem, length(w.lexeme)) = w.lexeme), 0))
        INTO v_rarest
        FROM unnest(to_tsvector('simple'::regconfig, p_q)) AS w
        LEFT JOIN (SELECT s.most_common_elems::text::text[] AS elems, s.most_common_elem_freqs AS freqs
                   FROM pg_stats s WHERE s.schemaname = 'hub' AND s.tablename = 'messages_search') st ON true;
        IF coalesce(v_rarest, 0) < 0.03 THEN
            PERFORM set_config('enable_indexscan', 'off', true);
        END IF;
    END IF;
    RETURN QUERY EXECUTE v_sql USING p_folder_id, coalesce(p_q, ''), p_before, p_limit, v.user_id, v.groups;
    PERFORM set_config('enable_indexscan', v_indexscan, true);
END
$$;

ALTER TABLE hub.message_changes ENABLE ROW LEVEL SECURITY;
CREATE POLICY visible ON hub.message_changes TO msghub_app
    USING (hub.visible_to_v1(owner_user_id, owner_group_id, (SELECT (hub.viewer_v1()).sees_all),
               (SELECT (hub.viewer_v1()).user_id), (SELECT (hub.viewer_v1()).groups),
               (SELECT (hub.viewer_v1()).sees_unassigned))
           OR hub.visible_to_v1(prev_owner_user_id, prev_owner_group_id, (SELECT (hub.viewer_v1()).sees_all),
               (SELECT (hub.viewer_v1()).user_id), (SELECT (hub.viewer_v1()).groups),
               (SELECT (hub.viewer_v1()).sees_unassigned)))
    WITH CHECK (true);
-- API keys for the HTTP API (docs/API.md). A key is "mh_<key_id>_<secret>":
-- the key id finds the row, the secret is checked against its SHA-256 (the
-- secret is 256 random bits, so a fast hash is enough: nothing to guess).
-- The whole key is shown once, when it is created; the database never
-- holds it. A request with a key acts as the key's owner, so row-level
-- security and the outbox's checks apply to it as to the owner's web session.
CREATE TABLE hub.api_keys (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key_id        text NOT NULL UNIQUE CONSTRAINT api_keys_key_id_format CHECK (key_id ~ '^[A-Za-z0-9]{8,32}$'),
    secret_sha256 bytea NOT NULL CONSTRAINT api_keys_secret_sha256_length CHECK (length(secret_sha256) = 32),
    name          text NOT NULL CONSTRAINT api_keys_name_not_blank CHECK (btrim(name) <> ''),
    user_id       bigint NOT NULL REFERENCES hub.users (id) ON DELETE CASCADE,
    -- what the key may do: send (POST /api/v1/messages), read (GET)
    scopes        text[] NOT NULL
                  CONSTRAINT api_keys_scopes_known
                  CHECK (scopes <@ ARRAY['send', 'read']::text[] AND cardinality(scopes) > 0),
    created_by    bigint REFERENCES hub.users (id) ON DELETE SET NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz,
    revoked_at    timestamptz
);

CREATE INDEX api_keys_user ON hub.api_keys (user_id);

-- Admins manage keys and the API looks them up in system mode; a user sees
-- the keys they own.
ALTER TABLE hub.api_keys ENABLE ROW LEVEL SECURITY;
CREATE POLICY visible ON hub.api_keys TO msghub_app
    USING ((SELECT hub.sees_all_v1()) OR user_id = (SELECT (hub.viewer_v1()).user_id)) WITH CHECK (true);
-- Contact imports from CSV and vCard files (msghub/hub/contacts_io.py). The
-- web app stores the upload and works through it in the background, in
-- batches; each batch commits its contacts and its progress here, so the
-- page shows how far it is and a person can leave and come back.
CREATE TABLE hub.contact_imports (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id        bigint NOT NULL REFERENCES hub.users (id) ON DELETE CASCADE,
    -- who the imported contacts belong to
    owner_user_id  bigint REFERENCES hub.users (id) ON DELETE CASCADE,
    owner_group_id bigint REFERENCES hub.groups (id) ON DELETE CASCADE,
    filename       text NOT NULL,
    format         text NOT NULL CONSTRAINT contact_imports_format_known CHECK (format IN ('csv', 'vcard')),
    on_duplicate   text NOT NULL CONSTRAINT contact_imports_on_duplicate_known CHECK (on_duplicate IN ('update', 'skip')),
    state          text NOT NULL DEFAULT 'running'
                   CONSTRAINT contact_imports_state_known CHECK (state IN ('running', 'done', 'failed')),
    bytes_total    bigint NOT NULL DEFAULT 0,
    bytes_done     bigint NOT NULL DEFAULT 0,
    created        integer NOT NULL DEFAULT 0,
    updated        integer NOT NULL DEFAULT 0,
    skipped        integer NOT NULL DEFAULT 0,
    error_count    integer NOT NULL DEFAULT 0,
    -- the first problems, as "line 14: phone '+12ab' is not a phone number"
    errors         text[] NOT NULL DEFAULT '{}',
    -- why the whole import stopped, when it did
    failure        text,
    started_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    finished_at    timestamptz
);

CREATE INDEX contact_imports_user ON hub.contact_imports (user_id, id);

-- Duplicates are found by phone (contacts_phone) or by e-mail, case-insensitively.
CREATE INDEX contacts_email_lower ON hub.contacts (lower(email));

-- The existing contact of an owner for each incoming phone / e-mail (lower
-- case): same phone, or same e-mail ignoring case; the oldest when several
-- match. SECURITY DEFINER because under row-level security a lookup by
-- lower(email) cannot use the index (lower() is not leakproof, so the
-- policy's check runs first, row by row); it checks itself that the caller
-- may see the owner's rows.
CREATE FUNCTION hub.contacts_matching_v1(p_owner_user bigint, p_owner_group bigint, p_phones text[], p_emails text[])
RETURNS TABLE (seq bigint, id bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = hub, pg_catalog AS $$
DECLARE
    v_viewer hub.viewer := hub.viewer_v1();
BEGIN
    IF NOT hub.visible_to_v1(p_owner_user, p_owner_group, v_viewer.sees_all, v_viewer.user_id, v_viewer.groups,
                             v_viewer.sees_unassigned) THEN
        RAISE EXCEPTION 'you may not import contacts for this owner' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN QUERY
    SELECT i.seq, m.id
    FROM unnest(p_phones, p_emails) WITH ORDINALITY AS i(phone, email, seq)
    CROSS JOIN LATERAL (
        SELECT min(u.id) AS id FROM (
            SELECT c.id FROM hub.contacts c
            WHERE i.phone IS NOT NULL AND c.phone = i.phone
              AND c.owner_user_id IS NOT DISTINCT FROM p_owner_user
              AND c.owner_group_id IS NOT DISTINCT FROM p_owner_group
            UNION ALL
            SELECT c.id FROM hub.contacts c
            WHERE i.email IS NOT NULL AND lower(c.email) = i.email
              AND c.owner_user_id IS NOT DISTINCT FROM p_owner_user
              AND c.owner_group_id IS NOT DISTINCT FROM p_owner_group
        ) u
    ) m
    WHERE m.id IS NOT NULL;
END
$$;

ALTER TABLE hub.contact_imports ENABLE ROW LEVEL SECURITY;
CREATE POLICY visible ON hub.contact_imports TO msghub_app
    USING ((SELECT hub.sees_all_v1()) OR user_id = (SELECT (hub.viewer_v1()).user_id)) WITH CHECK (true);
-- hub.outbox: the integrator's way to send. One INSERT queues one message per
-- recipient; a bad row is refused with an error naming the column, and the
-- integrator's transaction fails as a whole.

-- Raises the error every refusal of the outbox uses: SQLSTATE 22023, the
-- column in the message and in the error's COLUMN field.
CREATE FUNCTION hub.outbox_refuse_v1(p_column text, p_reason text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'hub.outbox.%: %', p_column, p_reason
        USING ERRCODE = 'invalid_parameter_value', SCHEMA = 'hub', TABLE = 'outbox', COLUMN = p_column;
END
$$;

-- A phone number as the hub stores it: the "(0)" trunk prefix written after
-- a country code dropped, spaces, dashes, dots and brackets removed, a
-- leading 00 written as +. NULL when it is not a number.
CREATE FUNCTION hub.normalize_phone_v1(p_text text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN n ~ '^\+?[0-9]{3,20}$' THEN n END
    FROM (SELECT regexp_replace(regexp_replace(replace(btrim(p_text), '(0)', ''), '[\s().-]', '', 'g'),
                                '^00', '+') AS n) s
$$;

CREATE FUNCTION hub.is_email_v1(p_text text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT p_text ~ '^[^@\s<>(),;:"]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$' AND length(p_text) <= 254
$$;

-- Normalizes one recipient address for a channel; NULL when malformed.
-- MMS may go to a phone number or an e-mail address.
CREATE FUNCTION hub.normalize_address_v1(p_channel text, p_address text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN p_channel = 'email' THEN CASE WHEN hub.is_email_v1(btrim(p_address)) THEN btrim(p_address) END
        WHEN p_channel = 'mms' AND p_address LIKE '%@%' THEN CASE WHEN hub.is_email_v1(btrim(p_address)) THEN btrim(p_address) END
        ELSE hub.normalize_phone_v1(p_address)
    END
$$;

-- Picks the connection for a message: the longest matching number prefix
-- route, then the channel's default connection, then the only connection
-- carrying the channel. Refuses when none or several remain.
CREATE FUNCTION hub.route_v1(p_channel text, p_address text) RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_id bigint;
    v_count integer;
    v_only bigint;
    v_total integer;
BEGIN
    SELECT r.connection_id INTO v_id
    FROM hub.routes r JOIN hub.connections c ON c.id = r.connection_id
    WHERE r.channel = p_channel AND p_address LIKE r.prefix || '%' AND c.enabled
    ORDER BY length(r.prefix) DESC, r.priority DESC, r.id
    LIMIT 1;
    IF v_id IS NOT NULL THEN
        RETURN v_id;
    END IF;

    SELECT c.id INTO v_id FROM hub.connections c
    WHERE c.is_default AND p_channel = ANY (c.channels) ORDER BY c.enabled DESC, c.id LIMIT 1;
    IF v_id IS NOT NULL THEN
        RETURN v_id;
    END IF;

    -- the only enabled connection for the channel; or, when none is enabled,
    -- the only one there is (its messages wait until it is enabled again)
    SELECT min(c.id) FILTER (WHERE c.enabled), count(*) FILTER (WHERE c.enabled), min(c.id), count(*)
    INTO v_id, v_count, v_only, v_total
    FROM hub.connections c WHERE p_channel = ANY (c.channels);
    IF v_count = 1 THEN
        RETURN v_id;
    ELSIF v_count = 0 AND v_total = 1 THEN
        RETURN v_only;
    END IF;
    PERFORM hub.outbox_refuse_v1('connection', format(
        'no route for %s to %s: name a connection, add a route, or mark a connection as default (%s candidates)',
        p_channel, p_address, v_count));
    RETURN NULL;
END
$$;

CREATE FUNCTION hub.outbox_accept_v1() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_addresses text[] := '{}';
    v_raw text;
    v_norm text;
    v_conn hub.connections;
    v_list_id bigint;
    v_bytes bigint := 0;
    v_limit bigint;
    v_part jsonb;
    v_user bigint;
    v_message_ids bigint[];
    v_denied text;
    v_viewer hub.viewer;
BEGIN
    IF NEW.idempotency_key IS NOT NULL THEN
        -- serialise inserts of one key so a concurrent duplicate also queues nothing
        PERFORM pg_advisory_xact_lock(hashtextextended('msghub.outbox:' || NEW.idempotency_key, 0));
        IF EXISTS (SELECT 1 FROM hub.outbox WHERE idempotency_key = NEW.idempotency_key) THEN
            RETURN NULL;
        END IF;
    END IF;

    IF NEW.channel IS NULL OR NEW.channel NOT IN ('sms', 'mms', 'email') THEN
        PERFORM hub.outbox_refuse_v1('channel', format('unknown channel %L: use sms, mms or email', NEW.channel));
    END IF;
    IF NEW.priority IS NULL OR NEW.priority NOT BETWEEN 0 AND 3 THEN
        PERFORM hub.outbox_refuse_v1('priority', format('priority %s out of range: 0 bulk, 1 normal, 2 high, 3 urgent',
            coalesce(NEW.priority::text, 'NULL')));
    END IF;
    IF NEW.delivery_report IS NULL THEN
        PERFORM hub.outbox_refuse_v1('delivery_report', 'must be true or false, not NULL');
    END IF;
    IF NEW.transliterate IS NULL THEN
        PERFORM hub.outbox_refuse_v1('transliterate', 'must be true or false, not NULL');
    END IF;

    -- recipients: recipient, recipients and the list's members, in that order
    IF NEW.list IS NULL AND NEW.recipients IS NULL THEN
        -- the common case, one recipient: no query needed
        IF NEW.recipient IS NOT NULL THEN
            v_norm := hub.normalize_address_v1(NEW.channel, NEW.recipient);
            IF v_norm IS NULL THEN
                PERFORM hub.outbox_refuse_v1('recipient', format('malformed %s %L',
                    CASE WHEN NEW.channel = 'email' THEN 'e-mail address' ELSE 'phone number' END, NEW.recipient));
            END IF;
            v_addresses := ARRAY[v_norm];
        END IF;
    ELSE
        IF NEW.list IS NOT NULL THEN
            SELECT id INTO v_list_id FROM hub.lists WHERE name = NEW.list ORDER BY id LIMIT 1;
            IF v_list_id IS NULL THEN
                PERFORM hub.outbox_refuse_v1('list', format('unknown distribution list %L', NEW.list));
            END IF;
        END IF;
        FOR v_raw IN
            SELECT a FROM unnest(ARRAY[NEW.recipient] || coalesce(NEW.recipients, '{}')) a WHERE a IS NOT NULL
            UNION ALL
            -- a member without an address for this channel is skipped
            SELECT CASE NEW.channel WHEN 'email' THEN c.email WHEN 'sms' THEN c.phone
                                    ELSE coalesce(c.phone, c.email) END
            FROM hub.list_members lm JOIN hub.contacts c ON c.id = lm.contact_id
            WHERE lm.list_id = v_list_id
        LOOP
            CONTINUE WHEN v_raw IS NULL;
            v_norm := hub.normalize_address_v1(NEW.channel, v_raw);
            IF v_norm IS NULL THEN
                PERFORM hub.outbox_refuse_v1(CASE WHEN v_raw = NEW.recipient THEN 'recipient' ELSE 'recipients' END,
                    format('malformed %s %L', CASE WHEN NEW.channel = 'email' THEN 'e-mail address' ELSE 'phone number' END, v_raw));
            END IF;
            IF NOT v_norm = ANY (v_addresses) THEN
                v_addresses := v_addresses || v_norm;
            END IF;
        END LOOP;
    END IF;
    IF cardinality(v_addresses) = 0 THEN
        PERFORM hub.outbox_refuse_v1('recipient', 'no recipient: give recipient, recipients or a list with members');
    END IF;

    -- content
    IF NEW.attachments IS NULL THEN
        IF coalesce(NEW.text, '') = '' THEN
            PERFORM hub.outbox_refuse_v1('text', 'empty message: give text or attachments');
        END IF;
    ELSE
        IF jsonb_typeof(NEW.attachments) <> 'array' THEN
            PERFORM hub.outbox_refuse_v1('attachments', 'must be a JSON array of {"filename", "content_type", "data" (base64)}');
        END IF;
        IF coalesce(NEW.text, '') = '' AND jsonb_array_length(NEW.attachments) = 0 THEN
            PERFORM hub.outbox_refuse_v1('text', 'empty message: give text or attachments');
        END IF;
        IF NEW.channel = 'sms' AND jsonb_array_length(NEW.attachments) > 0 THEN
            PERFORM hub.outbox_refuse_v1('attachments', 'an SMS carries no attachments: use channel mms or email');
        END IF;
        FOR v_part IN SELECT * FROM jsonb_array_elements(NEW.attachments) LOOP
            IF jsonb_typeof(v_part) <> 'object' OR jsonb_typeof(v_part -> 'data') IS DISTINCT FROM 'string'
               OR jsonb_typeof(v_part -> 'content_type') IS DISTINCT FROM 'string' THEN
                PERFORM hub.outbox_refuse_v1('attachments', 'each attachment needs "content_type" and "data" (base64) strings');
            END IF;
            BEGIN
                v_bytes := v_bytes + length(decode(v_part ->> 'data', 'base64'));
            EXCEPTION WHEN invalid_parameter_value THEN
                PERFORM hub.outbox_refuse_v1('attachments', format('attachment %L is not valid base64', coalesce(v_part ->> 'filename', '?')));
            END;
        END LOOP;
        v_limit := hub.setting_int(CASE NEW.channel WHEN 'email' THEN 'email_max_bytes' ELSE 'mms_max_bytes' END);
        IF v_bytes > v_limit THEN
            PERFORM hub.outbox_refuse_v1('attachments', format('attachments total %s bytes, over the %s limit of %s bytes', v_bytes, NEW.channel, v_limit));
        END IF;
    END IF;

    -- sender
    IF NEW.sender IS NOT NULL THEN
        IF NEW.channel = 'sms'
           AND NOT (NEW.sender ~ '^\+?[0-9]{1,20}$' OR NEW.sender ~ '^[A-Za-z0-9 ._&@!?#-]{1,11}$' AND NEW.sender ~ '[A-Za-z]') THEN
            PERFORM hub.outbox_refuse_v1('sender', format('malformed sender %L: a number, or at most 11 letters and digits', NEW.sender));
        END IF;
        IF NEW.channel = 'email' AND NOT hub.is_email_v1(NEW.sender) THEN
            PERFORM hub.outbox_refuse_v1('sender', format('malformed e-mail address %L', NEW.sender));
        END IF;
    END IF;

    -- timing
    IF NEW.valid_until IS NOT NULL AND NEW.valid_until <= now() THEN
        PERFORM hub.outbox_refuse_v1('valid_until', format('already expired at %s', NEW.valid_until));
    END IF;
    IF NEW.send_at IS NOT NULL AND NEW.valid_until IS NOT NULL AND NEW.send_at > NEW.valid_until THEN
        PERFORM hub.outbox_refuse_v1('send_at', format('send_at %s is after valid_until %s', NEW.send_at, NEW.valid_until));
    END IF;

    IF NEW.connection IS NOT NULL THEN
        SELECT * INTO v_conn FROM hub.connections WHERE name = NEW.connection;
        IF v_conn.id IS NULL THEN
            PERFORM hub.outbox_refuse_v1('connection', format('unknown connection %L', NEW.connection));
        END IF;
        IF NOT NEW.channel = ANY (v_conn.channels) THEN
            PERFORM hub.outbox_refuse_v1('connection', format('connection %L does not carry %s (it carries %s)',
                NEW.connection, NEW.channel, array_to_string(v_conn.channels, ', ')));
        END IF;
    END IF;

    -- the row belongs to whoever inserts it (an integrator cannot claim
    -- another user); the hub itself may queue on someone's behalf
    v_viewer := hub.viewer_v1();
    v_user := CASE WHEN v_viewer.sees_all THEN coalesce(NEW.created_by, v_viewer.user_id) ELSE v_viewer.user_id END;
    IF NEW.owner_group_id IS NULL AND NOT hub.is_app_session_v1() THEN
        NEW.owner_group_id := (SELECT group_id FROM hub.integrator_logins WHERE role_name = session_user);
    ELSIF NEW.owner_group_id IS NOT NULL AND NOT v_viewer.sees_all
          AND NOT NEW.owner_group_id = ANY (v_viewer.groups) THEN
        PERFORM hub.outbox_refuse_v1('owner_group_id', 'you are not a member of that group');
    END IF;
    NEW.created_by := v_user;
    NEW.recipients := v_addresses;
    NEW.message_count := cardinality(v_addresses);

    WITH queued AS (
        INSERT INTO hub.messages (channel, direction, connection_id, sender, recipients, subject, body, status,
                                  owner_user_id, owner_group_id, created_by, outbox_id, priority, delivery_report,
                                  transliterate, valid_until, send_at, next_attempt_at, correlation_id)
        SELECT NEW.channel, 'out', coalesce(v_conn.id, hub.route_v1(NEW.channel, a)), NEW.sender, ARRAY[a],
               NEW.subject, coalesce(NEW.text, ''), 'queued', v_user, NEW.owner_group_id, v_user, NEW.id,
               NEW.priority, NEW.delivery_report, NEW.transliterate, NEW.valid_until, NEW.send_at,
               coalesce(NEW.send_at, now()), NEW.correlation_id
        FROM unnest(v_addresses) WITH ORDINALITY AS r(a, n)
        ORDER BY n
        RETURNING id
    )
    SELECT array_agg(id) INTO v_message_ids FROM queued;

    IF NOT v_viewer.sees_all THEN
        SELECT c.name INTO v_denied FROM hub.messages m JOIN hub.connections c ON c.id = m.connection_id
        WHERE m.id = ANY (v_message_ids) AND NOT hub.may_use_connection_v1(c.id, v_viewer) LIMIT 1;
        IF v_denied IS NOT NULL THEN
            PERFORM hub.outbox_refuse_v1('connection', format('you may not send through connection %L', v_denied));
        END IF;
    END IF;

    IF NEW.attachments IS NOT NULL THEN
        INSERT INTO hub.message_parts (message_id, seq, content_type, filename, data)
        SELECT m.id, p.n, p.part ->> 'content_type', p.part ->> 'filename', decode(p.part ->> 'data', 'base64')
        FROM unnest(v_message_ids) AS m(id)
        CROSS JOIN jsonb_array_elements(NEW.attachments) WITH ORDINALITY AS p(part, n);
        -- the attachments now live in message_parts; keep the request row small
        NEW.attachments := (SELECT jsonb_agg(e - 'data') FROM jsonb_array_elements(NEW.attachments) e);
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER outbox_accept
    BEFORE INSERT ON hub.outbox
    FOR EACH ROW EXECUTE FUNCTION hub.outbox_accept_v1();

-- The outbox is a request log: a changed row would no longer say what was
-- asked, and a deleted one would free its idempotency key for a duplicate.
CREATE FUNCTION hub.outbox_immutable_v1() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'hub.outbox rows cannot be changed or deleted; queue a new row, or cancel with hub.cancel_v1(message_id)'
        USING ERRCODE = 'feature_not_supported';
END
$$;

CREATE TRIGGER outbox_immutable
    BEFORE UPDATE OR DELETE ON hub.outbox
    FOR EACH ROW EXECUTE FUNCTION hub.outbox_immutable_v1();
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
LANGUAGE plpgsql AS $$
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
LANGUAGE plpgsql AS $$
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
       m.send_at, m.valid_until, m.created_at
FROM hub.messages m
LEFT JOIN hub.outbox o ON o.id = m.outbox_id
LEFT JOIN hub.connections c ON c.id = m.connection_id
WHERE m.direction = 'out' AND hub.visible_to_v1(m.owner_user_id, m.owner_group_id, (SELECT (hub.viewer_v1()).sees_all), (SELECT (hub.viewer_v1()).user_id),
        (SELECT (hub.viewer_v1()).groups), (SELECT (hub.viewer_v1()).sees_unassigned));

-- Messages and SMS segments by day (UTC), connection, owning user, channel,
-- direction and status: the folded totals plus deltas not yet folded, so
-- the view is exact at every moment and reads only small tables.
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
    GROUP BY 1, 2, 3, 4, 5, 6
    HAVING sum(messages) <> 0
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
CREATE VIEW hub.connection_status AS
SELECT c.id, c.name, c.kind, c.enabled, c.state, c.state_since, c.last_error, c.last_error_at, c.node,
       (SELECT count(*) FROM hub.messages m WHERE m.connection_id = c.id AND m.status = 'queued') AS queued,
       (SELECT count(*) FROM hub.messages m WHERE m.connection_id = c.id AND m.status = 'sending') AS sending
FROM hub.connections c;
-- Access control: who may see and send what. The rule lives in the database
-- so that it holds for the web app, the API and SQL integrators alike.
-- Identity: 15_identity.sql. Policies apply to the role msghub_app, the
-- role every hub process works as; integrators reach messages only through
-- the views and the SECURITY DEFINER functions below.

-- Which connections a user or group may send through. A connection without
-- any grant is open to everyone; admins and the hub itself use any.
CREATE TABLE hub.connection_grants (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    connection_id bigint NOT NULL REFERENCES hub.connections (id) ON DELETE CASCADE,
    user_id       bigint REFERENCES hub.users (id) ON DELETE CASCADE,
    group_id      bigint REFERENCES hub.groups (id) ON DELETE CASCADE,
    CONSTRAINT connection_grants_one_grantee CHECK ((user_id IS NULL) <> (group_id IS NULL)),
    UNIQUE (connection_id, user_id, group_id)
);

CREATE INDEX connection_grants_connection ON hub.connection_grants (connection_id);

-- Every assignment of a message: who, when, from whom to whom.
CREATE TABLE hub.assignments (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id    bigint NOT NULL REFERENCES hub.messages (id) ON DELETE CASCADE,
    at            timestamptz NOT NULL DEFAULT now(),
    by_user_id    bigint REFERENCES hub.users (id) ON DELETE SET NULL,
    by_actor      text NOT NULL,
    from_user_id  bigint REFERENCES hub.users (id) ON DELETE SET NULL,
    from_group_id bigint REFERENCES hub.groups (id) ON DELETE SET NULL,
    to_user_id    bigint REFERENCES hub.users (id) ON DELETE SET NULL,
    to_group_id   bigint REFERENCES hub.groups (id) ON DELETE SET NULL
);

CREATE INDEX assignments_message ON hub.assignments (message_id, at);

CREATE FUNCTION hub.may_use_connection_v1(p_connection_id bigint, p_viewer hub.viewer) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT p_viewer.sees_all
        OR NOT EXISTS (SELECT FROM hub.connection_grants g WHERE g.connection_id = p_connection_id)
        OR EXISTS (SELECT FROM hub.connection_grants g
                   WHERE g.connection_id = p_connection_id
                     AND (g.user_id = p_viewer.user_id OR g.group_id = ANY (p_viewer.groups)))
$$;

-- Assigns a message to a user or a group (or back to nobody). The caller
-- must see the message; otherwise it does not exist for them (false), so a
-- guessed id tells nothing.
CREATE FUNCTION hub.assign_v1(p_message_id bigint, p_user_id bigint, p_group_id bigint,
                              p_actor text DEFAULT NULL) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = hub, pg_catalog AS $$
DECLARE
    v_from_user bigint;
    v_from_group bigint;
BEGIN
    IF p_user_id IS NOT NULL AND p_group_id IS NOT NULL THEN
        RAISE EXCEPTION 'assign a message to a user or to a group, not both' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT owner_user_id, owner_group_id INTO v_from_user, v_from_group
    FROM hub.messages WHERE id = p_message_id AND hub.visible_v1(owner_user_id, owner_group_id)
    FOR UPDATE;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    UPDATE hub.messages SET owner_user_id = p_user_id, owner_group_id = p_group_id WHERE id = p_message_id;
    INSERT INTO hub.assignments (message_id, by_user_id, by_actor, from_user_id, from_group_id, to_user_id, to_group_id)
    VALUES (p_message_id, hub.current_user_id_v1(),
            coalesce(p_actor, (SELECT username FROM hub.users WHERE id = hub.current_user_id_v1()), session_user),
            v_from_user, v_from_group, p_user_id, p_group_id);
    PERFORM pg_notify('msghub_messages', '');
    RETURN true;
END
$$;

-- Functions integrators call, or that run for them, work with msghub's own
-- rights; each checks what it needs itself.
ALTER FUNCTION hub.outbox_accept_v1() SECURITY DEFINER SET search_path = hub, pg_catalog;
ALTER FUNCTION hub.import_to_events_v1() SECURITY DEFINER SET search_path = hub, pg_catalog;

CREATE OR REPLACE FUNCTION hub.cancel_v1(p_message_id bigint) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = hub, pg_catalog AS $$
BEGIN
    UPDATE hub.messages
    SET status = 'failed', status_at = clock_timestamp(), failure_code = 'cancelled',
        failure_reason = 'cancelled before sending'
    WHERE id = p_message_id AND status = 'queued' AND hub.visible_v1(owner_user_id, owner_group_id);
    RETURN FOUND;
END
$$;

-- Row-level security. One policy per table for the hub's role: a row is
-- there if its owner is visible; rows hanging off a message inherit the
-- message's visibility (the sub-select is itself subject to its policy).
ALTER TABLE hub.messages ENABLE ROW LEVEL SECURITY;
CREATE POLICY visible ON hub.messages TO msghub_app
    USING (hub.visible_to_v1(owner_user_id, owner_group_id, (SELECT (hub.viewer_v1()).sees_all), (SELECT (hub.viewer_v1()).user_id),
        (SELECT (hub.viewer_v1()).groups), (SELECT (hub.viewer_v1()).sees_unassigned))) WITH CHECK (true);

ALTER TABLE hub.contacts ENABLE ROW LEVEL SECURITY;
CREATE POLICY visible ON hub.contacts TO msghub_app
    USING (hub.visible_to_v1(owner_user_id, owner_group_id, (SELECT (hub.viewer_v1()).sees_all), (SELECT (hub.viewer_v1()).user_id),
        (SELECT (hub.viewer_v1()).groups), (SELECT (hub.viewer_v1()).sees_unassigned))) WITH CHECK (true);

ALTER TABLE hub.lists ENABLE ROW LEVEL SECURITY;
CREATE POLICY visible ON hub.lists TO msghub_app
    USING (hub.visible_to_v1(owner_user_id, owner_group_id, (SELECT (hub.viewer_v1()).sees_all), (SELECT (hub.viewer_v1()).user_id),
        (SELECT (hub.viewer_v1()).groups), (SELECT (hub.viewer_v1()).sees_unassigned))) WITH CHECK (true);

ALTER TABLE hub.folders ENABLE ROW LEVEL SECURITY;
CREATE POLICY visible ON hub.folders TO msghub_app
    USING (hub.visible_to_v1(owner_user_id, owner_group_id, (SELECT (hub.viewer_v1()).sees_all), (SELECT (hub.viewer_v1()).user_id),
        (SELECT (hub.viewer_v1()).groups), (SELECT (hub.viewer_v1()).sees_unassigned))) WITH CHECK (true);

ALTER TABLE hub.rules ENABLE ROW LEVEL SECURITY;
CREATE POLICY visible ON hub.rules TO msghub_app
    USING (hub.visible_to_v1(owner_user_id, owner_group_id, (SELECT (hub.viewer_v1()).sees_all), (SELECT (hub.viewer_v1()).user_id),
        (SELECT (hub.viewer_v1()).groups), (SELECT (hub.viewer_v1()).sees_unassigned))) WITH CHECK (true);

ALTER TABLE hub.outbox ENABLE ROW LEVEL SECURITY;
CREATE POLICY visible ON hub.outbox TO msghub_app, msghub_integrator
    USING (hub.visible_to_v1(created_by, owner_group_id, (SELECT (hub.viewer_v1()).sees_all), (SELECT (hub.viewer_v1()).user_id),
        (SELECT (hub.viewer_v1()).groups), (SELECT (hub.viewer_v1()).sees_unassigned))) WITH CHECK (true);

ALTER TABLE hub.message_parts ENABLE ROW LEVEL SECURITY;
CREATE POLICY visible ON hub.message_parts TO msghub_app
    USING (EXISTS (SELECT FROM hub.messages m WHERE m.id = message_id)) WITH CHECK (true);

ALTER TABLE hub.sms_segments ENABLE ROW LEVEL SECURITY;
CREATE POLICY visible ON hub.sms_segments TO msghub_app
    USING (EXISTS (SELECT FROM hub.messages m WHERE m.id = message_id)) WITH CHECK (true);

ALTER TABLE hub.message_status_log ENABLE ROW LEVEL SECURITY;
CREATE POLICY visible ON hub.message_status_log TO msghub_app
    USING (EXISTS (SELECT FROM hub.messages m WHERE m.id = message_id)) WITH CHECK (true);

ALTER TABLE hub.delivery_reports ENABLE ROW LEVEL SECURITY;
CREATE POLICY visible ON hub.delivery_reports TO msghub_app
    USING ((SELECT hub.sees_all_v1()) OR EXISTS (SELECT FROM hub.messages m WHERE m.id = message_id))
    WITH CHECK (true);

ALTER TABLE hub.assignments ENABLE ROW LEVEL SECURITY;
CREATE POLICY visible ON hub.assignments TO msghub_app
    USING (EXISTS (SELECT FROM hub.messages m WHERE m.id = message_id)) WITH CHECK (true);

ALTER TABLE hub.list_members ENABLE ROW LEVEL SECURITY;
CREATE POLICY visible ON hub.list_members TO msghub_app
    USING (EXISTS (SELECT FROM hub.lists l WHERE l.id = list_id)) WITH CHECK (true);

ALTER TABLE hub.rule_tests ENABLE ROW LEVEL SECURITY;
CREATE POLICY visible ON hub.rule_tests TO msghub_app
    USING (EXISTS (SELECT FROM hub.rules r WHERE r.id = rule_id)) WITH CHECK (true);

ALTER TABLE hub.events ENABLE ROW LEVEL SECURITY;
CREATE POLICY system_only ON hub.events TO msghub_app USING ((SELECT hub.sees_all_v1())) WITH CHECK (true);

ALTER TABLE hub.polls ENABLE ROW LEVEL SECURITY;
CREATE POLICY visible ON hub.polls TO msghub_app
    USING (hub.visible_to_v1(owner_user_id, owner_group_id, (SELECT (hub.viewer_v1()).sees_all), (SELECT (hub.viewer_v1()).user_id),
        (SELECT (hub.viewer_v1()).groups), (SELECT (hub.viewer_v1()).sees_unassigned))) WITH CHECK (true);

ALTER TABLE hub.poll_options ENABLE ROW LEVEL SECURITY;
CREATE POLICY visible ON hub.poll_options TO msghub_app
    USING (EXISTS (SELECT FROM hub.polls p WHERE p.id = poll_id)) WITH CHECK (true);

ALTER TABLE hub.poll_votes ENABLE ROW LEVEL SECURITY;
CREATE POLICY visible ON hub.poll_votes TO msghub_app
    USING (EXISTS (SELECT FROM hub.polls p WHERE p.id = poll_id)) WITH CHECK (true);

-- The runner's own bookkeeping: the hub's system mode only (rule authors
-- read their rule's log through the web UI, which runs in system mode and
-- checks the rule's visibility first).
ALTER TABLE hub.rule_state ENABLE ROW LEVEL SECURITY;
CREATE POLICY system_only ON hub.rule_state TO msghub_app USING ((SELECT hub.sees_all_v1())) WITH CHECK (true);
ALTER TABLE hub.rule_log ENABLE ROW LEVEL SECURITY;
CREATE POLICY system_only ON hub.rule_log TO msghub_app USING ((SELECT hub.sees_all_v1())) WITH CHECK (true);
ALTER TABLE hub.http_requests ENABLE ROW LEVEL SECURITY;
CREATE POLICY system_only ON hub.http_requests TO msghub_app USING ((SELECT hub.sees_all_v1())) WITH CHECK (true);
ALTER TABLE hub.export_tables ENABLE ROW LEVEL SECURITY;
CREATE POLICY system_only ON hub.export_tables TO msghub_app USING ((SELECT hub.sees_all_v1())) WITH CHECK (true);
ALTER TABLE hub.export_writes ENABLE ROW LEVEL SECURITY;
CREATE POLICY system_only ON hub.export_writes TO msghub_app USING ((SELECT hub.sees_all_v1())) WITH CHECK (true);
ALTER TABLE hub.import_sources ENABLE ROW LEVEL SECURITY;
CREATE POLICY system_only ON hub.import_sources TO msghub_app USING ((SELECT hub.sees_all_v1())) WITH CHECK (true);
ALTER TABLE hub.schedules ENABLE ROW LEVEL SECURITY;
CREATE POLICY system_only ON hub.schedules TO msghub_app USING ((SELECT hub.sees_all_v1())) WITH CHECK (true);

ALTER TABLE hub.audit_log ENABLE ROW LEVEL SECURITY;
CREATE POLICY system_only ON hub.audit_log TO msghub_app USING ((SELECT hub.sees_all_v1())) WITH CHECK (true);

-- Privileges. The hub's role works with every table; policies above limit
-- the rows. Integrators read the views, queue through hub.outbox, hand data
-- over through hub.import, and cancel and assign through functions.
GRANT USAGE ON SCHEMA hub TO msghub_app, msghub_integrator;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA hub TO msghub_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA hub TO msghub_app;
GRANT SELECT ON hub.inbox, hub.message_status, hub.stats_messages, hub.stats_by_connection_day,
    hub.stats_by_user_day, hub.poll_results TO msghub_integrator;
GRANT INSERT ON hub.outbox, hub.import TO msghub_integrator;
GRANT SELECT (id, channel, recipients, message_count, idempotency_key, correlation_id, created_at)
    ON hub.outbox TO msghub_integrator;
GRANT SELECT (id, topic, created_at) ON hub.import TO msghub_integrator;
