-- Issue 16 (costs): the same as schema/90_costs.sql, plus what it changes
-- elsewhere in schema/: the columns of hub.messages, hub.connections and
-- hub.routes, the setting least_cost_routing, the quota_warning event,
-- hub.message_status's cost columns, and the outbox trigger that prices,
-- routes by cost and charges quotas (hub.outbox_accept_v3).

ALTER TABLE hub.connections ADD COLUMN bill_retries boolean NOT NULL DEFAULT false;
ALTER TABLE hub.routes ADD COLUMN least_cost boolean NOT NULL DEFAULT false;

ALTER TABLE hub.messages
    -- costs (90_costs.sql): the tariff that priced it when it was queued or
    -- received (NULL: none applied), what it was expected to cost, why
    -- least-cost routing chose its connection
    ADD COLUMN unit_price         numeric(14, 6),
    ADD COLUMN currency           text,
    ADD COLUMN tariff_prefix      text,
    -- the connection's operator bills every attempt, not only the last
    ADD COLUMN bill_retries       boolean NOT NULL DEFAULT false,
    ADD COLUMN estimated_cost     numeric(16, 6),
    ADD COLUMN route_reason       text,
    -- what it costs: the parts actually submitted (segments, reported at
    -- send) times the price; once sent, or received, or failed after the
    -- operator took it
    ADD COLUMN cost               numeric(16, 6) GENERATED ALWAYS AS (
                           CASE WHEN unit_price IS NOT NULL
                                 AND (direction = 'in' OR status IN ('sent', 'delivered')
                                      OR (status = 'failed' AND operator_ref IS NOT NULL))
                                THEN unit_price * coalesce(segments, 1)
                                     * CASE WHEN bill_retries THEN greatest(attempts, 1) ELSE 1 END
                           END) STORED;

INSERT INTO hub.settings (key, value, description) VALUES
    ('least_cost_routing', '0', '1: hub.outbox routes every message to the cheapest connection it may use (docs/COSTS.md)');

ALTER TABLE hub.events DROP CONSTRAINT events_type_known;
ALTER TABLE hub.events ADD CONSTRAINT events_type_known CHECK (type IN (
                      'message_received', 'message_sent', 'message_failed', 'delivery_report',
                      'connection_up', 'connection_down', 'data_imported', 'schedule', 'http_response',
                      'quota_warning'));

CREATE OR REPLACE VIEW hub.message_status AS
SELECT m.id AS message_id, m.outbox_id, o.idempotency_key, m.correlation_id, m.channel,
       c.name AS connection, m.recipients[1] AS recipient, m.status, m.status_at, m.attempts,
       m.segments, m.operator_ref, m.failure_code, m.failure_reason, m.possible_duplicate,
       m.send_at, m.valid_until, m.created_at, m.estimated_cost, m.cost, m.currency, m.route_reason
FROM hub.messages m
LEFT JOIN hub.outbox o ON o.id = m.outbox_id
LEFT JOIN hub.connections c ON c.id = m.connection_id
WHERE m.direction = 'out' AND hub.visible_to_v1(m.owner_user_id, m.owner_group_id, (SELECT (hub.viewer_v1()).sees_all), (SELECT (hub.viewer_v1()).user_id),
        (SELECT (hub.viewer_v1()).groups), (SELECT (hub.viewer_v1()).sees_unassigned));

-- Costs (docs/COSTS.md): tariffs per connection, the price of each message
-- (estimated when queued, fixed when sent: hub.messages.estimated_cost and
-- cost), quotas per user and group held by hub.outbox itself, least-cost
-- routing, and cost statistics kept like the message counts (append-only
-- deltas folded by hub.cost_rollup_v1).

-- ISO 4217 codes in use (2025), for the currency of tariffs and quotas.
CREATE FUNCTION hub.is_currency_v1(p_code text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT p_code = ANY ('{AED,AFN,ALL,AMD,ANG,AOA,ARS,AUD,AWG,AZN,BAM,BBD,BDT,BGN,BHD,BIF,BMD,BND,BOB,BRL,
        BSD,BTN,BWP,BYN,BZD,CAD,CDF,CHF,CLP,CNY,COP,CRC,CUP,CVE,CZK,DJF,DKK,DOP,DZD,EGP,ERN,ETB,EUR,FJD,FKP,
        GBP,GEL,GHS,GIP,GMD,GNF,GTQ,GYD,HKD,HNL,HTG,HUF,IDR,ILS,INR,IQD,IRR,ISK,JMD,JOD,JPY,KES,KGS,KHR,KMF,
        KPW,KRW,KWD,KYD,KZT,LAK,LBP,LKR,LRD,LSL,LYD,MAD,MDL,MGA,MKD,MMK,MNT,MOP,MRU,MUR,MVR,MWK,MXN,MYR,MZN,
        NAD,NGN,NIO,NOK,NPR,NZD,OMR,PAB,PEN,PGK,PHP,PKR,PLN,PYG,QAR,RON,RSD,RUB,RWF,SAR,SBD,SCR,SDG,SEK,SGD,
        SHP,SLE,SOS,SRD,SSP,STN,SVC,SYP,SZL,THB,TJS,TMT,TND,TOP,TRY,TTD,TWD,TZS,UAH,UGX,USD,UYU,UZS,VES,VND,
        VUV,WST,XAF,XCD,XCG,XOF,XPF,YER,ZAR,ZMW,ZWG}'::text[])
$$;

-- What a connection's operator charges: per SMS part, per MMS (optionally
-- by size class: the smallest max_bytes the MMS fits wins, then the one
-- without), per e-mail; by destination prefix (the longest matching prefix
-- wins, '' is the default) and direction. A price change is a new row
-- valid from a later time: the open row before it is closed then, so
-- history stays. Every tariff of one connection is in one currency.
CREATE TABLE hub.tariffs (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    connection_id bigint NOT NULL REFERENCES hub.connections (id) ON DELETE CASCADE,
    channel       text NOT NULL CONSTRAINT tariffs_channel_known CHECK (channel IN ('sms', 'mms', 'email')),
    direction     text NOT NULL DEFAULT 'out' CONSTRAINT tariffs_direction_known CHECK (direction IN ('in', 'out')),
    prefix        text NOT NULL DEFAULT '' CONSTRAINT tariffs_prefix_format CHECK (prefix ~ '^\+?[0-9]{0,20}$'),
    max_bytes     bigint CONSTRAINT tariffs_size_class CHECK (max_bytes IS NULL OR max_bytes > 0 AND channel = 'mms'),
    price         numeric(14, 6) NOT NULL CONSTRAINT tariffs_price_not_negative CHECK (price >= 0),
    currency      text NOT NULL CONSTRAINT tariffs_currency_known CHECK (hub.is_currency_v1(currency)),
    valid_from    timestamptz NOT NULL DEFAULT now(),
    valid_until   timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT tariffs_validity_order CHECK (valid_until IS NULL OR valid_until > valid_from)
);

CREATE INDEX tariffs_lookup ON hub.tariffs (connection_id, channel, direction, prefix);

-- Refuses a malformed tariff with an error naming the column (SQLSTATE
-- 22023, like hub.outbox), and closes the open tariff a new price follows.
CREATE FUNCTION hub.tariffs_check_v1() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_other hub.tariffs;
    v_currency text;
    v_name text := (SELECT name FROM hub.connections WHERE id = NEW.connection_id);
BEGIN
    IF NEW.price IS NULL OR NEW.price < 0 THEN
        RAISE EXCEPTION 'hub.tariffs.price: % is not a price: give 0 or more', coalesce(trim_scale(NEW.price)::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'price';
    END IF;
    IF NOT coalesce(hub.is_currency_v1(NEW.currency), false) THEN
        RAISE EXCEPTION 'hub.tariffs.currency: unknown currency %: give an ISO 4217 code such as EUR or USD',
            quote_nullable(NEW.currency) USING ERRCODE = 'invalid_parameter_value', COLUMN = 'currency';
    END IF;
    IF NEW.max_bytes IS NOT NULL AND NEW.channel <> 'mms' THEN
        RAISE EXCEPTION 'hub.tariffs.max_bytes: size classes are for mms, not %', NEW.channel
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'max_bytes';
    END IF;
    IF NEW.valid_until IS NOT NULL AND NEW.valid_until <= NEW.valid_from THEN
        RAISE EXCEPTION 'hub.tariffs.valid_until: % is not after valid_from %', NEW.valid_until, NEW.valid_from
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'valid_until';
    END IF;
    -- one change of a connection's tariffs at a time, so two overlapping
    -- rows cannot both pass the check below
    PERFORM pg_advisory_xact_lock(hashtextextended('msghub.tariffs:' || NEW.connection_id, 0));
    SELECT currency INTO v_currency FROM hub.tariffs WHERE connection_id = NEW.connection_id AND id <> NEW.id LIMIT 1;
    IF v_currency IS NOT NULL AND v_currency <> NEW.currency THEN
        RAISE EXCEPTION 'hub.tariffs.currency: connection % bills in %, not %', v_name, v_currency, NEW.currency
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'currency';
    END IF;
    IF TG_OP = 'INSERT' THEN
        -- a new price from a later time ends the open-ended one before it
        UPDATE hub.tariffs t SET valid_until = NEW.valid_from
        WHERE t.connection_id = NEW.connection_id AND t.channel = NEW.channel AND t.direction = NEW.direction
          AND t.prefix = NEW.prefix AND t.max_bytes IS NOT DISTINCT FROM NEW.max_bytes
          AND t.valid_until IS NULL AND t.valid_from < NEW.valid_from;
    END IF;
    SELECT * INTO v_other FROM hub.tariffs t
    WHERE t.connection_id = NEW.connection_id AND t.channel = NEW.channel AND t.direction = NEW.direction
      AND t.prefix = NEW.prefix AND t.max_bytes IS NOT DISTINCT FROM NEW.max_bytes AND t.id <> NEW.id
      AND tstzrange(t.valid_from, t.valid_until) && tstzrange(NEW.valid_from, NEW.valid_until)
    ORDER BY t.valid_from LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'hub.tariffs.valid_from: % % % prefix % on % from % overlaps tariff % (% %, valid from % until %)',
            NEW.channel, NEW.direction, trim_scale(NEW.price), quote_literal(NEW.prefix), v_name, NEW.valid_from,
            v_other.id, trim_scale(v_other.price), v_other.currency, v_other.valid_from, coalesce(v_other.valid_until::text, 'further notice')
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'valid_from';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER tariffs_check
    BEFORE INSERT OR UPDATE ON hub.tariffs
    FOR EACH ROW EXECUTE FUNCTION hub.tariffs_check_v1();

-- A price as the route reasons and the pages write it: at least three
-- decimals, at most six ("0.060", "0.0425").
CREATE FUNCTION hub.price_text_v1(p_price numeric) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT to_char(p_price, 'FM999999999990.000999')
$$;

-- The tariff that prices one message at a time: the connection's, for the
-- channel and direction, the longest prefix the address starts with ('' for
-- any), for an MMS the smallest size class it fits (then the one without).
CREATE FUNCTION hub.tariff_price_v1(p_connection_id bigint, p_channel text, p_direction text, p_address text,
                                    p_bytes bigint, p_at timestamptz)
RETURNS TABLE (price numeric, currency text, prefix text)
LANGUAGE sql STABLE AS $$
    SELECT t.price, t.currency, t.prefix
    FROM hub.tariffs t
    WHERE t.connection_id = p_connection_id AND t.channel = p_channel AND t.direction = p_direction
      AND starts_with(coalesce(p_address, ''), t.prefix)
      AND t.valid_from <= p_at AND (t.valid_until IS NULL OR t.valid_until > p_at)
      AND (t.max_bytes IS NULL OR t.max_bytes >= coalesce(p_bytes, 0))
    ORDER BY length(t.prefix) DESC, t.max_bytes NULLS LAST
    LIMIT 1
$$;

-- Inbound messages cost what the connection's 'in' tariff says (reverse
-- billed short codes), by the number they were sent to.
CREATE FUNCTION hub.messages_price_inbound_v1() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_price record;
BEGIN
    SELECT * INTO v_price
    FROM hub.tariff_price_v1(NEW.connection_id, NEW.channel, 'in', NEW.recipients[1], octet_length(NEW.body), NEW.created_at);
    IF FOUND THEN
        NEW.unit_price := v_price.price;
        NEW.currency := v_price.currency;
        NEW.tariff_prefix := v_price.prefix;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER messages_price_inbound
    BEFORE INSERT ON hub.messages
    FOR EACH ROW WHEN (NEW.direction = 'in' AND NEW.connection_id IS NOT NULL)
    EXECUTE FUNCTION hub.messages_price_inbound_v1();

-- Picks the connection for one message. Without least-cost routing (the
-- setting least_cost_routing, or a route marked least_cost for the
-- address's longest matching prefix): hub.route_v1. With it: among the
-- connections the message may use (the routes of that prefix, or every
-- enabled connection of the channel when no route matches; only those the
-- sender is granted), those up first, then the cheapest for this message,
-- then the one with the fewest queued messages. The reason says why.
CREATE FUNCTION hub.route_v2(p_channel text, p_address text, p_viewer hub.viewer, p_parts integer, p_bytes bigint,
                             p_explicit bigint)
RETURNS TABLE (connection_id bigint, reason text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_len integer;
    v_flagged boolean;
    v_best record;
    v_next record;
    v_count integer := 0;
    v_candidate record;
    v_reason text;
BEGIN
    IF p_explicit IS NOT NULL THEN
        RETURN QUERY SELECT p_explicit, NULL::text;
        RETURN;
    END IF;
    SELECT max(length(r.prefix)) INTO v_len
    FROM hub.routes r JOIN hub.connections c ON c.id = r.connection_id
    WHERE r.channel = p_channel AND starts_with(p_address, r.prefix) AND c.enabled;
    SELECT bool_or(r.least_cost) INTO v_flagged
    FROM hub.routes r JOIN hub.connections c ON c.id = r.connection_id
    WHERE r.channel = p_channel AND starts_with(p_address, r.prefix) AND c.enabled AND length(r.prefix) = v_len;
    IF NOT (coalesce(v_flagged, false) OR coalesce(hub.setting_int('least_cost_routing'), 0) = 1) THEN
        RETURN QUERY SELECT hub.route_v1(p_channel, p_address), NULL::text;
        RETURN;
    END IF;
    FOR v_candidate IN
        SELECT c.id, c.name, c.state, t.price * CASE WHEN p_channel = 'sms' THEN p_parts ELSE 1 END AS cost, t.currency,
               (SELECT count(*) FROM hub.messages m WHERE m.connection_id = c.id AND m.status = 'queued') AS queued
        FROM hub.connections c
        LEFT JOIN LATERAL hub.tariff_price_v1(c.id, p_channel, 'out', p_address, p_bytes, now()) t ON true
        WHERE c.enabled AND p_channel = ANY (c.channels) AND hub.may_use_connection_v1(c.id, p_viewer)
          AND (v_len IS NULL OR EXISTS (SELECT FROM hub.routes r
                                        WHERE r.connection_id = c.id AND r.channel = p_channel
                                          AND length(r.prefix) = v_len AND starts_with(p_address, r.prefix)))
        ORDER BY c.state IN ('down', 'disabled'), c.state <> 'up', t.price IS NULL, 4, 6, c.id
    LOOP
        v_count := v_count + 1;
        IF v_count = 1 THEN
            v_best := v_candidate;
        ELSE
            v_next := v_candidate;
            EXIT;
        END IF;
    END LOOP;
    IF v_count = 0 THEN
        -- nothing this sender may use: route_v1 refuses (or the grant check does)
        RETURN QUERY SELECT hub.route_v1(p_channel, p_address), NULL::text;
        RETURN;
    END IF;
    v_reason := 'routed to ' || v_best.name || ': ';
    IF v_best.cost IS NULL THEN
        v_reason := v_reason || 'no tariff applies';
    ELSIF v_count = 1 THEN
        v_reason := v_reason || format('%s %s, the only candidate', hub.price_text_v1(v_best.cost), v_best.currency);
    ELSIF v_next.state IN ('down', 'disabled') THEN
        v_reason := v_reason || format('%s %s; %s is %s', hub.price_text_v1(v_best.cost), v_best.currency,
                                       v_next.name, v_next.state);
    ELSIF v_next.cost IS NULL THEN
        v_reason := v_reason || format('%s %s; %s has no tariff', hub.price_text_v1(v_best.cost), v_best.currency,
                                       v_next.name);
    ELSIF v_best.cost = v_next.cost AND v_best.currency = v_next.currency THEN
        v_reason := v_reason || format('%s %s, as %s, with fewer queued (%s < %s)', hub.price_text_v1(v_best.cost),
                                       v_best.currency, v_next.name, v_best.queued, v_next.queued);
    ELSIF v_best.currency = v_next.currency THEN
        v_reason := v_reason || format('%s < %s %s', hub.price_text_v1(v_best.cost), hub.price_text_v1(v_next.cost),
                                       v_best.currency);
    ELSE
        v_reason := v_reason || format('%s %s < %s %s', hub.price_text_v1(v_best.cost), v_best.currency,
                                       hub.price_text_v1(v_next.cost), v_next.currency);
    END IF;
    RETURN QUERY SELECT v_best.id::bigint, v_reason;
END
$$;

-- Quotas: what a user or a group may send per day, week or month (UTC),
-- counted in messages or in money (the estimated cost, in one currency),
-- optionally through one connection only. A group's quota holds its
-- members and whatever is sent in the group's name.
CREATE TABLE hub.quotas (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text NOT NULL UNIQUE CONSTRAINT quotas_name_format CHECK (name ~ '^[^\s][^\n]{0,98}[^\s]$|^[^\s]$'),
    user_id       bigint REFERENCES hub.users (id) ON DELETE CASCADE,
    group_id      bigint REFERENCES hub.groups (id) ON DELETE CASCADE,
    connection_id bigint REFERENCES hub.connections (id) ON DELETE CASCADE,
    unit          text NOT NULL CONSTRAINT quotas_unit_known CHECK (unit IN ('messages', 'money')),
    amount        numeric(14, 2) NOT NULL CONSTRAINT quotas_amount_positive CHECK (amount > 0),
    currency      text CONSTRAINT quotas_currency_known CHECK (hub.is_currency_v1(currency)),
    period        text NOT NULL CONSTRAINT quotas_period_known CHECK (period IN ('day', 'week', 'month')),
    -- a quota_warning event once per period when this share is used
    warn_percent  integer CONSTRAINT quotas_warn_percent_range CHECK (warn_percent BETWEEN 1 AND 100),
    admins_exempt boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT quotas_one_holder CHECK ((user_id IS NULL) <> (group_id IS NULL)),
    CONSTRAINT quotas_money_has_currency CHECK ((unit = 'money') = (currency IS NOT NULL))
);

-- What each quota used in each period. The row is the quota's lock: the
-- outbox adds to it with an upsert, which waits for a concurrent sender's
-- commit, so parallel inserts are counted one after the other.
CREATE TABLE hub.quota_usage (
    quota_id     bigint NOT NULL REFERENCES hub.quotas (id) ON DELETE CASCADE,
    period_start date NOT NULL,
    used         numeric(18, 6) NOT NULL DEFAULT 0,
    warned       boolean NOT NULL DEFAULT false,
    PRIMARY KEY (quota_id, period_start)
);

-- The start (UTC) of the period a quota counts now.
CREATE FUNCTION hub.quota_period_start_v1(p_period text) RETURNS date
LANGUAGE sql STABLE AS $$
    SELECT date_trunc(p_period, now() AT TIME ZONE 'UTC')::date
$$;

-- A quota's amount as people write it: "500.00 EUR", "1000 messages".
CREATE FUNCTION hub.quota_amount_v1(p_unit text, p_amount numeric, p_currency text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p_unit = 'money' THEN to_char(p_amount, 'FM999999999990.00') || ' ' || p_currency
                ELSE trunc(p_amount)::text || ' messages' END
$$;

-- Charges the messages just queued by one outbox row to every quota that
-- holds their sender, in quota order (so two senders never wait on each
-- other's quotas crosswise). Refuses, and so undoes the whole insert, when
-- a quota would be exceeded; raises a quota_warning event the first time
-- in a period a quota's warn_percent is reached.
CREATE FUNCTION hub.quota_charge_v1(p_user bigint, p_group bigint, p_message_ids bigint[])
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_quota hub.quotas;
    v_admin boolean := EXISTS (SELECT FROM hub.users WHERE id = p_user AND role = 'admin');
    v_amount numeric;
    v_used numeric;
    v_warned boolean;
    v_start date;
BEGIN
    FOR v_quota IN
        SELECT q.* FROM hub.quotas q
        WHERE (q.user_id = p_user OR q.group_id = p_group
               OR q.group_id IN (SELECT group_id FROM hub.memberships WHERE user_id = p_user))
          AND NOT (v_admin AND q.admins_exempt)
        ORDER BY q.id
    LOOP
        SELECT CASE WHEN v_quota.unit = 'messages' THEN count(*)
                    ELSE coalesce(sum(m.estimated_cost) FILTER (WHERE m.currency = v_quota.currency), 0) END
        INTO v_amount
        FROM hub.messages m
        WHERE m.id = ANY (p_message_ids) AND (v_quota.connection_id IS NULL OR m.connection_id = v_quota.connection_id);
        CONTINUE WHEN v_amount = 0;
        v_start := hub.quota_period_start_v1(v_quota.period);
        INSERT INTO hub.quota_usage AS u (quota_id, period_start, used) VALUES (v_quota.id, v_start, v_amount)
        ON CONFLICT (quota_id, period_start) DO UPDATE SET used = u.used + excluded.used
        RETURNING u.used, u.warned INTO v_used, v_warned;
        IF v_used > v_quota.amount THEN
            RAISE EXCEPTION 'hub.outbox: quota % of % would be exceeded (% used)', quote_literal(v_quota.name),
                hub.quota_amount_v1(v_quota.unit, v_quota.amount, v_quota.currency),
                CASE WHEN v_quota.unit = 'money' THEN to_char(v_used - v_amount, 'FM999999999990.00')
                     ELSE trunc(v_used - v_amount)::text END
                USING ERRCODE = 'invalid_parameter_value', SCHEMA = 'hub', TABLE = 'outbox',
                      HINT = format('the quota counts again from the next %s (UTC)', v_quota.period);
        END IF;
        IF v_quota.warn_percent IS NOT NULL AND NOT v_warned AND v_used * 100 >= v_quota.amount * v_quota.warn_percent THEN
            UPDATE hub.quota_usage SET warned = true WHERE quota_id = v_quota.id AND period_start = v_start;
            INSERT INTO hub.events (type, payload)
            VALUES ('quota_warning', jsonb_build_object(
                'quota', v_quota.name, 'quota_id', v_quota.id, 'unit', v_quota.unit, 'currency', v_quota.currency,
                'limit', v_quota.amount, 'used', v_used, 'percent', v_quota.warn_percent, 'period', v_quota.period,
                'period_start', v_start, 'user_id', v_quota.user_id, 'group_id', v_quota.group_id));
            PERFORM pg_notify('msghub_events', '');
        END IF;
    END LOOP;
END
$$;

-- What the quotas used in their current period.
CREATE VIEW hub.quota_status AS
SELECT q.id, q.name, q.user_id, u.username, q.group_id, g.name AS group_name, q.connection_id, c.name AS connection,
       q.unit, q.amount, q.currency, q.period, q.warn_percent, q.admins_exempt,
       hub.quota_period_start_v1(q.period) AS period_start, coalesce(qu.used, 0) AS used,
       coalesce(qu.warned, false) AS warned
FROM hub.quotas q
LEFT JOIN hub.users u ON u.id = q.user_id
LEFT JOIN hub.groups g ON g.id = q.group_id
LEFT JOIN hub.connections c ON c.id = q.connection_id
LEFT JOIN hub.quota_usage qu ON qu.quota_id = q.id AND qu.period_start = hub.quota_period_start_v1(q.period);

-- Cost statistics, kept like hub.stats_daily: triggers append deltas, and
-- hub.cost_rollup_v1() folds them. Only priced messages (a tariff applied)
-- are counted; estimated is what they were expected to cost when queued,
-- cost what the sent ones cost.
CREATE TABLE hub.cost_daily (
    day            date NOT NULL,
    connection_id  bigint NOT NULL,   -- 0: no connection
    owner_user_id  bigint NOT NULL,   -- 0: no owning user
    owner_group_id bigint NOT NULL,   -- 0: no owning group
    channel        text NOT NULL,
    direction      text NOT NULL,
    prefix         text NOT NULL,     -- the tariff's prefix ('' the default)
    currency       text NOT NULL,
    messages       bigint NOT NULL,
    estimated      numeric NOT NULL,
    cost           numeric NOT NULL,
    PRIMARY KEY (day, connection_id, owner_user_id, owner_group_id, channel, direction, prefix, currency)
);

CREATE TABLE hub.cost_deltas (
    day            date NOT NULL,
    connection_id  bigint NOT NULL,
    owner_user_id  bigint NOT NULL,
    owner_group_id bigint NOT NULL,
    channel        text NOT NULL,
    direction      text NOT NULL,
    prefix         text NOT NULL,
    currency       text NOT NULL,
    messages       bigint NOT NULL,
    estimated      numeric NOT NULL,
    cost           numeric NOT NULL
);

CREATE FUNCTION hub.messages_cost_inserted_v1() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO hub.cost_deltas
    SELECT (created_at AT TIME ZONE 'UTC')::date, coalesce(connection_id, 0), coalesce(owner_user_id, 0),
           coalesce(owner_group_id, 0), channel, direction, coalesce(tariff_prefix, ''), currency,
           count(*), coalesce(sum(estimated_cost), 0), coalesce(sum(cost), 0)
    FROM new_rows WHERE currency IS NOT NULL
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
    RETURN NULL;
END
$$;

CREATE FUNCTION hub.messages_cost_updated_v1() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO hub.cost_deltas
    SELECT day, conn, owner, grp, channel, direction, prefix, currency, sum(messages), sum(estimated), sum(cost)
    FROM (
        SELECT (o.created_at AT TIME ZONE 'UTC')::date AS day, coalesce(o.connection_id, 0) AS conn,
               coalesce(o.owner_user_id, 0) AS owner, coalesce(o.owner_group_id, 0) AS grp, o.channel, o.direction,
               coalesce(o.tariff_prefix, '') AS prefix, o.currency,
               -1 AS messages, -coalesce(o.estimated_cost, 0) AS estimated, -coalesce(o.cost, 0) AS cost
        FROM old_rows o JOIN new_rows n ON n.id = o.id
        WHERE o.currency IS NOT NULL
          AND (o.cost, o.estimated_cost, o.connection_id, o.owner_user_id, o.owner_group_id, o.currency)
              IS DISTINCT FROM (n.cost, n.estimated_cost, n.connection_id, n.owner_user_id, n.owner_group_id, n.currency)
        UNION ALL
        SELECT (n.created_at AT TIME ZONE 'UTC')::date, coalesce(n.connection_id, 0), coalesce(n.owner_user_id, 0),
               coalesce(n.owner_group_id, 0), n.channel, n.direction, coalesce(n.tariff_prefix, ''), n.currency,
               1, coalesce(n.estimated_cost, 0), coalesce(n.cost, 0)
        FROM old_rows o JOIN new_rows n ON n.id = o.id
        WHERE n.currency IS NOT NULL
          AND (o.cost, o.estimated_cost, o.connection_id, o.owner_user_id, o.owner_group_id, o.currency)
              IS DISTINCT FROM (n.cost, n.estimated_cost, n.connection_id, n.owner_user_id, n.owner_group_id, n.currency)
    ) d
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
    HAVING sum(messages) <> 0 OR sum(estimated) <> 0 OR sum(cost) <> 0;
    RETURN NULL;
END
$$;

CREATE FUNCTION hub.messages_cost_deleted_v1() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO hub.cost_deltas
    SELECT (created_at AT TIME ZONE 'UTC')::date, coalesce(connection_id, 0), coalesce(owner_user_id, 0),
           coalesce(owner_group_id, 0), channel, direction, coalesce(tariff_prefix, ''), currency,
           -count(*), -coalesce(sum(estimated_cost), 0), -coalesce(sum(cost), 0)
    FROM old_rows WHERE currency IS NOT NULL
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
    RETURN NULL;
END
$$;

CREATE TRIGGER messages_cost_inserted
    AFTER INSERT ON hub.messages REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION hub.messages_cost_inserted_v1();

CREATE TRIGGER messages_cost_updated
    AFTER UPDATE ON hub.messages REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION hub.messages_cost_updated_v1();

CREATE TRIGGER messages_cost_deleted
    AFTER DELETE ON hub.messages REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION hub.messages_cost_deleted_v1();

-- Folds the cost deltas into cost_daily; safe to run concurrently, as
-- hub.stats_rollup_v1 is.
CREATE FUNCTION hub.cost_rollup_v1() RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    v_rows bigint;
BEGIN
    WITH taken AS (
        DELETE FROM hub.cost_deltas RETURNING *
    ), folded AS (
        SELECT day, connection_id, owner_user_id, owner_group_id, channel, direction, prefix, currency,
               sum(messages) AS messages, sum(estimated) AS estimated, sum(cost) AS cost
        FROM taken GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
    )
    INSERT INTO hub.cost_daily AS s
    SELECT * FROM folded
    ON CONFLICT (day, connection_id, owner_user_id, owner_group_id, channel, direction, prefix, currency)
    DO UPDATE SET messages = s.messages + excluded.messages, estimated = s.estimated + excluded.estimated,
                  cost = s.cost + excluded.cost;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    DELETE FROM hub.cost_daily WHERE messages = 0 AND estimated = 0 AND cost = 0;
    RETURN v_rows;
END
$$;

-- Cost by day (UTC), connection, owning user and group, channel, direction,
-- tariff prefix and currency, over the messages the viewer sees: for those
-- who see all, the folded totals plus the deltas not yet folded (exact at
-- every moment, reading small tables); for everyone else, counted from
-- their visible messages (as hub.stats_messages does).
CREATE VIEW hub.stats_costs AS
SELECT s.day, s.connection_id, c.name AS connection, s.owner_user_id, u.username, s.owner_group_id,
       g.name AS group_name, s.channel, s.direction, s.prefix, s.currency, s.messages, s.estimated, s.cost
FROM (
    SELECT day, connection_id, owner_user_id, owner_group_id, channel, direction, prefix, currency,
           sum(messages)::bigint AS messages, sum(estimated) AS estimated, sum(cost) AS cost
    FROM (
        SELECT day, connection_id, owner_user_id, owner_group_id, channel, direction, prefix, currency,
               messages, estimated, cost
        FROM hub.cost_daily
        UNION ALL
        SELECT day, connection_id, owner_user_id, owner_group_id, channel, direction, prefix, currency,
               messages, estimated, cost
        FROM hub.cost_deltas
    ) t
    WHERE (SELECT (hub.viewer_v1()).sees_all)
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
    HAVING sum(messages) <> 0
    UNION ALL
    SELECT (m.created_at AT TIME ZONE 'UTC')::date, coalesce(m.connection_id, 0), coalesce(m.owner_user_id, 0),
           coalesce(m.owner_group_id, 0), m.channel, m.direction, coalesce(m.tariff_prefix, ''), m.currency,
           count(*), coalesce(sum(m.estimated_cost), 0), coalesce(sum(m.cost), 0)
    FROM (
        SELECT created_at, connection_id, owner_user_id, owner_group_id, channel, direction, tariff_prefix, currency,
               estimated_cost, cost
        FROM hub.messages
        WHERE owner_user_id = (SELECT (hub.viewer_v1()).user_id)
        UNION ALL
        SELECT created_at, connection_id, owner_user_id, owner_group_id, channel, direction, tariff_prefix, currency,
               estimated_cost, cost
        FROM hub.messages
        WHERE owner_group_id = ANY ((SELECT (hub.viewer_v1()).groups)::bigint[])
          AND (owner_user_id = (SELECT (hub.viewer_v1()).user_id)) IS NOT TRUE
        UNION ALL
        SELECT created_at, connection_id, owner_user_id, owner_group_id, channel, direction, tariff_prefix, currency,
               estimated_cost, cost
        FROM hub.messages
        WHERE owner_user_id IS NULL AND owner_group_id IS NULL AND (SELECT (hub.viewer_v1()).sees_unassigned)
    ) m
    WHERE NOT (SELECT (hub.viewer_v1()).sees_all) AND m.currency IS NOT NULL
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
) s
LEFT JOIN hub.connections c ON c.id = nullif(s.connection_id, 0)
LEFT JOIN hub.users u ON u.id = nullif(s.owner_user_id, 0)
LEFT JOIN hub.groups g ON g.id = nullif(s.owner_group_id, 0);

-- What a text would cost before it is queued (the compose page): the
-- parts as sent and, for comparison, with transliteration, times the
-- price of the connection it would take.
CREATE FUNCTION hub.estimate_cost_v1(p_channel text, p_recipient text, p_text text, p_connection text, p_bytes bigint,
                                     OUT connection text, OUT parts integer, OUT parts_transliterated integer,
                                     OUT unit_price numeric, OUT currency text, OUT cost numeric,
                                     OUT cost_transliterated numeric)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = hub, pg_catalog AS $$
DECLARE
    v_address text := hub.normalize_address_v1(p_channel, p_recipient);
    v_explicit bigint := (SELECT id FROM hub.connections WHERE name = p_connection);
    v_route record;
    v_price record;
    v_size bigint := coalesce(p_bytes, 0) + octet_length(coalesce(p_text, ''));
BEGIN
    parts := CASE WHEN p_channel = 'sms' THEN hub.sms_parts_v1(coalesce(p_text, ''), false) ELSE 1 END;
    parts_transliterated := CASE WHEN p_channel = 'sms' THEN hub.sms_parts_v1(coalesce(p_text, ''), true) ELSE 1 END;
    IF v_address IS NULL THEN
        RETURN;
    END IF;
    BEGIN
        SELECT * INTO v_route FROM hub.route_v2(p_channel, v_address, hub.viewer_v1(), parts, v_size, v_explicit);
    EXCEPTION WHEN invalid_parameter_value THEN
        RETURN;  -- no route yet: no price to tell
    END;
    connection := (SELECT name FROM hub.connections WHERE id = v_route.connection_id);
    SELECT * INTO v_price FROM hub.tariff_price_v1(v_route.connection_id, p_channel, 'out', v_address, v_size, now());
    IF FOUND THEN
        unit_price := v_price.price;
        currency := v_price.currency;
        cost := v_price.price * parts;
        cost_transliterated := v_price.price * parts_transliterated;
    END IF;
END
$$;

GRANT SELECT, INSERT, UPDATE, DELETE ON hub.tariffs, hub.quotas, hub.quota_usage, hub.cost_daily, hub.cost_deltas,
    hub.quota_status, hub.stats_costs TO msghub_app;
GRANT USAGE, SELECT ON SEQUENCE hub.tariffs_id_seq, hub.quotas_id_seq TO msghub_app;
GRANT SELECT ON hub.stats_costs TO msghub_integrator;

CREATE FUNCTION hub.outbox_accept_v3() RETURNS trigger
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
                                      transliterate, valid_until, send_at, next_attempt_at, correlation_id,
                                      unit_price, currency, tariff_prefix, bill_retries, estimated_cost, route_reason)
            SELECT NEW.channel, 'out', p.connection_id, NEW.sender, ARRAY[p.a],
                   NEW.subject, coalesce(NEW.text, ''), 'queued', v_user, NEW.owner_group_id, v_user, NEW.id,
                   NEW.priority, NEW.delivery_report, NEW.transliterate, NEW.valid_until, NEW.send_at,
                   coalesce(NEW.send_at, now()), NEW.correlation_id,
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

DROP TRIGGER outbox_accept ON hub.outbox;
CREATE TRIGGER outbox_accept
    BEFORE INSERT ON hub.outbox
    FOR EACH ROW EXECUTE FUNCTION hub.outbox_accept_v3();
DROP FUNCTION hub.outbox_accept_v2();
