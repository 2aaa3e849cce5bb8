-- An appointment reminder: sent in a day (send_at), and given up with
-- failure_code 'expired' if it cannot leave within two hours of that
-- (valid_until). Asks for a delivery report and sends at high priority.
-- Assumes: a connection carrying sms (the tests use the loopback connection
-- "demo", marked is_default).

INSERT INTO hub.outbox (recipient, text, send_at, valid_until, delivery_report, priority,
                        correlation_id)
VALUES ('+447700900123', 'Reminder: your appointment at Riverside Clinic is today at 14:30.',
        now() + interval '1 day', now() + interval '1 day 2 hours', true, 2,
        'appointment-4711')
RETURNING id, message_count;
