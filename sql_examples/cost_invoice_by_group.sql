-- A monthly invoice per group: what the messages sent in each group's name
-- cost this month (UTC), by connection and channel, in each connection's
-- currency, with the estimate made when they were queued beside it. Only
-- priced messages count (a tariff applied, docs/COSTS.md). Exact at every
-- moment, as the message counts are. For last month, compare day with
-- date_trunc('month', ...) - interval '1 month' instead.
-- Assumes: tariffs on the connections (an empty result otherwise).

SELECT coalesce(group_name, '(no group)') AS group_name, currency, connection, channel,
       sum(messages)::bigint AS messages, sum(estimated) AS estimated, sum(cost) AS cost
FROM hub.stats_costs
WHERE direction = 'out'
  AND day >= date_trunc('month', now() AT TIME ZONE 'UTC')::date
GROUP BY 1, 2, 3, 4
ORDER BY 1, 2, 3, 4;
