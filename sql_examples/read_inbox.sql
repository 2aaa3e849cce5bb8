-- Reads what arrived, oldest first, 100 at a time: replace 0 with the
-- largest id you have already processed (see docs/INTEGRATION.md on ids
-- that commit out of order).
-- Assumes: nothing; the tests first receive an SMS and an MMS with a picture.

SELECT id, channel, connection, sender, recipients, subject, text, received_at, part_count
FROM hub.inbox
WHERE id > 0
ORDER BY id
LIMIT 100;

-- The attachments of what arrived (MMS, e-mail).
SELECT p.message_id, p.seq, p.content_type, p.filename, p.data
FROM hub.message_parts p
JOIN hub.inbox i ON i.id = p.message_id
WHERE i.id > 0
ORDER BY p.message_id, p.seq;
