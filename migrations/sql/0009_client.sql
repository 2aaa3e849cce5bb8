-- Issue 18, the web client: the same as the recipient search at the end of schema/46_web.sql.
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
