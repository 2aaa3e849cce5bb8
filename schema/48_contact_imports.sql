-- Contact imports from CSV and vCard files (msghub/hub/contacts_io.py). The
-- web app stores the upload and works through it in the background, in
-- batches; each batch commits its contacts and its progress here, so the
-- page shows how far it is and a person can leave and come back.
CREATE TABLE hub.contact_imports (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id        bigint NOT NULL REFERENCES hub.users (id) ON DELETE CASCADE,
    -- who the imported contacts belong to
    owner_user_id  bigint REFERENCES hub.users (id) ON DELETE CASCADE,
    owner_group_id bigint REFERENCES hub.groups (id) ON DELETE CASCADE,
    filename       text NOT NULL,
    format         text NOT NULL CONSTRAINT contact_imports_format_known CHECK (format IN ('csv', 'vcard')),
    on_duplicate   text NOT NULL CONSTRAINT contact_imports_on_duplicate_known CHECK (on_duplicate IN ('update', 'skip')),
    state          text NOT NULL DEFAULT 'running'
                   CONSTRAINT contact_imports_state_known CHECK (state IN ('running', 'done', 'failed')),
    bytes_total    bigint NOT NULL DEFAULT 0,
    bytes_done     bigint NOT NULL DEFAULT 0,
    created        integer NOT NULL DEFAULT 0,
    updated        integer NOT NULL DEFAULT 0,
    skipped        integer NOT NULL DEFAULT 0,
    error_count    integer NOT NULL DEFAULT 0,
    -- the first problems, as "line 14: phone '+12ab' is not a phone number"
    errors         text[] NOT NULL DEFAULT '{}',
    -- why the whole import stopped, when it did
    failure        text,
    started_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    finished_at    timestamptz
);

CREATE INDEX contact_imports_user ON hub.contact_imports (user_id, id);

-- Duplicates are found by phone (contacts_phone) or by e-mail, case-insensitively.
CREATE INDEX contacts_email_lower ON hub.contacts (lower(email));

-- The existing contact of an owner for each incoming phone / e-mail (lower
-- case): same phone, or same e-mail ignoring case; the oldest when several
-- match. SECURITY DEFINER because under row-level security a lookup by
-- lower(email) cannot use the index (lower() is not leakproof, so the
-- policy's check runs first, row by row); it checks itself that the caller
-- may see the owner's rows.
CREATE FUNCTION hub.contacts_matching_v1(p_owner_user bigint, p_owner_group bigint, p_phones text[], p_emails text[])
RETURNS TABLE (seq bigint, id bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = hub, pg_catalog AS $$
DECLARE
    v_viewer hub.viewer := hub.viewer_v1();
BEGIN
    IF NOT hub.visible_to_v1(p_owner_user, p_owner_group, v_viewer.sees_all, v_viewer.user_id, v_viewer.groups,
                             v_viewer.sees_unassigned) THEN
        RAISE EXCEPTION 'you may not import contacts for this owner' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN QUERY
    SELECT i.seq, m.id
    FROM unnest(p_phones, p_emails) WITH ORDINALITY AS i(phone, email, seq)
    CROSS JOIN LATERAL (
        SELECT min(u.id) AS id FROM (
            SELECT c.id FROM hub.contacts c
            WHERE i.phone IS NOT NULL AND c.phone = i.phone
              AND c.owner_user_id IS NOT DISTINCT FROM p_owner_user
              AND c.owner_group_id IS NOT DISTINCT FROM p_owner_group
            UNION ALL
            SELECT c.id FROM hub.contacts c
            WHERE i.email IS NOT NULL AND lower(c.email) = i.email
              AND c.owner_user_id IS NOT DISTINCT FROM p_owner_user
              AND c.owner_group_id IS NOT DISTINCT FROM p_owner_group
        ) u
    ) m
    WHERE m.id IS NOT NULL;
END
$$;

-- For the web app's contact import only.
REVOKE EXECUTE ON FUNCTION hub.contacts_matching_v1(bigint, bigint, text[], text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION hub.contacts_matching_v1(bigint, bigint, text[], text[]) TO msghub_app;

ALTER TABLE hub.contact_imports ENABLE ROW LEVEL SECURITY;
CREATE POLICY visible ON hub.contact_imports TO msghub_app
    USING ((SELECT hub.sees_all_v1()) OR user_id = (SELECT (hub.viewer_v1()).user_id)) WITH CHECK (true);
