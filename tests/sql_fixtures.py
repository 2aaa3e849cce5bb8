"""Rows the SQL examples assume: a default loopback connection `demo` and a
distribution list `customers` with two contacts."""

EXAMPLES_SETUP = """
INSERT INTO hub.connections (name, kind, channels, config, is_default)
VALUES ('demo', 'loopback', '{sms,mms,email}', '{}', true);
INSERT INTO hub.lists (name, description) VALUES ('customers', 'customers who opted in');
INSERT INTO hub.contacts (name, phone, email) VALUES
    ('Jane Doe', '+447700900123', 'jane.doe@example.com'),
    ('Sam Patel', '+44 7700 900321', 'sam.patel@example.com');
INSERT INTO hub.list_members (list_id, contact_id)
SELECT l.id, c.id FROM hub.lists l CROSS JOIN hub.contacts c WHERE l.name = 'customers';
"""
