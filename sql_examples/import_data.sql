-- Hands data to the rules: every row inserted into hub.import becomes a
-- data_imported event whose payload is {"import_id", "topic", "row"}.
-- Assumes: nothing (rules that act on the topic are optional).

INSERT INTO hub.import (topic, payload)
VALUES ('crm.customer',
        '{"customer_id": 1001, "name": "Jane Doe", "phone": "+447700900123", "tier": "gold"}');

-- Many rows in one statement: one trigger call, one event per row.
INSERT INTO hub.import (topic, payload)
SELECT 'crm.customer', jsonb_build_object('customer_id', c.id, 'name', c.name, 'phone', c.phone)
FROM (VALUES (1002, 'Sam Patel', '+447700900321'),
             (1003, 'Ana Silva', '+447700900654')) AS c (id, name, phone);
