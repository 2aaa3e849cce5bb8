-- The counts of a poll, one row per option, zero votes included: what a
-- chart or a report reads. percent is NULL while nobody has voted.
-- Assumes: a poll named 'best-song' (msghub poll create best-song ...).

SELECT label, votes, percent FROM hub.poll_results WHERE poll = 'best-song' ORDER BY position;
