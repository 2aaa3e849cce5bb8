-- Named queries of the web UI (loaded by msghub/web/common.py as WEB_QUERIES).
-- They run inside as_user(): row-level security limits every row to what
-- the signed-in user may see.

-- name: nav_folders
-- The custom and group folders for the navigation.
SELECT f.id, f.name, g.name AS group_name
FROM hub.folders f LEFT JOIN hub.groups g ON g.id = f.owner_group_id
ORDER BY f.owner_group_id NULLS FIRST, lower(f.name), f.id

-- name: connections_down
-- Connections that should be up and are not (the layout's banner).
SELECT name, state, last_error FROM hub.connections
WHERE enabled AND state = 'down'
ORDER BY name

-- name: message_ids
-- One page of a list: ids newest first (schema/46_web.sql says why this is
-- a function). %(view)s: inbox, outbox, sent, failed, folder, all.
SELECT id FROM hub.web_message_ids_v1(%(view)s, %(folder_id)s, %(q)s, %(before)s, %(limit)s) AS id

-- name: message_rows
-- What a list shows of the messages %(ids)s, and where each belongs:
-- view is 'inbox', 'outbox', 'sent', 'failed' or 'folder:<id>'; matches
-- says whether it matches the search text %(q)s ('' matches all).
SELECT m.id, m.channel, m.direction, m.sender, m.recipients, m.subject, left(m.body, 300) AS snippet,
       m.status, m.status_at, m.created_at, m.failure_reason, m.priority, m.send_at,
       u.username AS owner_user, g.name AS owner_group, f.name AS folder,
       (SELECT count(*) FROM hub.message_parts p WHERE p.message_id = m.id) AS parts,
       CASE WHEN m.folder_id IS NOT NULL THEN 'folder:' || m.folder_id
            WHEN m.direction = 'in' THEN 'inbox'
            WHEN m.status IN ('queued', 'sending') THEN 'outbox'
            WHEN m.status IN ('sent', 'delivered') THEN 'sent'
            ELSE 'failed' END AS view,
       (%(q)s::text = '' OR hub.message_document_v1(m.subject, m.body) @@ hub.message_query_v1(%(q)s::text))
           AS matches
FROM hub.messages m
LEFT JOIN hub.users u ON u.id = m.owner_user_id
LEFT JOIN hub.groups g ON g.id = m.owner_group_id
LEFT JOIN hub.folders f ON f.id = m.folder_id
WHERE m.id = ANY (%(ids)s::bigint[])
ORDER BY m.id DESC

-- name: folder_by_id
SELECT f.id, f.name, g.name AS group_name FROM hub.folders f
LEFT JOIN hub.groups g ON g.id = f.owner_group_id
WHERE f.id = %(id)s

-- name: move_message
-- Moves a message the user may see into a folder the user may see (NULL:
-- back to its standard folder). Returns the id, or nothing.
UPDATE hub.messages SET folder_id = %(folder_id)s::bigint
WHERE id = %(message_id)s
  AND (%(folder_id)s::bigint IS NULL OR EXISTS (SELECT FROM hub.folders f WHERE f.id = %(folder_id)s::bigint))
RETURNING id

-- name: create_folder
INSERT INTO hub.folders (name, owner_user_id, owner_group_id)
VALUES (%(name)s, CASE WHEN %(group_id)s::bigint IS NULL THEN %(user_id)s::bigint END, %(group_id)s::bigint)
RETURNING id

-- name: my_groups
SELECT g.id, g.name FROM hub.groups g JOIN hub.memberships m ON m.group_id = g.id
WHERE m.user_id = %(user_id)s ORDER BY g.name

-- name: message_parts
-- (with the bytes of short plain-text parts, shown on the page, and of an
-- e-mail's HTML body, shown sanitised, and of an MMS's SMIL, read for its slides)
SELECT id, seq, content_type, filename, content_id, octet_length(data) AS size,
       CASE WHEN content_type ILIKE 'text/plain%%' AND octet_length(data) <= 65536 THEN data END AS text_data,
       CASE WHEN content_type ILIKE 'application/smil%%' AND octet_length(data) <= 65536 THEN data END AS smil_data,
       CASE WHEN content_type ILIKE 'text/html%%' AND filename IS NULL AND octet_length(data) <= 1048576
            THEN data END AS html_data
FROM hub.message_parts WHERE message_id = %(id)s ORDER BY seq

-- name: message_conversation
-- the conversation a message belongs to (schema/85_email.sql): e-mails
-- threaded by Message-ID, and the answers rules queued on any channel;
-- oldest first
WITH c AS (
    SELECT coalesce(
        (SELECT conversation_id FROM hub.email_threads WHERE message_id = %(id)s),
        (SELECT coalesce(t.conversation_id, r.answers_id)
         FROM hub.email_replies r LEFT JOIN hub.email_threads t ON t.message_id = r.answers_id
         WHERE r.message_id = %(id)s),
        %(id)s) AS id),
members AS (
    SELECT c.id FROM c
    UNION
    SELECT t.message_id FROM hub.email_threads t, c WHERE t.conversation_id = c.id)
SELECT m.id, m.direction, m.channel, m.sender, m.recipients, m.subject, m.created_at
FROM hub.messages m
WHERE m.id IN (SELECT id FROM members
               UNION SELECT r.message_id FROM hub.email_replies r WHERE r.answers_id IN (SELECT id FROM members))
ORDER BY m.created_at, m.id
LIMIT 200

-- name: message_part_data
SELECT p.content_type, p.filename, p.data FROM hub.message_parts p
WHERE p.message_id = %(message_id)s AND p.id = %(part_id)s

-- name: message_meta
SELECT m.meta, m.delivery_report, m.valid_until, m.send_at, m.segments, m.operator_ref, m.folder_id,
       m.attempts, m.created_by, m.estimated_cost, m.cost, m.currency, m.unit_price, m.route_reason
FROM hub.messages m WHERE m.id = %(id)s

-- name: change_watermark
-- Where the change feed stands: every transaction below this id has ended.
SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xid

-- name: changes_since
-- The messages changed by transactions from %(from)s up to (not including)
-- %(upto)s that the user may see, with their latest change; at most
-- %(limit)s (a reader that gets the limit reloads instead).
SELECT message_id, max(id) AS id, (array_agg(kind ORDER BY id DESC))[1] AS kind
FROM hub.message_changes
WHERE xid >= %(from)s::xid8 AND xid < %(upto)s::xid8
GROUP BY message_id ORDER BY max(id) LIMIT %(limit)s

-- name: poll_visible
SELECT id, name, question, opens_at, closes_at FROM hub.polls WHERE id = %(id)s

-- name: poll_close
-- Voting ends now (a poll already closed keeps its closing time).
UPDATE hub.polls SET closes_at = least(coalesce(closes_at, now()), now())
WHERE id = %(id)s
RETURNING id

-- name: poll_results
-- Counts of one poll (the caller checked it may see the poll).
SELECT option_id, position, label, votes, coalesce(percent, 0) AS percent
FROM hub.poll_results WHERE poll_id = %(id)s ORDER BY position

-- name: compose_insert
-- A message written in the web UI, queued as the signed-in user; the outbox
-- trigger validates it (schema/50_outbox.sql) and names the bad column.
INSERT INTO hub.outbox (channel, recipients, cc, bcc, list, list_id, sender, subject, text, attachments, connection,
                        send_at, valid_until, delivery_report, priority, transliterate, created_by)
VALUES (%(channel)s, %(recipients)s, %(cc)s, %(bcc)s, %(list)s, %(list_id)s, %(sender)s, %(subject)s, %(text)s,
        %(attachments)s, %(connection)s, %(send_at)s, %(valid_until)s, %(delivery_report)s, %(priority)s,
        %(transliterate)s, %(user_id)s)
RETURNING id, message_count

-- name: compose_recipient_search
-- The recipient field's suggestions as one types: contacts whose name,
-- e-mail address or number starts with %(q)s, and lists whose name does, at
-- most %(limit)s of each, read through the *_search indexes (schema/46_web.sql
-- says why a function); the contacts by name continue after the keyset
-- (%(after_name)s, %(after_id)s) for "more".
SELECT kind, id, name, address, sort_key
FROM hub.recipient_search_v1(%(q)s, %(phone)s, %(channel)s, %(after_name)s, %(after_id)s, %(limit)s)

-- name: compose_contact_by_name
-- A typed contact name resolved when the message is sent: the visible
-- contacts of exactly that name (ignoring case), at most three, so that an
-- ambiguous name is reported rather than guessed.
SELECT id, name, phone, email FROM hub.contacts
WHERE lower(name) COLLATE "C" = lower(%(name)s) COLLATE "C"
ORDER BY id LIMIT 3

-- name: compose_lists
-- By id: names repeat across owners (the outbox resolves a name to the
-- sender's own list first, but the form says which one was picked).
SELECT l.id, l.name, (SELECT count(*) FROM hub.list_members m WHERE m.list_id = l.id) AS members,
       (SELECT g.name FROM hub.groups g WHERE g.id = l.owner_group_id) AS group_name
FROM hub.lists l ORDER BY lower(l.name), l.owner_group_id NULLS FIRST, l.id LIMIT 500

-- name: compose_connections
-- only those the person may send through (grants, schema/80_access_control.sql)
SELECT name, kind, channels, enabled, state FROM hub.connections
WHERE hub.may_use_connection_v1(id, hub.viewer_v1())
ORDER BY name

-- name: reply_source
SELECT id, channel, sender, subject FROM hub.messages WHERE id = %(id)s AND direction = 'in'

-- name: poll_list
SELECT p.id, p.name, p.question, p.opens_at, p.closes_at,
       (SELECT count(*) FROM hub.poll_votes v WHERE v.poll_id = p.id) AS votes
FROM hub.polls p ORDER BY p.created_at DESC, p.id DESC

-- name: bench_web_fill
-- `msghub bench web`: %(messages)s messages in one statement. Every fifth is
-- outbound (sent, delivered or failed); a fifth belong to the bench user (as
-- many sent as received), a twentieth sit in the bench folder; the text
-- mixes a common word ("meeting", 30%%), fifty words of 2%% each and a rare
-- one ("zebra", 0.1%%, none of them the bench user's).
INSERT INTO hub.messages (channel, direction, sender, recipients, body, status, owner_user_id, folder_id)
SELECT 'sms', CASE WHEN n %% 5 = 0 THEN 'out' ELSE 'in' END,
       '+1555' || lpad((n %% 10000000)::text, 7, '0'), '{+15550000}',
       'bench ' || (ARRAY['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india',
                          'juliet', 'kilo', 'lima', 'mike', 'november', 'oscar', 'papa', 'quebec', 'romeo',
                          'sierra', 'tango', 'uniform', 'victor', 'whiskey', 'xray', 'yankee', 'zulu', 'apple',
                          'banana', 'cherry', 'date', 'elder', 'fig', 'grape', 'hazel', 'iris', 'jasmine',
                          'kiwi', 'lemon', 'mango', 'nutmeg', 'olive', 'peach', 'quince', 'rhubarb', 'sage',
                          'thyme', 'ugli', 'vanilla', 'walnut', 'yam'])[1 + (n / 7) %% 50]
       || CASE WHEN (n / 3) %% 10 < 3 THEN ' meeting' ELSE '' END
       || CASE WHEN n %% 1000 = 7 THEN ' zebra' ELSE '' END || ' number ' || n,
       CASE WHEN n %% 5 <> 0 THEN 'received' WHEN n %% 15 = 0 THEN 'failed'
            WHEN n %% 3 = 0 THEN 'delivered' ELSE 'sent' END,
       CASE WHEN n %% 10 IN (1, 5) THEN %(user_id)s::bigint END,
       CASE WHEN n %% 20 = 1 THEN %(folder_id)s::bigint END
FROM generate_series(1, %(messages)s) n

-- name: bench_web_count
SELECT count(*) AS n FROM hub.messages WHERE body LIKE 'bench %%'

-- name: bench_web_find_folder
SELECT id FROM hub.folders WHERE name = 'bench' AND owner_user_id = %(user_id)s

-- name: bench_web_folder
INSERT INTO hub.folders (name, owner_user_id) VALUES ('bench', %(user_id)s) RETURNING id

-- name: bench_web_analyze
ANALYZE hub.messages

-- name: bench_web_max_id
SELECT max(id) AS id FROM hub.messages

-- name: outbox_progress
-- How far one web send has gone (the banner of the outbox page after a send
-- to many): its messages by state, through the user's row-level security.
SELECT count(*) AS total,
       count(*) FILTER (WHERE m.status IN ('queued', 'sending')) AS waiting,
       count(*) FILTER (WHERE m.status IN ('sent', 'delivered')) AS sent,
       count(*) FILTER (WHERE m.status NOT IN ('queued', 'sending', 'sent', 'delivered')) AS failed,
       min(m.send_at) FILTER (WHERE m.status = 'queued' AND m.send_at > now()) AS first_send_at
FROM hub.messages m WHERE m.outbox_id = %(id)s

-- name: folder_chart
-- Messages received in the last %(hours)s hours by the folder they are in
-- now (the inbox for those in none), among those the user sees: the ratio
-- the rules that sort messages into folders produce (docs/WEB.md, "Charts
-- by folder"). Read through messages_created and row-level security.
SELECT coalesce(f.name, 'Inbox') AS label, m.folder_id, count(*) AS messages
FROM hub.messages m
LEFT JOIN hub.folders f ON f.id = m.folder_id
WHERE m.direction = 'in' AND m.created_at >= now() - make_interval(hours => %(hours)s)
GROUP BY 1, 2
ORDER BY count(*) DESC, 1
