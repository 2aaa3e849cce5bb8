-- name: insert_mms
-- one MMS per recipient, each with the same picture (base64 in the attachments JSON)
INSERT INTO hub.outbox (channel, recipient, subject, text, attachments, connection, correlation_id)
SELECT 'mms', r, 'bench', 'bench message', jsonb_build_array(jsonb_build_object(
           'filename', 'bench.jpg', 'content_type', 'image/jpeg', 'data', %(picture)s::text)),
       %(connection)s, c
FROM unnest(%(recipients)s::text[], %(correlation_ids)s::text[]) AS u(r, c)
