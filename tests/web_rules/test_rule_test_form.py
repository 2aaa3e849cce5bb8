"""Rule tests written in a form (issue 18, item 6): event type, sender,
text and what the rule should do become the same JSON test the page stores
for typed JSON, and run for real."""

from __future__ import annotations

from msghub.rules.store import save_rule
from tests.web_admin.helpers import csrf, login, run, user


def test_a_test_written_in_the_form_is_stored_and_runs(db_url, db):
    user(db_url, "root", role="admin")
    rule_id = save_rule(
        db,
        "closed",
        source="// answers and files\n"
        "if (message.text.includes('hours')) { reply('We open at 8.'); move('Hours'); stop(); }\n",
    )

    async def scenario(client):
        token = await login(client, "root")
        page = await client.get(f"/rules/{rule_id}/tests")
        base = {"csrf_token": token, "mode": "fields", "event_type": "message_received", "sender": "+4790000001"}
        good = await client.post(
            f"/rules/{rule_id}/tests/new",
            data={**base, "name": "asks for the hours", "text": "your hours?", "expect_reply": "We open at 8.",
                  "expect_folder": "Hours", "expect_stop": "on", "created_at": "2026-11-28T10:00"},
        )
        quiet = await client.post(
            f"/rules/{rule_id}/tests/new",
            data={**base, "name": "says nothing else", "text": "hello", "expect_no_reply": "on"},
        )
        wrong = await client.post(
            f"/rules/{rule_id}/tests/new",
            data={**base, "name": "wrong on purpose", "text": "hours", "expect_reply": "Closed."},
        )
        ran = await client.post(f"/rules/{rule_id}/tests/run", data={"csrf_token": csrf(page.text)})
        return page, good, quiet, wrong, await client.get(ran.headers["location"])

    page, good, quiet, wrong, after = run(db_url, scenario)
    assert 'id="test-form"' in page.text and "a message arrives" in page.text
    assert [r.status_code for r in (good, quiet, wrong)] == [303, 303, 303]
    rows = db.execute("SELECT name, event, expected, last_result FROM hub.rule_tests ORDER BY id").fetchall()
    assert rows[0]["event"] == {
        "type": "message_received",
        "message": {"text": "your hours?", "sender": "+4790000001", "created_at": "2026-11-28T10:00:00+00:00"},
    }
    assert rows[0]["expected"] == {"replies": [{"text": "We open at 8."}], "folder": "Hours", "stopped": True}
    assert rows[1]["expected"] == {"replies": []}
    assert [(r["name"], r["last_result"]["passed"]) for r in rows] == [
        ("asks for the hours", True),
        ("says nothing else", True),
        ("wrong on purpose", False),
    ]
    assert "Ran 3 tests: 2 passed" in after.text
