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
    ('auto_reply_limit_per_hour', '10', 'most automatic answers (reply() and poll replies) one address gets per hour'),
    ('modem_autodetect', '0', '1: the connectors role probes new serial ports and adds the modems it finds as connections'),
    ('modem_scan_globs', '', 'serial ports to watch besides /dev/ttyUSB*, /dev/ttyACM* and /dev/serial/by-id/* (comma-separated globs)'),
    ('least_cost_routing', '0', '1: hub.outbox routes every message to the cheapest connection it may use (docs/COSTS.md)');

-- Reads a numeric setting; STABLE so a statement reads it once per call site.
CREATE FUNCTION hub.setting_int(p_key text) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT value::bigint FROM hub.settings WHERE key = p_key
$$;
