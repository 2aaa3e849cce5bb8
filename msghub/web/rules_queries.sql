-- Named queries of the rules pages (msghub/web/pages/rules.py). They run as
-- the signed-in user (row-level security decides which rules exist for
-- them), except rule_log_tail, which reads the runner's log in system mode
-- after the page has checked that the user sees the rule.

-- name: rules_page
-- Every rule the user sees, in run order, with its tests' last results;
-- %(q)s filters by name or source (pattern: an ILIKE pattern, escaped).
SELECT r.id, r.name, r.kind, r.events, r.position, r.enabled, r.stop_processing, r.model, r.source,
       r.updated_at,
       count(t.id) AS tests,
       count(t.id) FILTER (WHERE (t.last_result ->> 'passed')::boolean) AS passed,
       count(t.id) FILTER (WHERE t.last_result IS NOT NULL AND NOT (t.last_result ->> 'passed')::boolean) AS failed,
       max(t.last_run_at) AS last_run_at
FROM hub.rules r
LEFT JOIN hub.rule_tests t ON t.rule_id = r.id
WHERE %(q)s = '' OR r.name ILIKE %(pattern)s OR r.source ILIKE %(pattern)s
GROUP BY r.id
ORDER BY r.position, r.id;

-- name: rule_row
SELECT id, name, kind, events, position, enabled, stop_processing, model, source, created_at, updated_at
FROM hub.rules WHERE id = %(id)s;

-- name: rule_insert
INSERT INTO hub.rules (name, kind, source, model, events, position, enabled, stop_processing)
VALUES (%(name)s, %(kind)s, %(source)s, %(model)s, %(events)s,
        (SELECT coalesce(max(position), 0) + 10 FROM hub.rules), %(enabled)s, %(stop)s)
RETURNING id;

-- name: rule_update
UPDATE hub.rules
SET name = %(name)s, kind = %(kind)s, source = %(source)s, model = %(model)s, events = %(events)s,
    enabled = %(enabled)s, stop_processing = %(stop)s, updated_at = now()
WHERE id = %(id)s
RETURNING id;

-- name: rule_set_enabled
UPDATE hub.rules SET enabled = %(enabled)s, updated_at = now() WHERE id = %(id)s RETURNING name;

-- name: rule_delete
DELETE FROM hub.rules WHERE id = %(id)s RETURNING name;

-- name: rules_order_locked
-- The run order, locked while a move renumbers it.
SELECT id, name FROM hub.rules ORDER BY position, id FOR UPDATE;

-- name: rules_renumber
-- Positions 10, 20, 30... in the order of the ids given.
UPDATE hub.rules r SET position = o.n * 10, updated_at = now()
FROM unnest(%(ids)s::bigint[]) WITH ORDINALITY AS o(id, n)
WHERE r.id = o.id AND r.position <> o.n * 10;

-- name: rule_tests
SELECT id, name, event, fixtures, mocks, expected, last_run_at, last_result
FROM hub.rule_tests WHERE rule_id = %(rule_id)s ORDER BY id;

-- name: rule_test_row
SELECT id, name, event, fixtures, mocks, expected, last_run_at, last_result
FROM hub.rule_tests WHERE rule_id = %(rule_id)s AND id = %(id)s;

-- name: rule_test_insert
INSERT INTO hub.rule_tests (rule_id, name, event, fixtures, mocks, expected)
VALUES (%(rule_id)s, %(name)s, %(event)s, %(fixtures)s, %(mocks)s, %(expected)s)
RETURNING id;

-- name: rule_test_update
-- A changed test's earlier result no longer says anything about it.
UPDATE hub.rule_tests
SET name = %(name)s, event = %(event)s, fixtures = %(fixtures)s, mocks = %(mocks)s, expected = %(expected)s,
    last_run_at = NULL, last_result = NULL
WHERE rule_id = %(rule_id)s AND id = %(id)s
RETURNING id;

-- name: rule_test_delete
DELETE FROM hub.rule_tests WHERE rule_id = %(rule_id)s AND id = %(id)s
RETURNING name, (SELECT r.name FROM hub.rules r WHERE r.id = rule_id) AS rule;

-- name: rule_log_tail
-- The newest lines of one rule's log, newest first.
SELECT id, at, level, event_id, message
FROM hub.rule_log
WHERE rule_id = %(rule_id)s
ORDER BY id DESC
LIMIT %(limit)s;
