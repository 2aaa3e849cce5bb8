-- Tariffs and quotas (schema/90_costs.sql): what `msghub tariff`,
-- `msghub quota` and the admin pages ask, through msghub/services/costs.py.

-- name: tariffs
SELECT t.id, c.name AS connection, t.channel, t.direction, t.prefix, t.max_bytes, t.price, t.currency,
       t.valid_from, t.valid_until,
       t.valid_from <= now() AND (t.valid_until IS NULL OR t.valid_until > now()) AS current
FROM hub.tariffs t JOIN hub.connections c ON c.id = t.connection_id
WHERE %(connection)s::text IS NULL OR c.name = %(connection)s
ORDER BY c.name, t.channel, t.direction, t.prefix, t.max_bytes NULLS LAST, t.valid_from

-- name: connection_id_by_name
SELECT id FROM hub.connections WHERE name = %(name)s

-- name: insert_tariff
INSERT INTO hub.tariffs (connection_id, channel, direction, prefix, max_bytes, price, currency, valid_from,
                         valid_until)
VALUES (%(connection_id)s, %(channel)s, %(direction)s, %(prefix)s, %(max_bytes)s, %(price)s, %(currency)s,
        coalesce(%(valid_from)s, now()), %(valid_until)s)
RETURNING id

-- name: delete_tariff
DELETE FROM hub.tariffs t USING hub.connections c
WHERE t.id = %(id)s AND c.id = t.connection_id
RETURNING t.id, c.name AS connection, t.channel, t.prefix, t.price, t.currency

-- name: quotas
SELECT id, name, coalesce(username, group_name) AS holder, CASE WHEN user_id IS NULL THEN 'group' ELSE 'user' END
       AS holder_kind, connection, unit, amount, currency, period, warn_percent, admins_exempt, period_start, used,
       warned
FROM hub.quota_status
ORDER BY name

-- name: user_id_by_name
SELECT id FROM hub.users WHERE username = %(name)s

-- name: group_id_by_name
SELECT id FROM hub.groups WHERE name = %(name)s

-- name: insert_quota
INSERT INTO hub.quotas (name, user_id, group_id, connection_id, unit, amount, currency, period, warn_percent,
                        admins_exempt)
VALUES (%(name)s, %(user_id)s, %(group_id)s, %(connection_id)s, %(unit)s, %(amount)s, %(currency)s, %(period)s,
        %(warn_percent)s, %(admins_exempt)s)
RETURNING id

-- name: delete_quota
DELETE FROM hub.quotas WHERE name = %(name)s RETURNING id

-- name: set_bill_retries
UPDATE hub.connections SET bill_retries = %(bill_retries)s WHERE name = %(name)s RETURNING id
