-- Queries of the contacts, connections, statistics, admin and API pages.
-- Contacts and lists run as the signed-in user (row-level security decides
-- what they see); admin queries run after the page checked the role.

-- ---------------------------------------------------------------- contacts

-- name: contacts_page
-- One page of the visible contacts ordered by name, filtered by q (any of
-- name, phone, e-mail, notes), after the keyset (after_name, after_id).
SELECT c.id, c.name, c.phone, c.email, c.notes, c.owner_user_id, c.owner_group_id, g.name AS group_name,
       u.username AS owner_username
FROM hub.contacts c
LEFT JOIN hub.groups g ON g.id = c.owner_group_id
LEFT JOIN hub.users u ON u.id = c.owner_user_id
WHERE (%(q)s = '' OR c.name ILIKE %(pattern)s OR c.phone ILIKE %(pattern)s OR c.email ILIKE %(pattern)s
       OR c.notes ILIKE %(pattern)s)
  AND (%(after_id)s::bigint IS NULL OR (lower(c.name), c.id) > (lower(%(after_name)s::text), %(after_id)s::bigint))
ORDER BY lower(c.name), c.id
LIMIT %(limit)s

-- name: contact_by_id
SELECT c.id, c.name, c.phone, c.email, c.notes, c.owner_user_id, c.owner_group_id, c.created_at, c.updated_at,
       g.name AS group_name
FROM hub.contacts c LEFT JOIN hub.groups g ON g.id = c.owner_group_id
WHERE c.id = %(id)s

-- name: contact_insert
INSERT INTO hub.contacts (name, phone, email, notes, owner_user_id, owner_group_id)
VALUES (%(name)s, %(phone)s, %(email)s, %(notes)s, %(owner_user_id)s, %(owner_group_id)s)
RETURNING id

-- name: contact_update
UPDATE hub.contacts
SET name = %(name)s, phone = %(phone)s, email = %(email)s, notes = %(notes)s,
    owner_user_id = %(owner_user_id)s, owner_group_id = %(owner_group_id)s, updated_at = now()
WHERE id = %(id)s
RETURNING id

-- name: contact_delete
DELETE FROM hub.contacts WHERE id = %(id)s RETURNING id

-- name: contact_list_ids
SELECT lm.list_id FROM hub.list_members lm JOIN hub.lists l ON l.id = lm.list_id WHERE lm.contact_id = %(id)s

-- name: contact_set_lists
-- Makes the contact a member of exactly these visible lists (others it is in
-- and the user cannot see stay as they are).
WITH wanted AS (
    SELECT l.id FROM hub.lists l WHERE l.id = ANY (%(list_ids)s::bigint[])
), removed AS (
    DELETE FROM hub.list_members lm
    WHERE lm.contact_id = %(id)s AND lm.list_id NOT IN (SELECT id FROM wanted)
      AND EXISTS (SELECT FROM hub.lists l WHERE l.id = lm.list_id)
)
INSERT INTO hub.list_members (list_id, contact_id)
SELECT id, %(id)s FROM wanted
ON CONFLICT DO NOTHING

-- name: owner_groups
-- Groups a user may give rows to: their own; every group for an admin.
SELECT g.id, g.name FROM hub.groups g
WHERE (SELECT hub.sees_all_v1()) OR g.id = ANY (hub.my_groups_v1())
ORDER BY g.name

-- ---------------------------------------------------------------- lists

-- name: lists_all
SELECT l.id, l.name, l.description, l.owner_user_id, l.owner_group_id, g.name AS group_name,
       (SELECT count(*) FROM hub.list_members lm WHERE lm.list_id = l.id) AS members
FROM hub.lists l LEFT JOIN hub.groups g ON g.id = l.owner_group_id
WHERE %(q)s = '' OR l.name ILIKE %(pattern)s OR l.description ILIKE %(pattern)s
ORDER BY lower(l.name), l.id

-- name: list_by_id
SELECT l.id, l.name, l.description, l.owner_user_id, l.owner_group_id, g.name AS group_name
FROM hub.lists l LEFT JOIN hub.groups g ON g.id = l.owner_group_id
WHERE l.id = %(id)s

-- name: list_insert
INSERT INTO hub.lists (name, description, owner_user_id, owner_group_id)
VALUES (%(name)s, %(description)s, %(owner_user_id)s, %(owner_group_id)s)
RETURNING id

-- name: list_update
UPDATE hub.lists SET name = %(name)s, description = %(description)s WHERE id = %(id)s RETURNING id

-- name: list_delete
DELETE FROM hub.lists WHERE id = %(id)s RETURNING id

-- name: list_members
SELECT c.id, c.name, c.phone, c.email
FROM hub.list_members lm JOIN hub.contacts c ON c.id = lm.contact_id
WHERE lm.list_id = %(id)s
ORDER BY lower(c.name), c.id
LIMIT %(limit)s

-- name: list_member_remove
DELETE FROM hub.list_members lm
WHERE lm.list_id = %(list_id)s AND lm.contact_id = %(contact_id)s
  AND EXISTS (SELECT FROM hub.lists l WHERE l.id = lm.list_id)

-- ---------------------------------------------------------------- import and export

-- name: import_create
INSERT INTO hub.contact_imports (user_id, owner_user_id, owner_group_id, filename, format, on_duplicate, bytes_total)
VALUES (%(user_id)s, %(owner_user_id)s, %(owner_group_id)s, %(filename)s, %(format)s, %(on_duplicate)s,
        %(bytes_total)s)
RETURNING id

-- name: import_by_id
-- A running import whose progress has not moved for 5 minutes was
-- interrupted (its web process stopped): a batch takes seconds.
SELECT id, user_id, owner_user_id, owner_group_id, filename, format, on_duplicate, bytes_total, bytes_done,
       created, updated, skipped, error_count, errors, failure, started_at, updated_at, finished_at,
       CASE WHEN state = 'running' AND updated_at < now() - interval '5 minutes' THEN 'interrupted'
            ELSE state END AS state
FROM hub.contact_imports WHERE id = %(id)s

-- name: imports_recent
SELECT id, filename, format, created, updated, skipped, error_count, started_at, finished_at,
       CASE WHEN state = 'running' AND updated_at < now() - interval '5 minutes' THEN 'interrupted'
            ELSE state END AS state
FROM hub.contact_imports ORDER BY id DESC LIMIT 10

-- name: import_progress
UPDATE hub.contact_imports
SET bytes_done = %(bytes_done)s, created = created + %(created)s, updated = updated + %(updated)s,
    skipped = skipped + %(skipped)s, error_count = error_count + %(error_count)s,
    errors = (errors || %(errors)s::text[])[1:%(max_errors)s], updated_at = now()
WHERE id = %(id)s

-- name: import_finish
UPDATE hub.contact_imports
SET state = %(state)s, failure = %(failure)s, finished_at = now(), updated_at = now(),
    bytes_done = CASE WHEN %(state)s = 'done' THEN bytes_total ELSE bytes_done END
WHERE id = %(id)s

-- name: import_lock
-- One batch of one owner at a time, so concurrent imports do not both
-- create the same contact.
SELECT pg_advisory_xact_lock(hashtextextended('msghub.contacts:' || coalesce(%(owner_user_id)s::text, '')
                                              || '/' || coalesce(%(owner_group_id)s::text, ''), 0))

-- name: import_match
-- The existing contact of the same owner for each incoming record
-- (schema/48_contact_imports.sql).
SELECT seq, id FROM hub.contacts_matching_v1(%(owner_user_id)s, %(owner_group_id)s, %(phones)s::text[],
                                              %(emails)s::text[])

-- name: import_update
-- Fills in existing contacts: what the file says wins, empty fields keep
-- what was there.
UPDATE hub.contacts c
SET name = CASE WHEN u.name <> '' THEN u.name ELSE c.name END,
    phone = coalesce(u.phone, c.phone),
    email = coalesce(u.email, c.email),
    notes = CASE WHEN u.notes <> '' THEN u.notes ELSE c.notes END,
    updated_at = now()
FROM unnest(%(ids)s::bigint[], %(names)s::text[], %(phones)s::text[], %(emails)s::text[], %(notes)s::text[])
     AS u(id, name, phone, email, notes)
WHERE c.id = u.id

-- name: import_insert
INSERT INTO hub.contacts (name, phone, email, notes, owner_user_id, owner_group_id)
SELECT name, phone, email, notes, %(owner_user_id)s, %(owner_group_id)s
FROM unnest(%(names)s::text[], %(phones)s::text[], %(emails)s::text[], %(notes)s::text[])
     AS i(name, phone, email, notes)
RETURNING id, phone, lower(email) AS email

-- name: import_lists
-- The lists named in a batch: the owner's list of that name (the oldest),
-- created when there is none.
WITH names AS (
    SELECT DISTINCT n AS name FROM unnest(%(names)s::text[]) n
), found AS (
    SELECT DISTINCT ON (l.name) l.name, l.id FROM hub.lists l JOIN names USING (name)
    WHERE l.owner_user_id IS NOT DISTINCT FROM %(owner_user_id)s
      AND l.owner_group_id IS NOT DISTINCT FROM %(owner_group_id)s
    ORDER BY l.name, l.id
), made AS (
    INSERT INTO hub.lists (name, owner_user_id, owner_group_id)
    SELECT name, %(owner_user_id)s, %(owner_group_id)s FROM names WHERE name NOT IN (SELECT name FROM found)
    RETURNING name, id
)
SELECT name, id FROM found UNION ALL SELECT name, id FROM made

-- name: import_memberships
INSERT INTO hub.list_members (list_id, contact_id)
SELECT * FROM unnest(%(list_ids)s::bigint[], %(contact_ids)s::bigint[])
ON CONFLICT DO NOTHING

-- name: contacts_export
-- Every visible contact (of one list, when list_id is given) with the names
-- of its visible lists.
SELECT c.id, c.name, c.phone, c.email, c.notes,
       coalesce((SELECT array_agg(l.name ORDER BY l.name) FROM hub.list_members lm
                 JOIN hub.lists l ON l.id = lm.list_id WHERE lm.contact_id = c.id), '{}') AS lists
FROM hub.contacts c
WHERE %(list_id)s::bigint IS NULL
   OR EXISTS (SELECT FROM hub.list_members lm WHERE lm.contact_id = c.id AND lm.list_id = %(list_id)s::bigint)
ORDER BY lower(c.name), c.id

-- ---------------------------------------------------------------- connections

-- name: connections_page
-- The status view with what the page shows beside it; a modem's signal
-- comes from the row's meta when the connection kind records one.
SELECT s.*, c.channels, c.is_default, c.max_attempts, c.config,
       to_jsonb(c) -> 'meta' ->> 'signal' AS signal, p.runs_on, p.no_node_reason
FROM hub.connection_status s JOIN hub.connections c ON c.id = s.id
JOIN hub.connection_placement p ON p.id = s.id
ORDER BY s.name

-- ---------------------------------------------------------------- statistics

-- name: stats_by_connection
SELECT day, connection_id, coalesce(connection, '(none)') AS connection, direction, messages, segments, sent,
       delivered, failed, pending, received
FROM hub.stats_by_connection_day
WHERE day BETWEEN %(from)s AND %(to)s
ORDER BY day, connection, direction

-- name: stats_by_user
-- Users other than admins see only their own line.
SELECT day, owner_user_id, coalesce(username, '(nobody)') AS username, channel, direction, messages, segments
FROM hub.stats_by_user_day
WHERE day BETWEEN %(from)s AND %(to)s
  AND ((SELECT hub.sees_all_v1()) OR owner_user_id = (SELECT (hub.viewer_v1()).user_id))
ORDER BY day, username, channel, direction

-- name: stats_by_modem_device
-- The devices of modem connections (a pool's devices apart), for admins: SMS
-- parts by the device in their reference ("<IMEI or port>/<TP-MR>",
-- docs/protocols/MODEM.md) and received messages by meta.device.
WITH modems AS (SELECT id, name FROM hub.connections WHERE kind = 'modem'),
parts AS (
    SELECT m.name AS connection, split_part(s.operator_ref, '/', 1) AS device, count(*) AS parts,
           count(*) FILTER (WHERE s.status = 'delivered') AS delivered,
           count(*) FILTER (WHERE s.status = 'failed') AS failed,
           count(*) FILTER (WHERE s.status IN ('sent', 'buffered')) AS pending
    FROM modems m JOIN hub.sms_segments s ON s.connection_id = m.id
    WHERE s.operator_ref LIKE '%%/%%' AND s.status_at >= %(from)s AND s.status_at < %(to)s::date + 1
    GROUP BY 1, 2),
received AS (
    SELECT m.name AS connection, x.meta ->> 'device' AS device, count(*) AS received
    FROM modems m JOIN hub.messages x ON x.connection_id = m.id
    WHERE x.direction = 'in' AND x.meta ? 'device' AND x.created_at >= %(from)s AND x.created_at < %(to)s::date + 1
    GROUP BY 1, 2)
SELECT coalesce(p.connection, r.connection) AS connection, coalesce(p.device, r.device) AS device,
       coalesce(p.parts, 0) AS parts, coalesce(p.delivered, 0) AS delivered, coalesce(p.failed, 0) AS failed,
       coalesce(p.pending, 0) AS pending, coalesce(r.received, 0) AS received
FROM parts p FULL JOIN received r ON r.connection = p.connection AND r.device = p.device
WHERE (SELECT hub.sees_all_v1())
ORDER BY 1, 2

-- ---------------------------------------------------------------- admin

-- name: users_all
SELECT u.id, u.username, u.display_name, u.email, u.role, u.auth_source, u.enabled, u.created_at, u.last_login_at,
       u.locked_until > now() AS locked,
       coalesce((SELECT array_agg(g.name ORDER BY g.name) FROM hub.memberships m JOIN hub.groups g ON g.id = m.group_id
                 WHERE m.user_id = u.id), '{}') AS groups
FROM hub.users u
WHERE %(q)s = '' OR u.username ILIKE %(pattern)s OR u.display_name ILIKE %(pattern)s
ORDER BY u.username

-- name: admin_user
SELECT id, username, display_name, email, role, auth_source, enabled FROM hub.users WHERE id = %(id)s

-- name: user_update
UPDATE hub.users SET display_name = %(display_name)s, email = %(email)s, role = %(role)s, enabled = %(enabled)s
WHERE id = %(id)s RETURNING username

-- name: admins_enabled
SELECT count(*) AS n FROM hub.users WHERE role = 'admin' AND enabled AND id <> %(id)s

-- name: roles_all
SELECT r.name, r.description, (SELECT count(*) FROM hub.users u WHERE u.role = r.name) AS users
FROM hub.roles r ORDER BY r.name

-- name: groups_all
SELECT g.id, g.name, g.description,
       coalesce(array_agg(u.username ORDER BY u.username) FILTER (WHERE u.id IS NOT NULL), '{}') AS members
FROM hub.groups g
LEFT JOIN hub.memberships m ON m.group_id = g.id
LEFT JOIN hub.users u ON u.id = m.user_id
GROUP BY g.id ORDER BY g.name

-- name: group_by_id
SELECT id, name, description FROM hub.groups WHERE id = %(id)s

-- name: group_delete
DELETE FROM hub.groups WHERE id = %(id)s RETURNING name

-- name: api_keys_all
SELECT k.id, k.key_id, k.name, k.scopes, k.created_at, k.last_used_at, k.revoked_at, u.username
FROM hub.api_keys k JOIN hub.users u ON u.id = k.user_id
ORDER BY k.revoked_at IS NOT NULL, k.id DESC

-- name: api_key_insert
INSERT INTO hub.api_keys (key_id, secret_sha256, name, user_id, scopes, created_by)
VALUES (%(key_id)s, %(secret_sha256)s, %(name)s, %(user_id)s, %(scopes)s, %(created_by)s)
RETURNING id

-- name: api_key_revoke
UPDATE hub.api_keys SET revoked_at = now() WHERE id = %(id)s AND revoked_at IS NULL RETURNING key_id

-- name: audit_page
SELECT id, at, actor, action, target, detail, source FROM hub.audit_log
WHERE (%(before)s::bigint IS NULL OR id < %(before)s::bigint)
  AND (%(q)s = '' OR actor ILIKE %(pattern)s OR action ILIKE %(pattern)s OR target ILIKE %(pattern)s)
ORDER BY id DESC
LIMIT %(limit)s

-- ---------------------------------------------------------------- HTTP API

-- name: api_key_lookup
-- In system mode: the key's row and its owner, when both are usable.
SELECT k.id, k.secret_sha256, k.scopes, k.user_id, u.username
FROM hub.api_keys k JOIN hub.users u ON u.id = k.user_id
WHERE k.key_id = %(key_id)s AND k.revoked_at IS NULL AND u.enabled

-- name: api_key_used
UPDATE hub.api_keys SET last_used_at = now()
WHERE id = %(id)s AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')

-- name: api_outbox_insert
INSERT INTO hub.outbox (channel, recipient, recipients, cc, bcc, list, sender, subject, text, attachments,
                        connection, send_at, valid_until, delivery_report, priority, transliterate, idempotency_key,
                        correlation_id)
VALUES (%(channel)s, %(recipient)s, %(recipients)s, %(cc)s, %(bcc)s, %(list)s, %(sender)s, %(subject)s, %(text)s,
        %(attachments)s, %(connection)s, %(send_at)s, %(valid_until)s, %(delivery_report)s, %(priority)s,
        %(transliterate)s, %(idempotency_key)s, %(correlation_id)s)
RETURNING id

-- name: api_outbox_by_key
SELECT id FROM hub.outbox WHERE idempotency_key = %(idempotency_key)s

-- name: api_outbox_messages
SELECT m.id, m.recipients[1] AS recipient, m.status FROM hub.messages m WHERE m.outbox_id = %(outbox_id)s ORDER BY m.id

-- name: api_message
SELECT m.id, m.channel, m.direction, c.name AS connection, m.sender, m.recipients, m.subject, m.body AS text,
       m.status, m.status_at, m.created_at, m.attempts, m.segments, m.failure_code, m.failure_reason,
       m.possible_duplicate, m.send_at, m.valid_until, m.correlation_id, m.outbox_id, o.idempotency_key,
       (SELECT coalesce(jsonb_agg(jsonb_build_object('seq', p.seq, 'content_type', p.content_type,
                                                     'filename', p.filename, 'size', length(p.data)) ORDER BY p.seq),
                        '[]') FROM hub.message_parts p WHERE p.message_id = m.id) AS attachments
FROM hub.messages m
LEFT JOIN hub.connections c ON c.id = m.connection_id
LEFT JOIN hub.outbox o ON o.id = m.outbox_id
WHERE m.id = %(id)s

-- name: api_messages
-- One page of a folder, oldest first after the given id (keyset): inbox is
-- what arrived, outbox what waits, sent what left, failed what did not.
SELECT m.id, m.channel, m.direction, c.name AS connection, m.sender, m.recipients, m.subject, m.body AS text,
       m.status, m.status_at, m.created_at, m.correlation_id
FROM hub.messages m
LEFT JOIN hub.connections c ON c.id = m.connection_id
WHERE m.id > %(after)s
  AND CASE %(folder)s
        WHEN 'inbox' THEN m.direction = 'in'
        WHEN 'outbox' THEN m.direction = 'out' AND m.status IN ('queued', 'sending')
        WHEN 'sent' THEN m.direction = 'out' AND m.status IN ('sent', 'delivered')
        WHEN 'failed' THEN m.direction = 'out' AND m.status = 'failed'
        ELSE m.direction = 'out'
      END
ORDER BY m.id
LIMIT %(limit)s

-- name: api_cancel
SELECT hub.cancel_v1(%(id)s) AS cancelled

-- name: compose_price
-- what one recipient's copy would cost (schema/90_costs.sql), as the signed-in user routes it
SELECT connection, parts, parts_transliterated, unit_price, currency, cost, cost_transliterated
FROM hub.estimate_cost_v1(%(channel)s, %(recipient)s, %(text)s, %(connection)s, 0)

-- name: stats_costs_by_connection
-- cost of the messages the user sees, by connection, channel and currency (hub.stats_costs)
SELECT coalesce(connection, '(none)') AS connection, channel, direction, currency,
       sum(messages)::bigint AS messages, sum(estimated) AS estimated, sum(cost) AS cost
FROM hub.stats_costs
WHERE day BETWEEN %(from)s AND %(to)s
GROUP BY 1, 2, 3, 4
ORDER BY 1, 2, 3, 4

-- name: stats_costs_rows
-- every dimension of hub.stats_costs, for the CSV download
SELECT day, coalesce(connection, '') AS connection, coalesce(username, '') AS username,
       coalesce(group_name, '') AS group_name, channel, direction, prefix, currency, messages, estimated, cost
FROM hub.stats_costs
WHERE day BETWEEN %(from)s AND %(to)s
ORDER BY day, connection, username, group_name, channel, direction, prefix, currency

-- name: cost_form_choices
-- what the tariff and quota forms offer: connections, users, groups
SELECT 'connection' AS kind, name FROM hub.connections
UNION ALL SELECT 'user', username FROM hub.users
UNION ALL SELECT 'group', name FROM hub.groups
ORDER BY 1, 2
