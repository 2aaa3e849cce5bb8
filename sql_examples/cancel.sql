-- Cancels the appointment reminder of send_deferred_with_expiry.sql while
-- it is still queued. hub.cancel_v1 returns false when the message has
-- already been handed to a connection (or has finished): it cannot be
-- called back then.
-- Assumes: send_deferred_with_expiry.sql ran.

SELECT message_id, hub.cancel_v1(message_id) AS cancelled
FROM hub.message_status
WHERE correlation_id = 'appointment-4711' AND status = 'queued';
