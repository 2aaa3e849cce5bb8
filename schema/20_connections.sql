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
    updated_at    timestamptz NOT NULL DEFAULT now(),
    -- what the link reports about itself (a modem's signal, operator,
    -- IMEI/IMSI/model, per-device counters of a pool); written by the
    -- connector through set_connection_meta_v1, never by the settings forms
    meta          jsonb NOT NULL DEFAULT '{}',
    -- the operator bills every attempt it was handed, not only the one that
    -- succeeded (docs/COSTS.md)
    bill_retries  boolean NOT NULL DEFAULT false
);

-- Number-prefix routing: the longest matching prefix wins, then priority.
CREATE TABLE hub.routes (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel       text NOT NULL CONSTRAINT routes_channel_known CHECK (channel IN ('sms', 'mms', 'email')),
    prefix        text NOT NULL DEFAULT '',
    connection_id bigint NOT NULL REFERENCES hub.connections (id) ON DELETE CASCADE,
    priority      integer NOT NULL DEFAULT 0,
    -- among this prefix's routes, the cheapest connection wins (hub.route_v2)
    least_cost    boolean NOT NULL DEFAULT false
);

CREATE INDEX routes_channel ON hub.routes (channel, prefix);

-- Replaces what a connection reports about itself. updated_at stays: it
-- marks changed settings, and the supervisor restarts a connection whose
-- updated_at moved.
CREATE FUNCTION hub.set_connection_meta_v1(p_connection_id bigint, p_meta jsonb)
RETURNS void
LANGUAGE sql AS $$
    UPDATE hub.connections SET meta = coalesce(p_meta, '{}') WHERE id = p_connection_id;
$$;

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
