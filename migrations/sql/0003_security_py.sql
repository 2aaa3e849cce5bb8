-- Issue 10, the Python side: the same as schema/10_access.sql (hub.users.last_failed_login_at),
-- schema/17_logins.sql and schema/41_rule_limits.sql.

ALTER TABLE hub.users ADD COLUMN last_failed_login_at timestamptz;

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

GRANT SELECT, INSERT, UPDATE, DELETE ON hub.login_failures TO msghub_app;

ALTER TABLE hub.http_requests ADD COLUMN chain_depth integer NOT NULL DEFAULT 0;

-- Limits on what rules set off (docs/RULES.md): HTTP requests per event,
-- per minute and along a chain of requests made on answers, and chains of
-- messages rules send for each other's events. What passes a limit is
-- withheld and a warning logged, as for automatic answers; the rule's other
-- actions still apply.

INSERT INTO hub.settings (key, value, description) VALUES
    ('rule_http_per_event', '10', 'most http.request() calls one rule run makes; more are withheld and logged'),
    ('rule_http_per_minute', '60', 'most http.request() calls one rule makes per minute; more are withheld and logged'),
    ('rule_http_chain_depth', '3',
     'most requests in a chain made on answers (http_response) after the first; more are withheld and logged');

-- Requests per rule and minute, counted by hub.rule_http_allowed_v1.
CREATE UNLOGGED TABLE hub.rule_http_counts (
    rule_id  bigint NOT NULL,
    minute   timestamptz NOT NULL,
    requests integer NOT NULL,
    PRIMARY KEY (rule_id, minute)
);

ALTER TABLE hub.rule_http_counts ENABLE ROW LEVEL SECURITY;
CREATE POLICY system_only ON hub.rule_http_counts TO msghub_app USING ((SELECT hub.sees_all_v1())) WITH CHECK (true);

-- Counts one request of the rule; false once the minute's limit is passed.
CREATE FUNCTION hub.rule_http_allowed_v1(p_rule_id bigint) RETURNS boolean
LANGUAGE sql AS $$
    INSERT INTO hub.rule_http_counts AS c (rule_id, minute, requests)
    VALUES (p_rule_id, date_trunc('minute', now()), 1)
    ON CONFLICT (rule_id, minute) DO UPDATE SET requests = c.requests + 1
    RETURNING requests <= hub.setting_int('rule_http_per_minute')
$$;

-- An http.request() of a rule run: queued in hub.http_requests, or withheld.
-- p_nth: which of the run's requests this is. The chain depth is the asking
-- request's plus one when the run is for an http_response event, else 0.
-- Returns NULL when queued, else the setting that withheld it.
CREATE FUNCTION hub.rule_http_request_v1(p_rule_id bigint, p_event_id bigint, p_message_id bigint, p_method text,
                                         p_url text, p_headers jsonb, p_body text, p_timeout_s real,
                                         p_context jsonb, p_nth integer) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    v_depth integer;
BEGIN
    SELECT r.chain_depth + 1 INTO v_depth
    FROM hub.events e
    JOIN hub.http_requests r ON r.id = CASE WHEN jsonb_typeof(e.payload -> 'request_id') = 'number'
                                            THEN (e.payload ->> 'request_id')::bigint END
    WHERE e.id = p_event_id AND e.type = 'http_response';
    v_depth := coalesce(v_depth, 0);
    IF v_depth > hub.setting_int('rule_http_chain_depth') THEN
        RETURN 'rule_http_chain_depth';
    END IF;
    IF p_nth > hub.setting_int('rule_http_per_event') THEN
        RETURN 'rule_http_per_event';
    END IF;
    IF NOT hub.rule_http_allowed_v1(p_rule_id) THEN
        RETURN 'rule_http_per_minute';
    END IF;
    INSERT INTO hub.http_requests (rule_id, event_id, message_id, method, url, headers, body, timeout_s, context,
                                   chain_depth)
    VALUES (p_rule_id, p_event_id, p_message_id, p_method, p_url, p_headers, p_body, p_timeout_s, p_context, v_depth);
    RETURN NULL;
END
$$;

-- A chain of messages rules sent: a rule that sends on the events of a
-- message a rule sent (message_sent, delivery_report, message_failed) could
-- answer itself for ever. A rule's messages carry 'rule:<name>:event:<id>'
-- in correlation_id, naming the event they were sent for.
INSERT INTO hub.settings (key, value, description) VALUES
    ('rule_send_chain_depth', '3',
     'most messages rules send in a row, each for an event of the one before; more are withheld and logged');

-- How many rule-sent messages lead to and include the one with this
-- correlation id (0: not sent by a rule), counted up to p_limit.
CREATE FUNCTION hub.rule_message_chain_v1(p_correlation_id text, p_limit integer) RETURNS integer
LANGUAGE sql STABLE AS $$
    WITH RECURSIVE chain (depth, correlation_id) AS (
        SELECT 1, p_correlation_id WHERE p_correlation_id ~ '^rule:.*:event:[0-9]{1,18}$'
        UNION ALL
        SELECT c.depth + 1, m.correlation_id
        FROM chain c
        JOIN hub.events e ON e.id = substring(c.correlation_id FROM ':event:([0-9]{1,18})$')::bigint
        JOIN hub.messages m ON m.id = e.message_id
        WHERE c.depth < p_limit AND m.correlation_id ~ '^rule:.*:event:[0-9]{1,18}$'
    )
    SELECT coalesce(max(depth), 0) FROM chain
$$;

GRANT SELECT, INSERT, UPDATE, DELETE ON hub.rule_http_counts TO msghub_app;
