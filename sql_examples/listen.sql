-- Subscribes this session to msghub's wake-ups. A notification is a hint
-- that rows changed, never the data itself: read the tables when one
-- arrives, and poll anyway (every few seconds) for what a lost connection
-- or a skipped notification did not tell you.
-- Assumes: nothing. Keep the session open; LISTEN ends with it.

LISTEN msghub_messages;
LISTEN msghub_events;
LISTEN msghub_outbox;
LISTEN msghub_connections;
