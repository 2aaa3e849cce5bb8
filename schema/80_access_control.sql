-- Access control: who may see and send what. The rule lives in the database
-- so that it holds for the web app, the API and SQL integrators alike.
-- Identity: 15_identity.sql. Policies apply to the role msghub_app, the
-- role every hub process works as; integrators reach messages only through
-- the views and the SECURITY DEFINER functions below.

-- Which connections a user or group may send through. A connection without
-- any grant is open to everyone; admins and the hub itself use any.
CREATE TABLE hub.connection_grants (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    connection_id bigint NOT NULL REFERENCES hub.connections (id) ON DELETE CASCADE,
    user_id       bigint REFERENCES hub.users (id) ON DELETE CASCADE,
    group_id      bigint REFERENCES hub.groups (id) ON DELETE CASCADE,
    CONSTRAINT connection_grants_one_grantee CHECK ((user_id IS NULL) <> (group_id IS NULL)),
    UNIQUE (connection_id, user_id, group_id)
);

CREATE INDEX connection_grants_connection ON hub.connection_grants (connection_id);

-- Every assignment of a message: who, when, from whom to whom.
CREATE TABLE hub.assignments (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id    bigint NOT NULL REFERENCES hub.messages (id) ON DELETE CASCADE,
    at            timestamptz NOT NULL DEFAULT now(),
    by_user_id    bigint REFERENCES hub.users (id) ON DELETE SET NULL,
    by_actor      text NOT NULL,
    from_user_id  bigint REFERENCES hub.users (id) ON DELETE SET NULL,
    from_group_id bigint REFERENCES hub.groups (id) ON DELETE SET NULL,
    to_user_id    bigint REFERENCES hub.users (id) ON DELETE SET NULL,
    to_group_id   bigint REFERENCES hub.groups (id) ON DELETE SET NULL
);

CREATE INDEX assignments_message ON hub.assignments (message_id, at);

CREATE FUNCTION hub.may_use_connection_v1(p_connection_id bigint, p_viewer hub.viewer) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT p_viewer.sees_all
        OR NOT EXISTS (SELECT FROM hub.connection_grants g WHERE g.connection_id = p_connection_id)
        OR EXISTS (SELECT FROM hub.connection_grants g
                   WHERE g.connection_id = p_connection_id
                     AND (g.user_id = p_viewer.user_id OR g.group_id = ANY (p_viewer.groups)))
$$;

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

-- Functions integrators call, or that run for them, work with msghub's own
-- rights; each checks what it needs itself (hub.outbox_accept_v3 is declared
-- SECURITY DEFINER where it is defined).
ALTER FUNCTION hub.import_to_events_v1() SECURITY DEFINER SET search_path = hub, pg_catalog;

CREATE OR REPLACE FUNCTION hub.cancel_v1(p_message_id bigint) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = hub, pg_catalog AS $$
BEGIN
    UPDATE hub.messages
    SET status = 'failed', status_at = clock_timestamp(), failure_code = 'cancelled',
        failure_reason = 'cancelled before sending'
    WHERE id = p_message_id AND status = 'queued' AND hub.visible_v1(owner_user_id, owner_group_id);
    RETURN FOUND;
END
$$;

-- Row-level security. One policy per table for the hub's role: a row is
-- there if its owner is visible; rows hanging off a message inherit the
-- message's visibility (the sub-select is itself subject to its policy).
ALTER TABLE hub.messages ENABLE ROW LEVEL SECURITY;
CREATE POLICY visible ON hub.messages TO msghub_app
    USING (hub.visible_to_v1(owner_user_id, owner_group_id, (SELECT (hub.viewer_v1()).sees_all), (SELECT (hub.viewer_v1()).user_id),
        (SELECT (hub.viewer_v1()).groups), (SELECT (hub.viewer_v1()).sees_unassigned))) WITH CHECK (true);

ALTER TABLE hub.contacts ENABLE ROW LEVEL SECURITY;
CREATE POLICY visible ON hub.contacts TO msghub_app
    USING (hub.visible_to_v1(owner_user_id, owner_group_id, (SELECT (hub.viewer_v1()).sees_all), (SELECT (hub.viewer_v1()).user_id),
        (SELECT (hub.viewer_v1()).groups), (SELECT (hub.viewer_v1()).sees_unassigned))) WITH CHECK (true);

ALTER TABLE hub.lists ENABLE ROW LEVEL SECURITY;
CREATE POLICY visible ON hub.lists TO msghub_app
    USING (hub.visible_to_v1(owner_user_id, owner_group_id, (SELECT (hub.viewer_v1()).sees_all), (SELECT (hub.viewer_v1()).user_id),
        (SELECT (hub.viewer_v1()).groups), (SELECT (hub.viewer_v1()).sees_unassigned))) WITH CHECK (true);

ALTER TABLE hub.folders ENABLE ROW LEVEL SECURITY;
CREATE POLICY visible ON hub.folders TO msghub_app
    USING (hub.visible_to_v1(owner_user_id, owner_group_id, (SELECT (hub.viewer_v1()).sees_all), (SELECT (hub.viewer_v1()).user_id),
        (SELECT (hub.viewer_v1()).groups), (SELECT (hub.viewer_v1()).sees_unassigned))) WITH CHECK (true);

ALTER TABLE hub.rules ENABLE ROW LEVEL SECURITY;
CREATE POLICY visible ON hub.rules TO msghub_app
    USING (hub.visible_to_v1(owner_user_id, owner_group_id, (SELECT (hub.viewer_v1()).sees_all), (SELECT (hub.viewer_v1()).user_id),
        (SELECT (hub.viewer_v1()).groups), (SELECT (hub.viewer_v1()).sees_unassigned))) WITH CHECK (true);

ALTER TABLE hub.outbox ENABLE ROW LEVEL SECURITY;
CREATE POLICY visible ON hub.outbox TO msghub_app, msghub_integrator
    USING (hub.visible_to_v1(created_by, owner_group_id, (SELECT (hub.viewer_v1()).sees_all), (SELECT (hub.viewer_v1()).user_id),
        (SELECT (hub.viewer_v1()).groups), (SELECT (hub.viewer_v1()).sees_unassigned))) WITH CHECK (true);

ALTER TABLE hub.message_parts ENABLE ROW LEVEL SECURITY;
CREATE POLICY visible ON hub.message_parts TO msghub_app
    USING (EXISTS (SELECT FROM hub.messages m WHERE m.id = message_id)) WITH CHECK (true);

ALTER TABLE hub.sms_segments ENABLE ROW LEVEL SECURITY;
CREATE POLICY visible ON hub.sms_segments TO msghub_app
    USING (EXISTS (SELECT FROM hub.messages m WHERE m.id = message_id)) WITH CHECK (true);

ALTER TABLE hub.message_status_log ENABLE ROW LEVEL SECURITY;
CREATE POLICY visible ON hub.message_status_log TO msghub_app
    USING (EXISTS (SELECT FROM hub.messages m WHERE m.id = message_id)) WITH CHECK (true);

ALTER TABLE hub.delivery_reports ENABLE ROW LEVEL SECURITY;
CREATE POLICY visible ON hub.delivery_reports TO msghub_app
    USING ((SELECT hub.sees_all_v1()) OR EXISTS (SELECT FROM hub.messages m WHERE m.id = message_id))
    WITH CHECK (true);

ALTER TABLE hub.assignments ENABLE ROW LEVEL SECURITY;
CREATE POLICY visible ON hub.assignments TO msghub_app
    USING (EXISTS (SELECT FROM hub.messages m WHERE m.id = message_id)) WITH CHECK (true);

ALTER TABLE hub.list_members ENABLE ROW LEVEL SECURITY;
CREATE POLICY visible ON hub.list_members TO msghub_app
    USING (EXISTS (SELECT FROM hub.lists l WHERE l.id = list_id)) WITH CHECK (true);

ALTER TABLE hub.rule_tests ENABLE ROW LEVEL SECURITY;
CREATE POLICY visible ON hub.rule_tests TO msghub_app
    USING (EXISTS (SELECT FROM hub.rules r WHERE r.id = rule_id)) WITH CHECK (true);

ALTER TABLE hub.events ENABLE ROW LEVEL SECURITY;
CREATE POLICY system_only ON hub.events TO msghub_app USING ((SELECT hub.sees_all_v1())) WITH CHECK (true);

ALTER TABLE hub.polls ENABLE ROW LEVEL SECURITY;
CREATE POLICY visible ON hub.polls TO msghub_app
    USING (hub.visible_to_v1(owner_user_id, owner_group_id, (SELECT (hub.viewer_v1()).sees_all), (SELECT (hub.viewer_v1()).user_id),
        (SELECT (hub.viewer_v1()).groups), (SELECT (hub.viewer_v1()).sees_unassigned))) WITH CHECK (true);

ALTER TABLE hub.poll_options ENABLE ROW LEVEL SECURITY;
CREATE POLICY visible ON hub.poll_options TO msghub_app
    USING (EXISTS (SELECT FROM hub.polls p WHERE p.id = poll_id)) WITH CHECK (true);

ALTER TABLE hub.poll_votes ENABLE ROW LEVEL SECURITY;
CREATE POLICY visible ON hub.poll_votes TO msghub_app
    USING (EXISTS (SELECT FROM hub.polls p WHERE p.id = poll_id)) WITH CHECK (true);

-- The runner's own bookkeeping: the hub's system mode only (rule authors
-- read their rule's log through the web UI, which runs in system mode and
-- checks the rule's visibility first).
ALTER TABLE hub.rule_state ENABLE ROW LEVEL SECURITY;
CREATE POLICY system_only ON hub.rule_state TO msghub_app USING ((SELECT hub.sees_all_v1())) WITH CHECK (true);
ALTER TABLE hub.rule_log ENABLE ROW LEVEL SECURITY;
CREATE POLICY system_only ON hub.rule_log TO msghub_app USING ((SELECT hub.sees_all_v1())) WITH CHECK (true);
ALTER TABLE hub.http_requests ENABLE ROW LEVEL SECURITY;
CREATE POLICY system_only ON hub.http_requests TO msghub_app USING ((SELECT hub.sees_all_v1())) WITH CHECK (true);
ALTER TABLE hub.export_tables ENABLE ROW LEVEL SECURITY;
CREATE POLICY system_only ON hub.export_tables TO msghub_app USING ((SELECT hub.sees_all_v1())) WITH CHECK (true);
ALTER TABLE hub.export_writes ENABLE ROW LEVEL SECURITY;
CREATE POLICY system_only ON hub.export_writes TO msghub_app USING ((SELECT hub.sees_all_v1())) WITH CHECK (true);
ALTER TABLE hub.import_sources ENABLE ROW LEVEL SECURITY;
CREATE POLICY system_only ON hub.import_sources TO msghub_app USING ((SELECT hub.sees_all_v1())) WITH CHECK (true);
ALTER TABLE hub.schedules ENABLE ROW LEVEL SECURITY;
CREATE POLICY system_only ON hub.schedules TO msghub_app USING ((SELECT hub.sees_all_v1())) WITH CHECK (true);

ALTER TABLE hub.audit_log ENABLE ROW LEVEL SECURITY;
CREATE POLICY system_only ON hub.audit_log TO msghub_app USING ((SELECT hub.sees_all_v1())) WITH CHECK (true);

-- Privileges. The hub's role works with every table; policies above limit
-- the rows. Integrators read the views, queue through hub.outbox, hand data
-- over through hub.import, and cancel and assign through functions.
GRANT USAGE ON SCHEMA hub TO msghub_app, msghub_integrator;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA hub TO msghub_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA hub TO msghub_app;
GRANT SELECT ON hub.inbox, hub.message_status, hub.stats_messages, hub.stats_by_connection_day,
    hub.stats_by_user_day, hub.poll_results TO msghub_integrator;
GRANT INSERT ON hub.outbox, hub.import TO msghub_integrator;
GRANT SELECT (id, channel, recipients, list_id, message_count, idempotency_key, correlation_id, created_at)
    ON hub.outbox TO msghub_integrator;
GRANT SELECT (id, topic, created_at) ON hub.import TO msghub_integrator;
