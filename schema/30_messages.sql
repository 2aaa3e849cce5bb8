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
    -- the list by id, or the one the name was resolved to (no foreign key:
    -- outbox rows are never changed, and a list may be deleted later)
    list_id         bigint,
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
    message_count   integer NOT NULL DEFAULT 0,
    -- MMS copies to these addresses, shown (cc) or not (bcc) to the others
    cc              text[],
    bcc             text[]
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
    -- costs (90_costs.sql): the tariff that priced it when it was queued or
    -- received (NULL: none applied), what it was expected to cost, why
    -- least-cost routing chose its connection
    unit_price         numeric(14, 6),
    currency           text,
    tariff_prefix      text,
    -- the connection's operator bills every attempt, not only the last
    bill_retries       boolean NOT NULL DEFAULT false,
    estimated_cost     numeric(16, 6),
    route_reason       text,
    -- what it costs: the parts actually submitted (segments, reported at
    -- send) times the price; once sent, or received, or failed after the
    -- operator took it
    cost               numeric(16, 6) GENERATED ALWAYS AS (
                           CASE WHEN unit_price IS NOT NULL
                                 AND (direction = 'in' OR status IN ('sent', 'delivered')
                                      OR (status = 'failed' AND operator_ref IS NOT NULL))
                                THEN unit_price * coalesce(segments, 1)
                                     * CASE WHEN bill_retries THEN greatest(attempts, 1) ELSE 1 END
                           END) STORED,
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
