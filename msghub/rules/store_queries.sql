-- Named queries for rules, rule tests and polls (store.py, cli.py, polls.py).

-- name: rule_save
INSERT INTO hub.rules (name, kind, source, model, events, position, enabled, stop_processing)
VALUES (%(name)s, %(kind)s, %(source)s, %(model)s, %(events)s,
        coalesce(%(position)s, (SELECT coalesce(max(position), 0) + 10 FROM hub.rules)), %(enabled)s, %(stop)s)
ON CONFLICT (name) DO UPDATE
SET kind = EXCLUDED.kind, source = EXCLUDED.source, model = EXCLUDED.model, events = EXCLUDED.events,
    position = coalesce(%(position)s, hub.rules.position), enabled = EXCLUDED.enabled,
    stop_processing = EXCLUDED.stop_processing, updated_at = now()
RETURNING id;

-- name: rule_id
SELECT id FROM hub.rules WHERE name = %(name)s;

-- name: rule_test_save
INSERT INTO hub.rule_tests (rule_id, name, event, fixtures, mocks, expected)
VALUES (%(rule_id)s, %(name)s, %(event)s, %(fixtures)s, %(mocks)s, %(expected)s)
ON CONFLICT (rule_id, name) DO UPDATE
SET event = EXCLUDED.event, fixtures = EXCLUDED.fixtures, mocks = EXCLUDED.mocks, expected = EXCLUDED.expected;

-- name: rule_tests_to_run
-- The tests of one rule (by name or id) or of every rule (both NULL), with
-- the source they test, in the order the rules run.
SELECT r.id AS rule_id, r.name AS rule, r.source, t.id, t.name, t.event, t.fixtures, t.mocks, t.expected
FROM hub.rule_tests t
JOIN hub.rules r ON r.id = t.rule_id
WHERE (%(rule)s::text IS NULL OR r.name = %(rule)s)
  AND (%(rule_id)s::bigint IS NULL OR r.id = %(rule_id)s)
ORDER BY r.position, r.id, t.id;

-- name: rule_test_result
UPDATE hub.rule_tests SET last_run_at = now(), last_result = %(result)s WHERE id = %(id)s;

-- name: rules_overview
SELECT r.id, r.name, r.position, r.enabled, r.kind, r.events, r.stop_processing, r.updated_at,
       count(t.id) AS tests,
       count(t.id) FILTER (WHERE (t.last_result ->> 'passed')::boolean) AS passed
FROM hub.rules r
LEFT JOIN hub.rule_tests t ON t.rule_id = r.id
GROUP BY r.id
ORDER BY r.position, r.id;

-- name: rule_remove
DELETE FROM hub.rules WHERE id = %(id)s;

-- name: rule_enable
UPDATE hub.rules SET enabled = %(enabled)s, updated_at = now() WHERE id = %(id)s;

-- name: rule_log_tail
SELECT * FROM (
    SELECT l.id, l.at, r.name, l.level, l.event_id, l.message
    FROM hub.rule_log l
    LEFT JOIN hub.rules r ON r.id = l.rule_id
    WHERE %(rule)s::text IS NULL OR r.name = %(rule)s
    ORDER BY l.id DESC
    LIMIT %(limit)s
) newest
ORDER BY id;

-- name: poll_options_by_name
SELECT p.name,
       jsonb_agg(jsonb_build_object('label', o.label, 'keywords', o.keywords) ORDER BY o.position) AS options
FROM hub.polls p
JOIN hub.poll_options o ON o.poll_id = p.id
GROUP BY p.name;

-- name: poll_insert
INSERT INTO hub.polls (name, question, opens_at, closes_at, one_vote_per_sender, reply_vote, reply_revote,
                       reply_closed, reply_unknown)
VALUES (%(name)s, %(question)s, %(opens_at)s, %(closes_at)s, %(one_vote_per_sender)s, %(reply_vote)s,
        %(reply_revote)s, %(reply_closed)s, %(reply_unknown)s)
RETURNING id;

-- name: poll_option_insert
INSERT INTO hub.poll_options (poll_id, position, label, keywords)
VALUES (%(poll_id)s, %(position)s, %(label)s, %(keywords)s);

-- name: poll_rule_insert
-- A poll's rule runs before every other rule (and stops them for the SMS it
-- counts), so a voter gets the poll's answer and no other.
INSERT INTO hub.rules (name, source, events, position)
VALUES (%(name)s, %(source)s, '{message_received}', (SELECT coalesce(min(position), 10) - 10 FROM hub.rules));

-- name: poll_results
SELECT label, votes, percent FROM hub.poll_results WHERE poll = %(name)s ORDER BY position;

-- name: poll_close
UPDATE hub.polls SET closes_at = now() WHERE name = %(name)s RETURNING id;

-- name: bench_forget_polls
-- Earlier bench runs' polls and their rules, so only this run's rule runs.
WITH gone AS (DELETE FROM hub.polls WHERE name LIKE 'bench-%%' RETURNING name)
DELETE FROM hub.rules WHERE name IN (SELECT 'poll: ' || name FROM gone);

-- name: bench_connection
INSERT INTO hub.connections (name, kind, channels, enabled) VALUES ('bench-votes', 'loopback', '{sms}', false)
ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name
RETURNING id;

-- name: bench_receive
SELECT hub.receive_message_v1(%(connection_id)s, 'sms', s, ARRAY['+15550000'], NULL, t)
FROM unnest(%(senders)s::text[], %(texts)s::text[]) AS u(s, t);

-- name: bench_rule_latencies
-- From the vote's insert to its event being done: the runner marks the
-- event done in the transaction that queued the reply, just before commit.
SELECT extract(epoch FROM e.done_at - m.status_at) * 1000 AS ms, e.done_at
FROM hub.messages m
JOIN hub.events e ON e.message_id = m.id AND e.type = 'message_received'
WHERE m.direction = 'in' AND m.sender LIKE %(pattern)s AND e.done_at IS NOT NULL;

-- name: bench_replies
SELECT count(*) AS n FROM hub.messages
WHERE direction = 'out' AND correlation_id LIKE %(pattern)s;

-- name: bench_pending_events
SELECT count(*) AS n FROM hub.events WHERE done_at IS NULL;
