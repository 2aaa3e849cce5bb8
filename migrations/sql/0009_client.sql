-- Issue 18, the web client: the same as the recipient search indexes at the end of schema/46_web.sql.
-- The compose page's recipient search (issue 18): prefixes of a contact's
-- name, e-mail address or number, and of a list's name, found through these
-- indexes in key order, so that a keystroke reads a page of rows whatever the
-- size of the address book (tests/web/test_recipients.py checks the plan).
-- In the "C" collation a btree serves both LIKE 'prefix%' and the order.
CREATE INDEX contacts_name_search ON hub.contacts ((lower(name) COLLATE "C"), id);
CREATE INDEX contacts_email_search ON hub.contacts ((lower(email) COLLATE "C"), id);
CREATE INDEX contacts_phone_search ON hub.contacts ((phone COLLATE "C"), id);
CREATE INDEX lists_name_search ON hub.lists ((lower(name) COLLATE "C"), id);
