-- name: insert_mms
-- one MMS per recipient, each with the same picture (base64 in the attachments JSON)
INSERT INTO hub.outbox (channel, recipient, subject, text, attachments, connection, correlation_id)
SELECT 'mms', r, 'bench', 'bench message', jsonb_build_array(jsonb_build_object(
           'filename', 'bench.jpg', 'content_type', 'image/jpeg', 'data', %(picture)s::text)),
       %(connection)s, c
FROM unnest(%(recipients)s::text[], %(correlation_ids)s::text[]) AS u(r, c)

-- name: bench_cost_by_connection_day
-- cost per UTC day and connection over the period (hub.stats_costs)
SELECT day, connection, currency, sum(messages)::bigint AS messages, sum(estimated) AS estimated,
       sum(cost) AS cost
FROM hub.stats_costs
WHERE day >= current_date - %(days)s
GROUP BY day, connection, currency
ORDER BY day, connection

-- name: bench_cost_invoice
-- this month's invoice per group (sql_examples/cost_invoice_by_group.sql)
SELECT coalesce(group_name, '(no group)') AS group_name, currency, connection, channel,
       sum(messages)::bigint AS messages, sum(estimated) AS estimated, sum(cost) AS cost
FROM hub.stats_costs
WHERE direction = 'out' AND day >= date_trunc('month', now() AT TIME ZONE 'UTC')::date
GROUP BY 1, 2, 3, 4
ORDER BY 1, 2, 3, 4

-- name: bench_cost_top_destinations
-- the ten most expensive destinations of 30 days (sql_examples/cost_top_destinations.sql)
SELECT prefix, currency, sum(messages)::bigint AS messages, sum(cost) AS cost
FROM hub.stats_costs
WHERE direction = 'out' AND day >= (now() AT TIME ZONE 'UTC')::date - 29
GROUP BY prefix, currency
ORDER BY sum(cost) DESC, prefix
LIMIT 10
