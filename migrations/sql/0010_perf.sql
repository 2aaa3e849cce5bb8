-- Issue 19 (speed of the durable path): the same as schema/60_queue.sql.
-- Two plans on the hot path whose cost grew with hub.messages
-- (docs/PERFORMANCE.md, "Growth with table size"):

-- The result UPDATE found its rows through a bitmap scan of
-- messages_sending, which visited an entry for every message sent since the
-- last vacuum (bitmap scans never mark an entry dead; index scans do).
ALTER FUNCTION hub.record_results_v1(bigint[], integer[], text[], text[], integer[], text[], text[],
                                     bigint[], integer[], integer[], text[])
    SET enable_bitmapscan = off;

-- The segment insert's plan, cached per session while hub.messages was
-- small, joined the batch to a sequential scan of the whole table.
ALTER FUNCTION hub.record_segments_v1(bigint[], integer[], integer[], text[])
    SET enable_seqscan = off;
