"""hub.web_message_ids_v1 bypasses row-level security for speed and applies
the same rule itself: it must return exactly what the policy lets each
user see, for every list, with and without a search."""

from __future__ import annotations

import itertools

import psycopg
from psycopg.rows import dict_row

from tests.web.webkit import make_user

VIEWS = {
    "inbox": "direction = 'in' AND folder_id IS NULL",
    "outbox": "direction = 'out' AND folder_id IS NULL AND status IN ('queued', 'sending')",
    "sent": "direction = 'out' AND folder_id IS NULL AND status IN ('sent', 'delivered')",
    "failed": "direction = 'out' AND folder_id IS NULL AND status = 'failed'",
    "all": "true",
}


def test_lists_match_the_policy_for_every_kind_of_viewer(db_url, db):
    users = {
        name: make_user(db_url, name, role=role)
        for name, role in [("ann", "user"), ("op", "operator"), ("boss", "admin"), ("grp", "user")]
    }
    sales = db.execute("INSERT INTO hub.groups (name) VALUES ('sales') RETURNING id").fetchone()["id"]
    db.execute("INSERT INTO hub.memberships (user_id, group_id) VALUES (%s, %s)", (users["grp"], sales))
    folder = db.execute(
        "INSERT INTO hub.folders (name, owner_group_id) VALUES ('f', %s) RETURNING id", (sales,)
    ).fetchone()["id"]
    owners = [(None, None), (users["ann"], None), (None, sales), (users["op"], sales), (users["boss"], None)]
    words = ["red apple", "green apple", "red pear", "blue"]
    statuses = [("in", "received"), ("out", "queued"), ("out", "sent"), ("out", "delivered"), ("out", "failed")]
    for n, ((owner, group), text, (direction, status)) in enumerate(itertools.product(owners, words, statuses)):
        db.execute(
            "INSERT INTO hub.messages (channel, direction, recipients, body, status, owner_user_id, "
            "owner_group_id, folder_id) VALUES ('sms', %s, '{+1}', %s, %s, %s, %s, %s)",
            (direction, text, status, owner, group, folder if n % 7 == 0 else None),
        )
    db.execute("ANALYZE hub.messages")
    checked = 0
    for name, user_id in users.items():
        with psycopg.connect(db_url, row_factory=dict_row) as conn:
            conn.execute("SET ROLE msghub_app")
            conn.execute(
                "SELECT set_config('msghub.user_id', %s, false), set_config('msghub.system', 'off', false)",
                (str(user_id),),
            )
            for (view, where), q in itertools.product(
                [*VIEWS.items(), ("folder", "folder_id = %(f)s")], ["", "apple", "re", "red ap", "nothing"]
            ):
                got = [
                    r["id"]
                    for r in conn.execute(
                        "SELECT id FROM hub.web_message_ids_v1(%(v)s, %(f)s, %(q)s, NULL, 1000) AS id",
                        {"v": view, "f": folder, "q": q},
                    )
                ]
                query = (
                    "SELECT id FROM hub.messages WHERE " + where + " AND (%(q)s = '' OR "
                    "hub.message_document_v1(subject, body) @@ hub.message_query_v1(%(q)s)) ORDER BY id DESC"
                )
                expected = [r["id"] for r in conn.execute(query, {"q": q, "f": folder})]
                assert got == expected, (name, view, q)
                checked += len(expected)
                # keyset: the page after the third id continues the list
                if len(expected) > 4:
                    after = [
                        r["id"]
                        for r in conn.execute(
                            "SELECT id FROM hub.web_message_ids_v1(%(v)s, %(f)s, %(q)s, %(b)s, 2) AS id",
                            {"v": view, "f": folder, "q": q, "b": expected[2]},
                        )
                    ]
                    assert after == expected[3:5]
    assert checked > 500
