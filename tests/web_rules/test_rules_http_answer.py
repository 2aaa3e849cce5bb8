"""The rule editor's "call a web address" action, made in the form, replies
with a JSON field of the answer; its rule test (a mocked answer) passes."""

from __future__ import annotations

import json

from tests.web_admin.helpers import login, run, user
from tests.web_rules.test_rules_pages import _visual_form


def test_an_http_action_made_in_the_form_replies_with_a_field_of_the_answer(db_url, db):
    user(db_url, "root", role="admin")
    form = _visual_form(
        "",
        **{
            "name": "weather",
            "conditions[0].type": "text_starts_with",
            "conditions[0].keyword": "weather",
            "actions[0].type": "http",
            "actions[0].method": "GET",
            "actions[0].url": "https://weather.example.org/now?city=Oslo",
            "actions[0].body": "",
            "actions[0].reply": "Oslo: {answer} degrees",
            "actions[0].answer_field": "current.temp",
            "actions[0].reply_failed": "Sorry, no weather now.",
        },
    )
    del form["actions[1].type"], form["actions[1].folder"]
    test = {
        "name": "the answer's temperature is the reply",
        "event": {"type": "message_received", "message": {"sender": "+447700900001", "text": "weather please"}},
        "mocks": [{"method": "GET", "url": "https://weather.example.org/*",
                   "response": {"status": 200, "json": {"current": {"temp": 7}}}}],
        "expected": {"replies": [{"text": "Oslo: 7 degrees"}], "error": None},
    }
    failing = {**test, "name": "a busy service gets the failure text",
               "mocks": [{"method": "GET", "url": "https://weather.example.org/*", "response": {"status": 503}}],
               "expected": {"replies": [{"text": "Sorry, no weather now."}]}}

    async def scenario(client):
        token = await login(client, "root")
        new = await client.get("/rules/new")
        saved = await client.post("/rules/new", data={**form, "csrf_token": token})
        assert saved.status_code == 303, saved.text
        rule_id = int(saved.headers["location"].split("/")[2].split("?")[0])
        editor = await client.get(saved.headers["location"])
        for t in (test, failing):
            added = await client.post(f"/rules/{rule_id}/tests/new", data={"csrf_token": token, "test": json.dumps(t)})
            assert added.status_code == 303, added.text
        ran = await client.post(f"/rules/{rule_id}/tests/run", data={"csrf_token": token})
        return new, editor, await client.get(ran.headers["location"]), await client.get("/rules")

    new, editor, after, listing = run(db_url, scenario)
    assert new.status_code == 200
    assert "Reply with the answer" in editor.text and 'value="current.temp"' in editor.text
    assert "Ran 2 tests: 2 passed" in after.text, after.text
    model = db.execute("SELECT model FROM hub.rules").fetchone()["model"]
    assert model["actions"] == [{"type": "http", "method": "GET", "url": "https://weather.example.org/now?city=Oslo",
                                 "reply": "Oslo: {answer} degrees", "answer_field": "current.temp",
                                 "reply_failed": "Sorry, no weather now."}]
    assert "reply &#39;Oslo: {answer} degrees&#39;" in listing.text
