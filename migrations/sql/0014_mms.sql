-- issue 14: Cc and Bcc copies of an MMS (hub.outbox.cc, hub.outbox.bcc),
-- kept in the queued message's meta for the MM7 and MM1 connectors. The
-- outbox trigger of 0011_costs learns them: the same as schema/50_outbox.sql.
ALTER TABLE hub.outbox ADD COLUMN cc text[], ADD COLUMN bcc text[];

CREATE OR REPLACE FUNCTION hub.outbox_accept_v3() RETURNS trigger
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
    v_priced boolean;
    v_size bigint;
    v_lcr boolean;
    v_quotas boolean;
    v_copies jsonb := '{}';
    v_copy_list text[];
    v_copy_column text;
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
    -- a disabled user sends nothing, through a web session or a mapped login
    IF NOT v_viewer.sees_all AND v_viewer.user_id IS NULL AND hub.session_user_disabled_v1() THEN
        PERFORM hub.outbox_refuse_v1('created_by', 'your hub user is disabled');
    END IF;
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

    -- copies (MMS over MM7 or MM1): one message to the recipient with the
    -- others as Cc (shown to all) and Bcc (hidden), kept in the message's meta
    FOREACH v_copy_column IN ARRAY ARRAY['cc', 'bcc'] LOOP
        v_copy_list := CASE v_copy_column WHEN 'cc' THEN NEW.cc ELSE NEW.bcc END;
        CONTINUE WHEN v_copy_list IS NULL OR cardinality(v_copy_list) = 0;
        IF NEW.channel <> 'mms' THEN
            PERFORM hub.outbox_refuse_v1(v_copy_column, format('only an MMS has %s copies; this is %s', v_copy_column, NEW.channel));
        END IF;
        IF cardinality(v_addresses) <> 1 THEN
            PERFORM hub.outbox_refuse_v1(v_copy_column, format('copies go with one recipient, not %s: the MMS is one message to all of them',
                cardinality(v_addresses)));
        END IF;
        IF cardinality(v_copy_list) > 100 THEN
            PERFORM hub.outbox_refuse_v1(v_copy_column, format('%s copies, more than 100', cardinality(v_copy_list)));
        END IF;
        FOREACH v_raw IN ARRAY v_copy_list LOOP
            v_norm := hub.normalize_address_v1('mms', v_raw);
            IF v_norm IS NULL THEN
                PERFORM hub.outbox_refuse_v1(v_copy_column, format('malformed phone number or e-mail address %s',
                    hub.outbox_quote_v1(v_raw)));
            END IF;
            v_copies := jsonb_set(v_copies, ARRAY[v_copy_column],
                                  coalesce(v_copies -> v_copy_column, '[]') || to_jsonb(v_norm));
        END LOOP;
    END LOOP;

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
    -- costs (90_costs.sql), in one query: priced when the channel has
    -- tariffs (an SMS by its parts), least-cost routing when it is on for
    -- everything or for some route of the channel, quotas when there are any
    SELECT EXISTS (SELECT FROM hub.tariffs t WHERE t.channel = NEW.channel AND t.direction = 'out'),
           coalesce(hub.setting_int('least_cost_routing'), 0) = 1
           OR EXISTS (SELECT FROM hub.routes r WHERE r.least_cost AND r.channel = NEW.channel),
           EXISTS (SELECT FROM hub.quotas)
    INTO v_priced, v_lcr, v_quotas;
    v_size := v_bytes + coalesce(octet_length(NEW.text), 0);
    -- no text of at most 8415 characters needs more than 255 parts (all
    -- beyond the BMP: 33 to a part), so short texts skip the count unless
    -- a price needs it
    IF NEW.channel = 'sms' AND (length(NEW.text) > 8415 OR v_priced) THEN
        v_parts := hub.sms_parts_v1(coalesce(NEW.text, ''), NEW.transliterate);
        -- 255: the most parts concatenation numbers (MAX_PARTS in msghub/sms/split.py)
        IF v_parts > 255 THEN
            PERFORM hub.outbox_refuse_v1('text', format('the text needs %s SMS parts; at most 255 can be joined', v_parts));
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

    v_lcr := v_lcr AND v_conn.id IS NULL;
    IF NOT (v_priced OR v_lcr) THEN
        -- nothing to price or to route by price: the plain insert of old
        WITH queued AS (
            INSERT INTO hub.messages (channel, direction, connection_id, sender, recipients, subject, body, status,
                                      owner_user_id, owner_group_id, created_by, outbox_id, priority, delivery_report,
                                      transliterate, valid_until, send_at, next_attempt_at, correlation_id, meta)
            SELECT NEW.channel, 'out', coalesce(v_conn.id, hub.route_v1(NEW.channel, a)), NEW.sender, ARRAY[a],
                   NEW.subject, coalesce(NEW.text, ''), 'queued', v_user, NEW.owner_group_id, v_user, NEW.id,
                   NEW.priority, NEW.delivery_report, NEW.transliterate, NEW.valid_until, NEW.send_at,
                   coalesce(NEW.send_at, now()), NEW.correlation_id, v_copies
            FROM unnest(v_addresses) WITH ORDINALITY AS r(a, n)
            ORDER BY n
            RETURNING id
        )
        SELECT array_agg(id) INTO v_message_ids FROM queued;
    ELSE
        -- least-cost routing (hub.route_v2) for a message without a named
        -- connection when it is on, otherwise routed as above (one-time filters
        -- run only the branch that applies); priced by the chosen connection's
        -- tariff
        WITH routed AS (
            SELECT r.a, r.n, coalesce(v_conn.id, hub.route_v1(NEW.channel, r.a)) AS connection_id, NULL::text AS reason
            FROM unnest(v_addresses) WITH ORDINALITY AS r(a, n)
            WHERE NOT v_lcr
            UNION ALL
            SELECT r.a, r.n, rt.connection_id, rt.reason
            FROM unnest(v_addresses) WITH ORDINALITY AS r(a, n)
            CROSS JOIN LATERAL hub.route_v2(NEW.channel, r.a, v_viewer, coalesce(v_parts, 1), v_size, NULL) rt
            WHERE v_lcr
        ), priced AS (
            SELECT routed.*, t.price, t.currency, t.prefix,
                   coalesce((SELECT c.bill_retries FROM hub.connections c WHERE c.id = routed.connection_id AND v_priced),
                            false) AS bill_retries
            FROM routed
            LEFT JOIN LATERAL (SELECT * FROM hub.tariff_price_v1(routed.connection_id, NEW.channel, 'out', routed.a, v_size,
                                                                 now())
                               WHERE v_priced) t ON true
        ), queued AS (
            INSERT INTO hub.messages (channel, direction, connection_id, sender, recipients, subject, body, status,
                                      owner_user_id, owner_group_id, created_by, outbox_id, priority, delivery_report,
                                      transliterate, valid_until, send_at, next_attempt_at, correlation_id, meta,
                                      unit_price, currency, tariff_prefix, bill_retries, estimated_cost, route_reason)
            SELECT NEW.channel, 'out', p.connection_id, NEW.sender, ARRAY[p.a],
                   NEW.subject, coalesce(NEW.text, ''), 'queued', v_user, NEW.owner_group_id, v_user, NEW.id,
                   NEW.priority, NEW.delivery_report, NEW.transliterate, NEW.valid_until, NEW.send_at,
                   coalesce(NEW.send_at, now()), NEW.correlation_id, v_copies,
                   p.price, p.currency, p.prefix, p.bill_retries, p.price * coalesce(v_parts, 1), p.reason
            FROM priced p
            ORDER BY p.n
            RETURNING id
        )
        SELECT array_agg(id) INTO v_message_ids FROM queued;
    END IF;

    IF NOT v_viewer.sees_all THEN
        SELECT c.name INTO v_denied FROM hub.messages m JOIN hub.connections c ON c.id = m.connection_id
        WHERE m.id = ANY (v_message_ids) AND NOT hub.may_use_connection_v1(c.id, v_viewer) LIMIT 1;
        IF v_denied IS NOT NULL THEN
            PERFORM hub.outbox_refuse_v1('connection', format('you may not send through connection %L', v_denied));
        END IF;
    END IF;

    -- quotas (90_costs.sql): refused as a whole, so nothing is half-queued
    IF v_quotas THEN
        PERFORM hub.quota_charge_v1(v_user, NEW.owner_group_id, v_message_ids);
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
