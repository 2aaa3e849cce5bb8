-- Sends one SMS. No connection is named, so routing picks one: the longest
-- matching prefix in hub.routes, else the channel's default connection,
-- else the only enabled connection that carries SMS.
-- Assumes: a connection carrying sms (the tests use the loopback connection
-- "demo", marked is_default).

INSERT INTO hub.outbox (recipient, text, correlation_id)
VALUES ('+447700900123', 'Your order 1001 has shipped and arrives tomorrow.', 'order-1001')
RETURNING id, message_count;
