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

-- What each message was charged against each quota, so that a message the
-- operator never took (failed before it was submitted, cancelled) gives its
-- share back (hub.quota_refund_v1). Rows only where a quota applied.
CREATE TABLE hub.quota_charges (
    message_id   bigint NOT NULL REFERENCES hub.messages (id) ON DELETE CASCADE,
    quota_id     bigint NOT NULL REFERENCES hub.quotas (id) ON DELETE CASCADE,
    period_start date NOT NULL,
    amount       numeric(18, 6) NOT NULL,
    PRIMARY KEY (message_id, quota_id)
);
CREATE INDEX quota_charges_quota ON hub.quota_charges (quota_id);

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
        INSERT INTO hub.quota_charges (message_id, quota_id, period_start, amount)
        SELECT m.id, v_quota.id, v_start, CASE WHEN v_quota.unit = 'messages' THEN 1 ELSE m.estimated_cost END
        FROM hub.messages m
        WHERE m.id = ANY (p_message_ids) AND (v_quota.connection_id IS NULL OR m.connection_id = v_quota.connection_id)
          AND (v_quota.unit = 'messages' OR (m.currency = v_quota.currency AND m.estimated_cost > 0));
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

-- A message that failed before the operator took it (no operator
-- reference: refused, expired, cancelled in the queue) costs nothing, and
-- gives back what it was charged, in the period it was charged in.
CREATE FUNCTION hub.quota_refund_v1() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = hub, pg_catalog AS $$
BEGIN
    WITH given_back AS (
        DELETE FROM hub.quota_charges WHERE message_id = NEW.id RETURNING quota_id, period_start, amount
    )
    UPDATE hub.quota_usage u SET used = greatest(u.used - g.amount, 0)
    FROM given_back g
    WHERE u.quota_id = g.quota_id AND u.period_start = g.period_start;
    RETURN NULL;
END
$$;

CREATE TRIGGER messages_quota_refund
    AFTER UPDATE OF status ON hub.messages
    FOR EACH ROW WHEN (NEW.status = 'failed' AND OLD.status <> 'failed' AND NEW.operator_ref IS NULL)
    EXECUTE FUNCTION hub.quota_refund_v1();

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

GRANT SELECT, INSERT, UPDATE, DELETE ON hub.tariffs, hub.quotas, hub.quota_usage, hub.quota_charges, hub.cost_daily,
    hub.cost_deltas,
    hub.quota_status, hub.stats_costs TO msghub_app;
GRANT USAGE, SELECT ON SEQUENCE hub.tariffs_id_seq, hub.quotas_id_seq TO msghub_app;
GRANT SELECT ON hub.stats_costs TO msghub_integrator;
