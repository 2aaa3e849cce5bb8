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
-- identity functions are SECURITY DEFINER themselves: integrators may not
-- read the mapping tables they consult.

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
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = hub, pg_catalog AS $$
    SELECT pg_has_role(session_user, 'msghub_app', 'MEMBER')
$$;

CREATE FUNCTION hub.current_user_id_v1() RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = hub, pg_catalog AS $$
    SELECT CASE WHEN hub.is_app_session_v1()
                THEN nullif(current_setting('msghub.user_id', true), '')::bigint
                ELSE (SELECT user_id FROM hub.integrator_logins WHERE role_name = session_user) END
$$;

-- The groups whose rows the current user sees: their memberships, and for
-- an integrator login mapped to a group, that group.
CREATE FUNCTION hub.my_groups_v1() RETURNS bigint[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = hub, pg_catalog AS $$
    SELECT coalesce(array_agg(g), '{}') FROM (
        SELECT group_id AS g FROM hub.memberships WHERE user_id = hub.current_user_id_v1()
        UNION
        SELECT group_id FROM hub.integrator_logins
        WHERE role_name = session_user AND group_id IS NOT NULL AND NOT hub.is_app_session_v1()
    ) s
$$;

CREATE FUNCTION hub.current_role_v1() RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = hub, pg_catalog AS $$
    SELECT role FROM hub.users WHERE id = hub.current_user_id_v1() AND enabled
$$;

-- Sees every row: the hub's workers, admins, and sessions without any hub
-- identity that asked for it (SET msghub.system = on: the owner or a DBA;
-- integrators cannot, their settings are ignored).
CREATE FUNCTION hub.sees_all_v1() RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = hub, pg_catalog AS $$
    SELECT CASE
        WHEN hub.is_app_session_v1() OR NOT EXISTS (SELECT FROM hub.integrator_logins WHERE role_name = session_user)
        THEN coalesce(current_setting('msghub.system', true), '') = 'on' OR coalesce(hub.current_role_v1() = 'admin', false)
        ELSE coalesce(hub.current_role_v1() = 'admin', false)
    END
$$;

-- The visibility rule of every user-owned row. The sub-selects become
-- init plans: evaluated once per query, not once per row.
CREATE FUNCTION hub.visible_v1(p_owner_user bigint, p_owner_group bigint) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT (SELECT hub.sees_all_v1())
        OR p_owner_user = (SELECT hub.current_user_id_v1())
        OR p_owner_group = ANY ((SELECT hub.my_groups_v1())::bigint[])
        -- unassigned rows wait for someone to take them: operators see them
        OR (p_owner_user IS NULL AND p_owner_group IS NULL AND (SELECT hub.current_role_v1()) = 'operator')
$$;
