"""The HTTP API beyond sending one JSON message: multipart sends, status by
correlation id and idempotency key, delivery reports, contacts and lists,
poll results, statistics, the per-key rate limit; every one as the key's
user (another user's key sees nothing of it)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

from msghub.gateway.throttle import RateLimit
from msghub.web.pages import api
from tests.web_admin.helpers import api_key, run, user

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c63f8cfc0f01f00050002017e2ba6a40000000049454e44ae426082")


def _loopback(db) -> None:
    db.execute("INSERT INTO hub.connections (name, kind, channels, enabled) "
               "VALUES ('loop', 'loopback', '{sms,mms,email}', true)")


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_a_multipart_send_keeps_each_file_as_an_attachment(db_url, db):
    _loopback(db)
    key = api_key(db_url, user(db_url, "alice"))

    async def scenario(client):
        sent = await client.post("/api/v1/messages", headers=_auth(key), data={
            "to": ["+4917000001", "+4917000002"], "channel": "mms", "subject": "Site photo", "text": "see the picture",
            "delivery_report": "true", "priority": "2", "correlation_id": "site-7"},
            files=[("attachment", ("site.png", PNG, "image/png")), ("more", ("notes.txt", b"ok", "text/plain"))])
        assert sent.status_code == 201, sent.text
        first = sent.json()["messages"][0]["id"]
        message = (await client.get(f"/api/v1/messages/{first}", headers=_auth(key))).json()
        twice = await client.post("/api/v1/messages", headers=_auth(key),
                                  data={"to": "+4917000001", "text": "a", "subject": "b"},
                                  files=[("attachment", ("x.txt", b"x", "text/plain"))], params={})
        bad_bool = await client.post("/api/v1/messages", headers=_auth(key),
                                     data={"to": "+4917000001", "text": "a", "delivery_report": "maybe"},
                                     files=[("attachment", ("x.txt", b"x", "text/plain"))])
        return sent.json(), message, twice, bad_bool

    sent, message, twice, bad_bool = run(db_url, scenario)
    assert [m["recipient"] for m in sent["messages"]] == ["+4917000001", "+4917000002"]
    assert message["attachments"] == [
        {"seq": 1, "content_type": "image/png", "filename": "site.png", "size": len(PNG)},
        {"seq": 2, "content_type": "text/plain", "filename": "notes.txt", "size": 2}]
    assert message["subject"] == "Site photo" and message["correlation_id"] == "site-7"
    row = db.execute("SELECT priority, delivery_report FROM hub.outbox WHERE id = %s", (sent["outbox_id"],)).fetchone()
    assert row == {"priority": 2, "delivery_report": True}
    stored = db.execute("SELECT data FROM hub.message_parts WHERE message_id = %s AND seq = 1",
                        (message["id"],)).fetchone()
    assert bytes(stored["data"]) == PNG
    # an SMS with an attachment is refused by the outbox, as for JSON
    assert twice.status_code == 422 and twice.json()["error"]["code"] == "refused"
    assert bad_bool.status_code == 400 and bad_bool.json()["error"]["field"] == "delivery_report"


def test_status_by_reference_and_delivery_reports(db_url, db):
    _loopback(db)
    alice_key = api_key(db_url, user(db_url, "alice"))
    bob_key = api_key(db_url, user(db_url, "bob"))

    async def scenario(client):
        sent = (await client.post("/api/v1/messages", headers=_auth(alice_key), json={
            "to": ["+4917000001", "+4917000002"], "text": "hi", "correlation_id": "order-9",
            "idempotency_key": "k-9"})).json()
        first = sent["messages"][0]["id"]
        db.execute("INSERT INTO hub.sms_segments (message_id, seq, total, operator_ref, status) "
                   "VALUES (%s, 1, 1, 'ref-1', 'delivered')", (first,))
        db.execute("INSERT INTO hub.delivery_reports (operator_ref, status, reason, message_id) "
                   "VALUES ('ref-1', 'delivered', 'DELIVRD', %s)", (first,))
        by_corr = (await client.get("/api/v1/status?correlation_id=order-9&limit=1", headers=_auth(alice_key))).json()
        rest = (await client.get(f"/api/v1/status?correlation_id=order-9&after={by_corr['next_after']}",
                                 headers=_auth(alice_key))).json()
        by_key = (await client.get("/api/v1/status", params={"idempotency_key": "k-9"},
                                   headers=_auth(alice_key))).json()
        others = (await client.get("/api/v1/status?idempotency_key=k-9", headers=_auth(bob_key))).json()
        neither = await client.get("/api/v1/status", headers=_auth(alice_key))
        unknown = await client.get("/api/v1/status?correlation=order-9", headers=_auth(alice_key))
        reports = (await client.get(f"/api/v1/messages/{first}/reports", headers=_auth(alice_key))).json()
        hidden = await client.get(f"/api/v1/messages/{first}/reports", headers=_auth(bob_key))
        return first, by_corr, rest, by_key, others, neither, unknown, reports, hidden

    first, by_corr, rest, by_key, others, neither, unknown, reports, hidden = run(db_url, scenario)
    assert [m["id"] for m in by_corr["messages"]] == [first] and by_corr["next_after"] == first
    assert [m["recipient"] for m in rest["messages"]] == ["+4917000002"] and rest["next_after"] is None
    assert {m["idempotency_key"] for m in by_key["messages"]} == {"k-9"} and len(by_key["messages"]) == 2
    assert by_key["messages"][0]["status"] == "queued"
    assert others["messages"] == []
    assert neither.status_code == 400 and neither.json()["error"]["field"] == "correlation_id"
    assert unknown.status_code == 400 and unknown.json()["error"] == {
        "code": "unknown_field", "message": "Unknown query parameter 'correlation'.", "field": "correlation"}
    assert [(s["seq"], s["operator_ref"], s["status"]) for s in reports["segments"]] == [(1, "ref-1", "delivered")]
    assert [(r["status"], r["reason"]) for r in reports["reports"]] == [("delivered", "DELIVRD")]
    assert hidden.status_code == 404


def test_contacts_and_lists_read_and_write(db_url, db):
    alice = user(db_url, "alice")
    writer = api_key(db_url, alice, ("read", "contacts"))
    reader = api_key(db_url, alice, ("read",))
    bob = api_key(db_url, user(db_url, "bob"), ("read", "contacts"))

    async def scenario(client):
        refused = await client.post("/api/v1/contacts", headers=_auth(reader), json={"name": "A", "phone": "+491"})
        created = await client.post("/api/v1/contacts", headers=_auth(writer),
                                    json={"name": "Ann", "phone": "0049 170 1234567", "notes": "night shift"})
        bad_phone = await client.post("/api/v1/contacts", headers=_auth(writer), json={"name": "X", "phone": "12ab"})
        nothing = await client.post("/api/v1/contacts", headers=_auth(writer), json={"name": "Nobody"})
        typo = await client.post("/api/v1/contacts", headers=_auth(writer), json={"nmae": "Ann"})
        contact = created.json()
        second = (await client.post("/api/v1/contacts", headers=_auth(writer),
                                    json={"name": "Ben", "email": "ben@example.org"})).json()
        listed = (await client.post("/api/v1/lists", headers=_auth(writer),
                                    json={"name": "night", "description": "on call"})).json()
        added = await client.put(f"/api/v1/lists/{listed['id']}/members/{contact['id']}", headers=_auth(writer))
        bob_adds = await client.put(f"/api/v1/lists/{listed['id']}/members/{contact['id']}", headers=_auth(bob))
        members = (await client.get(f"/api/v1/lists/{listed['id']}", headers=_auth(reader))).json()
        page = (await client.get("/api/v1/contacts?limit=1", headers=_auth(reader))).json()
        search = (await client.get("/api/v1/contacts?q=ben", headers=_auth(reader))).json()
        changed = await client.put(f"/api/v1/contacts/{contact['id']}", headers=_auth(writer),
                                   json={"name": "Ann B.", "phone": "+491701234567"})
        bob_sees = await client.get(f"/api/v1/contacts/{contact['id']}", headers=_auth(bob))
        bob_lists = (await client.get("/api/v1/lists", headers=_auth(bob))).json()
        bob_deletes = await client.delete(f"/api/v1/contacts/{contact['id']}", headers=_auth(bob))
        renamed = await client.put(f"/api/v1/lists/{listed['id']}", headers=_auth(writer),
                                   json={"name": "night crew"})
        bob_renames = await client.put(f"/api/v1/lists/{listed['id']}", headers=_auth(bob), json={"name": "mine"})
        head = await client.head("/api/v1/lists", headers=_auth(reader))
        removed = await client.delete(f"/api/v1/lists/{listed['id']}/members/{contact['id']}", headers=_auth(writer))
        after = (await client.get(f"/api/v1/lists/{listed['id']}", headers=_auth(reader))).json()
        deleted = await client.delete(f"/api/v1/contacts/{second['id']}", headers=_auth(writer))
        gone = await client.get(f"/api/v1/contacts/{second['id']}", headers=_auth(reader))
        list_gone = await client.delete(f"/api/v1/lists/{listed['id']}", headers=_auth(writer))
        return (refused, created, bad_phone, nothing, typo, contact, second, added, bob_adds, members, page, search,
                changed, bob_sees, bob_lists, bob_deletes, removed, after, deleted, gone, list_gone, renamed,
                bob_renames, head)

    (refused, created, bad_phone, nothing, typo, contact, second, added, bob_adds, members, page, search, changed,
     bob_sees, bob_lists, bob_deletes, removed, after, deleted, gone, list_gone, renamed, bob_renames,
     head) = run(db_url, scenario)
    assert refused.status_code == 403
    assert created.status_code == 201 and contact["phone"] == "+491701234567" and contact["notes"] == "night shift"
    assert bad_phone.status_code == 422 and bad_phone.json()["error"]["field"] == "phone"
    assert nothing.status_code == 422 and "needs one of them" in nothing.json()["error"]["message"]
    assert typo.status_code == 400 and typo.json()["error"]["field"] == "nmae"
    assert added.status_code == 204 and bob_adds.status_code == 404
    assert members["members"] == 1 and [c["name"] for c in members["contacts"]] == ["Ann"]
    assert [c["id"] for c in page["contacts"]] == [contact["id"]] and page["next_after"] == contact["id"]
    assert [c["id"] for c in search["contacts"]] == [second["id"]] and search["next_after"] is None
    assert changed.status_code == 200 and changed.json()["name"] == "Ann B." and changed.json()["lists"] == ["night"]
    assert changed.json()["notes"] == ""  # PUT replaces: what is left out is emptied
    assert bob_sees.status_code == 404 and bob_lists == {"lists": []} and bob_deletes.status_code == 404
    assert removed.status_code == 204 and after["members"] == 0
    assert renamed.status_code == 200 and renamed.json()["name"] == "night crew" and renamed.json()["description"] == ""
    assert bob_renames.status_code == 404
    assert head.status_code == 200 and head.content == b""
    assert deleted.status_code == 204 and gone.status_code == 404 and list_gone.status_code == 204
    owners = db.execute("SELECT DISTINCT owner_user_id FROM hub.contacts").fetchall()
    assert owners == [{"owner_user_id": alice}]


def test_poll_results_and_statistics(db_url, db):
    _loopback(db)
    alice = user(db_url, "alice")
    key = api_key(db_url, alice)
    bob_key = api_key(db_url, user(db_url, "bob"))
    poll = db.execute("INSERT INTO hub.polls (name, question, owner_user_id) VALUES ('lunch', 'Pizza or soup?', %s) "
                      "RETURNING id", (alice,)).fetchone()["id"]
    pizza, soup = (db.execute("INSERT INTO hub.poll_options (poll_id, position, label, keywords) "
                              "VALUES (%s, %s, %s, %s) RETURNING id", (poll, n, label, [label])).fetchone()["id"]
                   for n, label in ((1, "pizza"), (2, "soup")))
    for voter, option in (("+491", pizza), ("+492", pizza), ("+493", soup)):
        db.execute("INSERT INTO hub.poll_votes (poll_id, option_id, sender, voter_key) VALUES (%s, %s, %s, %s)",
                   (poll, option, voter, voter))

    async def scenario(client):
        await client.post("/api/v1/messages", headers=_auth(key), json={"to": "+4917000001", "text": "hi"})
        polls = (await client.get("/api/v1/polls", headers=_auth(key))).json()
        results = (await client.get(f"/api/v1/polls/{poll}/results", headers=_auth(key))).json()
        hidden = await client.get(f"/api/v1/polls/{poll}/results", headers=_auth(bob_key))
        stats = (await client.get("/api/v1/stats", headers=_auth(key))).json()
        by_user = (await client.get("/api/v1/stats?by=user", headers=_auth(key))).json()
        bob_stats = (await client.get("/api/v1/stats?by=user", headers=_auth(bob_key))).json()
        backwards = await client.get("/api/v1/stats?from=2026-02-02&to=2026-02-01", headers=_auth(key))
        not_a_day = await client.get("/api/v1/stats?from=yesterday", headers=_auth(key))
        wrong_by = await client.get("/api/v1/stats?by=group", headers=_auth(key))
        return polls, results, hidden, stats, by_user, bob_stats, backwards, not_a_day, wrong_by

    polls, results, hidden, stats, by_user, bob_stats, backwards, not_a_day, wrong_by = run(db_url, scenario)
    assert [(p["name"], p["votes"]) for p in polls["polls"]] == [("lunch", 3)]
    assert results["votes"] == 3 and [(o["label"], o["votes"], o["percent"]) for o in results["options"]] == [
        ("pizza", 2, 66.7), ("soup", 1, 33.3)]
    assert hidden.status_code == 404
    today = datetime.now(UTC).date().isoformat()
    assert stats["to"] == today and [(r["day"], r["connection"], r["pending"]) for r in stats["rows"]] == [
        (today, "loop", 1)]
    assert [(r["username"], r["messages"]) for r in by_user["rows"]] == [("alice", 1)]
    assert bob_stats["rows"] == []
    assert backwards.status_code == 400 and backwards.json()["error"]["field"] == "from"
    assert not_a_day.status_code == 400 and "2026-02-01" in not_a_day.json()["error"]["message"]
    assert wrong_by.status_code == 400 and wrong_by.json()["error"]["field"] == "by"


def test_a_key_over_its_rate_answers_429_with_retry_after(db_url, db, monkeypatch):
    monkeypatch.setattr(api, "_key_rate", RateLimit(3))
    key = api_key(db_url, user(db_url, "alice"))
    other = api_key(db_url, user(db_url, "bob"))

    async def scenario(client):
        answers = [await client.get("/api/v1/contacts", headers=_auth(key)) for _ in range(4)]
        return answers, await client.get("/api/v1/lists", headers=_auth(other))

    answers, other_answer = run(db_url, scenario)
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[3].json()["error"]["code"] == "rate_limited" and 1 <= int(answers[3].headers["retry-after"]) <= 60
    assert other_answer.status_code == 200  # the limit is per key


def test_json_and_multipart_describe_the_same_attachment(db_url, db):
    """The base64 of JSON and a file part store the same bytes."""
    _loopback(db)
    key = api_key(db_url, user(db_url, "alice"))

    async def scenario(client):
        as_json = await client.post("/api/v1/messages", headers=_auth(key), json={
            "to": "a@example.org", "channel": "email", "subject": "s", "text": "t",
            "attachments": [{"filename": "p.png", "content_type": "image/png",
                             "data": base64.b64encode(PNG).decode()}]})
        as_form = await client.post("/api/v1/messages", headers=_auth(key),
                                    data={"to": "a@example.org", "channel": "email", "subject": "s", "text": "t"},
                                    files={"file": ("p.png", PNG, "image/png")})
        return as_json.json()["messages"][0]["id"], as_form.json()["messages"][0]["id"]

    ids = run(db_url, scenario)
    parts = db.execute("SELECT message_id, content_type, filename, data FROM hub.message_parts "
                       "WHERE message_id = ANY(%s) AND filename = 'p.png' ORDER BY message_id", (list(ids),)).fetchall()
    assert [(p["content_type"], bytes(p["data"])) for p in parts] == [("image/png", PNG)] * 2


def test_an_mms_with_copies_through_json_and_multipart(db_url, db):
    _loopback(db)
    key = api_key(db_url, user(db_url, "alice"))
    picture = [{"filename": "a.png", "content_type": "image/png", "data": base64.b64encode(PNG).decode()}]

    async def scenario(client):
        as_json = await client.post("/api/v1/messages", headers=_auth(key), json={
            "to": "+4917000001", "channel": "mms", "text": "site", "attachments": picture,
            "cc": "+4917000002", "bcc": ["+4917000003", "boss@example.org"]})
        as_form = await client.post("/api/v1/messages", headers=_auth(key),
                                    data={"to": "+4917000001", "channel": "mms", "text": "site",
                                          "cc": ["+4917000004", "+4917000005"]},
                                    files=[("attachment", ("a.png", PNG, "image/png"))])
        on_sms = await client.post("/api/v1/messages", headers=_auth(key), json={
            "to": "+4917000001", "text": "hi", "cc": ["+4917000002"]})
        malformed = await client.post("/api/v1/messages", headers=_auth(key), json={
            "to": "+4917000001", "channel": "mms", "text": "hi", "bcc": [7]})
        too_many = await client.post("/api/v1/messages", headers=_auth(key), json={
            "to": "+4917000001", "channel": "mms", "text": "hi", "cc": ["+4917000002"] * 101})
        return as_json, as_form, on_sms, malformed, too_many

    as_json, as_form, on_sms, malformed, too_many = run(db_url, scenario)
    assert as_json.status_code == 201, as_json.text
    assert as_form.status_code == 201, as_form.text

    def copies(answer) -> object:
        [message] = answer.json()["messages"]
        return db.execute("SELECT meta FROM hub.messages WHERE id = %s", (message["id"],)).fetchone()["meta"]

    assert copies(as_json) == {"cc": ["+4917000002"], "bcc": ["+4917000003", "boss@example.org"]}
    assert copies(as_form) == {"cc": ["+4917000004", "+4917000005"]}
    # the outbox's own refusal, naming the column, as for SQL integrators
    assert on_sms.status_code == 422 and on_sms.json()["error"]["field"] == "cc", on_sms.text
    assert "only an MMS has cc copies" in on_sms.json()["error"]["message"]
    assert malformed.status_code == 400 and malformed.json()["error"]["field"] == "bcc"
    assert too_many.status_code == 400 and too_many.json()["error"]["field"] == "cc"
    assert "cc" in api.KNOWN_FIELDS and "bcc" in api.KNOWN_FIELDS
