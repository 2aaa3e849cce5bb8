-- The Kannel-compatible sendsms interface and its dlr-url callbacks.

-- name: setting
SELECT value FROM hub.settings WHERE key = %(key)s

-- name: sendsms_outbox_insert
INSERT INTO hub.outbox (channel, recipients, sender, text, connection, send_at, valid_until, delivery_report,
                        priority)
VALUES (%(channel)s, %(recipients)s, %(sender)s, %(text)s, %(connection)s, %(send_at)s, %(valid_until)s,
        %(delivery_report)s, %(priority)s)
RETURNING id

-- name: sendsms_remember
-- One row per queued message; returns whether every connection is up (else
-- Kannel's "queued for later delivery").
WITH queued AS (
    INSERT INTO hub.kannel_requests (message_id, username, dlr_url, dlr_mask, params)
    SELECT m.id, %(username)s, %(dlr_url)s, %(dlr_mask)s, %(params)s
    FROM hub.messages m WHERE m.outbox_id = %(outbox_id)s
    RETURNING message_id)
SELECT count(*) AS messages,
       coalesce(bool_and(c.state = 'up'), false) AS all_up
FROM queued q
JOIN hub.messages m ON m.id = q.message_id
LEFT JOIN hub.connections c ON c.id = m.connection_id

-- name: dlr_claim
-- due callbacks; the claim pushes next_attempt_at out by the lease, so a
-- node that dies mid-call leaves the callback to be made again
UPDATE hub.kannel_dlr_calls d
SET attempts = d.attempts + 1, next_attempt_at = clock_timestamp() + make_interval(secs => %(lease_s)s)
WHERE d.id IN (
    SELECT id FROM hub.kannel_dlr_calls
    WHERE status = 'pending' AND next_attempt_at <= clock_timestamp()
    ORDER BY next_attempt_at, id
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED)
RETURNING d.id, d.message_id, d.dlr_type, d.reported_at, d.attempts

-- name: dlr_facts
SELECT k.username, k.dlr_url, k.params, m.sender, m.recipients[1] AS receiver, m.body, m.created_at,
       m.operator_ref, m.failure_code, m.failure_reason, c.name AS connection
FROM hub.kannel_requests k
JOIN hub.messages m ON m.id = k.message_id
LEFT JOIN hub.connections c ON c.id = m.connection_id
WHERE k.message_id = %(message_id)s

-- name: dlr_done
UPDATE hub.kannel_dlr_calls
SET status = 'done', done_at = clock_timestamp(), url = %(url)s, answer_status = %(answer_status)s, last_error = NULL
WHERE id = %(id)s

-- name: dlr_retry
-- backoff doubling from 5 s up to an hour; parked after the setting's attempts
UPDATE hub.kannel_dlr_calls
SET status = CASE WHEN attempts >= %(max_attempts)s THEN 'parked' ELSE 'pending' END,
    next_attempt_at = clock_timestamp() + make_interval(secs => least(3600, 5 * 2 ^ least(attempts - 1, 20))),
    url = %(url)s, answer_status = %(answer_status)s, last_error = %(error)s
WHERE id = %(id)s

-- name: gammu_enabled
SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'gammu') AS enabled

-- name: gammu_set_version
INSERT INTO gammu.gammu ("Version") VALUES (%(version)s)

-- name: gammu_drop
-- the bridge's triggers on hub.messages depend on its functions and go with them
DROP SCHEMA IF EXISTS gammu CASCADE

-- name: bench_api_key
-- msghub bench api: a send key for its user
INSERT INTO hub.api_keys (key_id, secret_sha256, name, user_id, scopes)
VALUES (%(key_id)s, %(secret_sha256)s, 'bench api', %(user_id)s, '{send}')

-- name: webhook_claim
UPDATE hub.webhook_deliveries d
SET attempts = d.attempts + 1, next_attempt_at = clock_timestamp() + make_interval(secs => %(lease_s)s)
WHERE d.id IN (
    SELECT id FROM hub.webhook_deliveries
    WHERE status = 'pending' AND next_attempt_at <= clock_timestamp()
    ORDER BY next_attempt_at, id
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED)
RETURNING d.id, d.webhook_id, d.event, d.payload, d.attempts,
          (SELECT w.url FROM hub.webhooks w WHERE w.id = d.webhook_id) AS url,
          (SELECT w.secret FROM hub.webhooks w WHERE w.id = d.webhook_id) AS secret,
          (SELECT w.allow_private FROM hub.webhooks w WHERE w.id = d.webhook_id) AS allow_private

-- name: webhook_done
UPDATE hub.webhook_deliveries
SET status = 'done', done_at = clock_timestamp(), answer_status = %(answer_status)s, last_error = NULL
WHERE id = %(id)s

-- name: webhook_retry
UPDATE hub.webhook_deliveries
SET status = CASE WHEN attempts >= %(max_attempts)s THEN 'parked' ELSE 'pending' END,
    next_attempt_at = clock_timestamp() + make_interval(secs => least(3600, %(base_s)s * 2 ^ least(attempts - 1, 20))),
    answer_status = %(answer_status)s, last_error = %(error)s
WHERE id = %(id)s

-- name: webhook_insert
INSERT INTO hub.webhooks (url, events, secret, owner_user_id, allow_private)
VALUES (%(url)s, %(events)s, %(secret)s, %(owner_user_id)s, %(allow_private)s)
RETURNING id

-- name: webhooks_of
-- an owner's webhooks (owner NULL: every webhook), with their deliveries' state
SELECT w.id, w.url, w.events, w.owner_user_id, w.allow_private, w.enabled, w.created_at,
       count(d.id) FILTER (WHERE d.status = 'pending') AS pending,
       count(d.id) FILTER (WHERE d.status = 'parked') AS parked,
       (SELECT d2.last_error FROM hub.webhook_deliveries d2
        WHERE d2.webhook_id = w.id AND d2.last_error IS NOT NULL ORDER BY d2.id DESC LIMIT 1) AS last_error
FROM hub.webhooks w
LEFT JOIN hub.webhook_deliveries d ON d.webhook_id = w.id
WHERE %(owner_user_id)s::bigint IS NULL OR w.owner_user_id = %(owner_user_id)s::bigint
GROUP BY w.id ORDER BY w.id

-- name: webhook_delete
DELETE FROM hub.webhooks
WHERE id = %(id)s AND (%(owner_user_id)s::bigint IS NULL OR owner_user_id = %(owner_user_id)s::bigint)
RETURNING id

-- name: webhook_retry_parked
-- an operator sends the parked deliveries of a webhook again
UPDATE hub.webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = now()
WHERE webhook_id = %(id)s AND status = 'parked'

-- name: webhook_parked
-- The newest parked deliveries (every webhook's), with the error that
-- parked them: what Administration → Webhooks shows.
SELECT d.id, d.webhook_id, w.url, d.event, d.attempts, d.answer_status, d.last_error, d.created_at,
       (d.payload -> 'message' ->> 'id')::bigint AS message_id, d.payload -> 'connection' ->> 'name' AS connection
FROM hub.webhook_deliveries d JOIN hub.webhooks w ON w.id = d.webhook_id
WHERE d.status = 'parked'
ORDER BY d.id DESC
LIMIT %(limit)s

-- name: form_key
SELECT secret FROM hub.send_form_key

-- name: form_by_slug
SELECT slug, title, intro, colour, background, logo_type, owner_user_id, connection, sender, allowed_prefixes,
       login, code_sha256, rate_per_hour, footer, sent_text, channels
FROM hub.send_forms WHERE slug = %(slug)s

-- name: forms_all
SELECT f.slug, f.title, f.login, f.channels, f.logo_type, u.username AS owner,
       (SELECT count(*) FROM hub.send_form_uses s WHERE s.slug = f.slug AND s.message_id IS NOT NULL) AS sent
FROM hub.send_forms f JOIN hub.users u ON u.id = f.owner_user_id
ORDER BY f.slug

-- name: form_branding_update
-- What Administration → Send forms edits: the look, the texts and the
-- channels; a new logo only when one was uploaded, none when it was removed.
UPDATE hub.send_forms SET
    title = %(title)s, intro = %(intro)s, footer = %(footer)s, sent_text = %(sent_text)s, colour = %(colour)s,
    background = %(background)s, channels = %(channels)s,
    logo = CASE WHEN %(remove_logo)s THEN NULL ELSE coalesce(%(logo)s, logo) END,
    logo_type = CASE WHEN %(remove_logo)s THEN NULL ELSE coalesce(%(logo_type)s, logo_type) END
WHERE slug = %(slug)s
RETURNING slug

-- name: form_logo
SELECT logo, logo_type FROM hub.send_forms WHERE slug = %(slug)s AND logo IS NOT NULL

-- name: form_upsert
INSERT INTO hub.send_forms (slug, title, intro, colour, background, logo, logo_type, owner_user_id, connection, sender,
                            allowed_prefixes, login, code_sha256, rate_per_hour, footer, sent_text, channels)
VALUES (%(slug)s, %(title)s, %(intro)s, %(colour)s, %(background)s, %(logo)s, %(logo_type)s, %(owner_user_id)s,
        %(connection)s, %(sender)s, %(allowed_prefixes)s, %(login)s, %(code_sha256)s, %(rate_per_hour)s,
        %(footer)s, %(sent_text)s, %(channels)s)
ON CONFLICT (slug) DO UPDATE SET
    title = EXCLUDED.title, intro = EXCLUDED.intro, colour = EXCLUDED.colour, background = EXCLUDED.background,
    footer = EXCLUDED.footer, sent_text = EXCLUDED.sent_text, channels = EXCLUDED.channels,
    logo = coalesce(EXCLUDED.logo, hub.send_forms.logo), logo_type = coalesce(EXCLUDED.logo_type, hub.send_forms.logo_type),
    owner_user_id = EXCLUDED.owner_user_id, connection = EXCLUDED.connection, sender = EXCLUDED.sender,
    allowed_prefixes = EXCLUDED.allowed_prefixes, login = EXCLUDED.login, code_sha256 = EXCLUDED.code_sha256,
    rate_per_hour = EXCLUDED.rate_per_hour

-- name: form_spend
-- spends a one-time token, unless this address used up its hour; returns nothing when refused
INSERT INTO hub.send_form_uses (nonce, slug, client)
SELECT %(nonce)s, %(slug)s, %(client)s
WHERE (SELECT count(*) FROM hub.send_form_uses
       WHERE slug = %(slug)s AND client = %(client)s AND used_at > now() - interval '1 hour') < %(rate_per_hour)s
ON CONFLICT (nonce) DO NOTHING
RETURNING nonce

-- name: form_used
UPDATE hub.send_form_uses SET message_id = %(message_id)s WHERE nonce = %(nonce)s

-- name: form_status
-- the state of a message this form's token sent (the nonce is the capability)
SELECT m.id, m.status, m.segments FROM hub.send_form_uses u JOIN hub.messages m ON m.id = u.message_id
WHERE u.slug = %(slug)s AND u.nonce = %(nonce)s

-- name: form_outbox_insert
INSERT INTO hub.outbox (channel, recipient, sender, subject, text, attachments, connection, delivery_report,
                        transliterate, correlation_id)
VALUES (%(channel)s, %(recipient)s, %(sender)s, %(subject)s, %(text)s, %(attachments)s, %(connection)s,
        %(delivery_report)s, %(transliterate)s, %(correlation_id)s)
RETURNING id

-- name: form_message_of
SELECT id FROM hub.messages WHERE outbox_id = %(outbox_id)s ORDER BY id LIMIT 1
