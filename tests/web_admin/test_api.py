"""The HTTP API: sending and reading with an API key, and every error path."""

from __future__ import annotations

import base64

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from msghub.web.pages.api import KNOWN_FIELDS
from tests.web_admin.helpers import api_key, login, run, user


def _loopback(db) -> None:
    db.execute(
        "INSERT INTO hub.connections (name, kind, channels, enabled) "
        "VALUES ('loop', 'loopback', '{sms,mms,email}', true)"
    )


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_send_then_read_status_and_folder(db_url, db):
    _loopback(db)
    alice = user(db_url, "alice")
    key = api_key(db_url, alice)

    async def scenario(client):
        sent = await client.post(
            "/api/v1/messages",
            headers=_auth(key),
            json={
                "to": ["+4917000001", "+4917000002"],
                "text": "hello",
                "delivery_report": True,
                "priority": "high",
                "correlation_id": "order-7",
            },
        )
        assert sent.status_code == 201, sent.text
        body = sent.json()
        assert body["duplicate"] is False and [m["recipient"] for m in body["messages"]] == [
            "+4917000001",
            "+4917000002",
        ]
        first = body["messages"][0]["id"]
        status = await client.get(f"/api/v1/messages/{first}", headers=_auth(key))
        assert status.status_code == 200
        assert status.json()["status"] == "queued" and status.json()["correlation_id"] == "order-7"
        outbox = await client.get("/api/v1/messages?folder=outbox&limit=1", headers=_auth(key))
        page = outbox.json()
        assert [m["id"] for m in page["messages"]] == [first] and page["next_after"] == first
        rest = await client.get(f"/api/v1/messages?folder=outbox&after={first}", headers=_auth(key))
        assert [m["id"] for m in rest.json()["messages"]] == [body["messages"][1]["id"]]
        assert rest.json()["next_after"] is None
        return first

    first = run(db_url, scenario)
    row = db.execute(
        "SELECT owner_user_id, priority, delivery_report FROM hub.messages WHERE id = %s", (first,)
    ).fetchone()
    assert row == {"owner_user_id": alice, "priority": 2, "delivery_report": True}
    assert db.execute("SELECT last_used_at IS NOT NULL AS used FROM hub.api_keys").fetchone()["used"]


def test_idempotency_key_queues_once(db_url, db):
    _loopback(db)
    key = api_key(db_url, user(db_url, "alice"))
    request = {"to": "+4917000001", "text": "once", "idempotency_key": "k-1"}

    async def scenario(client):
        first = await client.post("/api/v1/messages", headers=_auth(key), json=request)
        again = await client.post("/api/v1/messages", headers=_auth(key), json=request)
        return first, again

    first, again = run(db_url, scenario)
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["duplicate"] is True and again.json()["outbox_id"] == first.json()["outbox_id"]
    assert db.execute("SELECT count(*) AS n FROM hub.messages").fetchone()["n"] == 1


def test_idempotency_key_of_another_user_is_a_conflict(db_url, db):
    _loopback(db)
    alice_key = api_key(db_url, user(db_url, "alice"))
    bob_key = api_key(db_url, user(db_url, "bob"))
    request = {"to": "+4917000001", "text": "mine", "idempotency_key": "shared"}

    async def scenario(client):
        await client.post("/api/v1/messages", headers=_auth(alice_key), json=request)
        return await client.post("/api/v1/messages", headers=_auth(bob_key), json=request)

    response = run(db_url, scenario)
    assert response.status_code == 409 and response.json()["error"]["field"] == "idempotency_key"


def test_attachments_are_stored_as_parts(db_url, db):
    _loopback(db)
    key = api_key(db_url, user(db_url, "alice"))
    data = base64.b64encode(b"\x89PNG fake").decode()

    async def scenario(client):
        sent = await client.post(
            "/api/v1/messages",
            headers=_auth(key),
            json={
                "to": "+4917000001",
                "channel": "mms",
                "subject": "pic",
                "attachments": [{"filename": "a.png", "content_type": "image/png", "data": data}],
            },
        )
        assert sent.status_code == 201, sent.text
        message_id = sent.json()["messages"][0]["id"]
        return (await client.get(f"/api/v1/messages/{message_id}", headers=_auth(key))).json()

    message = run(db_url, scenario)
    assert message["attachments"] == [{"seq": 1, "content_type": "image/png", "filename": "a.png", "size": 9}]


def test_authentication_errors(db_url, db):
    alice = user(db_url, "alice")
    key = api_key(db_url, alice)
    read_only = api_key(db_url, alice, ("read",))
    revoked = api_key(db_url, alice)
    db.execute("UPDATE hub.api_keys SET revoked_at = now() WHERE id = (SELECT max(id) FROM hub.api_keys)")
    disabled_key = api_key(db_url, user(db_url, "gone"))
    db.execute("UPDATE hub.users SET enabled = false WHERE username = 'gone'")
    key_id = key.split("_")[1]

    async def scenario(client):
        results = {}
        results["none"] = await client.get("/api/v1/messages")
        results["basic"] = await client.get("/api/v1/messages", headers={"Authorization": "Basic YTpi"})
        results["garbage"] = await client.get("/api/v1/messages", headers=_auth("garbage"))
        results["wrong_secret"] = await client.get("/api/v1/messages", headers=_auth(f"mh_{key_id}_wrong"))
        results["revoked"] = await client.get("/api/v1/messages", headers=_auth(revoked))
        results["disabled"] = await client.get("/api/v1/messages", headers=_auth(disabled_key))
        results["scope"] = await client.post(
            "/api/v1/messages", headers=_auth(read_only), json={"to": "+4917000001", "text": "x"}
        )
        return results

    results = run(db_url, scenario)
    for name in ("none", "basic", "garbage", "wrong_secret", "revoked", "disabled"):
        response = results[name]
        assert response.status_code == 401, name
        assert response.json()["error"]["code"] == "unauthorized", name
        assert response.headers["www-authenticate"].startswith("Bearer"), name
    assert results["scope"].status_code == 403 and "'send' scope" in results["scope"].json()["error"]["message"]


def test_a_browser_session_cookie_is_not_accepted(db_url, db):
    _loopback(db)
    user(db_url, "alice", role="admin")

    async def scenario(client):
        await login(client, "alice")
        assert client.cookies.get("msghub_session")
        listed = await client.get("/api/v1/messages")
        sent = await client.post("/api/v1/messages", json={"to": "+4917000001", "text": "csrf?"})
        return listed, sent

    listed, sent = run(db_url, scenario)
    assert listed.status_code == 401 and sent.status_code == 401
    assert db.execute("SELECT count(*) AS n FROM hub.outbox").fetchone()["n"] == 0


def test_request_errors_name_the_field(db_url, db):
    _loopback(db)
    key = api_key(db_url, user(db_url, "alice"))
    cases = [
        ({"to": "+4917000001", "text": "x", "colour": "red"}, 400, "unknown_field", "colour"),
        ({"text": "x"}, 400, "invalid", "to"),
        ({"to": 5, "text": "x"}, 400, "invalid", "to"),
        ({"to": [], "text": "x"}, 400, "invalid", "to"),
        ({"to": "+4917000001", "text": 5}, 400, "invalid", "text"),
        ({"to": "+4917000001", "text": "x", "priority": 9}, 400, "invalid", "priority"),
        ({"to": "+4917000001", "text": "x", "priority": True}, 400, "invalid", "priority"),
        ({"to": "+4917000001", "text": "x", "delivery_report": "yes"}, 400, "invalid", "delivery_report"),
        ({"to": "+4917000001", "text": "x", "send_at": "tomorrow"}, 400, "invalid", "send_at"),
        ({"to": "+4917000001", "text": "x", "send_at": "2030-01-01T10:00:00"}, 400, "invalid", "send_at"),
        ({"to": "+4917000001", "text": "x", "attachments": "a.png"}, 400, "invalid", "attachments"),
        ({"to": "+4917000001", "text": "x", "attachments": [{"data": "", "x": 1}]}, 400, "invalid", "attachments"),
        ({"to": "+4917000001", "text": "x\u0000"}, 400, "invalid", "text"),
        # refused by the outbox trigger: 422 with its message and column
        ({"to": "+12ab", "text": "x"}, 422, "refused", "to"),
        ({"to": "+4917000001", "text": ""}, 422, "refused", "text"),
        ({"to": "+4917000001", "text": "x", "channel": "fax"}, 422, "refused", "channel"),
        ({"to": "+4917000001", "text": "x", "connection": "nope"}, 422, "refused", "connection"),
        ({"to": "+4917000001", "text": "x", "sender": "much too long sender"}, 422, "refused", "sender"),
        ({"list": "nosuchlist", "text": "x"}, 422, "refused", "list"),
        ({"to": "+4917000001", "text": "x", "valid_until": "2001-01-01T00:00:00Z"}, 422, "refused", "valid_until"),
        (
            {
                "to": "+4917000001",
                "text": "x",
                "send_at": "2031-01-01T00:00:00Z",
                "valid_until": "2030-01-01T00:00:00Z",
            },
            422,
            "refused",
            "send_at",
        ),
        (
            {
                "to": "+4917000001",
                "channel": "sms",
                "text": "x",
                "attachments": [{"content_type": "image/png", "data": "AAAA"}],
            },
            422,
            "refused",
            "attachments",
        ),
        (
            {
                "to": "+4917000001",
                "channel": "mms",
                "attachments": [{"content_type": "image/png", "data": "not base64!"}],
            },
            422,
            "refused",
            "attachments",
        ),
    ]

    async def scenario(client):
        return [await client.post("/api/v1/messages", headers=_auth(key), json=body) for body, *_ in cases]

    for (body, status, code, field), response in zip(cases, run(db_url, scenario), strict=True):
        assert response.status_code == status, (body, response.text)
        error = response.json()["error"]
        assert (error["code"], error.get("field")) == (code, field), (body, error)
        assert error["message"]
    assert db.execute("SELECT count(*) AS n FROM hub.messages").fetchone()["n"] == 0


def test_body_errors(db_url, db):
    key = api_key(db_url, user(db_url, "alice"))

    async def scenario(client):
        headers = _auth(key)
        form = await client.post("/api/v1/messages", headers=headers, data={"to": "+4917000001", "text": "x"})
        broken = await client.post(
            "/api/v1/messages", headers={**headers, "Content-Type": "application/json"}, content=b"{not json"
        )
        not_object = await client.post("/api/v1/messages", headers=headers, json=["to"])
        huge = await client.post(
            "/api/v1/messages",
            headers={**headers, "Content-Type": "application/json", "Content-Length": str(64 * 1024 * 1024)},
            content=b"{}",
        )
        return form, broken, not_object, huge

    form, broken, not_object, huge = run(db_url, scenario)
    assert form.status_code == 415
    assert broken.status_code == 400 and broken.json()["error"]["code"] == "invalid_json"
    assert not_object.status_code == 400 and not_object.json()["error"]["code"] == "invalid_json"
    assert huge.status_code == 413


def test_reading_errors_and_visibility(db_url, db):
    _loopback(db)
    alice_key = api_key(db_url, user(db_url, "alice"))
    bob_key = api_key(db_url, user(db_url, "bob"))

    async def scenario(client):
        sent = await client.post("/api/v1/messages", headers=_auth(alice_key), json={"to": "+4917000001", "text": "x"})
        message_id = sent.json()["messages"][0]["id"]
        return {
            "bob_reads_alices": await client.get(f"/api/v1/messages/{message_id}", headers=_auth(bob_key)),
            "missing": await client.get("/api/v1/messages/999999", headers=_auth(alice_key)),
            "huge_id": await client.get(f"/api/v1/messages/{2**70}", headers=_auth(alice_key)),
            "bob_outbox": await client.get("/api/v1/messages?folder=outbox", headers=_auth(bob_key)),
            "bad_folder": await client.get("/api/v1/messages?folder=drafts", headers=_auth(alice_key)),
            "bad_after": await client.get("/api/v1/messages?after=-1", headers=_auth(alice_key)),
            "bad_limit": await client.get("/api/v1/messages?limit=100000", headers=_auth(alice_key)),
        }

    r = run(db_url, scenario)
    # someone else's message answers exactly like a missing one
    assert r["bob_reads_alices"].status_code == 404 and r["missing"].status_code == 404
    assert r["bob_reads_alices"].json() == r["missing"].json()
    assert r["huge_id"].status_code == 404
    assert r["bob_outbox"].json()["messages"] == []
    for name, field in (("bad_folder", "folder"), ("bad_after", "after"), ("bad_limit", "limit")):
        assert r[name].status_code == 400 and r[name].json()["error"]["field"] == field, name


def test_connection_grants_apply_to_api_keys(db_url, db):
    _loopback(db)
    alice = user(db_url, "alice")
    bob = user(db_url, "bob")
    db.execute(
        "INSERT INTO hub.connection_grants (connection_id, user_id) SELECT id, %s FROM hub.connections", (alice,)
    )
    bob_key = api_key(db_url, bob)

    async def scenario(client):
        return await client.post(
            "/api/v1/messages", headers=_auth(bob_key), json={"to": "+4917000001", "text": "x", "connection": "loop"}
        )

    response = run(db_url, scenario)
    assert response.status_code == 422 and response.json()["error"]["field"] == "connection"
    assert "may not send through connection" in response.json()["error"]["message"]


_json_value = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(["+4917000001", "a@b.example", "2030-01-01T00:00:00Z", "\x00", "sms"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)
_body = st.dictionaries(st.sampled_from(sorted(KNOWN_FIELDS)), _json_value, max_size=6)


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_body, min_size=25, max_size=25))
def test_fuzzed_bodies_get_a_clear_answer(db_url, db, bodies):
    if not db.execute("SELECT 1 FROM hub.connections").fetchone():
        _loopback(db)
    if not db.execute("SELECT 1 FROM hub.users").fetchone():
        user(db_url, "alice")
    key = api_key(db_url, db.execute("SELECT id FROM hub.users").fetchone()["id"])

    async def scenario(client):
        return [await client.post("/api/v1/messages", headers=_auth(key), json=body) for body in bodies]

    for body, response in zip(bodies, run(db_url, scenario), strict=True):
        assert response.status_code in (200, 201, 400, 409, 422), (body, response.text)
        if response.status_code >= 400:
            error = response.json()["error"]
            assert error["code"] and error["message"], body


def test_cancel_a_queued_message(db_url, db):
    _loopback(db)
    alice_key = api_key(db_url, user(db_url, "alice"))
    bob_key = api_key(db_url, user(db_url, "bob"))
    read_only = api_key(
        db_url, db.execute("SELECT id FROM hub.users WHERE username = 'alice'").fetchone()["id"], ("read",)
    )
    op_key = api_key(db_url, user(db_url, "op", role="operator"))
    db.execute("SELECT hub.receive_message_v1(1, 'sms', '+4917000009', '{+4917000001}', NULL, 'hi')")
    inbound = db.execute("SELECT id FROM hub.messages WHERE direction = 'in'").fetchone()["id"]

    async def scenario(client):
        sent = await client.post("/api/v1/messages", headers=_auth(alice_key), json={"to": "+4917000001", "text": "x"})
        message_id = sent.json()["messages"][0]["id"]
        return {
            "bob": await client.post(f"/api/v1/messages/{message_id}/cancel", headers=_auth(bob_key)),
            "scope": await client.post(f"/api/v1/messages/{message_id}/cancel", headers=_auth(read_only)),
            "ok": await client.post(f"/api/v1/messages/{message_id}/cancel", headers=_auth(alice_key)),
            "again": await client.post(f"/api/v1/messages/{message_id}/cancel", headers=_auth(alice_key)),
            "inbound": await client.post(f"/api/v1/messages/{inbound}/cancel", headers=_auth(alice_key)),
            "inbound_op": await client.post(f"/api/v1/messages/{inbound}/cancel", headers=_auth(op_key)),
        }

    r = run(db_url, scenario)
    assert r["bob"].status_code == 404 and r["scope"].status_code == 403
    assert r["ok"].status_code == 200 and r["ok"].json()["status"] == "failed"
    assert r["ok"].json()["failure_code"] == "cancelled"
    assert r["again"].status_code == 409 and "this one is failed" in r["again"].json()["error"]["message"]
    assert r["inbound"].status_code == 404  # unassigned: a user does not see it
    assert r["inbound_op"].status_code == 409 and "this one is received" in r["inbound_op"].text
