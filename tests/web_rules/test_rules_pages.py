"""The rules pages: the list in run order, the visual and JavaScript editor,
rule tests run for real from the page, the log, and who may do what."""

from __future__ import annotations

import re

from msghub.rules.model import compile_model
from msghub.rules.store import save_rule, save_test
from tests.web_admin.helpers import assert_inert, csrf, login, run, user

HOSTILE = "<script>alert(1)</script>"


def _rule(db, name: str, **kwargs) -> int:
    kwargs.setdefault("source", "// says hello\nreply('hi');\n")
    return save_rule(db, name, **kwargs)


def _order(db) -> list[str]:
    return [r["name"] for r in db.execute("SELECT name FROM hub.rules ORDER BY position, id").fetchall()]


def _names_on_page(html: str) -> list[str]:
    return re.findall(r'<a href="/rules/\d+">([^<]*)</a>', html)


def _visual_form(token: str, **extra: str) -> dict[str, str]:
    form = {
        "csrf_token": token,
        "op": "save",
        "kind": "visual",
        "name": "hours",
        "event.message_received": "on",
        "enabled": "on",
        "match": "all",
        "conditions[0].type": "text_contains",
        "conditions[0].keyword": "opening hours",
        "conditions[1].type": "channel",
        "conditions[1].channel": "sms",
        "actions[0].type": "reply",
        "actions[0].text": "Hello {sender}, we are open 9-17.",
        "actions[0].channel": "",
        "actions[1].type": "move",
        "actions[1].folder": "Hours",
    }
    form.update(extra)
    return form


def test_list_shows_run_order_and_admins_toggle_and_move(db_url, db):
    user(db_url, "root", role="admin")
    first = _rule(db, "first", position=10)
    _rule(
        db,
        "second",
        position=20,
        model={
            "conditions": [{"type": "text_contains", "keyword": "stop"}],
            "actions": [{"type": "reply", "text": "Bye"}],
        },
    )
    third = _rule(db, "third", position=30, stop_processing=True)

    async def scenario(client):
        token = await login(client, "root")
        before = await client.get("/rules")
        disabled = await client.post(f"/rules/{first}/disable", data={"csrf_token": token})
        moved = await client.post(f"/rules/{third}/move", data={"csrf_token": token, "direction": "up"})
        after = await client.get("/rules")
        return before, disabled, moved, after

    before, disabled, moved, after = run(db_url, scenario)
    assert before.status_code == 200
    assert _names_on_page(before.text) == ["first", "second", "third"]
    assert "When text contains &#39;stop&#39;: reply &#39;Bye&#39;" in before.text  # describe_model
    assert "says hello" in before.text  # a JavaScript rule's first comment line
    assert "stops processing" in before.text
    assert disabled.status_code == 303 and moved.status_code == 303
    assert db.execute("SELECT enabled FROM hub.rules WHERE id = %s", (first,)).fetchone()["enabled"] is False
    assert _order(db) == ["first", "third", "second"]
    assert _names_on_page(after.text) == ["first", "third", "second"]
    assert f'action="/rules/{first}/enable"' in after.text
    assert db.execute("SELECT count(*) AS n FROM hub.audit_log WHERE action LIKE 'rule.%'").fetchone()["n"] == 2


def test_search_filters_by_name_and_source_with_the_yellow_bar(db_url, db):
    user(db_url, "root", role="admin")
    _rule(db, "hours", source="// opening times\nreply('9-17');\n")
    _rule(db, "vote", source="poll.vote('song');\n")

    async def scenario(client):
        await login(client, "root")
        return await client.get("/rules?q=9-17"), await client.get("/rules?q=nothing%25")

    found, none = run(db_url, scenario)
    assert _names_on_page(found.text) == ["hours"]
    assert 'id="filtered-bar"' in found.text and 'href="/rules" id="clear-filter"' in found.text
    assert "No rule matches “nothing%”" in none.text and _names_on_page(none.text) == []


def test_empty_state_explains_rules_and_links_to_a_new_one(db_url):
    user(db_url, "root", role="admin")

    async def scenario(client):
        await login(client, "root")
        return await client.get("/rules")

    page = run(db_url, scenario)
    assert "No rules yet" in page.text and 'href="/rules/new"' in page.text
    assert 'href="/rules/new?kind=javascript"' in page.text


def test_a_visual_rule_made_in_the_form_is_stored_compiled_and_passes_its_test(db_url, db):
    user(db_url, "root", role="admin")
    passing = (
        '{"name": "asks for the hours", "event": {"type": "message_received", '
        '"message": {"sender": "+447700900001", "text": "What are your opening hours?"}}, '
        '"expected": {"replies": [{"text": "Hello +447700900001, we are open 9-17."}], "folder": "Hours", '
        '"error": null}}'
    )
    failing = (
        '{"name": "wrong on purpose", "event": {"type": "message_received", '
        '"message": {"text": "opening hours"}}, "expected": {"folder": "Elsewhere"}}'
    )

    async def scenario(client):
        token = await login(client, "root")
        new = await client.get("/rules/new")
        saved = await client.post("/rules/new", data=_visual_form(token))
        rule_id = int(saved.headers["location"].split("/")[2].split("?")[0])
        editor = await client.get(saved.headers["location"])
        added = [
            await client.post(f"/rules/{rule_id}/tests/new", data={"csrf_token": token, "test": t})
            for t in (passing, failing)
        ]
        before = await client.get(f"/rules/{rule_id}/tests")
        ran = await client.post(f"/rules/{rule_id}/tests/run", data={"csrf_token": token})
        after = await client.get(ran.headers["location"])
        listing = await client.get("/rules")
        return new, saved, editor, added, before, ran, after, listing

    new, saved, editor, added, before, ran, after, listing = run(db_url, scenario)
    assert new.status_code == 200 and 'name="actions[0].text"' in new.text
    assert saved.status_code == 303, saved.text
    row = db.execute("SELECT * FROM hub.rules").fetchone()
    assert row["kind"] == "visual" and row["events"] == ["message_received"] and row["enabled"] is True
    assert row["model"]["conditions"] == [
        {"type": "text_contains", "keyword": "opening hours", "negate": False},
        {"type": "channel", "channel": "sms", "negate": False},
    ]
    assert row["model"]["actions"] == [
        {"type": "reply", "text": "Hello {sender}, we are open 9-17."},
        {"type": "move", "folder": "Hours"},
    ]
    assert row["source"] == compile_model(row["model"])
    assert "Saved." in editor.text and 'id="compiled-source"' in editor.text
    assert 'value="opening hours"' in editor.text  # the model is back in the form's rows
    assert [a.status_code for a in added] == [303, 303]
    assert "not run" in before.text and "PASS" not in before.text
    assert ran.status_code == 303
    assert "Ran 2 tests: 1 passed, <strong>1 failed</strong>" in after.text
    passed = re.search(
        r'<li class="rule-test pass"[^>]*>\s*<span class="verdict">PASS</span>\s*<strong>([^<]*)', after.text
    )
    assert passed and passed.group(1) == "asks for the hours"
    assert '<li class="rule-test fail"' in after.text
    assert "folder: expected &#39;Elsewhere&#39;, got &#39;Hours&#39;" in after.text
    results = db.execute("SELECT name, last_result FROM hub.rule_tests ORDER BY id").fetchall()
    assert [(r["name"], r["last_result"]["passed"]) for r in results] == [
        ("asks for the hours", True),
        ("wrong on purpose", False),
    ]
    assert "1/2 passed" in listing.text and "1 failed" in listing.text
    # nothing was sent or stored by running the tests
    assert db.execute("SELECT count(*) AS n FROM hub.outbox").fetchone()["n"] == 0
    assert db.execute("SELECT count(*) AS n FROM hub.messages").fetchone()["n"] == 0


def test_model_errors_are_shown_at_their_field_with_the_input_kept(db_url, db):
    user(db_url, "root", role="admin")

    async def scenario(client):
        token = await login(client, "root")
        keyword = await client.post("/rules/new", data=_visual_form(token, **{"conditions[0].keyword": "?!"}))
        placeholder = await client.post("/rules/new", data=_visual_form(token, **{"actions[0].text": "Hi {name}"}))
        regex = await client.post(
            "/rules/new",
            data=_visual_form(token, **{"conditions[1].type": "text_matches", "conditions[1].pattern": "(unclosed"}),
        )
        no_action = await client.post(
            "/rules/new",
            data={k: v for k, v in _visual_form(token).items() if not k.startswith("actions")},
        )
        bad_json = await client.post(
            "/rules/new",
            data=_visual_form(
                token, **{"actions[1].type": "set_state", "actions[1].key": "k", "actions[1].value": "not json"}
            ),
        )
        return keyword, placeholder, regex, no_action, bad_json

    keyword, placeholder, regex, no_action, bad_json = run(db_url, scenario)
    assert db.execute("SELECT count(*) AS n FROM hub.rules").fetchone()["n"] == 0
    for page in (keyword, placeholder, regex, no_action, bad_json):
        assert page.status_code == 400 and "The rule was not saved" in page.text
    assert 'id="err-f-conditions-0-keyword"' in keyword.text
    assert re.search(
        r'name="conditions\[0\]\.keyword" id="f-conditions-0-keyword" value="\?!" aria-invalid="true"', keyword.text
    )
    assert "has no letters or digits to match" in keyword.text
    assert 'id="err-f-actions-0-text"' in placeholder.text and "unknown placeholder {name}" in placeholder.text
    assert ">Hi {name}</textarea>" in placeholder.text
    assert 'id="err-f-conditions-1-pattern"' in regex.text and "not a valid regular expression" in regex.text
    assert "Actions: add at least one action" in no_action.text
    assert 'id="err-f-actions-1-value"' in bad_json.text and 'value="not json"' in bad_json.text


def test_rows_are_added_and_removed_without_javascript(db_url):
    user(db_url, "root", role="admin")

    async def scenario(client):
        token = await login(client, "root")
        added = await client.post(
            "/rules/new", data=_visual_form(token, op="add_condition", new_conditions="time_window")
        )
        removed = await client.post("/rules/new", data=_visual_form(token, op="remove:conditions:0"))
        return added, removed

    added, removed = run(db_url, scenario)
    assert added.status_code == 200
    form = added.text.split('id="rule-form"')[1].split("</form>")[0]
    assert 'name="conditions[2].from"' in form and 'value="opening hours"' in form
    form = removed.text.split('id="rule-form"')[1].split("</form>")[0]
    assert 'name="conditions[0].type" value="channel"' in form and "opening hours" not in form
    assert 'id="tpl-actions-http"' in added.text  # the blank rows rules.js copies


def test_javascript_rule_and_one_way_conversion(db_url, db):
    user(db_url, "root", role="admin")

    async def scenario(client):
        token = await login(client, "root")
        js = await client.post(
            "/rules/new",
            data={
                "csrf_token": token,
                "kind": "javascript",
                "name": "weather",
                "event.message_received": "on",
                "event.http_response": "on",
                "source": "// asks the weather service\nlog.info('x');\n",
            },
        )
        empty = await client.post(
            "/rules/new",
            data={
                "csrf_token": token,
                "kind": "javascript",
                "name": "nothing",
                "event.message_received": "on",
                "source": "  ",
            },
        )
        broken = await client.post(
            "/rules/new",
            data={
                "csrf_token": token,
                "kind": "javascript",
                "name": "broken",
                "event.message_received": "on",
                "source": "// fine so far\nif (message {\n  reply('x');\n}\n",
            },
        )
        visual = await client.post("/rules/new", data=_visual_form(token))
        visual_id = visual.headers["location"].split("/")[2].split("?")[0]
        converted = await client.post(f"/rules/{visual_id}", data=_visual_form(token, op="convert"))
        source = db.execute("SELECT source FROM hub.rules WHERE name = 'hours'").fetchone()["source"]
        saved = await client.post(
            f"/rules/{visual_id}",
            data={
                "csrf_token": token,
                "kind": "javascript",
                "name": "hours",
                "event.message_received": "on",
                "enabled": "on",
                "source": source + "// changed by hand\n",
            },
        )
        back = await client.post(f"/rules/{visual_id}", data=_visual_form(token))
        listing = await client.get("/rules")
        return js, empty, broken, converted, saved, back, listing

    js, empty, broken, converted, saved, back, listing = run(db_url, scenario)
    assert js.status_code == 303
    weather = db.execute("SELECT * FROM hub.rules WHERE name = 'weather'").fetchone()
    assert weather["kind"] == "javascript" and weather["model"] is None
    assert weather["events"] == ["message_received", "http_response"]
    assert weather["source"].startswith("// asks the weather service")
    assert empty.status_code == 400 and "write the rule&#39;s JavaScript" in empty.text
    assert broken.status_code == 400 and 'id="error-source"' in broken.text
    assert "JavaScript: line 2, column 13: SyntaxError" in broken.text and "if (message {" in broken.text
    assert db.execute("SELECT count(*) AS n FROM hub.rules WHERE name = 'broken'").fetchone()["n"] == 0
    assert converted.status_code == 200 and 'name="source"' in converted.text
    assert "cannot go back to the visual editor" in converted.text
    assert saved.status_code == 303
    hours = db.execute("SELECT * FROM hub.rules WHERE name = 'hours'").fetchone()
    assert hours["kind"] == "javascript" and hours["model"] is None
    assert hours["source"].endswith("// changed by hand\n")
    # a visual form posted to a JavaScript rule is read as JavaScript (without any): refused, nothing undone
    assert back.status_code == 400 and 'name="source"' in back.text and 'name="conditions[0].type"' not in back.text
    assert "asks the weather service" in listing.text


def test_tests_are_checked_before_they_are_stored(db_url, db):
    user(db_url, "root", role="admin")
    rule_id = _rule(db, "r")

    async def scenario(client):
        token = await login(client, "root")
        not_json = await client.post(f"/rules/{rule_id}/tests/new", data={"csrf_token": token, "test": "{oops"})
        bad_key = await client.post(
            f"/rules/{rule_id}/tests/new",
            data={
                "csrf_token": token,
                "test": '{"name": "t", "event": {"type": "message_received"}, "expected": {"replys": []}}',
            },
        )
        return not_json, bad_key

    not_json, bad_key = run(db_url, scenario)
    assert not_json.status_code == 400 and "not valid JSON" in not_json.text and ">{oops</textarea>" in not_json.text
    assert bad_key.status_code == 400 and "expected has unknown key replys" in bad_key.text
    assert db.execute("SELECT count(*) AS n FROM hub.rule_tests").fetchone()["n"] == 0


def test_edit_a_test_and_run_all_from_the_list(db_url, db):
    user(db_url, "root", role="admin")
    _rule(db, "greet", source="reply('hi');\n")
    save_test(
        db,
        "greet",
        {
            "name": "says hi",
            "event": {"type": "message_received", "message": {"text": "yo"}},
            "expected": {"replies": [{"text": "hello"}]},
        },
    )
    test_id = db.execute("SELECT id FROM hub.rule_tests").fetchone()["id"]
    rule_id = db.execute("SELECT id FROM hub.rules").fetchone()["id"]

    async def scenario(client):
        token = await login(client, "root")
        first = await client.post("/rules/run-tests", data={"csrf_token": token})
        failed = await client.get(first.headers["location"])
        edit = await client.get(f"/rules/{rule_id}/tests/{test_id}")
        text = edit.text.split('id="test-json"')[1].split(">", 1)[1].split("</textarea>")[0]
        import html

        fixed = html.unescape(text).replace('"hello"', '"hi"')
        saved = await client.post(f"/rules/{rule_id}/tests/{test_id}", data={"csrf_token": token, "test": fixed})
        second = await client.post("/rules/run-tests", data={"csrf_token": token})
        passed = await client.get(second.headers["location"])
        return failed, edit, saved, passed

    failed, edit, saved, passed = run(db_url, scenario)
    assert "Ran 1 test: 0 passed, <strong>1 failed</strong>" in failed.text
    assert "&#34;hello&#34;" in edit.text or "&quot;hello&quot;" in edit.text
    assert saved.status_code == 303
    notice = passed.text.split('id="ran">')[1].split("</p>")[0]
    assert notice == "Ran 1 test: 1 passed." and "1/1 passed" in passed.text, notice


def test_log_shows_the_rules_newest_lines_to_operators(db_url, db):
    user(db_url, "op", role="operator")
    rule_id = _rule(db, "noisy")
    other = _rule(db, "other")
    db.execute(
        "INSERT INTO hub.rule_log (rule_id, event_id, level, message) "
        "SELECT %s, n, CASE WHEN n = 150 THEN 'error' ELSE 'info' END, 'line ' || n FROM generate_series(1, 150) n",
        (rule_id,),
    )
    db.execute("INSERT INTO hub.rule_log (rule_id, level, message) VALUES (%s, 'warn', %s)", (rule_id, HOSTILE))
    db.execute("INSERT INTO hub.rule_log (rule_id, level, message) VALUES (%s, 'info', 'not mine')", (other,))

    async def scenario(client):
        await login(client, "op")
        return await client.get(f"/rules/{rule_id}/log")

    page = run(db_url, scenario)
    assert page.status_code == 200
    assert page.text.count('<tr class="level-') == 100
    assert (
        "line 150" in page.text and "line 52<" in page.text and "line 51<" not in page.text
    )  # 151 lines: the newest 100
    assert "not mine" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text and HOSTILE not in page.text
    assert page.text.index("&lt;script&gt;") < page.text.index("line 150")  # newest first
    assert_inert(page.text)


def test_operators_see_rules_but_only_admins_change_or_run_them(db_url, db):
    user(db_url, "op", role="operator")
    user(db_url, "ann", role="user")
    rule_id = _rule(db, "r")
    save_test(db, "r", {"name": "t", "event": {"type": "message_received"}, "expected": {}})
    test_id = db.execute("SELECT id FROM hub.rule_tests").fetchone()["id"]

    async def scenario(client):
        token = await login(client, "op")
        seen = [await client.get(p) for p in ("/rules", f"/rules/{rule_id}", f"/rules/{rule_id}/tests")]
        refused = [
            await client.get("/rules/new"),
            await client.post("/rules/new", data=_visual_form(token)),
            await client.post(f"/rules/{rule_id}", data=_visual_form(token)),
            await client.post(f"/rules/{rule_id}/disable", data={"csrf_token": token}),
            await client.post(f"/rules/{rule_id}/move", data={"csrf_token": token, "direction": "down"}),
            await client.post(f"/rules/{rule_id}/delete", data={"csrf_token": token}),
            await client.post(f"/rules/{rule_id}/tests/run", data={"csrf_token": token}),
            await client.post("/rules/run-tests", data={"csrf_token": token}),
            await client.post(f"/rules/{rule_id}/tests/new", data={"csrf_token": token, "test": "{}"}),
            await client.post(f"/rules/{rule_id}/tests/{test_id}", data={"csrf_token": token, "test": "{}"}),
            await client.post(f"/rules/{rule_id}/tests/{test_id}/delete", data={"csrf_token": token}),
        ]
        await client.post("/logout", data={"csrf_token": token})
        await login(client, "ann")
        plain_user = await client.get("/rules")
        return seen, refused, plain_user

    seen, refused, plain_user = run(db_url, scenario)
    assert [p.status_code for p in seen] == [200, 200, 200]
    assert 'href="/rules/new"' not in seen[0].text and "/disable" not in seen[0].text
    assert "Only administrators change rules" in seen[1].text and 'name="source"' not in seen[1].text
    assert "Run tests" not in seen[2].text and "Add a test" not in seen[2].text
    for response in refused:
        assert response.status_code == 403, response.url
        assert "Only administrators create, change, reorder, delete and test rules" in response.text
    assert plain_user.status_code == 403 and "administrators and operators only" in plain_user.text
    row = db.execute("SELECT enabled, position FROM hub.rules").fetchone()
    assert row["enabled"] is True
    assert db.execute("SELECT count(*) AS n FROM hub.rules").fetchone()["n"] == 1
    assert db.execute("SELECT last_result FROM hub.rule_tests").fetchone()["last_result"] is None


def test_hostile_names_and_sources_are_escaped_everywhere(db_url, db):
    user(db_url, "root", role="admin")
    user(db_url, "op", role="operator")
    rule_id = _rule(db, HOSTILE, source=f"// {HOSTILE}\nreply('</pre><script>alert(2)</script>');\n")
    visual_id = _rule(
        db,
        "v",
        model={
            "conditions": [{"type": "text_contains", "keyword": f"x {HOSTILE}"}],
            "actions": [{"type": "reply", "text": "</textarea><script>alert(3)</script>"}],
        },
    )
    save_test(
        db,
        HOSTILE,
        {"name": HOSTILE, "event": {"type": "message_received"}, "expected": {"replies": [{"text": HOSTILE}]}},
    )

    async def scenario(client):
        token = await login(client, "root")
        await client.post(f"/rules/{rule_id}/tests/run", data={"csrf_token": token})
        pages = [
            await client.get(p)
            for p in (
                "/rules",
                f"/rules/{rule_id}",
                f"/rules/{rule_id}/tests",
                f"/rules/{rule_id}/log",
                f"/rules/{visual_id}",
                f"/rules?q={HOSTILE}",
            )
        ]
        await client.post("/logout", data={"csrf_token": token})
        await login(client, "op")
        pages.append(await client.get(f"/rules/{rule_id}"))
        return pages

    pages = run(db_url, scenario)
    for page in pages:
        assert page.status_code == 200
        assert "<script>alert" not in page.text and "</textarea><script>" not in page.text
        assert "</pre><script>" not in page.text
        assert_inert(page.text)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[0].text
    assert "&lt;/textarea&gt;&lt;script&gt;alert(3)&lt;/script&gt;" in pages[4].text
    assert "FAIL" in pages[2].text  # the test ran: its hostile failure line is shown, escaped


def test_posts_without_the_csrf_token_are_refused(db_url, db):
    user(db_url, "root", role="admin")
    rule_id = _rule(db, "r")

    async def scenario(client):
        token = await login(client, "root")
        form = _visual_form(token)
        del form["csrf_token"]
        return [
            await client.post("/rules/new", data=form),
            await client.post(f"/rules/{rule_id}", data={**form, "name": "renamed"}),
            await client.post(f"/rules/{rule_id}/disable", data={}),
            await client.post(f"/rules/{rule_id}/delete", data={"csrf_token": "wrong"}),
            await client.post(f"/rules/{rule_id}/tests/run", data={}),
            await client.post("/rules/run-tests", data={}),
        ]

    for response in run(db_url, scenario):
        assert response.status_code == 403 and "did not come from this site" in response.text
    assert db.execute("SELECT name, enabled FROM hub.rules").fetchall() == [{"name": "r", "enabled": True}]


def test_name_clash_and_missing_events_are_named(db_url, db):
    user(db_url, "root", role="admin")
    _rule(db, "hours")

    async def scenario(client):
        token = await login(client, "root")
        clash = await client.post("/rules/new", data=_visual_form(token))
        no_events = await client.post(
            "/rules/new", data={k: v for k, v in _visual_form(token, name="x").items() if not k.startswith("event.")}
        )
        return clash, no_events

    clash, no_events = run(db_url, scenario)
    assert clash.status_code == 400 and 'id="error-name"' in clash.text and "already exists" in clash.text
    assert no_events.status_code == 400 and 'id="error-events"' in no_events.text
    assert db.execute("SELECT count(*) AS n FROM hub.rules").fetchone()["n"] == 1
    assert csrf(clash.text)


def test_admins_delete_tests_and_rules(db_url, db):
    user(db_url, "root", role="admin")
    rule_id = _rule(db, "gone")
    save_test(db, "gone", {"name": "t", "event": {"type": "message_received"}, "expected": {}})
    test_id = db.execute("SELECT id FROM hub.rule_tests").fetchone()["id"]

    async def scenario(client):
        token = await login(client, "root")
        test = await client.post(f"/rules/{rule_id}/tests/{test_id}/delete", data={"csrf_token": token})
        rule = await client.post(f"/rules/{rule_id}/delete", data={"csrf_token": token})
        missing = await client.get(f"/rules/{rule_id}")
        return test, rule, missing

    test, rule, missing = run(db_url, scenario)
    assert test.status_code == 303 and rule.status_code == 303 and missing.status_code == 404
    assert db.execute("SELECT count(*) AS n FROM hub.rules").fetchone()["n"] == 0
    audit = db.execute(
        "SELECT action, target, detail FROM hub.audit_log WHERE action LIKE 'rule.%' ORDER BY id"
    ).fetchall()
    assert [(a["action"], a["target"]) for a in audit] == [("rule.test_delete", "gone"), ("rule.delete", "gone")]
