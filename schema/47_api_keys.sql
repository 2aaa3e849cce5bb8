-- API keys for the HTTP API (docs/API.md). A key is "mh_<key_id>_<secret>":
-- the key id finds the row, the secret is checked against its SHA-256 (the
-- secret is 256 random bits, so a fast hash is enough: nothing to guess).
-- The whole key is shown once, when it is created; the database never
-- holds it. A request with a key acts as the key's owner, so row-level
-- security and the outbox's checks apply to it as to the owner's web session.
CREATE TABLE hub.api_keys (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key_id        text NOT NULL UNIQUE CONSTRAINT api_keys_key_id_format CHECK (key_id ~ '^[A-Za-z0-9]{8,32}$'),
    secret_sha256 bytea NOT NULL CONSTRAINT api_keys_secret_sha256_length CHECK (length(secret_sha256) = 32),
    name          text NOT NULL CONSTRAINT api_keys_name_not_blank CHECK (btrim(name) <> ''),
    user_id       bigint NOT NULL REFERENCES hub.users (id) ON DELETE CASCADE,
    -- what the key may do: send (POST /api/v1/messages), read (GET),
    -- contacts (write contacts and lists)
    scopes        text[] NOT NULL
                  CONSTRAINT api_keys_scopes_known
                  CHECK (scopes <@ ARRAY['send', 'read', 'contacts']::text[] AND cardinality(scopes) > 0),
    created_by    bigint REFERENCES hub.users (id) ON DELETE SET NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz,
    revoked_at    timestamptz
);

CREATE INDEX api_keys_user ON hub.api_keys (user_id);

-- Admins manage keys and the API looks them up in system mode; a user sees
-- the keys they own.
ALTER TABLE hub.api_keys ENABLE ROW LEVEL SECURITY;
CREATE POLICY visible ON hub.api_keys TO msghub_app
    USING ((SELECT hub.sees_all_v1()) OR user_id = (SELECT (hub.viewer_v1()).user_id)) WITH CHECK (true);
