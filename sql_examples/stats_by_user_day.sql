-- Messages per owning hub user and UTC day over the last seven days, by
-- channel and direction. username is NULL for messages no user owns
-- (received ones, and ones queued without created_by).
-- Assumes: nothing (an empty result on a quiet hub).

SELECT day, username, channel, direction, messages, segments
FROM hub.stats_by_user_day
WHERE day >= (now() AT TIME ZONE 'UTC')::date - 6
ORDER BY day, username NULLS FIRST, channel, direction;
