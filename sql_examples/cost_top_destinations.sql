-- The ten most expensive destinations of the last 30 days (UTC): the
-- tariff prefixes outbound messages were priced by ('' is a connection's
-- default price), with what they cost and how many messages went there.
-- Assumes: tariffs on the connections (an empty result otherwise).

SELECT CASE WHEN prefix = '' THEN '(default)' ELSE prefix END AS destination, currency,
       sum(messages)::bigint AS messages, sum(cost) AS cost
FROM hub.stats_costs
WHERE direction = 'out'
  AND day >= (now() AT TIME ZONE 'UTC')::date - 29
GROUP BY prefix, currency
ORDER BY sum(cost) DESC, destination
LIMIT 10;
