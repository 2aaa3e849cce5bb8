"""Issue 18, item 10: SQL as the database's owner. The views show a hub
user's rows, so a plain owner session sees none of them; `SET msghub.system
= on` (what the README's first SQL example says) shows every row, an
integrator login sees its user's rows, and an integrator's own
`SET msghub.system = on` is ignored."""

from __future__ import annotations

from pathlib import Path

import psycopg
from psycopg.rows import dict_row

from msghub.hub.db import connect
from msghub.services import access
from tests.web.webkit import make_user

LOGIN = "owner_sql_shop"  # logins are the cluster's: a name no other test uses
README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_owner_sees_the_inbox_after_saying_so_and_an_integrator_sees_its_own(db_url, db, pg_server):
    alice = make_user(db_url, "alice", role="user")
    conn_id = db.execute(
        "INSERT INTO hub.connections (name, kind, channels) VALUES ('loop', 'loopback', '{sms}') RETURNING id"
    ).fetchone()["id"]
    for n, owner in enumerate((alice, None, None)):
        mid = db.execute(
            "SELECT hub.receive_message_v1(%s, 'sms', %s, '{+15550001}', NULL, 'hello') AS id", (conn_id, f"+4790{n}")
        ).fetchone()["id"]
        db.execute("UPDATE hub.messages SET owner_user_id = %s WHERE id = %s", (owner, mid))
    with psycopg.connect(db_url, autocommit=True, row_factory=dict_row) as owner:
        assert owner.execute("SELECT count(*) AS n FROM hub.inbox").fetchone()["n"] == 0
        owner.execute("SET msghub.system = on")
        assert owner.execute("SELECT count(*) AS n FROM hub.inbox").fetchone()["n"] == 3
    with connect(db_url) as conn:
        access.add_integrator(conn, LOGIN, "integrator password 1", username="alice", group=None)
        conn.commit()
    owner_part = f"//{pg_server.user}:{pg_server.password or ''}@"
    shop_url = db_url.replace(owner_part, f"//{LOGIN}:integrator%20password%201@")
    with psycopg.connect(shop_url, autocommit=True, row_factory=dict_row) as shop:
        assert shop.execute("SELECT count(*) AS n FROM hub.inbox").fetchone()["n"] == 1
        shop.execute("SET msghub.system = on")
        assert shop.execute("SELECT count(*) AS n FROM hub.inbox").fetchone()["n"] == 1
    first_sql = README.read_text(encoding="utf-8").split("## Sending and reading with SQL", 1)[1][:1200]
    assert "msghub integrator add" in first_sql and "SET msghub.system = on" in first_sql
