-- The HTTP API's reads and writes beyond sending (msghub/web/pages/api_*.py,
-- docs/API.md). Every query runs as the API key's user: row-level security
-- and the views' own visibility rule decide what it sees.

-- ---------------------------------------------------------------- status

-- name: status_by_reference
-- An integrator's messages by its correlation id or the idempotency key of
-- the request that queued them, oldest first after a message id.
SELECT message_id AS id, outbox_id, idempotency_key, correlation_id, channel, connection, recipient, status,
       status_at, attempts, segments, failure_code, failure_reason, possible_duplicate, send_at, valid_until,
       created_at
FROM hub.message_status
WHERE (%(correlation_id)s::text IS NULL OR correlation_id = %(correlation_id)s::text)
  AND (%(idempotency_key)s::text IS NULL OR idempotency_key = %(idempotency_key)s::text)
  AND message_id > %(after)s
ORDER BY message_id
LIMIT %(limit)s

-- name: message_visible
SELECT id, direction, status FROM hub.messages WHERE id = %(id)s

-- name: message_segments
SELECT seq, total, operator_ref, status, status_at, reason
FROM hub.sms_segments WHERE message_id = %(id)s ORDER BY seq

-- name: message_reports
SELECT r.id, r.status, r.reason, r.operator_ref, r.reported_at
FROM hub.delivery_reports r WHERE r.message_id = %(id)s ORDER BY r.id

-- ---------------------------------------------------------------- contacts

-- name: contacts_page
SELECT c.id, c.name, c.phone, c.email, c.notes, c.created_at, c.updated_at,
       coalesce((SELECT array_agg(l.name ORDER BY l.name) FROM hub.list_members lm
                 JOIN hub.lists l ON l.id = lm.list_id WHERE lm.contact_id = c.id), '{}') AS lists
FROM hub.contacts c
WHERE c.id > %(after)s
  AND (%(q)s = '' OR c.name ILIKE %(pattern)s OR c.phone ILIKE %(pattern)s OR c.email ILIKE %(pattern)s)
ORDER BY c.id
LIMIT %(limit)s

-- name: contact
SELECT c.id, c.name, c.phone, c.email, c.notes, c.created_at, c.updated_at,
       coalesce((SELECT array_agg(l.name ORDER BY l.name) FROM hub.list_members lm
                 JOIN hub.lists l ON l.id = lm.list_id WHERE lm.contact_id = c.id), '{}') AS lists
FROM hub.contacts c WHERE c.id = %(id)s

-- name: contact_insert
INSERT INTO hub.contacts (name, phone, email, notes, owner_user_id)
VALUES (%(name)s, %(phone)s, %(email)s, %(notes)s, %(owner_user_id)s)
RETURNING id

-- name: contact_update
UPDATE hub.contacts SET name = %(name)s, phone = %(phone)s, email = %(email)s, notes = %(notes)s, updated_at = now()
WHERE id = %(id)s
RETURNING id

-- name: contact_delete
DELETE FROM hub.contacts WHERE id = %(id)s RETURNING id

-- ---------------------------------------------------------------- lists

-- name: lists_all
SELECT l.id, l.name, l.description, l.created_at,
       (SELECT count(*) FROM hub.list_members lm WHERE lm.list_id = l.id) AS members
FROM hub.lists l ORDER BY lower(l.name), l.id

-- name: list
SELECT l.id, l.name, l.description, l.created_at,
       (SELECT count(*) FROM hub.list_members lm WHERE lm.list_id = l.id) AS members
FROM hub.lists l WHERE l.id = %(id)s

-- name: list_insert
INSERT INTO hub.lists (name, description, owner_user_id) VALUES (%(name)s, %(description)s, %(owner_user_id)s)
RETURNING id

-- name: list_update
UPDATE hub.lists SET name = %(name)s, description = %(description)s WHERE id = %(id)s RETURNING id

-- name: list_delete
DELETE FROM hub.lists WHERE id = %(id)s RETURNING id

-- name: list_members_page
SELECT c.id, c.name, c.phone, c.email
FROM hub.list_members lm JOIN hub.contacts c ON c.id = lm.contact_id
WHERE lm.list_id = %(id)s AND c.id > %(after)s
ORDER BY c.id
LIMIT %(limit)s

-- name: list_member_add
-- Only a list and a contact the user sees (the SELECT runs under their
-- row-level security); NULL when either is not visible.
WITH pair AS (
    SELECT l.id AS list_id, c.id AS contact_id FROM hub.lists l, hub.contacts c
    WHERE l.id = %(list_id)s AND c.id = %(contact_id)s
), added AS (
    INSERT INTO hub.list_members (list_id, contact_id) SELECT list_id, contact_id FROM pair
    ON CONFLICT DO NOTHING
)
SELECT list_id FROM pair

-- name: list_member_delete
DELETE FROM hub.list_members lm
WHERE lm.list_id = %(list_id)s AND lm.contact_id = %(contact_id)s
  AND EXISTS (SELECT FROM hub.lists l WHERE l.id = lm.list_id)
RETURNING lm.list_id

-- ---------------------------------------------------------------- polls and statistics

-- name: polls_all
SELECT p.id, p.name, p.question, p.opens_at, p.closes_at,
       (SELECT count(*) FROM hub.poll_votes v WHERE v.poll_id = p.id) AS votes
FROM hub.polls p ORDER BY p.id

-- name: poll
SELECT id, name, question, opens_at, closes_at FROM hub.polls WHERE id = %(id)s

-- name: poll_results
SELECT option_id, position, label, votes, coalesce(percent, 0)::float8 AS percent
FROM hub.poll_results WHERE poll_id = %(id)s ORDER BY position

-- name: stats_by_connection
SELECT day, coalesce(connection, '(none)') AS connection, direction, messages, segments, sent, delivered, failed,
       pending, received
FROM hub.stats_by_connection_day
WHERE day BETWEEN %(from)s AND %(to)s
ORDER BY day, connection, direction

-- name: stats_by_user
-- Users other than admins see only their own line (as on the statistics page).
SELECT day, coalesce(username, '(nobody)') AS username, channel, direction, messages, segments
FROM hub.stats_by_user_day
WHERE day BETWEEN %(from)s AND %(to)s
  AND ((SELECT hub.sees_all_v1()) OR owner_user_id = (SELECT (hub.viewer_v1()).user_id))
ORDER BY day, username, channel, direction
