-- Issue 15 (the HTTP API grows): the same as schema/47_api_keys.sql and
-- schema/85_gateway.sql.

-- A key's contacts scope writes contacts and distribution lists.
ALTER TABLE hub.api_keys DROP CONSTRAINT api_keys_scopes_known;
ALTER TABLE hub.api_keys ADD CONSTRAINT api_keys_scopes_known
    CHECK (scopes <@ ARRAY['send', 'read', 'contacts']::text[] AND cardinality(scopes) > 0);

-- The branded forms' texts and channels, edited under Administration → Send forms.
ALTER TABLE hub.send_forms
    ADD COLUMN footer text NOT NULL DEFAULT '',
    ADD COLUMN sent_text text NOT NULL DEFAULT '',
    ADD COLUMN channels text[] NOT NULL DEFAULT '{sms}'
        CONSTRAINT send_forms_channels_known
        CHECK (cardinality(channels) > 0 AND channels <@ ARRAY['sms', 'mms', 'email']::text[]);

-- The parked webhook deliveries, newest first, for Administration → Webhooks.
CREATE INDEX webhook_deliveries_parked ON hub.webhook_deliveries (id) WHERE status = 'parked';
