-- Named queries of the rule runner (msghub/rules/runner.py, actions.py).

-- name: claim_events
-- Locked until the transaction ends; SKIP LOCKED lets other runners take
-- the next ones. A runner that dies rolls back, and the events are free
-- again. Each event comes with its message (as JSON), in the same round trip.
SELECT e.id, e.type, e.payload, e.created_at, e.message_id,
       c.id AS connection_id, c.name AS connection_name, c.kind AS connection_kind,
       CASE WHEN msg.id IS NULL THEN NULL ELSE to_jsonb(msg) END AS message
FROM hub.events e
LEFT JOIN hub.connections c ON c.id = e.connection_id
LEFT JOIN LATERAL (
    SELECT m.id, m.channel, m.direction, m.sender, m.recipients, m.subject, m.body, m.status,
           m.created_at, m.status_at, m.owner_user_id, m.owner_group_id, m.failure_code, m.failure_reason,
           m.correlation_id, m.meta, m.segments,
           mc.id AS connection_id, mc.name AS connection_name, mc.kind AS connection_kind,
           f.name AS folder,
           coalesce((SELECT jsonb_agg(jsonb_build_object('seq', p.seq, 'content_type', p.content_type,
                                                         'filename', p.filename, 'size', octet_length(p.data))
                                      ORDER BY p.seq)
                     FROM hub.message_parts p WHERE p.message_id = m.id), '[]') AS parts
    FROM hub.messages m
    LEFT JOIN hub.connections mc ON mc.id = m.connection_id
    LEFT JOIN hub.folders f ON f.id = m.folder_id
    WHERE m.id = e.message_id
) msg ON true
WHERE e.done_at IS NULL
ORDER BY e.id
LIMIT %(limit)s
FOR UPDATE OF e SKIP LOCKED;

-- name: finish_events
UPDATE hub.events e
SET done_at = clock_timestamp(), claimed_by = %(node)s, claimed_at = coalesce(e.claimed_at, now()),
    attempts = e.attempts + 1, error = d.error
FROM unnest(%(ids)s::bigint[], %(errors)s::text[]) AS d(id, error)
WHERE e.id = d.id;

-- name: enabled_rules
SELECT id, name, events, source, stop_processing, owner_user_id, owner_group_id
FROM hub.rules
WHERE enabled
ORDER BY position, id;

-- name: rule_log
INSERT INTO hub.rule_log (rule_id, event_id, level, message)
VALUES (%(rule_id)s, %(event_id)s, %(level)s, %(message)s);

-- name: state_get
SELECT value FROM hub.rule_state WHERE rule_id = %(rule_id)s AND key = %(key)s;

-- name: state_set
INSERT INTO hub.rule_state (rule_id, key, value) VALUES (%(rule_id)s, %(key)s, %(value)s)
ON CONFLICT (rule_id, key) DO UPDATE SET value = EXCLUDED.value, updated_at = now();

-- name: state_incr
-- Adds to the stored number in the database, so concurrent runners never
-- lose a count.
INSERT INTO hub.rule_state (rule_id, key, value) VALUES (%(rule_id)s, %(key)s, to_jsonb(%(by)s::numeric))
ON CONFLICT (rule_id, key) DO UPDATE
SET value = to_jsonb(CASE WHEN jsonb_typeof(hub.rule_state.value) = 'number'
                          THEN (hub.rule_state.value)::text::numeric ELSE 0 END + %(by)s::numeric),
    updated_at = now();

-- name: state_add
INSERT INTO hub.rule_state (rule_id, key, value) VALUES (%(rule_id)s, %(key)s, jsonb_build_array(%(member)s::jsonb))
ON CONFLICT (rule_id, key) DO UPDATE
SET value = CASE WHEN jsonb_typeof(hub.rule_state.value) <> 'array' THEN jsonb_build_array(%(member)s::jsonb)
                 -- equality, not @> containment: [1] is not in [[1, 2]]
                 WHEN EXISTS (SELECT FROM jsonb_array_elements(hub.rule_state.value) e WHERE e = %(member)s::jsonb)
                 THEN hub.rule_state.value
                 ELSE hub.rule_state.value || jsonb_build_array(%(member)s::jsonb) END,
    updated_at = now();

-- name: state_delete
DELETE FROM hub.rule_state WHERE rule_id = %(rule_id)s AND key = %(key)s;

-- name: contacts_find
SELECT id, name, phone, email, notes,
       coalesce((SELECT array_agg(l.name ORDER BY l.name) FROM hub.list_members lm JOIN hub.lists l ON l.id = lm.list_id
                 WHERE lm.contact_id = c.id), '{}') AS lists
FROM hub.contacts c
WHERE (%(phone)s::text IS NULL OR c.phone = hub.normalize_phone_v1(%(phone)s))
  AND (%(email)s::text IS NULL OR lower(c.email) = lower(%(email)s))
  AND (%(name)s::text IS NULL OR c.name ILIKE '%%' || %(name)s || '%%')
ORDER BY c.id
LIMIT 50;

-- name: list_members
SELECT c.id, c.name, c.phone, c.email
FROM hub.lists l
JOIN hub.list_members lm ON lm.list_id = l.id
JOIN hub.contacts c ON c.id = lm.contact_id
WHERE l.name = %(list)s
ORDER BY c.id
LIMIT 1000;

-- name: auto_reply
SELECT hub.auto_reply_v2(%(message_id)s, %(text)s, %(channel)s, %(subject)s, %(attachments)s,
                         %(delivery_report)s, %(priority)s::smallint, %(correlation_id)s) AS id;

-- name: send_chain_full
-- whether a message sent for this event's message would pass rule_send_chain_depth
SELECT hub.rule_message_chain_v1(%(correlation_id)s::text, hub.setting_int('rule_send_chain_depth')::integer)
       >= hub.setting_int('rule_send_chain_depth') AS full;

-- name: outbox_insert
INSERT INTO hub.outbox (channel, recipient, recipients, list, sender, subject, text, attachments, connection,
                        send_at, valid_until, delivery_report, priority, correlation_id, created_by, owner_group_id)
VALUES (%(channel)s, %(recipient)s, %(recipients)s, %(list)s, NULL, %(subject)s, %(text)s, %(attachments)s,
        %(connection)s, %(send_at)s, %(valid_until)s, %(delivery_report)s, %(priority)s, %(correlation_id)s,
        %(created_by)s, %(owner_group_id)s);

-- name: folder_find
SELECT id FROM hub.folders
WHERE name = %(name)s
  AND owner_user_id IS NOT DISTINCT FROM %(owner_user_id)s
  AND owner_group_id IS NOT DISTINCT FROM %(owner_group_id)s
ORDER BY id LIMIT 1;

-- name: folder_create
INSERT INTO hub.folders (name, owner_user_id, owner_group_id)
VALUES (%(name)s, %(owner_user_id)s, %(owner_group_id)s)
RETURNING id;

-- name: message_move
UPDATE hub.messages SET folder_id = %(folder_id)s WHERE id = %(message_id)s;

-- name: user_by_name
SELECT id FROM hub.users WHERE username = %(name)s;

-- name: group_by_name
SELECT id FROM hub.groups WHERE name = %(name)s;

-- name: assign
SELECT hub.assign_v2(%(message_id)s, %(user_id)s, %(group_id)s, %(actor)s) AS assigned;

-- name: contact_find_exact
SELECT id FROM hub.contacts
WHERE (%(phone)s::text IS NOT NULL AND phone = %(phone)s)
   OR (%(email)s::text IS NOT NULL AND lower(email) = lower(%(email)s))
ORDER BY id LIMIT 1;

-- name: contact_create
INSERT INTO hub.contacts (name, phone, email, notes) VALUES (%(name)s, %(phone)s, %(email)s, %(notes)s)
RETURNING id;

-- name: list_find_or_create
WITH found AS (SELECT id FROM hub.lists WHERE name = %(name)s ORDER BY id LIMIT 1),
     made AS (INSERT INTO hub.lists (name) SELECT %(name)s WHERE NOT EXISTS (SELECT FROM found) RETURNING id)
SELECT id FROM found UNION ALL SELECT id FROM made;

-- name: list_add_member
INSERT INTO hub.list_members (list_id, contact_id) VALUES (%(list_id)s, %(contact_id)s)
ON CONFLICT DO NOTHING;

-- name: normalize_phone
SELECT hub.normalize_phone_v1(%(phone)s) AS phone;

-- name: http_request
-- queued, or withheld by a limit (its setting's name, else NULL)
SELECT hub.rule_http_request_v1(%(rule_id)s::bigint, %(event_id)s::bigint, %(message_id)s::bigint, %(method)s::text,
                                %(url)s::text, %(headers)s::jsonb, %(body)s::text, %(timeout_s)s::real,
                                %(context)s::jsonb, %(nth)s::integer) AS withheld;

-- name: export_table
SELECT name, table_name, database_url, columns FROM hub.export_tables WHERE name = %(name)s;

-- name: export_write_insert
INSERT INTO hub.export_writes (export_name, rule_id, row_data) VALUES (%(name)s, %(rule_id)s, %(row)s);

-- name: poll_by_name
SELECT p.id, coalesce(jsonb_agg(jsonb_build_object('id', o.id, 'label', o.label, 'keywords', o.keywords)
                                ORDER BY o.position) FILTER (WHERE o.id IS NOT NULL), '[]') AS options
FROM hub.polls p
LEFT JOIN hub.poll_options o ON o.poll_id = p.id
WHERE p.name = %(name)s
GROUP BY p.id;

-- name: poll_vote
SELECT outcome, reply
FROM hub.poll_vote_reply_v1(%(poll_id)s, %(option_id)s, %(message_id)s, %(correlation_id)s);

-- name: poll_vote_alone
-- The same for a rule whose only action is the vote: the function's own
-- subtransaction stands in for the runner's savepoint (two round trips less
-- on the busiest path, an SMS vote).
SELECT outcome, reply, error
FROM hub.poll_vote_reply_safe_v1(%(poll_id)s, %(option_id)s, %(message_id)s, %(correlation_id)s);
