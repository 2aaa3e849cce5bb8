-- The Kannel-compatible sendsms interface (msghub/gateway/, docs/KANNEL.md):
-- what a sendsms request asked beyond the outbox row, and the dlr-url
-- callbacks owed to it, delivered at least once by the gateway's dispatcher.

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
    CROSS JOIN LATERAL (SELECT CASE
        WHEN n.status = 'sent' THEN 8
        WHEN n.status = 'delivered' THEN 1
        WHEN n.status = 'failed' AND o.status = 'sent' THEN 2
        WHEN n.status = 'failed' THEN 16
    END AS dlr_type) t
    WHERE n.status IS DISTINCT FROM o.status
      AND t.dlr_type IS NOT NULL
      AND (k.dlr_mask & t.dlr_type) <> 0;
    RETURN NULL;
END
$$;

CREATE TRIGGER messages_kannel_dlr
    AFTER UPDATE ON hub.messages
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION hub.kannel_dlr_enqueue_v1();

GRANT SELECT, INSERT, UPDATE, DELETE ON hub.kannel_requests, hub.kannel_dlr_calls TO msghub_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA hub TO msghub_app;
