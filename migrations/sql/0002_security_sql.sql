-- 0002_security_sql: issue 10, the SQL side. Distribution lists resolve
-- among the lists the sender sees (and by id: hub.outbox.list_id); an
-- idempotency key of another sender is refused, not silently dropped; send_at
-- and valid_until are finite and between 1970 and 9999; an SMS that needs
-- more than 255 parts, and text columns too long for their index, are
-- refused naming the column; the statistics views and hub.poll_results show
-- what the viewer sees; only the web app's role may call
-- hub.web_message_ids_v1 and hub.contacts_matching_v1; hub.assign_v2
-- records the actor it is told only for the hub itself.

ALTER TABLE hub.outbox ADD COLUMN list_id bigint;


-- A value quoted for an error message, cut short: a refusal must not echo a
-- megabyte back to the integrator's log.
CREATE FUNCTION hub.outbox_quote_v1(p_value text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN length(p_value) > 60 THEN quote_literal(left(p_value, 60)) || '... ('
                    || length(p_value) || ' characters)'
                ELSE quote_nullable(p_value) END
$$;

-- Parts a text needs when each part holds p_limit units, every character
-- costs one unit except those p_pair matches, which cost two and are never
-- cut: the greedy fill of msghub/sms/split.py (_chunks), walking the runs of
-- one-unit characters between the two-unit ones.
CREATE FUNCTION hub.sms_fill_parts_v1(p_text text, p_pair text, p_limit integer) RETURNS integer
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    v_parts integer := 1;
    v_used integer := 0;
    v_run integer;
    v_after_pair boolean := false;
BEGIN
    FOR v_run IN SELECT length(r) FROM regexp_split_to_table(p_text, p_pair) WITH ORDINALITY AS s(r, n) ORDER BY n LOOP
        IF v_after_pair THEN
            IF v_used + 2 > p_limit THEN
                v_parts := v_parts + 1;
                v_used := 2;
            ELSE
                v_used := v_used + 2;
            END IF;
        END IF;
        v_after_pair := true;
        v_used := v_used + v_run;
        IF v_used > p_limit THEN
            v_parts := v_parts + (v_used - 1) / p_limit;
            v_used := (v_used - 1) % p_limit + 1;
        END IF;
    END LOOP;
    RETURN v_parts;
END
$$;

-- Every character is in the GSM 03.38 default alphabet or its extension
-- table (msghub/sms/gsm7.py is_gsm7).
CREATE FUNCTION hub.sms_is_gsm7_v1(p_text text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT p_text ~ '^[\n\f\r -_a-~¡£¤¥§¿ÄÅÆÇÉÑÖØÜßàäåæèéìñòöøùüΓΔΘΛΞΠΣΦΨΩ€]*$'
$$;

-- The SMS parts a text needs, as the SMS core counts them (msghub/sms/split.py
-- cost() and plan_sms()): GSM 7-bit when every character is in the GSM 03.38
-- alphabet or its extension (two septets each), 160 septets alone or 153 per
-- concatenated part; otherwise UCS-2, 70 units alone or 67 per part, a
-- character beyond the BMP costing two. With p_transliterate a text that is
-- not GSM may get shorter (look-alikes, dropped invisible characters), and
-- the result is a lower bound: every character but the invisible ones the
-- transliteration drops costs at least one unit in either encoding.
CREATE FUNCTION hub.sms_parts_v1(p_text text, p_transliterate boolean) RETURNS integer
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    v_extension constant text := '[\f\^{}\\\[~\]|€]';
    v_astral constant text := '[\U00010000-\U0010FFFF]';
    v_dropped constant text := '[\u00ad\u200b-\u200f\u2060\ufe0e\ufe0f\ufeff]';
    v_units integer;
BEGIN
    IF hub.sms_is_gsm7_v1(p_text) THEN
        v_units := 2 * length(p_text) - length(regexp_replace(p_text, v_extension, '', 'g'));
        RETURN CASE WHEN v_units <= 160 THEN 1 ELSE hub.sms_fill_parts_v1(p_text, v_extension, 153) END;
    END IF;
    IF p_transliterate THEN
        v_units := length(regexp_replace(p_text, v_dropped, '', 'g'));
        RETURN CASE WHEN v_units <= 160 THEN 1 ELSE (v_units + 152) / 153 END;
    END IF;
    v_units := 2 * length(p_text) - length(regexp_replace(p_text, v_astral, '', 'g'));
    RETURN CASE WHEN v_units <= 70 THEN 1 ELSE hub.sms_fill_parts_v1(p_text, v_astral, 67) END;
END
$$;

CREATE FUNCTION hub.outbox_accept_v2() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = hub, pg_catalog AS $$
DECLARE
    v_addresses text[] := '{}';
    v_raw text;
    v_norm text;
    v_conn hub.connections;
    v_list_id bigint;
    v_lists integer;
    v_bytes bigint := 0;
    v_limit bigint;
    v_part jsonb;
    v_user bigint;
    v_groups bigint[];
    v_message_ids bigint[];
    v_denied text;
    v_viewer hub.viewer;
    v_earlier hub.outbox;
    v_parts integer;
BEGIN
    -- text an integrator writes that PostgreSQL would otherwise refuse late
    -- with an error naming no column (an index row too big), or that a
    -- connector could not send; the API has the same bounds (docs/API.md)
    IF length(NEW.idempotency_key) > 200 THEN
        PERFORM hub.outbox_refuse_v1('idempotency_key', format('%s characters, more than 200', length(NEW.idempotency_key)));
    END IF;
    IF length(NEW.correlation_id) > 200 THEN
        PERFORM hub.outbox_refuse_v1('correlation_id', format('%s characters, more than 200', length(NEW.correlation_id)));
    END IF;
    IF length(NEW.subject) > 998 THEN
        PERFORM hub.outbox_refuse_v1('subject', format('%s characters, more than 998', length(NEW.subject)));
    END IF;
    IF length(NEW.sender) > 254 THEN
        PERFORM hub.outbox_refuse_v1('sender', format('%s characters, more than 254', length(NEW.sender)));
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

    IF NEW.idempotency_key IS NOT NULL THEN
        -- serialise inserts of one key so a concurrent duplicate also queues nothing
        PERFORM pg_advisory_xact_lock(hashtextextended('msghub.outbox:' || NEW.idempotency_key, 0));
        SELECT * INTO v_earlier FROM hub.outbox WHERE idempotency_key = NEW.idempotency_key;
        IF FOUND THEN
            -- a repeat of one's own request is dropped; someone else's key is
            -- not theirs to suppress a message with
            IF (v_earlier.created_by, v_earlier.owner_group_id) IS NOT DISTINCT FROM (v_user, NEW.owner_group_id)
               OR hub.visible_to_v1(v_earlier.created_by, v_earlier.owner_group_id, v_viewer.sees_all, v_viewer.user_id,
                                    v_viewer.groups, v_viewer.sees_unassigned) THEN
                RETURN NULL;
            END IF;
            PERFORM hub.outbox_refuse_v1('idempotency_key', 'this key was used by another sender: choose keys of your own');
        END IF;
    END IF;

    IF NEW.channel IS NULL OR NEW.channel NOT IN ('sms', 'mms', 'email') THEN
        PERFORM hub.outbox_refuse_v1('channel', format('unknown channel %s: use sms, mms or email', hub.outbox_quote_v1(NEW.channel)));
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
    IF NEW.list IS NULL AND NEW.list_id IS NULL AND NEW.recipients IS NULL THEN
        -- the common case, one recipient: no query needed
        IF NEW.recipient IS NOT NULL THEN
            v_norm := hub.normalize_address_v1(NEW.channel, NEW.recipient);
            IF v_norm IS NULL THEN
                PERFORM hub.outbox_refuse_v1('recipient', format('malformed %s %s',
                    CASE WHEN NEW.channel = 'email' THEN 'e-mail address' ELSE 'phone number' END,
                    hub.outbox_quote_v1(NEW.recipient)));
            END IF;
            v_addresses := ARRAY[v_norm];
        END IF;
    ELSE
        -- a list is one the sender sees (own, their groups', unowned for
        -- those who see unassigned rows; any for admins and the hub), so
        -- someone else's list answers exactly like a missing one
        IF NEW.list IS NOT NULL AND NEW.list_id IS NOT NULL THEN
            PERFORM hub.outbox_refuse_v1('list_id', 'give list (a name) or list_id, not both');
        ELSIF NEW.list_id IS NOT NULL THEN
            SELECT l.id INTO v_list_id FROM hub.lists l
            WHERE l.id = NEW.list_id
              AND hub.visible_to_v1(l.owner_user_id, l.owner_group_id, v_viewer.sees_all, v_viewer.user_id,
                                    v_viewer.groups, v_viewer.sees_unassigned);
            IF v_list_id IS NULL THEN
                PERFORM hub.outbox_refuse_v1('list_id', format('unknown distribution list id %s', NEW.list_id));
            END IF;
        ELSIF NEW.list IS NOT NULL THEN
            -- names repeat across owners: the sender's own list first, then
            -- their groups', then one nobody owns, then (admins, the hub) anyone's
            v_groups := v_viewer.groups || NEW.owner_group_id;
            IF v_viewer.sees_all AND v_user IS NOT NULL THEN
                v_groups := v_groups || ARRAY(SELECT group_id FROM hub.memberships WHERE user_id = v_user);
            END IF;
            SELECT min(c.id), count(*) INTO v_list_id, v_lists
            FROM (SELECT l.id, rank() OVER (ORDER BY CASE WHEN l.owner_user_id = v_user THEN 0
                                                          WHEN l.owner_group_id = ANY (v_groups) THEN 1
                                                          WHEN l.owner_user_id IS NULL AND l.owner_group_id IS NULL THEN 2
                                                          ELSE 3 END) AS nearness
                  FROM hub.lists l
                  WHERE l.name = NEW.list
                    AND hub.visible_to_v1(l.owner_user_id, l.owner_group_id, v_viewer.sees_all, v_viewer.user_id,
                                          v_viewer.groups, v_viewer.sees_unassigned)) c
            WHERE c.nearness = 1;
            IF v_list_id IS NULL THEN
                PERFORM hub.outbox_refuse_v1('list', format('unknown distribution list %s', hub.outbox_quote_v1(NEW.list)));
            ELSIF v_lists > 1 THEN
                PERFORM hub.outbox_refuse_v1('list', format('%s distribution lists you can see are named %s: give list_id instead',
                    v_lists, hub.outbox_quote_v1(NEW.list)));
            END IF;
        END IF;
        NEW.list_id := v_list_id;
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
                    format('malformed %s %s', CASE WHEN NEW.channel = 'email' THEN 'e-mail address' ELSE 'phone number' END,
                           hub.outbox_quote_v1(v_raw)));
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
            IF length(v_part ->> 'content_type') > 255 OR length(v_part ->> 'filename') > 255 THEN
                PERFORM hub.outbox_refuse_v1('attachments', format('attachment %s: a filename or content_type of more than 255 characters',
                    hub.outbox_quote_v1(coalesce(v_part ->> 'filename', '?'))));
            END IF;
            BEGIN
                v_bytes := v_bytes + length(decode(v_part ->> 'data', 'base64'));
            EXCEPTION WHEN invalid_parameter_value THEN
                PERFORM hub.outbox_refuse_v1('attachments', format('attachment %s is not valid base64',
                    hub.outbox_quote_v1(coalesce(v_part ->> 'filename', '?'))));
            END;
        END LOOP;
        v_limit := hub.setting_int(CASE NEW.channel WHEN 'email' THEN 'email_max_bytes' ELSE 'mms_max_bytes' END);
        IF v_bytes > v_limit THEN
            PERFORM hub.outbox_refuse_v1('attachments', format('attachments total %s bytes, over the %s limit of %s bytes', v_bytes, NEW.channel, v_limit));
        END IF;
    END IF;
    -- no text of at most 8415 characters needs more than 255 parts (all
    -- beyond the BMP: 33 to a part), so short texts skip the count
    IF NEW.channel = 'sms' AND length(NEW.text) > 8415 THEN
        v_parts := hub.sms_parts_v1(NEW.text, NEW.transliterate);
        -- 255: the most parts concatenation numbers (MAX_PARTS in msghub/sms/split.py)
        IF v_parts > 255 THEN
            PERFORM hub.outbox_refuse_v1('text', format('the text needs %s%s SMS parts; at most 255 can be joined',
                CASE WHEN NEW.transliterate AND NOT hub.sms_is_gsm7_v1(NEW.text)
                     THEN 'at least ' ELSE '' END, v_parts));
        END IF;
    END IF;
    IF length(NEW.text) > 100000 THEN
        -- the search index holds at most 1 MB of words per message (a text
        -- of 100,000 characters makes at most 6.5 bytes of index per character)
        BEGIN
            PERFORM hub.message_document_v1(NEW.subject, NEW.text);
        EXCEPTION WHEN program_limit_exceeded THEN
            PERFORM hub.outbox_refuse_v1('text', format('%s characters with too many different words to index for search',
                length(NEW.text)));
        END;
    END IF;

    -- sender
    IF NEW.sender IS NOT NULL THEN
        IF NEW.channel = 'sms'
           AND NOT (NEW.sender ~ '^\+?[0-9]{1,20}$' OR NEW.sender ~ '^[A-Za-z0-9 ._&@!?#-]{1,11}$' AND NEW.sender ~ '[A-Za-z]') THEN
            PERFORM hub.outbox_refuse_v1('sender', format('malformed sender %s: a number, or at most 11 letters and digits',
                hub.outbox_quote_v1(NEW.sender)));
        END IF;
        IF NEW.channel = 'email' AND NOT hub.is_email_v1(NEW.sender) THEN
            PERFORM hub.outbox_refuse_v1('sender', format('malformed e-mail address %s', hub.outbox_quote_v1(NEW.sender)));
        END IF;
    END IF;

    -- timing: finite, and within what every reader can show (Python's
    -- datetime ends with the year 9999: the web pages and the API answered
    -- 500 for later times); a time before 1970 is a zero date or an epoch 0
    IF NOT isfinite(NEW.send_at) THEN
        PERFORM hub.outbox_refuse_v1('send_at', format('%s is not a time: give a date and time, or NULL for now', NEW.send_at));
    ELSIF NEW.send_at NOT BETWEEN '1970-01-01 00:00+00' AND '9999-12-30 00:00+00' THEN
        PERFORM hub.outbox_refuse_v1('send_at', format('%s is out of range: give a time between 1970 and 9999', NEW.send_at));
    END IF;
    IF NOT isfinite(NEW.valid_until) THEN
        PERFORM hub.outbox_refuse_v1('valid_until', format('%s is not a time: give a date and time, or NULL for no expiry',
            NEW.valid_until));
    ELSIF NEW.valid_until <= now() THEN
        PERFORM hub.outbox_refuse_v1('valid_until', format('already expired at %s', NEW.valid_until));
    ELSIF NEW.valid_until > '9999-12-30 00:00+00' THEN
        PERFORM hub.outbox_refuse_v1('valid_until', format('%s is out of range: give a time before 9999-12-30', NEW.valid_until));
    END IF;
    IF NEW.send_at IS NOT NULL AND NEW.valid_until IS NOT NULL AND NEW.send_at > NEW.valid_until THEN
        PERFORM hub.outbox_refuse_v1('send_at', format('send_at %s is after valid_until %s', NEW.send_at, NEW.valid_until));
    END IF;

    IF NEW.connection IS NOT NULL THEN
        SELECT * INTO v_conn FROM hub.connections WHERE name = NEW.connection;
        IF v_conn.id IS NULL THEN
            PERFORM hub.outbox_refuse_v1('connection', format('unknown connection %s', hub.outbox_quote_v1(NEW.connection)));
        END IF;
        IF NOT NEW.channel = ANY (v_conn.channels) THEN
            PERFORM hub.outbox_refuse_v1('connection', format('connection %L does not carry %s (it carries %s)',
                NEW.connection, NEW.channel, array_to_string(v_conn.channels, ', ')));
        END IF;
    END IF;

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

DROP TRIGGER outbox_accept ON hub.outbox;
CREATE TRIGGER outbox_accept
    BEFORE INSERT ON hub.outbox
    FOR EACH ROW EXECUTE FUNCTION hub.outbox_accept_v2();
DROP FUNCTION hub.outbox_accept_v1();

REVOKE EXECUTE ON FUNCTION hub.web_message_ids_v1(text, bigint, text, bigint, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION hub.web_message_ids_v1(text, bigint, text, bigint, integer) TO msghub_app;
REVOKE EXECUTE ON FUNCTION hub.contacts_matching_v1(bigint, bigint, text[], text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION hub.contacts_matching_v1(bigint, bigint, text[], text[]) TO msghub_app;

-- Assigns a message to a user or a group (or back to nobody). The caller
-- must see the message; otherwise it does not exist for them (false), so a
-- guessed id tells nothing. p_actor (the name the record shows) is taken
-- from the hub's own processes only (a rule, the CLI): an integrator's
-- assignment is recorded under its login, not under a name it chose.
CREATE FUNCTION hub.assign_v2(p_message_id bigint, p_user_id bigint, p_group_id bigint,
                              p_actor text DEFAULT NULL) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = hub, pg_catalog AS $$
DECLARE
    v_from_user bigint;
    v_from_group bigint;
    v_actor text := CASE WHEN hub.is_app_session_v1() THEN p_actor END;
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
            coalesce(v_actor, (SELECT username FROM hub.users WHERE id = hub.current_user_id_v1()), session_user),
            v_from_user, v_from_group, p_user_id, p_group_id);
    PERFORM pg_notify('msghub_messages', '');
    RETURN true;
END
$$;

DROP FUNCTION hub.assign_v1(bigint, bigint, bigint, text);

-- Counts per option, zero included: what charts and reports read. Only
-- the polls the viewer sees (a view runs with its owner's rights, which
-- row-level security does not restrict, so it applies the rule itself).
CREATE OR REPLACE VIEW hub.poll_results AS
SELECT p.id AS poll_id, p.name AS poll, p.question, o.id AS option_id, o.position, o.label,
       count(v.id) AS votes,
       round(100.0 * count(v.id) / nullif(sum(count(v.id)) OVER (PARTITION BY p.id), 0), 1) AS percent
FROM hub.polls p
JOIN hub.poll_options o ON o.poll_id = p.id
LEFT JOIN hub.poll_votes v ON v.option_id = o.id
WHERE hub.visible_to_v1(p.owner_user_id, p.owner_group_id, (SELECT (hub.viewer_v1()).sees_all), (SELECT (hub.viewer_v1()).user_id),
        (SELECT (hub.viewer_v1()).groups), (SELECT (hub.viewer_v1()).sees_unassigned))
GROUP BY p.id, o.id;

-- Messages and SMS segments by day (UTC), connection, owning user, channel,
-- direction and status, counting the messages the viewer sees (as
-- hub.inbox and hub.message_status do). For those who see every message
-- (admins, the hub in system mode): the folded totals plus deltas not yet
-- folded, so the view is exact at every moment and reads only small
-- tables. For everyone else: counted from the messages they see, through
-- the owner indexes (the totals keep no group, and would show others' counts).
CREATE OR REPLACE VIEW hub.stats_messages AS
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
    WHERE (SELECT (hub.viewer_v1()).sees_all)
    GROUP BY 1, 2, 3, 4, 5, 6
    HAVING sum(messages) <> 0
    UNION ALL
    SELECT (m.created_at AT TIME ZONE 'UTC')::date, coalesce(m.connection_id, 0), coalesce(m.owner_user_id, 0),
           m.channel, m.direction, m.status, count(*), sum(coalesce(m.segments, 1))::bigint
    FROM hub.messages m
    WHERE NOT (SELECT (hub.viewer_v1()).sees_all)
      AND hub.visible_to_v1(m.owner_user_id, m.owner_group_id, false, (SELECT (hub.viewer_v1()).user_id),
        (SELECT (hub.viewer_v1()).groups), (SELECT (hub.viewer_v1()).sees_unassigned))
    GROUP BY 1, 2, 3, 4, 5, 6
) s
LEFT JOIN hub.connections c ON c.id = nullif(s.connection_id, 0)
LEFT JOIN hub.users u ON u.id = nullif(s.owner_user_id, 0);

GRANT SELECT (list_id) ON hub.outbox TO msghub_integrator;
