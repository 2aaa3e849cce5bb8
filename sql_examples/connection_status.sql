-- The connections with their state, last error and queue depth.
-- Assumes: nothing.

SELECT name, kind, enabled, state, state_since, last_error, last_error_at, queued, sending
FROM hub.connection_status
ORDER BY name;
