-- Sends one text to every member of a distribution list (hub.lists, by
-- name): one queued message per member. An SMS goes to each contact's phone
-- number, an e-mail to each contact's e-mail address, an MMS to the phone
-- number or else the e-mail address.
-- Assumes: a connection carrying sms (the tests use the loopback connection
-- "demo", marked is_default) and a list "customers" with contacts.

INSERT INTO hub.outbox (list, text, sender, correlation_id)
VALUES ('customers', 'Our spring sale starts on Friday. Reply STOP to opt out.', 'AcmeShop',
        'spring-sale')
RETURNING id, message_count, recipients;
