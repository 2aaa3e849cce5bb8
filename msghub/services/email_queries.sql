-- Named queries of the e-mail connectors' hub side (msghub/services/email_link.py).

-- name: smtp_accepted
SELECT header_id FROM hub.smtp_accepted WHERE message_id = %(message_id)s

-- name: smtp_accept
SELECT hub.smtp_accept_v1(%(message_id)s, %(connection_id)s, %(attempt)s, %(header_id)s, %(server_reply)s,
                          %(recipients)s, %(in_reply_to)s, %(refs)s)

-- name: email_answers
SELECT header_id, refs FROM hub.email_answers_v1(%(message_id)s) WHERE header_id IS NOT NULL

-- name: pop3_unseen
SELECT uidl FROM hub.pop3_unseen_v1(%(connection_id)s, %(uidls)s) AS uidl

-- name: pop3_receive
SELECT hub.pop3_receive_v1(%(connection_id)s, %(uidl)s, %(outcome)s, %(size)s, %(sender)s, %(recipients)s,
                           %(subject)s, %(body)s, %(meta)s, %(parts)s, %(header_id)s, %(in_reply_to)s,
                           %(refs)s) AS id

-- name: pop3_report
SELECT hub.pop3_report_v1(%(connection_id)s, %(uidl)s, %(size)s, %(header_id)s, %(envelope_id)s, %(status)s,
                          %(reason)s) AS id

-- name: pop3_undeleted
SELECT uidl FROM hub.pop3_seen
WHERE connection_id = %(connection_id)s AND deleted_at IS NULL AND outcome <> 'too_large'

-- name: pop3_mark_deleted
UPDATE hub.pop3_seen SET deleted_at = clock_timestamp()
WHERE connection_id = %(connection_id)s AND uidl = ANY(%(uidls)s) AND deleted_at IS NULL

-- name: gateway_sms
INSERT INTO hub.outbox (channel, recipient, text, connection, correlation_id, owner_group_id)
SELECT 'sms', %(number)s, %(text)s, nullif(%(connection)s, ''), 'email-gateway:' || m.id, m.owner_group_id
FROM hub.messages m WHERE m.id = %(message_id)s
RETURNING id

-- name: message_id_salt
SELECT hub.email_message_id_salt_v1() AS value
