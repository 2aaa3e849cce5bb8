-- Issue 19 (speed of the durable path): the same as schema/60_queue.sql.

-- The functions that record a window of results are planned for each call:
-- plans cached in a session while hub.messages was small (a hash join over
-- the whole table, a scan of the status index) stayed as the table grew,
-- and with them a cost per call that grew with it (docs/PERFORMANCE.md,
-- "Growth with table size"). The results also without bitmap scans, which
-- never mark an index entry dead: through messages_sending they visited an
-- entry for every message sent since the last vacuum.
ALTER FUNCTION hub.record_results_v1(bigint[], integer[], text[], text[], integer[], text[], text[],
                                     bigint[], integer[], integer[], text[])
    SET plan_cache_mode = force_custom_plan;
ALTER FUNCTION hub.record_results_v1(bigint[], integer[], text[], text[], integer[], text[], text[],
                                     bigint[], integer[], integer[], text[])
    SET enable_bitmapscan = off;
ALTER FUNCTION hub.record_segments_v1(bigint[], integer[], integer[], text[])
    SET plan_cache_mode = force_custom_plan;
