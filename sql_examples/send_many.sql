-- Sends to several recipients, two ways.
-- Assumes: a connection carrying sms (the tests use the loopback connection
-- "demo", marked is_default).

-- One text to several recipients: one outbox row, one queued message per
-- recipient. Numbers are normalised ('+44 7700 900789' becomes
-- '+447700900789') and a repeated recipient gets the message once.
INSERT INTO hub.outbox (recipients, text, sender, correlation_id)
VALUES (ARRAY['+447700900123', '+447700900456', '+44 7700 900789'],
        'The Leeds depot is closed on Monday 25 May.', 'AcmeDepot', 'depot-closure')
RETURNING id, message_count;

-- A different text per recipient, in one statement and one transaction:
-- every row is queued, or (if one row is refused) none is.
BEGIN;
INSERT INTO hub.outbox (recipient, text, correlation_id) VALUES
    ('+447700900321', 'Hi Sam, your login code is 482913.', 'login-sam'),
    ('+447700900654', 'Hi Ana, your login code is 175064.', 'login-ana');
COMMIT;
