-- Issue 16: a message that failed before the operator took it gives its
-- quota share back. The same as schema/90_costs.sql.
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

CREATE OR REPLACE FUNCTION hub.quota_charge_v1(p_user bigint, p_group bigint, p_message_ids bigint[])
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

GRANT SELECT, INSERT, UPDATE, DELETE ON hub.quota_charges TO msghub_app;
