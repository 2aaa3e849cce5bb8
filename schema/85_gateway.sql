-- The web gateway (msghub/gateway/): the Kannel-compatible sendsms interface
-- (docs/KANNEL.md), what a sendsms request asked beyond the outbox row and
-- the dlr-url callbacks owed to it; and webhooks (docs/API.md). Both are
-- delivered at least once by the gateway's dispatchers.

INSERT INTO hub.settings (key, value, description) VALUES
    ('kannel_url_passwords', 'off',
     'on: /cgi-bin/sendsms accepts username and password in the URL (Kannel compatibility, a risk: URLs are logged)'),
    ('kannel_dlr_private', 'off',
     'on: dlr-url callbacks may go to private, local or reserved addresses'),
    ('kannel_dlr_max_attempts', '10', 'a dlr-url callback failing this often is parked with its error');

-- One row per message a sendsms request queued.
CREATE TABLE hub.kannel_requests (
    message_id bigint PRIMARY KEY REFERENCES hub.messages (id) ON DELETE CASCADE,
    -- the sendsms user (an API key's id): %n
    username   text NOT NULL,
    dlr_url    text,
    dlr_mask   smallint NOT NULL DEFAULT 0 CONSTRAINT kannel_requests_mask_range CHECK (dlr_mask BETWEEN 0 AND 63),
    -- the request's other fields as given: coding, mclass, mwi, charset,
    -- account, binfo, meta-data, smsc (the escape codes read them)
    params     jsonb NOT NULL DEFAULT '{}'
);

CREATE INDEX kannel_requests_dlr ON hub.kannel_requests (message_id) WHERE dlr_mask <> 0;

-- dlr-url callbacks owed: written by the trigger below in the transaction
-- that changed the message, so a committed change is called back at least once.
CREATE TABLE hub.kannel_dlr_calls (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id      bigint NOT NULL REFERENCES hub.messages (id) ON DELETE CASCADE,
    -- Kannel's DLR type: 1 delivered, 2 not delivered, 8 accepted by the SMSC, 16 refused by it
    dlr_type        smallint NOT NULL CONSTRAINT kannel_dlr_calls_type_known CHECK (dlr_type IN (1, 2, 4, 8, 16)),
    reported_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    status          text NOT NULL DEFAULT 'pending'
                    CONSTRAINT kannel_dlr_calls_status_known CHECK (status IN ('pending', 'done', 'parked')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    url             text,
    answer_status   integer,
    last_error      text,
    done_at         timestamptz
);

CREATE INDEX kannel_dlr_calls_due ON hub.kannel_dlr_calls (next_attempt_at) WHERE status = 'pending';
CREATE INDEX kannel_dlr_calls_message ON hub.kannel_dlr_calls (message_id);

-- A statement trigger (transition tables): one call per batch of results,
-- and a join with the few messages that asked for callbacks.
CREATE FUNCTION hub.kannel_dlr_enqueue_v1() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, hub AS $$
BEGIN
    INSERT INTO hub.kannel_dlr_calls (message_id, dlr_type)
    SELECT n.id, t.dlr_type
    FROM new_rows n
    JOIN old_rows o ON o.id = n.id
    JOIN hub.kannel_requests k ON k.message_id = n.id AND k.dlr_mask <> 0
    -- a report may come with the send's own result: accepted (8), then delivered (1)
    CROSS JOIN LATERAL (VALUES
        (8, n.status IN ('sent', 'delivered') AND o.status IN ('queued', 'sending')),
        (1, n.status = 'delivered'),
        (2, n.status = 'failed' AND o.status = 'sent'),
        (16, n.status = 'failed' AND o.status IN ('queued', 'sending'))) AS t (dlr_type, applies)
    WHERE n.status IS DISTINCT FROM o.status
      AND t.applies
      AND (k.dlr_mask & t.dlr_type) <> 0
    ORDER BY n.id, t.dlr_type DESC;
    RETURN NULL;
END
$$;

CREATE TRIGGER messages_kannel_dlr
    AFTER UPDATE ON hub.messages
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION hub.kannel_dlr_enqueue_v1();

GRANT SELECT, INSERT, UPDATE, DELETE ON hub.kannel_requests, hub.kannel_dlr_calls TO msghub_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA hub TO msghub_app;

-- Webhooks (msghub/gateway/webhooks.py, docs/API.md): URLs called with a
-- signed JSON body when a message arrives, changes state, or a connection
-- goes up or down. Registered by an administrator (owner NULL: every
-- message) or by an API key's owner (that user's messages).
CREATE TABLE hub.webhooks (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    url           text NOT NULL CONSTRAINT webhooks_url_http CHECK (url ~* '^https?://[^/]'),
    events        text[] NOT NULL
                  CONSTRAINT webhooks_events_known CHECK (cardinality(events) > 0 AND events <@
                      ARRAY['message_received', 'message_status', 'connection_up', 'connection_down']),
    -- the HMAC-SHA256 key, shown once when it is created
    secret        text NOT NULL,
    owner_user_id bigint REFERENCES hub.users (id) ON DELETE CASCADE,
    -- only an administrator may let a webhook reach private addresses
    allow_private boolean NOT NULL DEFAULT false,
    enabled       boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE hub.webhook_deliveries (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webhook_id      bigint NOT NULL REFERENCES hub.webhooks (id) ON DELETE CASCADE,
    event           text NOT NULL,
    payload         jsonb NOT NULL,
    status          text NOT NULL DEFAULT 'pending'
                    CONSTRAINT webhook_deliveries_status_known CHECK (status IN ('pending', 'done', 'parked')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    answer_status   integer,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    done_at         timestamptz
);

CREATE INDEX webhook_deliveries_due ON hub.webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_webhook ON hub.webhook_deliveries (webhook_id, id);
-- the parked ones, newest first, for Administration → Webhooks
CREATE INDEX webhook_deliveries_parked ON hub.webhook_deliveries (id) WHERE status = 'parked';

INSERT INTO hub.settings (key, value, description) VALUES
    ('webhook_max_attempts', '10', 'a webhook delivery failing this often is parked with its error');

-- One statement trigger on hub.events: every event a webhook wants becomes
-- a delivery in the transaction that recorded it (at least once after commit).
CREATE FUNCTION hub.webhooks_enqueue_v1() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, hub AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM hub.webhooks WHERE enabled) THEN
        RETURN NULL;  -- the common case costs one index-free probe of a tiny table
    END IF;
    INSERT INTO hub.webhook_deliveries (webhook_id, event, payload)
    SELECT w.id, x.event, jsonb_build_object(
               'event', x.event, 'event_id', e.id, 'at', e.created_at,
               'message', CASE WHEN m.id IS NOT NULL THEN jsonb_build_object(
                   'id', m.id, 'channel', m.channel, 'direction', m.direction, 'status', m.status,
                   'sender', m.sender, 'recipients', to_jsonb(m.recipients), 'subject', m.subject,
                   'text', m.body, 'correlation_id', m.correlation_id, 'failure_code', m.failure_code,
                   'failure_reason', m.failure_reason) END,
               'connection', CASE WHEN c.id IS NOT NULL THEN jsonb_build_object(
                   'name', c.name, 'kind', c.kind, 'state', c.state) END,
               'detail', e.payload)
    FROM new_rows e
    LEFT JOIN hub.messages m ON m.id = e.message_id
    LEFT JOIN hub.connections c ON c.id = e.connection_id
    CROSS JOIN LATERAL (SELECT CASE
        WHEN e.type IN ('message_received', 'connection_up', 'connection_down') THEN e.type
        WHEN e.type IN ('message_sent', 'message_failed') THEN 'message_status'
        -- a report completes a message once: when it made it delivered
        WHEN e.type = 'delivery_report' AND e.payload ->> 'status' = 'delivered' AND m.status = 'delivered'
            THEN 'message_status'
    END AS event) x
    JOIN hub.webhooks w ON w.enabled AND x.event = ANY (w.events)
        AND (w.owner_user_id IS NULL
             OR (m.id IS NOT NULL AND m.owner_user_id = w.owner_user_id))
    ORDER BY e.id, w.id;
    RETURN NULL;
END
$$;

CREATE TRIGGER events_webhooks
    AFTER INSERT ON hub.events
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION hub.webhooks_enqueue_v1();

GRANT SELECT, INSERT, UPDATE, DELETE ON hub.webhooks, hub.webhook_deliveries TO msghub_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA hub TO msghub_app;

-- Branded public send forms at /g/<slug> (msghub/web/pages/send_form.py,
-- docs/WEB.md): what each customer's page looks like, whom it may reach, and
-- who may use it. Its messages are sent as owner_user_id.
CREATE TABLE hub.send_forms (
    slug             text PRIMARY KEY CONSTRAINT send_forms_slug_format CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,39}$'),
    title            text NOT NULL CONSTRAINT send_forms_title_not_blank CHECK (btrim(title) <> ''),
    intro            text NOT NULL DEFAULT '',
    colour           text NOT NULL DEFAULT '#1f6feb' CONSTRAINT send_forms_colour CHECK (colour ~ '^#[0-9a-f]{6}$'),
    background       text NOT NULL DEFAULT '#ffffff'
                     CONSTRAINT send_forms_background CHECK (background ~ '^#[0-9a-f]{6}$'),
    logo             bytea CONSTRAINT send_forms_logo_size CHECK (length(logo) <= 262144),
    logo_type        text CONSTRAINT send_forms_logo_type CHECK (logo_type IN ('image/png', 'image/jpeg', 'image/gif')),
    owner_user_id    bigint NOT NULL REFERENCES hub.users (id) ON DELETE CASCADE,
    connection       text,
    sender           text,
    -- empty: any number; else a recipient must start with one of these
    allowed_prefixes text[] NOT NULL DEFAULT '{}',
    -- account: a signed-in msghub user; code: a shared access code; kiosk: anyone who reaches it
    login            text NOT NULL DEFAULT 'code' CONSTRAINT send_forms_login CHECK (login IN ('account', 'code', 'kiosk')),
    code_sha256      bytea,
    -- sends per client address and hour
    rate_per_hour    integer NOT NULL DEFAULT 10 CONSTRAINT send_forms_rate CHECK (rate_per_hour BETWEEN 1 AND 10000),
    created_at       timestamptz NOT NULL DEFAULT now(),
    -- shown under the form, and after a send
    footer           text NOT NULL DEFAULT '',
    sent_text        text NOT NULL DEFAULT '',
    -- what the form may send: sms; mms (with a picture); email (to addresses
    -- under an allowed_prefixes entry starting with @, or any when it is empty)
    channels         text[] NOT NULL DEFAULT '{sms}'
                     CONSTRAINT send_forms_channels_known
                     CHECK (cardinality(channels) > 0 AND channels <@ ARRAY['sms', 'mms', 'email']::text[]),
    CONSTRAINT send_forms_code_needs_hash CHECK (login <> 'code' OR code_sha256 IS NOT NULL)
);

-- Spent one-time form tokens; also what the per-address rate limit counts.
CREATE TABLE hub.send_form_uses (
    nonce      text PRIMARY KEY,
    slug       text NOT NULL REFERENCES hub.send_forms (slug) ON DELETE CASCADE ON UPDATE CASCADE,
    client     text NOT NULL,
    message_id bigint,
    used_at    timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX send_form_uses_client ON hub.send_form_uses (slug, client, used_at);

-- The key that signs the forms' one-time tokens: 244 random bits, made once
-- per database (UPDATE it to invalidate every open form).
CREATE TABLE hub.send_form_key (
    only_row boolean PRIMARY KEY DEFAULT true CONSTRAINT send_form_key_one_row CHECK (only_row),
    secret   text NOT NULL
);

INSERT INTO hub.send_form_key (secret) VALUES (replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''));

GRANT SELECT, INSERT, UPDATE, DELETE ON hub.send_forms, hub.send_form_uses TO msghub_app;
GRANT SELECT ON hub.send_form_key TO msghub_app;
