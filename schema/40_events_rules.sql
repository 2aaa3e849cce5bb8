-- Events drive the rule runner; rules and rule tests are stored here (the
-- runner itself is its own module).

CREATE TABLE hub.events (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    type          text NOT NULL
                  CONSTRAINT events_type_known CHECK (type IN (
                      'message_received', 'message_sent', 'message_failed', 'delivery_report',
                      'connection_up', 'connection_down', 'data_imported', 'schedule')),
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
    name            text NOT NULL CONSTRAINT rules_name_not_blank CHECK (btrim(name) <> ''),
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
CREATE INDEX rules_owner_group ON hub.rules (owner_group_id);

CREATE TABLE hub.rule_tests (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    rule_id     bigint NOT NULL REFERENCES hub.rules (id) ON DELETE CASCADE,
    name        text NOT NULL,
    -- the simulated event, the expected actions, mock HTTP responses
    event       jsonb NOT NULL,
    expected    jsonb NOT NULL,
    mocks       jsonb NOT NULL DEFAULT '[]',
    last_run_at timestamptz,
    last_result jsonb
);

CREATE INDEX rule_tests_rule ON hub.rule_tests (rule_id);

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
