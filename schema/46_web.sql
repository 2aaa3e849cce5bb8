-- What the web UI needs beyond the messages themselves: a change feed for
-- live pages, and indexes for folder pages and full-text search.

-- One row per change a person would see on a page: a message received or
-- queued, a status change (except the queue's claim), an assignment, a move
-- to another folder. Written by the message triggers (45_message_triggers.sql)
-- one statement per batch. Rows older than a day are deleted by
-- hub.message_changes_prune_v1().
--
-- Readers page through it by transaction id, not by row id: ids are handed
-- out before commit, so a row with a lower id can become visible after one
-- with a higher id. A reader takes the rows with xid >= its watermark and
-- xid < the xmin of its snapshot (every transaction below xmin has ended),
-- then moves the watermark to that xmin. The watermark is the SSE event id:
-- a browser that reconnects with Last-Event-ID gets every change it missed.
CREATE TABLE hub.message_changes (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id          bigint NOT NULL,
    kind                text NOT NULL
                        CONSTRAINT message_changes_kind_known
                        CHECK (kind IN ('received', 'queued', 'status', 'assigned', 'moved')),
    -- the owners after the change and before it: a message assigned away
    -- must leave the old owner's open view too
    owner_user_id       bigint,
    owner_group_id      bigint,
    prev_owner_user_id  bigint,
    prev_owner_group_id bigint,
    xid                 xid8 NOT NULL DEFAULT pg_current_xact_id(),
    at                  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX message_changes_xid ON hub.message_changes (xid);
CREATE INDEX message_changes_at ON hub.message_changes (at);

CREATE FUNCTION hub.message_changes_prune_v1(p_keep interval DEFAULT '1 day') RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    v_rows bigint;
BEGIN
    DELETE FROM hub.message_changes WHERE at < now() - p_keep;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    RETURN v_rows;
END
$$;

-- The text that search looks at: subject and body, split into words without
-- stemming (messages come in every language).
CREATE FUNCTION hub.message_document_v1(p_subject text, p_body text) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT to_tsvector('simple'::regconfig, coalesce(p_subject, '') || ' ' || coalesce(p_body, ''))
$$;

-- What a person typed into the search box: every word must occur, as a
-- word or the start of one ("hel wor" finds "hello world").
CREATE FUNCTION hub.message_query_v1(p_text text) RETURNS tsquery
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(to_tsquery('simple'::regconfig,
                               string_agg(quote_literal(w) || ':*', ' & ')), ''::tsquery)
    FROM (SELECT lexeme AS w FROM unnest(to_tsvector('simple'::regconfig, coalesce(p_text, '')))) words
$$;

CREATE INDEX messages_search ON hub.messages USING gin (hub.message_document_v1(subject, body));

-- Folder pages: newest first, a page at a time (keyset on id).
CREATE INDEX messages_web_inbox ON hub.messages (id) WHERE direction = 'in' AND folder_id IS NULL;
CREATE INDEX messages_web_out ON hub.messages (status, id) WHERE direction = 'out' AND folder_id IS NULL;
CREATE INDEX messages_web_folder ON hub.messages (folder_id, id) WHERE folder_id IS NOT NULL;
-- ... and per owner, for users who see a small part of the table
CREATE INDEX messages_web_owner_user ON hub.messages (owner_user_id, id) WHERE owner_user_id IS NOT NULL;
CREATE INDEX messages_web_owner_group ON hub.messages (owner_group_id, id) WHERE owner_group_id IS NOT NULL;
CREATE INDEX messages_web_unassigned ON hub.messages (id) WHERE owner_user_id IS NULL AND owner_group_id IS NULL;

-- One page of a message list for the current viewer: the ids, newest
-- first, below p_before (NULL: the first page), matching p_q ('' for all).
-- p_view: 'inbox', 'outbox', 'sent', 'failed', 'folder' (p_folder_id) or
-- 'all' (search).
--
-- Why a function: row-level security must run its policy before any
-- operator that is not LEAKPROOF, and text search's @@ is not, so under the
-- policy PostgreSQL cannot use the search index at all. This function runs
-- as the table owner and applies the same rule as the policy
-- (hub.visible_to_v1) itself, one branch per way of seeing a message (own,
-- through a group, unassigned), each of which an index serves in id order.
-- Searching, the planner cannot tell how common a word typed so far is
-- (the search matches word starts, and it guesses 2% for a prefix), so
-- this function looks it up in the statistics of the search index: when
-- every word is common (3% of messages or more) the newest
-- messages are read in id order until a page is full; otherwise the search
-- index finds the few matches (index scans in id order are turned off for
-- that statement). The caller reads the rows themselves under row-level
-- security.
CREATE FUNCTION hub.web_message_ids_v1(p_view text, p_folder_id bigint, p_q text, p_before bigint, p_limit integer)
RETURNS SETOF bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = hub, pg_catalog AS $$
DECLARE
    v hub.viewer := hub.viewer_v1();
    v_where text;
    v_branch text;
    v_sql text;
    v_rarest double precision;
    v_indexscan text := current_setting('enable_indexscan');
BEGIN
    v_where := CASE p_view
        WHEN 'inbox' THEN $w$m.direction = 'in' AND m.folder_id IS NULL$w$
        WHEN 'outbox' THEN $w$m.direction = 'out' AND m.folder_id IS NULL AND m.status IN ('queued', 'sending')$w$
        WHEN 'sent' THEN $w$m.direction = 'out' AND m.folder_id IS NULL AND m.status IN ('sent', 'delivered')$w$
        WHEN 'failed' THEN $w$m.direction = 'out' AND m.folder_id IS NULL AND m.status = 'failed'$w$
        WHEN 'folder' THEN $w$m.folder_id = $1$w$
        WHEN 'all' THEN 'true'
    END;
    IF v_where IS NULL THEN
        RAISE EXCEPTION 'unknown message view %', p_view USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_where := v_where || $w$ AND ($2 = '' OR hub.message_document_v1(m.subject, m.body) @@ hub.message_query_v1($2))
        AND ($3::bigint IS NULL OR m.id < $3)$w$;
    v_branch := 'SELECT m.id FROM hub.messages m WHERE ' || v_where || ' AND %s ORDER BY m.id DESC LIMIT $4';
    IF v.sees_all THEN
        v_sql := format(v_branch, 'true');
    ELSE
        v_sql := '(' || format(v_branch, 'm.owner_user_id = $5') || ')';
        IF cardinality(v.groups) > 0 THEN
            v_sql := v_sql || ' UNION ALL (' || format(v_branch,
                'm.owner_group_id = ANY ($6) AND m.owner_user_id IS DISTINCT FROM $5') || ')';
        END IF;
        IF v.sees_unassigned THEN
            v_sql := v_sql || ' UNION ALL (' || format(v_branch,
                'm.owner_user_id IS NULL AND m.owner_group_id IS NULL') || ')';
        END IF;
        v_sql := 'SELECT id FROM (' || v_sql || ') b ORDER BY id DESC LIMIT $4';
    END IF;
    IF coalesce(p_q, '') <> '' THEN
        -- how common the rarest word is: the summed frequencies of the
        -- index's most common lexemes that start with it (0: none do)
        SELECT min(coalesce((SELECT sum(e.freq) FROM unnest(st.elems, st.freqs) AS e(elem, freq)
                             WHERE left(e.elem, length(w.lexeme)) = w.lexeme), 0))
        INTO v_rarest
        FROM unnest(to_tsvector('simple'::regconfig, p_q)) AS w
        LEFT JOIN (SELECT s.most_common_elems::text::text[] AS elems, s.most_common_elem_freqs AS freqs
                   FROM pg_stats s WHERE s.schemaname = 'hub' AND s.tablename = 'messages_search') st ON true;
        IF coalesce(v_rarest, 0) < 0.03 THEN
            PERFORM set_config('enable_indexscan', 'off', true);
        END IF;
    END IF;
    RETURN QUERY EXECUTE v_sql USING p_folder_id, coalesce(p_q, ''), p_before, p_limit, v.user_id, v.groups;
    PERFORM set_config('enable_indexscan', v_indexscan, true);
END
$$;

-- For the web app only (integrators read hub.inbox; the function applies
-- the same rule, this is belt and braces).
REVOKE EXECUTE ON FUNCTION hub.web_message_ids_v1(text, bigint, text, bigint, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION hub.web_message_ids_v1(text, bigint, text, bigint, integer) TO msghub_app;

ALTER TABLE hub.message_changes ENABLE ROW LEVEL SECURITY;
CREATE POLICY visible ON hub.message_changes TO msghub_app
    USING (hub.visible_to_v1(owner_user_id, owner_group_id, (SELECT (hub.viewer_v1()).sees_all),
               (SELECT (hub.viewer_v1()).user_id), (SELECT (hub.viewer_v1()).groups),
               (SELECT (hub.viewer_v1()).sees_unassigned))
           OR hub.visible_to_v1(prev_owner_user_id, prev_owner_group_id, (SELECT (hub.viewer_v1()).sees_all),
               (SELECT (hub.viewer_v1()).user_id), (SELECT (hub.viewer_v1()).groups),
               (SELECT (hub.viewer_v1()).sees_unassigned)))
    WITH CHECK (true);

-- The compose page's recipient search (issue 18): prefixes of a contact's
-- name, e-mail address or number, and of a list's name, found through these
-- indexes in key order, so that a keystroke reads a page of rows whatever the
-- size of the address book (tests/web/test_recipients.py checks the plan).
-- In the "C" collation a btree serves both LIKE 'prefix%' and the order.
CREATE INDEX contacts_name_search ON hub.contacts ((lower(name) COLLATE "C"), id);
CREATE INDEX contacts_email_search ON hub.contacts ((lower(email) COLLATE "C"), id);
CREATE INDEX contacts_phone_search ON hub.contacts ((phone COLLATE "C"), id);
CREATE INDEX lists_name_search ON hub.lists ((lower(name) COLLATE "C"), id);

-- The suggestions themselves: contacts whose name (after the keyset
-- p_after_name, p_after_id), e-mail address or number (p_phone, already
-- without spaces) starts with p_q, and lists whose name does, at most
-- p_limit of each, for the current viewer. A contact without an address for
-- p_channel is left out. Why a function: as for hub.web_message_ids_v1, LIKE
-- is not LEAKPROOF, so under the policy the indexes could only give the order,
-- never the range; this runs as the owner and applies the policy's rule
-- (hub.visible_to_v1) itself. EXECUTE plans with the pattern's value, which
-- is what turns LIKE 'abc%' into an index range.
CREATE FUNCTION hub.recipient_search_v1(p_q text, p_phone text, p_channel text, p_after_name text,
                                        p_after_id bigint, p_limit integer)
RETURNS TABLE (kind text, id bigint, name text, address text, sort_key text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = hub, pg_catalog AS $$
DECLARE
    v hub.viewer := hub.viewer_v1();
    v_pattern text := replace(replace(replace(lower(p_q), '\', '\\'), '%', '\%'), '_', '\_') || '%';
    v_phone text := replace(replace(replace(p_phone, '\', '\\'), '%', '\%'), '_', '\_') || '%';
BEGIN
    RETURN QUERY EXECUTE $q$
    (SELECT 'contact'::text, c.id, c.name,
            CASE $3 WHEN 'email' THEN c.email WHEN 'sms' THEN c.phone ELSE coalesce(c.phone, c.email) END,
            (lower(c.name) COLLATE "C")::text
     FROM hub.contacts c
     WHERE lower(c.name) COLLATE "C" LIKE $1
       AND (lower(c.name) COLLATE "C", c.id) > ($4 COLLATE "C", $5)
       AND CASE $3 WHEN 'email' THEN c.email WHEN 'sms' THEN c.phone ELSE coalesce(c.phone, c.email) END IS NOT NULL
       AND hub.visible_to_v1(c.owner_user_id, c.owner_group_id, $7, $8, $9, $10)
     ORDER BY lower(c.name) COLLATE "C", c.id LIMIT $6)
    UNION ALL
    (SELECT 'contact', c.id, c.name, c.email, (lower(c.email) COLLATE "C")::text
     FROM hub.contacts c
     WHERE $3 <> 'sms' AND $5 = 0 AND lower(c.email) COLLATE "C" LIKE $1
       AND hub.visible_to_v1(c.owner_user_id, c.owner_group_id, $7, $8, $9, $10)
     ORDER BY lower(c.email) COLLATE "C", c.id LIMIT $6)
    UNION ALL
    (SELECT 'contact', c.id, c.name, c.phone, (c.phone COLLATE "C")::text
     FROM hub.contacts c
     WHERE $3 <> 'email' AND $5 = 0 AND $2 <> '%' AND c.phone COLLATE "C" LIKE $2
       AND hub.visible_to_v1(c.owner_user_id, c.owner_group_id, $7, $8, $9, $10)
     ORDER BY c.phone COLLATE "C", c.id LIMIT $6)
    UNION ALL
    (SELECT 'list', l.id, l.name, NULL::text, (lower(l.name) COLLATE "C")::text
     FROM hub.lists l
     WHERE $5 = 0 AND lower(l.name) COLLATE "C" LIKE $1
       AND hub.visible_to_v1(l.owner_user_id, l.owner_group_id, $7, $8, $9, $10)
     ORDER BY lower(l.name) COLLATE "C", l.id LIMIT $6)
    $q$ USING v_pattern, v_phone, p_channel, coalesce(p_after_name, ''), coalesce(p_after_id, 0), p_limit,
              v.sees_all, v.user_id, v.groups, v.sees_unassigned;
END
$$;
