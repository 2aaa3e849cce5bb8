-- Who is asking: the hub user of the current transaction, for row-level
-- security (policies in 80_access_control.sql) and for the views.
--
-- Three kinds of session:
--   * the hub's own processes: members of role msghub_app. Their connections
--     run as msghub_app (SET ROLE) and say who they act for per transaction:
--     msghub.user_id (a web request) or msghub.system = on (the workers).
--   * integrators: database logins mapped to a hub user or group in
--     hub.integrator_logins. Settings they set themselves are ignored.
--   * anyone else (the schema owner, a DBA): no hub identity, so the views
--     show nothing unless they SET msghub.system = on.
-- Everything keys on session_user, which SECURITY DEFINER functions do not
-- change, so the outbox trigger sees the same identity as its caller. The
-- viewer function is SECURITY DEFINER: integrators may not read the
-- mapping tables it consults.

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'msghub_app') THEN
        CREATE ROLE msghub_app NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'msghub_integrator') THEN
        CREATE ROLE msghub_integrator NOLOGIN;
    END IF;
    -- whoever migrates runs the hub too unless told otherwise: let them
    -- SET ROLE msghub_app (superusers may already)
    IF NOT pg_has_role(current_user, 'msghub_app', 'MEMBER') THEN
        EXECUTE format('GRANT msghub_app TO %I', current_user);
    END IF;
END
$$;

CREATE TABLE hub.integrator_logins (
    role_name  text PRIMARY KEY,
    user_id    bigint REFERENCES hub.users (id) ON DELETE CASCADE,
    group_id   bigint REFERENCES hub.groups (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT integrator_logins_maps_to_someone CHECK (user_id IS NOT NULL OR group_id IS NOT NULL)
);

CREATE FUNCTION hub.is_app_session_v1() RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT pg_has_role(session_user, 'msghub_app', 'MEMBER')
$$;

-- Everything the visibility rule needs to know about the current session,
-- in one call with cached plans.
CREATE TYPE hub.viewer AS (sees_all boolean, user_id bigint, groups bigint[], sees_unassigned boolean);

CREATE FUNCTION hub.viewer_v1() RETURNS hub.viewer
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = hub, pg_catalog AS $$
DECLARE
    v_app boolean := pg_has_role(session_user, 'msghub_app', 'MEMBER');
    v_user bigint;
    v_group bigint;
    v_integrator boolean := false;
    v_role text;
    v_groups bigint[];
BEGIN
    IF v_app AND current_setting('msghub.system', true) = 'on' THEN
        -- the hub's workers, on the queue's hot path: no lookups needed
        RETURN ROW(true, NULL, '{}', false)::hub.viewer;
    END IF;
    IF v_app THEN
        v_user := nullif(current_setting('msghub.user_id', true), '')::bigint;
    ELSE
        SELECT user_id, group_id INTO v_user, v_group FROM hub.integrator_logins WHERE role_name = session_user;
        v_integrator := FOUND;
    END IF;
    SELECT role INTO v_role FROM hub.users WHERE id = v_user AND enabled;
    IF NOT FOUND THEN
        v_user := NULL;  -- a disabled user acts for no one: not even their own rows
    END IF;
    SELECT coalesce(array_agg(group_id), '{}') INTO v_groups FROM hub.memberships WHERE user_id = v_user;
    IF v_group IS NOT NULL THEN
        v_groups := v_groups || v_group;
    END IF;
    RETURN ROW(coalesce(v_role = 'admin', false)
                   OR (NOT v_integrator AND coalesce(current_setting('msghub.system', true), '') = 'on'),
               v_user, v_groups, coalesce(v_role = 'operator', false))::hub.viewer;
END
$$;

-- Whether the session names a hub user who is disabled (a web session left
-- over, an integrator login mapped to them): the viewer then acts for no
-- one, and hub.outbox says why it refuses instead of failing on a policy.
CREATE FUNCTION hub.session_user_disabled_v1() RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = hub, pg_catalog AS $$
    SELECT EXISTS (
        SELECT FROM hub.users
        WHERE NOT enabled
          AND id = CASE WHEN pg_has_role(session_user, 'msghub_app', 'MEMBER')
                        THEN nullif(current_setting('msghub.user_id', true), '')::bigint
                        ELSE (SELECT user_id FROM hub.integrator_logins WHERE role_name = session_user) END)
$$;

-- Projections of the viewer, for functions and triggers.
CREATE FUNCTION hub.current_user_id_v1() RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT (hub.viewer_v1()).user_id
$$;

-- The groups whose rows the current user sees: their memberships, and for
-- an integrator login mapped to a group, that group.
CREATE FUNCTION hub.my_groups_v1() RETURNS bigint[]
LANGUAGE sql STABLE AS $$
    SELECT (hub.viewer_v1()).groups
$$;

-- Sees every row: the hub's workers (msghub.system = on), admins, and
-- sessions without any hub identity that asked for it (the owner or a
-- DBA); integrators cannot, their settings are ignored.
CREATE FUNCTION hub.sees_all_v1() RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT (hub.viewer_v1()).sees_all
$$;

-- The visibility rule of every user-owned row: its owner is the viewer or
-- one of the viewer's groups; unassigned rows wait for an operator to take
-- them. Policies and views call it as
--   hub.visible_to_v1(owner_user_id, owner_group_id, (SELECT (hub.viewer_v1()).sees_all),
--       (SELECT (hub.viewer_v1()).user_id), (SELECT (hub.viewer_v1()).groups),
--       (SELECT (hub.viewer_v1()).sees_unassigned))
-- so that the planner inlines this plain expression and turns each
-- sub-select into an init plan, run once per query rather than per row. (A
-- function whose own body holds sub-selects is never inlined.)
CREATE FUNCTION hub.visible_to_v1(p_owner_user bigint, p_owner_group bigint, p_sees_all boolean,
                                  p_user bigint, p_groups bigint[], p_sees_unassigned boolean) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT p_sees_all
        OR p_owner_user = p_user
        OR p_owner_group = ANY (p_groups)
        OR (p_owner_user IS NULL AND p_owner_group IS NULL AND p_sees_unassigned)
$$;

-- The same rule for one row at a time, for functions (not for policies:
-- it asks who the viewer is on every call).
CREATE FUNCTION hub.visible_v1(p_owner_user bigint, p_owner_group bigint) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT hub.visible_to_v1(p_owner_user, p_owner_group, v.sees_all, v.user_id, v.groups, v.sees_unassigned)
    FROM hub.viewer_v1() v
$$;
