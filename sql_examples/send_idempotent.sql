-- Safe to repeat: a second insert with the same idempotency_key queues
-- nothing and is not an error; RETURNING then returns no row. Use it when
-- a retry of your own (after a timeout, a crash) may repeat an insert.
-- Assumes: a connection carrying sms (the tests use the loopback connection
-- "demo", marked is_default).

INSERT INTO hub.outbox (recipient, text, idempotency_key, correlation_id)
VALUES ('+447700900123', 'Payment of GBP 42.00 received, thank you.', 'payment-88123-receipt',
        'payment-88123')
RETURNING id, message_count;
