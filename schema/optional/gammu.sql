-- Gammu SMSD's tables over msghub (`msghub gammu enable`, docs/GAMMU.md).
--
-- Applied on demand, not by the migrations: schema "gammu" with the tables
-- of Gammu's docs/sql/pgsql.sql, schema version 18 (columns, types, defaults
-- and checks as Gammu defines them), plus msghub's bridge: a row an
-- application puts into outbox (with its outbox_multipart parts) is queued
-- as one hub.outbox row once all its parts are there; when msghub sends it,
-- it moves to sentitems with Gammu's Status, updated by delivery reports;
-- received SMS appear in inbox. DROP SCHEMA gammu CASCADE removes it all.

CREATE SCHEMA gammu;
SET LOCAL search_path = gammu, pg_catalog;

CREATE FUNCTION update_timestamp() RETURNS trigger AS $update_timestamp$
  BEGIN
    NEW."UpdatedInDB" := LOCALTIMESTAMP(0);
    RETURN NEW;
  END;
$update_timestamp$ LANGUAGE plpgsql;

CREATE TABLE gammu (
  "Version" smallint NOT NULL DEFAULT 0 PRIMARY KEY
);


CREATE TABLE inbox (
  "UpdatedInDB" timestamp(0) WITHOUT time zone NOT NULL DEFAULT LOCALTIMESTAMP(0),
  "ReceivingDateTime" timestamp(0) WITHOUT time zone NOT NULL DEFAULT LOCALTIMESTAMP(0),
  "InsertIntoDB" timestamp(0) WITHOUT time zone NOT NULL DEFAULT LOCALTIMESTAMP(0),
  "Text" text NOT NULL,
  "SenderNumber" varchar(20) NOT NULL DEFAULT '',
  "Coding" varchar(255) NOT NULL DEFAULT 'Default_No_Compression',
  "UDH" text NOT NULL,
  "SMSCNumber" varchar(20) NOT NULL DEFAULT '',
  "Class" integer NOT NULL DEFAULT -1,
  "TextDecoded" text NOT NULL DEFAULT '',
  "ID" serial PRIMARY KEY,
  "MessageID" integer NOT NULL DEFAULT 0,
  "SequencePosition" integer NOT NULL DEFAULT 1,
  "PartCount" integer NOT NULL DEFAULT 1,
  "RecipientID" text NOT NULL,
  "Processed" boolean NOT NULL DEFAULT FALSE,
  "Status" integer NOT NULL DEFAULT -1,
  CHECK ("Coding" IN
  ('Default_No_Compression','Unicode_No_Compression','8bit','Default_Compression','Unicode_Compression'))
);

CREATE INDEX inbox_message ON inbox("MessageID", "SequencePosition");
CREATE INDEX inbox_insert ON inbox("InsertIntoDB");

CREATE TRIGGER update_timestamp BEFORE UPDATE ON inbox FOR EACH ROW EXECUTE FUNCTION update_timestamp();

CREATE TABLE outbox (
  "UpdatedInDB" timestamp(0) WITHOUT time zone NOT NULL DEFAULT LOCALTIMESTAMP(0),
  "InsertIntoDB" timestamp(0) WITHOUT time zone NOT NULL DEFAULT LOCALTIMESTAMP(0),
  "SendingDateTime" timestamp NOT NULL DEFAULT LOCALTIMESTAMP(0),
  "SendBefore" time NOT NULL DEFAULT '23:59:59',
  "SendAfter" time NOT NULL DEFAULT '00:00:00',
  "SendDays" integer NOT NULL DEFAULT 127,
  "Text" text,
  "DestinationNumber" varchar(20) NOT NULL DEFAULT '',
  "Coding" varchar(255) NOT NULL DEFAULT 'Default_No_Compression',
  "UDH" text,
  "Class" integer DEFAULT -1,
  "TextDecoded" text NOT NULL DEFAULT '',
  "ID" serial PRIMARY KEY,
  "MultiPart" boolean NOT NULL DEFAULT FALSE,
  "RelativeValidity" integer DEFAULT -1,
  "SenderID" varchar(255),
  "SendingTimeOut" timestamp(0) WITHOUT time zone NOT NULL DEFAULT LOCALTIMESTAMP(0),
  "DeliveryReport" varchar(10) DEFAULT 'default',
  "CreatorID" text NOT NULL,
  "Retries" integer DEFAULT 0,
  "Priority" integer DEFAULT 0,
  "Status" varchar(255) NOT NULL DEFAULT 'Reserved',
  "StatusCode" integer NOT NULL DEFAULT -1,
  CHECK ("Coding" IN
  ('Default_No_Compression','Unicode_No_Compression','8bit','Default_Compression','Unicode_Compression')),
  CHECK ("DeliveryReport" IN ('default','yes','no')),
  CHECK ("Status" IN
  ('SendingOK','SendingOKNoReport','SendingError','DeliveryOK','DeliveryFailed','DeliveryPending',
  'DeliveryUnknown','Error','Reserved'))
);

CREATE INDEX outbox_date ON outbox("SendingDateTime", "SendingTimeOut");
CREATE INDEX outbox_sender ON outbox("SenderID");

CREATE TRIGGER update_timestamp BEFORE UPDATE ON outbox FOR EACH ROW EXECUTE FUNCTION update_timestamp();

CREATE TABLE outbox_multipart (
  "Text" text,
  "Coding" varchar(255) NOT NULL DEFAULT 'Default_No_Compression',
  "UDH" text,
  "Class" integer DEFAULT -1,
  "TextDecoded" text DEFAULT NULL,
  "ID" serial,
  "SequencePosition" integer NOT NULL DEFAULT 1,
  "Status" varchar(255) NOT NULL DEFAULT 'Reserved',
  "StatusCode" integer NOT NULL DEFAULT -1,
  PRIMARY KEY ("ID", "SequencePosition"),
  CHECK ("Coding" IN
  ('Default_No_Compression','Unicode_No_Compression','8bit','Default_Compression','Unicode_Compression')),
  CHECK ("Status" IN
  ('SendingOK','SendingOKNoReport','SendingError','DeliveryOK','DeliveryFailed','DeliveryPending',
  'DeliveryUnknown','Error','Reserved'))
);

CREATE TABLE phones (
  "ID" text NOT NULL,
  "UpdatedInDB" timestamp(0) WITHOUT time zone NOT NULL DEFAULT LOCALTIMESTAMP(0),
  "InsertIntoDB" timestamp(0) WITHOUT time zone NOT NULL DEFAULT LOCALTIMESTAMP(0),
  "TimeOut" timestamp(0) WITHOUT time zone NOT NULL DEFAULT LOCALTIMESTAMP(0),
  "Send" boolean NOT NULL DEFAULT 'no',
  "Receive" boolean NOT NULL DEFAULT 'no',
  "IMEI" varchar(35) PRIMARY KEY NOT NULL,
  "IMSI" varchar(35) NOT NULL,
  "NetCode" varchar(10) DEFAULT 'ERROR',
  "NetName" varchar(35) DEFAULT 'ERROR',
  "Client" text NOT NULL,
  "Battery" integer NOT NULL DEFAULT -1,
  "Signal" integer NOT NULL DEFAULT -1,
  "Sent" integer NOT NULL DEFAULT 0,
  "Received" integer NOT NULL DEFAULT 0
);

CREATE TRIGGER update_timestamp BEFORE UPDATE ON phones FOR EACH ROW EXECUTE FUNCTION update_timestamp();

CREATE TABLE sentitems (
  "UpdatedInDB" timestamp(0) WITHOUT time zone NOT NULL DEFAULT LOCALTIMESTAMP(0),
  "InsertIntoDB" timestamp(0) WITHOUT time zone NOT NULL DEFAULT LOCALTIMESTAMP(0),
  "SendingDateTime" timestamp(0) WITHOUT time zone NOT NULL DEFAULT LOCALTIMESTAMP(0),
  "DeliveryDateTime" timestamp(0) WITHOUT time zone NULL,
  "Text" text NOT NULL,
  "DestinationNumber" varchar(20) NOT NULL DEFAULT '',
  "Coding" varchar(255) NOT NULL DEFAULT 'Default_No_Compression',
  "UDH" text NOT NULL,
  "SMSCNumber" varchar(20) NOT NULL DEFAULT '',
  "Class" integer NOT NULL DEFAULT -1,
  "TextDecoded" text NOT NULL DEFAULT '',
  "ID" serial,
  "SenderID" varchar(255) NOT NULL,
  "SequencePosition" integer NOT NULL DEFAULT 1,
  "Status" varchar(255) NOT NULL DEFAULT 'SendingOK',
  "StatusError" integer NOT NULL DEFAULT -1,
  "TPMR" integer NOT NULL DEFAULT -1,
  "RelativeValidity" integer NOT NULL DEFAULT -1,
  "CreatorID" text NOT NULL,
  "StatusCode" integer NOT NULL DEFAULT -1,
  CHECK ("Status" IN
  ('SendingOK','SendingOKNoReport','SendingError','DeliveryOK','DeliveryFailed','DeliveryPending',
  'DeliveryUnknown','Error')),
  CHECK ("Coding" IN
  ('Default_No_Compression','Unicode_No_Compression','8bit','Default_Compression','Unicode_Compression')),
  PRIMARY KEY ("ID", "SequencePosition")
);

CREATE INDEX sentitems_date ON sentitems("DeliveryDateTime");
CREATE INDEX sentitems_tpmr ON sentitems("TPMR");
CREATE INDEX sentitems_dest ON sentitems("DestinationNumber");
CREATE INDEX sentitems_sender ON sentitems("SenderID");

CREATE TRIGGER update_timestamp BEFORE UPDATE ON sentitems FOR EACH ROW EXECUTE FUNCTION update_timestamp();


-- ------------------------------------------------------------ msghub's bridge

-- Which msghub message an outbox row became (a row is queued once).
CREATE TABLE gammu.msghub_links (
    "ID"        integer PRIMARY KEY,
    message_id  bigint UNIQUE REFERENCES hub.messages (id) ON DELETE CASCADE,
    accepted_at timestamptz NOT NULL DEFAULT now()
);

-- Gammu's Text column: the text as hex of UCS-2 (UTF-16BE) code units.
CREATE FUNCTION gammu.msghub_hex_to_text_v1(p_hex text) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    v_bytes bytea;
    v_out text := '';
    v_unit integer;
    v_low integer;
    i integer := 0;
BEGIN
    IF p_hex IS NULL OR p_hex = '' THEN
        RETURN '';
    END IF;
    IF p_hex !~ '^([0-9A-Fa-f]{4})+$' THEN
        RETURN NULL;  -- not UCS-2 hex: the row goes to sentitems as SendingError
    END IF;
    v_bytes := decode(p_hex, 'hex');
    WHILE i + 1 < length(v_bytes) LOOP
        v_unit := get_byte(v_bytes, i) * 256 + get_byte(v_bytes, i + 1);
        i := i + 2;
        IF v_unit BETWEEN 55296 AND 56319 AND i + 1 < length(v_bytes) THEN
            v_low := get_byte(v_bytes, i) * 256 + get_byte(v_bytes, i + 1);
            IF v_low BETWEEN 56320 AND 57343 THEN
                v_unit := 65536 + (v_unit - 55296) * 1024 + (v_low - 56320);
                i := i + 2;
            END IF;
        END IF;
        IF v_unit > 0 AND NOT v_unit BETWEEN 55296 AND 57343 THEN
            v_out := v_out || chr(v_unit);
        END IF;
    END LOOP;
    RETURN v_out;
END
$$;

CREATE FUNCTION gammu.msghub_text_to_hex_v1(p_text text) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    v_out text := '';
    v_code integer;
    c text;
BEGIN
    FOREACH c IN ARRAY regexp_split_to_array(coalesce(p_text, ''), '') LOOP
        v_code := ascii(c);
        IF v_code > 65535 THEN
            v_code := v_code - 65536;
            v_out := v_out || lpad(to_hex(55296 + v_code / 1024), 4, '0') || lpad(to_hex(56320 + v_code % 1024), 4, '0');
        ELSE
            v_out := v_out || lpad(to_hex(v_code), 4, '0');
        END IF;
    END LOOP;
    RETURN upper(v_out);
END
$$;

-- The parts a concatenation element of a UDH announces (8-bit or 16-bit
-- reference), or NULL when it has none.
CREATE FUNCTION gammu.msghub_udh_parts_v1(p_udh text) RETURNS integer
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    v_udh bytea;
    v_pos integer := 1;
    v_iei integer;
    v_len integer;
BEGIN
    IF p_udh IS NULL OR p_udh = '' OR p_udh !~ '^([0-9A-Fa-f]{2})+$' THEN
        RETURN NULL;
    END IF;
    v_udh := decode(p_udh, 'hex');
    WHILE v_pos + 1 < length(v_udh) LOOP
        v_iei := get_byte(v_udh, v_pos);
        v_len := get_byte(v_udh, v_pos + 1);
        IF v_iei = 0 AND v_len = 3 AND v_pos + 4 < length(v_udh) THEN
            RETURN get_byte(v_udh, v_pos + 3);
        ELSIF v_iei = 8 AND v_len = 4 AND v_pos + 5 < length(v_udh) THEN
            RETURN get_byte(v_udh, v_pos + 4);
        END IF;
        v_pos := v_pos + 2 + v_len;
    END LOOP;
    RETURN NULL;
END
$$;

-- GSM 03.40 relative validity period -> minutes (-1: the default, none).
CREATE FUNCTION gammu.msghub_validity_minutes_v1(p_code integer) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN p_code IS NULL OR p_code < 0 OR p_code > 255 THEN NULL
        WHEN p_code <= 143 THEN (p_code + 1) * 5
        WHEN p_code <= 167 THEN 720 + (p_code - 143) * 30
        WHEN p_code <= 196 THEN (p_code - 166) * 1440
        ELSE (p_code - 192) * 10080
    END
$$;

-- Moves an outbox row and its parts to sentitems with a Status.
CREATE FUNCTION gammu.msghub_to_sentitems_v1(p_id integer, p_status text, p_sender text)
RETURNS void
LANGUAGE sql AS $$
    INSERT INTO gammu.sentitems ("InsertIntoDB", "SendingDateTime", "Text", "DestinationNumber", "Coding",
                                 "UDH", "Class", "TextDecoded", "ID", "SenderID", "SequencePosition", "Status",
                                 "RelativeValidity", "CreatorID")
    SELECT o."InsertIntoDB", LOCALTIMESTAMP(0), coalesce(p."Text", ''), o."DestinationNumber", p."Coding",
           coalesce(p."UDH", ''), coalesce(p."Class", -1), coalesce(p."TextDecoded", ''), o."ID",
           coalesce(nullif(o."SenderID", ''), p_sender, ''), p.seq, p_status, coalesce(o."RelativeValidity", -1), o."CreatorID"
    FROM gammu.outbox o
    CROSS JOIN LATERAL (
        SELECT 1 AS seq, o."Text", o."Coding", o."UDH", o."Class", o."TextDecoded"
        UNION ALL
        SELECT m."SequencePosition", m."Text", m."Coding", m."UDH", m."Class", m."TextDecoded"
        FROM gammu.outbox_multipart m WHERE m."ID" = o."ID") p
    WHERE o."ID" = p_id;
    DELETE FROM gammu.outbox_multipart WHERE "ID" = p_id;
    DELETE FROM gammu.outbox WHERE "ID" = p_id;
$$;

-- Queues an outbox row once all its parts are there (the last part's
-- insert queues it); a row msghub cannot send goes to sentitems as SendingError.
CREATE FUNCTION gammu.msghub_accept_v1(p_id integer) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, hub AS $$
DECLARE
    o gammu.outbox;
    v_total integer := 1;
    v_have integer;
    v_text text;
    v_bad boolean;
    v_outbox bigint;
    v_message bigint;
    v_minutes integer;
    v_send_at timestamptz;
BEGIN
    SELECT * INTO o FROM gammu.outbox WHERE "ID" = p_id FOR UPDATE;
    IF NOT FOUND OR EXISTS (SELECT 1 FROM gammu.msghub_links WHERE "ID" = p_id) THEN
        RETURN;
    END IF;
    SELECT 1 + count(*) INTO v_have FROM gammu.outbox_multipart WHERE "ID" = p_id;
    IF o."MultiPart" THEN
        v_total := coalesce(gammu.msghub_udh_parts_v1(o."UDH"), 1);
    END IF;
    IF v_have < v_total THEN
        RETURN;  -- more parts to come
    END IF;
    IF o."Coding" = '8bit' OR EXISTS (SELECT 1 FROM gammu.outbox_multipart WHERE "ID" = p_id AND "Coding" = '8bit') THEN
        PERFORM gammu.msghub_to_sentitems_v1(p_id, 'SendingError', NULL);
        RETURN;
    END IF;
    SELECT string_agg(t, '' ORDER BY seq), bool_or(t IS NULL) INTO v_text, v_bad FROM (
        SELECT 1 AS seq, coalesce(nullif(o."TextDecoded", ''), gammu.msghub_hex_to_text_v1(o."Text")) AS t
        UNION ALL
        SELECT m."SequencePosition", coalesce(nullif(m."TextDecoded", ''), gammu.msghub_hex_to_text_v1(m."Text"))
        FROM gammu.outbox_multipart m WHERE m."ID" = p_id) parts;
    IF v_bad THEN
        PERFORM gammu.msghub_to_sentitems_v1(p_id, 'SendingError', NULL);
        RETURN;
    END IF;
    v_minutes := gammu.msghub_validity_minutes_v1(o."RelativeValidity");
    v_send_at := CASE WHEN o."SendingDateTime" > LOCALTIMESTAMP THEN o."SendingDateTime"::timestamptz END;
    BEGIN
        INSERT INTO hub.outbox (channel, recipient, text, connection, send_at, valid_until, delivery_report,
                                priority, correlation_id)
        VALUES ('sms', o."DestinationNumber", v_text,
                (SELECT c.name FROM hub.connections c WHERE c.name = o."SenderID"),
                v_send_at,
                CASE WHEN v_minutes IS NOT NULL THEN coalesce(v_send_at, now()) + make_interval(mins => v_minutes) END,
                o."DeliveryReport" = 'yes', CASE WHEN coalesce(o."Priority", 0) > 0 THEN 2 ELSE 1 END,
                'gammu:' || p_id)
        RETURNING id INTO v_outbox;
    EXCEPTION WHEN check_violation OR invalid_parameter_value OR data_exception THEN
        PERFORM gammu.msghub_to_sentitems_v1(p_id, 'SendingError', NULL);
        RETURN;
    END;
    SELECT id INTO v_message FROM hub.messages WHERE outbox_id = v_outbox ORDER BY id LIMIT 1;
    INSERT INTO gammu.msghub_links ("ID", message_id) VALUES (p_id, v_message);
END
$$;

CREATE FUNCTION gammu.msghub_outbox_inserted_v1() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM gammu.msghub_accept_v1(NEW."ID");
    RETURN NULL;
END
$$;

CREATE TRIGGER msghub_accept AFTER INSERT ON gammu.outbox
    FOR EACH ROW EXECUTE FUNCTION gammu.msghub_outbox_inserted_v1();
CREATE TRIGGER msghub_accept AFTER INSERT ON gammu.outbox_multipart
    FOR EACH ROW EXECUTE FUNCTION gammu.msghub_outbox_inserted_v1();

-- Sent, failed, delivered: Gammu's Status in sentitems.
CREATE FUNCTION gammu.msghub_status_v1() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, hub AS $$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT l."ID", n.status, o.status AS old_status, n.delivery_report, c.name AS connection
        FROM new_rows n
        JOIN old_rows o ON o.id = n.id
        JOIN gammu.msghub_links l ON l.message_id = n.id
        LEFT JOIN hub.connections c ON c.id = n.connection_id
        WHERE n.status IS DISTINCT FROM o.status AND n.status IN ('sent', 'delivered', 'failed')
    LOOP
        IF EXISTS (SELECT 1 FROM gammu.outbox WHERE "ID" = r."ID") THEN
            -- first news of it (a report may come with the send's own result)
            PERFORM gammu.msghub_to_sentitems_v1(r."ID", CASE
                WHEN r.status = 'sent' AND r.delivery_report THEN 'SendingOK'
                WHEN r.status = 'sent' THEN 'SendingOKNoReport'
                WHEN r.status = 'delivered' THEN 'DeliveryOK'
                WHEN r.status = 'failed' AND r.old_status = 'sent' THEN 'DeliveryFailed'
                WHEN r.status = 'failed' THEN 'SendingError'
            END, r.connection);
        ELSIF r.status IN ('delivered', 'failed') THEN
            UPDATE gammu.sentitems
            SET "Status" = CASE WHEN r.status = 'delivered' THEN 'DeliveryOK' ELSE 'DeliveryFailed' END,
                "DeliveryDateTime" = LOCALTIMESTAMP(0)
            WHERE "ID" = r."ID";
        END IF;
    END LOOP;
    RETURN NULL;
END
$$;

CREATE TRIGGER gammu_status AFTER UPDATE ON hub.messages
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION gammu.msghub_status_v1();

-- Received SMS, as Gammu SMSD would have stored them.
CREATE FUNCTION gammu.msghub_received_v1() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, hub AS $$
BEGIN
    INSERT INTO gammu.inbox ("ReceivingDateTime", "Text", "SenderNumber", "Coding", "UDH", "TextDecoded",
                             "RecipientID")
    SELECT n.created_at::timestamp(0), gammu.msghub_text_to_hex_v1(n.body), left(coalesce(n.sender, ''), 20),
           CASE WHEN n.meta ->> 'encoding' = 'ucs2' THEN 'Unicode_No_Compression' ELSE 'Default_No_Compression' END,
           '', n.body, coalesce(c.name, '')
    FROM new_rows n
    LEFT JOIN hub.connections c ON c.id = n.connection_id
    WHERE n.direction = 'in' AND n.channel = 'sms';
    RETURN NULL;
END
$$;

CREATE TRIGGER gammu_received AFTER INSERT ON hub.messages
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION gammu.msghub_received_v1();

-- Gammu's applications are integrators: they log in with a role of theirs
-- (hub.integrator_logins maps it to a hub user) that reads and writes here.
GRANT USAGE ON SCHEMA gammu TO msghub_integrator, msghub_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA gammu TO msghub_integrator, msghub_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA gammu TO msghub_integrator, msghub_app;
