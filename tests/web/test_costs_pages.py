"""The cost pages in-process: the compose price (CSRF, per recipient), the
admin tariff and quota pages (admins only, CSRF, escaped, precise errors),
cost on the message page, and the statistics page's cost table and CSV."""

from __future__ import annotations

import csv
import io

from tests.web.webkit import csrf_of, login, make_user, run_app


def _setup(db, db_url) -> dict[str, int]:
    ids = {"alice": make_user(db_url, "alice", role="operator"), "root": make_user(db_url, "root", role="admin")}
    ids["loop"] = db.execute("INSERT INTO hub.connections (name, kind, channels, is_default) "
                             "VALUES ('loop', 'loopback', '{sms,mms,email}', true) RETURNING id").fetchone()["id"]
    return ids


def _tariff(db, conn_id, price="0.09", prefix=""):
    db.execute("INSERT INTO hub.tariffs (connection_id, channel, prefix, price, currency)"
               " VALUES (%s, 'sms', %s, %s, 'EUR')", (conn_id, prefix, price))


def test_compose_price_per_recipient_and_with_csrf(db_url, db):
    ids = _setup(db, db_url)
    _tariff(db, ids["loop"])
    _tariff(db, ids["loop"], "0.05", "+49")

    async def scenario(client):
        await login(client)
        token = csrf_of((await client.get("/compose")).text)
        refused = await client.post("/compose/price", data={"text": "hi", "to": "+15550111"})
        one = await client.post("/compose/price", data={"csrf_token": token, "channel": "sms", "to": "+15550111",
                                                        "text": "Grüße ŝ " + "x" * 160})
        two = await client.post("/compose/price", data={"csrf_token": token, "channel": "sms",
                                                        "to": "+15550111, +4917012345", "text": "hello",
                                                        "transliterate": "on"})
        none = await client.post("/compose/price", data={"csrf_token": token, "channel": "sms", "to": "",
                                                         "text": "hello"})
        return refused, one.json(), two.json(), none.json()

    refused, one, two, none = run_app(db_url, scenario)
    assert refused.status_code == 403
    assert one == {"label": "3 SMS · about 0.27 EUR, 0.18 EUR with special characters replaced"}
    assert two == {"label": "1 SMS to 2 recipients · about 0.14 EUR"}
    assert none == {"label": ""}


def test_admin_tariffs_add_import_remove_and_errors(db_url, db):
    _setup(db, db_url)

    async def scenario(client):
        await login(client, "alice")
        forbidden = await client.get("/admin/tariffs")
        await client.post("/logout", data={"csrf_token": csrf_of((await client.get("/")).text)})
        await login(client, "root")
        page = await client.get("/admin/tariffs")
        token = csrf_of(page.text)
        no_csrf = await client.post("/admin/tariffs", data={"connection": "loop", "price": "0.1", "currency": "EUR"})
        added = await client.post("/admin/tariffs", data={"csrf_token": token, "action": "add", "connection": "loop",
                                                          "channel": "sms", "direction": "out", "prefix": "+49",
                                                          "price": "0,045", "currency": "eur"})
        bad = await client.post("/admin/tariffs", data={"csrf_token": token, "action": "add", "connection": "loop",
                                                        "channel": "sms", "price": "0.1", "currency": "<b>X"})
        csv_bad = await client.post("/admin/tariffs", data={
            "csrf_token": token, "action": "import",
            "csv": "connection,price,currency\nloop,0.1,EUR\nloop,abc,EUR\n"})
        imported = await client.post("/admin/tariffs", data={
            "csrf_token": token, "action": "import", "csv": "connection,price,currency,prefix\nloop,0.08,EUR,\n"})
        listed = await client.get("/admin/tariffs")
        return forbidden, no_csrf, added, bad, csv_bad, imported, listed

    forbidden, no_csrf, added, bad, csv_bad, imported, listed = run_app(db_url, scenario)
    assert forbidden.status_code == 403 and no_csrf.status_code == 403
    assert added.status_code == 303 and imported.status_code == 303
    assert bad.status_code == 400 and "unknown currency &#39;&lt;B&gt;X&#39;" in bad.text and "<B>X" not in bad.text
    assert csv_bad.status_code == 400 and "line 3: price &#39;abc&#39; is not a number" in csv_bad.text
    assert "0.045" in listed.text and "(default)" in listed.text
    rows = db.execute("SELECT prefix, price FROM hub.tariffs ORDER BY prefix").fetchall()
    assert [(r["prefix"], str(r["price"].normalize())) for r in rows] == [("", "0.08"), ("+49", "0.045")]
    tariff_id = db.execute("SELECT id FROM hub.tariffs WHERE prefix = '+49'").fetchone()["id"]

    async def remove(client):
        await login(client, "root")
        token = csrf_of((await client.get("/admin/tariffs")).text)
        return await client.post(f"/admin/tariffs/{tariff_id}/remove", data={"csrf_token": token})

    assert run_app(db_url, remove).status_code == 303
    assert db.execute("SELECT count(*) AS n FROM hub.tariffs").fetchone()["n"] == 1


def test_admin_quotas_add_list_remove(db_url, db):
    _setup(db, db_url)
    db.execute("INSERT INTO hub.groups (name) VALUES ('sales <team>')")

    async def scenario(client):
        await login(client, "root")
        token = csrf_of((await client.get("/admin/quotas")).text)
        added = await client.post("/admin/quotas", data={
            "csrf_token": token, "action": "add", "name": "sales monthly", "holder": "group:sales <team>",
            "amount": "500", "currency": "EUR", "period": "month", "warn_percent": "80"})
        duplicate = await client.post("/admin/quotas", data={
            "csrf_token": token, "action": "add", "name": "sales monthly", "holder": "user:alice",
            "amount": "5", "period": "day"})
        listed = await client.get("/admin/quotas")
        removed = await client.post("/admin/quotas", data={"csrf_token": token, "action": "remove",
                                                           "name": "sales monthly"})
        return added, duplicate, listed, removed

    added, duplicate, listed, removed = run_app(db_url, scenario)
    assert added.status_code == 303 and removed.status_code == 303
    assert duplicate.status_code == 400 and "a quota named &#39;sales monthly&#39; already exists" in duplicate.text
    assert "group sales &lt;team&gt;" in listed.text and "500.00 EUR" in listed.text
    assert db.execute("SELECT count(*) AS n FROM hub.quotas").fetchone()["n"] == 0


def test_message_page_and_statistics_show_the_cost(db_url, db):
    ids = _setup(db, db_url)
    _tariff(db, ids["loop"])
    db.execute("INSERT INTO hub.outbox (recipient, text, created_by) VALUES ('+15550111', 'hello', %s)",
               (ids["alice"],))
    message_id = db.execute("SELECT id FROM hub.messages").fetchone()["id"]
    rows = db.execute("SELECT * FROM hub.claim_outbound_v1(%s, 'n', 10)", (ids["loop"],)).fetchall()
    db.execute("SELECT hub.record_results_v1(%s, %s, '{sent}', '{r1}', '{2}', '{NULL}', '{NULL}',"
               " '{}', '{}', '{}', '{}')", ([r["id"] for r in rows], [r["attempts"] for r in rows]))

    async def scenario(client):
        await login(client, "alice")
        message = await client.get(f"/messages/{message_id}")
        stats = await client.get("/stats")
        download = await client.get("/stats/costs.csv")
        return message, stats, download

    message, stats, download = run_app(db_url, scenario)
    assert "0.18 EUR (estimated 0.09 EUR when queued, at 0.09 each)" in message.text
    assert 'id="costs-by-connection"' in stats.text and "0.18" in stats.text
    assert "<title>loop: 0.18 EUR</title>" in stats.text  # the chart's bar
    assert download.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(download.text)))
    assert [(r["connection"], r["username"], r["messages"], r["cost"]) for r in table] == [
        ("loop", "alice", "1", "0.180000")]
