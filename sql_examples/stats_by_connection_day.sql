-- Messages per connection and UTC day over the last seven days, by
-- direction, with how many were sent (or delivered), delivered, failed, are
-- still pending (queued or sending) or were received. Exact at every moment.
-- The view leaves a count NULL when there is nothing to count; coalesce
-- turns that into 0.
-- Assumes: nothing (an empty result on a quiet hub).

SELECT day, connection, direction, messages, segments,
       coalesce(sent, 0) AS sent, coalesce(delivered, 0) AS delivered,
       coalesce(failed, 0) AS failed, coalesce(pending, 0) AS pending,
       coalesce(received, 0) AS received
FROM hub.stats_by_connection_day
WHERE day >= (now() AT TIME ZONE 'UTC')::date - 6
ORDER BY day, connection, direction;
