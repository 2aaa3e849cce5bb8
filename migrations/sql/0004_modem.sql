-- GSM modems (issue 12): what a connection reports about itself.

ALTER TABLE hub.connections ADD COLUMN meta jsonb NOT NULL DEFAULT '{}';

-- Replaces what a connection reports about itself. updated_at stays: it
-- marks changed settings, and the supervisor restarts a connection whose
-- updated_at moved.
CREATE FUNCTION hub.set_connection_meta_v1(p_connection_id bigint, p_meta jsonb)
RETURNS void
LANGUAGE sql AS $$
    UPDATE hub.connections SET meta = coalesce(p_meta, '{}') WHERE id = p_connection_id;
$$;

INSERT INTO hub.settings (key, value, description) VALUES
    ('modem_autodetect', '0', '1: the connectors role probes new serial ports and adds the modems it finds as connections'),
    ('modem_scan_globs', '', 'serial ports to watch besides /dev/ttyUSB*, /dev/ttyACM* and /dev/serial/by-id/* (comma-separated globs)');
