-- Sends e-mails with attachments: a JSON array of {filename, content_type,
-- data}, data in base64. The total size is limited by email_max_bytes
-- (mms_max_bytes for MMS) in hub.settings.
-- Assumes: a connection carrying email named "demo" (the tests use a
-- loopback connection).

INSERT INTO hub.outbox (channel, connection, recipient, sender, subject, text, attachments,
                        correlation_id)
VALUES ('email', 'demo', 'jane.doe@example.com', 'billing@example.com', 'Your invoice 1001',
        E'Dear Jane,\n\nplease find invoice 1001 attached.\n\nAcme Billing',
        '[{"filename": "invoice-1001.txt", "content_type": "text/plain",
           "data": "SW52b2ljZSAxMDAxCkFtb3VudCBkdWU6IEdCUCA0Mi4wMAo="}]',
        'invoice-1001')
RETURNING id, message_count;

-- The attachment built in SQL: encode(..., 'base64') turns any bytea into
-- the data field (here a small CSV made from text).
INSERT INTO hub.outbox (channel, connection, recipient, sender, subject, text, attachments)
SELECT 'email', 'demo', 'ops@example.com', 'reports@example.com', 'Daily report',
       'The daily report is attached.',
       jsonb_build_array(jsonb_build_object(
           'filename', 'report.csv',
           'content_type', 'text/csv',
           'data', encode(convert_to(E'depot,parcels\nLeeds,118\nYork,64\n', 'UTF8'), 'base64')))
RETURNING id, message_count;
