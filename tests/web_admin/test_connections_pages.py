"""The connections page: state for everyone, changes and tests for admins."""

from __future__ import annotations

import asyncio
import socket

from tests.web_admin.helpers import assert_inert, login, run, user


def _emi(db, name: str = "smsc", port: int = 1, password: str = "hunter2secret") -> int:
    from psycopg.types.json import Jsonb

    from msghub.connectors.emi.connector import SETTINGS
    from msghub.connectors.settings import validate_config

    config = validate_config(SETTINGS, {"host": "127.0.0.1", "port": port, "password": password})
    return db.execute(
        "INSERT INTO hub.connections (name, kind, channels, config) VALUES (%s, 'emi', '{sms}', %s) RETURNING id",
        (name, Jsonb(config)),
    ).fetchone()["id"]


def test_state_last_error_and_queue_are_shown_escaped(db_url, db):
    user(db_url, "ann")
    connection_id = _emi(db)
    db.execute(
        "UPDATE hub.connections SET state = 'down', last_error = '<script>alert(1)</script> refused', "
        "last_error_at = now() WHERE id = %s",
        (connection_id,),
    )

    async def scenario(client):
        await login(client, "ann")
        return await client.get("/connections")

    page = run(db_url, scenario)
    assert page.status_code == 200
    assert 'class="state-down"' in page.text and "&lt;script&gt;alert(1)&lt;/script&gt; refused" in page.text
    assert "hunter2secret" not in page.text
    assert "/connections/new" not in page.text and "/edit" not in page.text  # not an admin
    assert_inert(page.text)


def test_non_admins_cannot_change_connections(db_url, db):
    user(db_url, "op", role="operator")
    connection_id = _emi(db)

    async def scenario(client):
        token = await login(client, "op")
        return [
            await client.get("/connections/new?kind=loopback"),
            await client.post("/connections/new", data={"csrf_token": token, "kind": "loopback", "name": "x"}),
            await client.post(f"/connections/{connection_id}/disable", data={"csrf_token": token}),
            await client.post(f"/connections/{connection_id}/edit", data={"csrf_token": token}),
            await client.post(f"/connections/{connection_id}/test", data={"csrf_token": token}),
        ]

    for response in run(db_url, scenario):
        assert response.status_code == 403 and "Not allowed" in response.text
    assert db.execute("SELECT enabled FROM hub.connections").fetchone()["enabled"] is True
    assert db.execute("SELECT count(*) AS n FROM hub.connections").fetchone()["n"] == 1


def test_add_with_errors_named_by_field_then_valid(db_url, db):
    user(db_url, "root", role="admin")

    async def scenario(client):
        token = await login(client, "root")
        kinds = await client.get("/connections/new")
        assert "/connections/new?kind=emi" in kinds.text and "/connections/new?kind=loopback" in kinds.text
        form = await client.get("/connections/new?kind=emi")
        assert 'name="setting.host"' in form.text and 'name="setting.alphanumeric_sender"' in form.text
        bad = await client.post(
            "/connections/new",
            data={
                "csrf_token": token,
                "kind": "emi",
                "name": "smsc",
                "max_attempts": "500",
                "setting.host": "",
                "setting.port": "seventy",
                "setting.window": "1000",
                "setting.alphanumeric_sender": "shout",
                "setting.smsc_timezone": "Mars/Olympus",
            },
        )
        good = await client.post(
            "/connections/new",
            data={
                "csrf_token": token,
                "kind": "emi",
                "name": "smsc",
                "max_attempts": "3",
                "enabled": "on",
                "setting.host": "smsc.example.net",
                "setting.port": "3000",
                "setting.password": "s3cret-pass",
                "setting.tls": "on",
                "setting.alphanumeric_sender": "replace",
            },
        )
        bad_name = await client.post(
            "/connections/new",
            data={"csrf_token": token, "kind": "loopback", "name": "no spaces allowed", "max_attempts": "5"},
        )
        duplicate = await client.post(
            "/connections/new", data={"csrf_token": token, "kind": "loopback", "name": "smsc", "max_attempts": "5"}
        )
        unknown = await client.post("/connections/new", data={"csrf_token": token, "kind": "fax", "name": "f"})
        return bad, good, bad_name, duplicate, unknown

    bad, good, bad_name, duplicate, unknown = run(db_url, scenario)
    assert bad.status_code == 400
    for message in (
        "max_attempts: a whole number from 1 to 100",
        "host: must not be empty",
        "port: &#39;seventy&#39; is not a whole number",
        "window: 1000 is above the maximum 100",
        "alphanumeric_sender: &#39;shout&#39; is not one of send, replace, refuse",
        "smsc_timezone: ",
    ):
        assert message in bad.text, message
    assert 'aria-describedby="error-port"' in bad.text
    assert good.status_code == 303
    assert bad_name.status_code == 400 and "name: 1 to 64 letters" in bad_name.text
    assert duplicate.status_code == 400 and "already exists" in duplicate.text
    assert unknown.status_code == 400
    row = db.execute("SELECT name, kind, channels, config, max_attempts, enabled FROM hub.connections").fetchone()
    assert (row["name"], row["kind"], row["channels"], row["max_attempts"]) == ("smsc", "emi", ["sms"], 3)
    assert row["config"]["port"] == 3000 and row["config"]["tls"] is True and row["config"]["window"] == 10
    assert row["config"]["password"] == "s3cret-pass" and row["config"]["alphanumeric_sender"] == "replace"
    assert db.execute("SELECT action, target FROM hub.audit_log WHERE action LIKE 'connection.%%'").fetchall() == [
        {"action": "connection.create", "target": "smsc"}
    ]


def test_edit_keeps_the_secret_unless_retyped_and_disable(db_url, db):
    user(db_url, "root", role="admin")
    connection_id = _emi(db, port=2775)

    async def scenario(client):
        token = await login(client, "root")
        form = await client.get(f"/connections/{connection_id}/edit")
        assert "hunter2secret" not in form.text and 'value="2775"' in form.text
        saved = await client.post(
            f"/connections/{connection_id}/edit",
            data={
                "csrf_token": token,
                "max_attempts": "7",
                "enabled": "on",
                "setting.host": "10.0.0.1",
                "setting.port": "2776",
                "setting.password": "",
                "setting.alphanumeric_sender": "send",
            },
        )
        assert saved.status_code == 303
        bad = await client.post(
            f"/connections/{connection_id}/edit", data={"csrf_token": token, "max_attempts": "7", "setting.port": "0"}
        )
        assert bad.status_code == 400 and "port: 0 is below the minimum 1" in bad.text
        disabled = await client.post(f"/connections/{connection_id}/disable", data={"csrf_token": token})
        assert disabled.status_code == 303
        no_csrf = await client.post(f"/connections/{connection_id}/enable", data={})
        assert no_csrf.status_code == 403
        missing = await client.get("/connections/999999/edit")
        assert missing.status_code == 404
        return True

    assert run(db_url, scenario)
    row = db.execute("SELECT config, enabled, max_attempts FROM hub.connections").fetchone()
    assert row["config"]["password"] == "hunter2secret" and row["config"]["host"] == "10.0.0.1"
    assert row["config"]["port"] == 2776 and row["enabled"] is False and row["max_attempts"] == 7


def test_test_button_opens_a_tcp_connection_or_says_why_not(db_url, db):
    user(db_url, "root", role="admin")
    accepted = []

    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()  # nothing listens here now

    async def scenario(client):
        async def on_connect(reader, writer):
            accepted.append(True)
            writer.close()

        server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        up_id = _emi(db, "up", port=port)
        down_id = _emi(db, "down", port=closed_port)
        loop_id = db.execute(
            "INSERT INTO hub.connections (name, kind, channels) VALUES ('loop', 'loopback', '{sms}') RETURNING id"
        ).fetchone()["id"]
        token = await login(client, "root")
        results = [
            await client.post(f"/connections/{i}/test", data={"csrf_token": token}) for i in (up_id, down_id, loop_id)
        ]
        server.close()
        await server.wait_closed()
        return results

    up, down, loop = run(db_url, scenario)
    assert accepted == [True]
    assert "Worked: opened a TCP connection to 127.0.0.1:" in up.text and "no login was tried" in up.text
    assert f"Failed: could not open a TCP connection to 127.0.0.1:{closed_port}" in down.text
    assert "loopback has no link to test" in loop.text


def test_remove_refuses_while_messages_wait_unless_forced(db_url, db):
    user(db_url, "root", role="admin")
    connection_id = _emi(db)
    db.execute("INSERT INTO hub.outbox (recipient, text, connection) VALUES ('+4917000001', 'waiting', 'smsc')")

    async def scenario(client):
        token = await login(client, "root")
        refused = await client.post(f"/connections/{connection_id}/remove", data={"csrf_token": token})
        assert db.execute("SELECT count(*) AS n FROM hub.connections").fetchone()["n"] == 1
        forced = await client.post(f"/connections/{connection_id}/remove", data={"csrf_token": token, "force": "on"})
        missing = await client.post(f"/connections/{connection_id}/remove", data={"csrf_token": token})
        return refused, forced, missing

    refused, forced, missing = run(db_url, scenario)
    assert refused.status_code == 400 and "still has 1 queued or sending messages" in refused.text
    assert forced.status_code == 303 and missing.status_code == 404
    assert db.execute("SELECT count(*) AS n FROM hub.connections").fetchone()["n"] == 0
    assert db.execute("SELECT status, failure_code FROM hub.messages").fetchone() == {
        "status": "failed",
        "failure_code": "connection_removed",
    }
