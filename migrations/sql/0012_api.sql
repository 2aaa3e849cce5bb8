-- Issue 15 (the HTTP API grows): the same as schema/47_api_keys.sql and
-- schema/85_gateway.sql.

-- A key's contacts scope writes contacts and distribution lists.
ALTER TABLE hub.api_keys DROP CONSTRAINT api_keys_scopes_known;
ALTER TABLE hub.api_keys ADD CONSTRAINT api_keys_scopes_known
    CHECK (scopes <@ ARRAY['send', 'read', 'contacts']::text[] AND cardinality(scopes) > 0);
