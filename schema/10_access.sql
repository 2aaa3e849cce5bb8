-- People: users, groups, memberships, roles. Every user-owned row elsewhere
-- carries owner_user_id / owner_group_id so row-level security can key on it.

CREATE TABLE hub.roles (
    name        text PRIMARY KEY,
    description text NOT NULL
);

INSERT INTO hub.roles (name, description) VALUES
    ('admin', 'everything'),
    ('operator', 'the messages of their groups, and connection status'),
    ('user', 'their own and their groups'' messages, contacts, folders and rules'),
    ('integrator', 'SQL and API access as a named hub user');

CREATE TABLE hub.users (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username        text NOT NULL UNIQUE
                    CONSTRAINT users_username_format CHECK (username ~ '^[A-Za-z0-9_.@-]{1,64}$'),
    display_name    text NOT NULL DEFAULT '',
    email           text,
    role            text NOT NULL DEFAULT 'user' REFERENCES hub.roles (name),
    -- argon2 hash; NULL for accounts that authenticate elsewhere (PAM, LDAP)
    password_hash   text CONSTRAINT users_password_hash_argon2 CHECK (password_hash LIKE '$argon2%'),
    auth_source     text NOT NULL DEFAULT 'local'
                    CONSTRAINT users_auth_source CHECK (auth_source IN ('local', 'pam', 'ldap')),
    enabled         boolean NOT NULL DEFAULT true,
    failed_logins   integer NOT NULL DEFAULT 0,
    locked_until    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_login_at   timestamptz,
    -- failures a day apart start counting again (hub.login_backoff_v1)
    last_failed_login_at timestamptz
);

CREATE TABLE hub.groups (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL UNIQUE CONSTRAINT groups_name_not_blank CHECK (btrim(name) <> ''),
    description text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE hub.memberships (
    user_id  bigint NOT NULL REFERENCES hub.users (id) ON DELETE CASCADE,
    group_id bigint NOT NULL REFERENCES hub.groups (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, group_id)
);

CREATE INDEX memberships_group ON hub.memberships (group_id);

-- Browser sessions of the web app. The cookie carries a random token; only
-- its SHA-256 is stored, so a leaked table does not leak sessions.
CREATE TABLE hub.web_sessions (
    token_sha256 bytea PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES hub.users (id) ON DELETE CASCADE,
    csrf_token   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);

CREATE INDEX web_sessions_user ON hub.web_sessions (user_id);

CREATE TABLE hub.audit_log (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at            timestamptz NOT NULL DEFAULT now(),
    actor_user_id bigint REFERENCES hub.users (id) ON DELETE SET NULL,
    actor         text NOT NULL,
    action        text NOT NULL,
    target        text,
    detail        jsonb NOT NULL DEFAULT '{}',
    source        text
);

CREATE INDEX audit_log_at ON hub.audit_log (at);
