-- Follows what was sent: by your correlation_id, by your idempotency_key,
-- and summed up for a send to a list.
-- Assumes: send_one.sql, send_idempotent.sql and send_to_list.sql ran.

SELECT message_id, recipient, connection, status, status_at, attempts, segments,
       failure_code, failure_reason, possible_duplicate
FROM hub.message_status
WHERE correlation_id = 'order-1001'
ORDER BY message_id;

SELECT message_id, recipient, status, failure_code
FROM hub.message_status
WHERE idempotency_key = 'payment-88123-receipt';

SELECT status, count(*) AS messages
FROM hub.message_status
WHERE correlation_id = 'spring-sale'
GROUP BY status
ORDER BY status;
