-- Logins (docs/SECURITY.md, "How logins are protected"): the lockout shared
-- by accounts and by names no account has, the limit per client address,
-- and the one place where a user's sessions end.

-- One more failed login of a name: the count starts again after a day
-- without failures; from p_threshold failures on, the name is locked for
-- 30 s, doubling with each further failure up to 15 minutes. Accounts
-- (hub.users) and unknown names (hub.login_failures) count alike, so a
-- lockout tells nothing about whether the name exists.
CREATE FUNCTION hub.login_backoff_v1(p_failures integer, p_last_failed timestamptz, p_locked_until timestamptz,
                                     p_threshold integer, OUT failures integer, OUT locked_until timestamptz)
LANGUAGE sql STABLE AS $$
    SELECT n.failures,
           CASE WHEN n.failures >= p_threshold
                THEN now() + make_interval(secs => least(900, 2 ^ (n.failures - p_threshold) * 30))
                ELSE p_locked_until END
    FROM (SELECT CASE WHEN p_last_failed IS NULL OR p_last_failed < now() - interval '1 day'
                      THEN 1 ELSE p_failures + 1 END AS failures) n
$$;

-- Failed logins no hub user holds: names the hub does not know ('name',
-- locked like an account would be) and client addresses ('login_address'
-- for the login form, 'api_address' for API keys: failures per window).
-- Rows go a day after their last failure (the scheduler's purge).
CREATE TABLE hub.login_failures (
    scope          text NOT NULL
                   CONSTRAINT login_failures_scope_known CHECK (scope IN ('name', 'login_address', 'api_address')),
    key            text NOT NULL CONSTRAINT login_failures_key_length CHECK (length(key) BETWEEN 1 AND 200),
    failures       integer NOT NULL,
    window_start   timestamptz NOT NULL DEFAULT now(),
    last_failed_at timestamptz NOT NULL DEFAULT now(),
    locked_until   timestamptz,
    PRIMARY KEY (scope, key)
);

CREATE INDEX login_failures_last ON hub.login_failures (last_failed_at);

ALTER TABLE hub.login_failures ENABLE ROW LEVEL SECURITY;
CREATE POLICY system_only ON hub.login_failures TO msghub_app USING ((SELECT hub.sees_all_v1())) WITH CHECK (true);

-- Ends a user's web sessions: the one place for it, called by the trigger
-- below and by the login when a directory no longer gives the user a role.
CREATE FUNCTION hub.end_sessions_v1(p_user_id bigint) RETURNS integer
LANGUAGE sql AS $$
    WITH ended AS (DELETE FROM hub.web_sessions WHERE user_id = p_user_id RETURNING 1)
    SELECT count(*)::integer FROM ended
$$;

CREATE FUNCTION hub.users_end_sessions_v1() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM hub.end_sessions_v1(NEW.id);
    RETURN NULL;
END
$$;

-- A new password, a disabled account or another source of logins ends the
-- user's sessions, whoever changes the row: msghub user passwd, the admin
-- pages, or an UPDATE in SQL. (Role changes need not: each request reads the
-- role afresh; API keys stop with a disabled user, see hub.api_keys.)
CREATE TRIGGER users_end_sessions
    AFTER UPDATE OF password_hash, enabled, auth_source ON hub.users
    FOR EACH ROW
    WHEN (OLD.password_hash IS DISTINCT FROM NEW.password_hash
          OR (OLD.enabled AND NOT NEW.enabled)
          OR OLD.auth_source IS DISTINCT FROM NEW.auth_source)
    EXECUTE FUNCTION hub.users_end_sessions_v1();
