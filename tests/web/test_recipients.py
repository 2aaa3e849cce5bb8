"""Recipients on the compose page (issue 18, item 1): a server-side search as
one types (names, numbers, e-mail addresses, lists; only what the user may
see), read through indexes at 100,000 contacts, and typed contact names
resolved when the message is sent."""

from __future__ import annotations

import json
import re

from msghub.web.pages.recipients import search_params
from msghub.web.queries import WEB_QUERIES
from tests.web.webkit import csrf_of, login, make_user, run_app


def _setup(db, db_url) -> tuple[int, int]:
    alice = make_user(db_url, "alice", role="user")
    bob = make_user(db_url, "bob", role="user")
    db.execute("INSERT INTO hub.connections (name, kind, channels) VALUES ('loop', 'loopback', '{sms,mms,email}')")
    db.execute(
        "INSERT INTO hub.contacts (name, phone, email, owner_user_id) VALUES "
        "('Ørjan Pizzaman', '+4790000001', 'orjan@pizza.example', %(a)s), "
        "('Anna Berg', '+4790000002', NULL, %(a)s), "
        "('Anna Berg', '+4790000003', NULL, %(a)s), "
        "('Mail Only', NULL, 'mail@only.example', %(a)s), "
        "('Ørjan Secret', '+4790000009', NULL, %(b)s)",
        {"a": alice, "b": bob},
    )
    db.execute("INSERT INTO hub.lists (name, owner_user_id) VALUES ('Ørjan''s team', %s)", (alice,))
    return alice, bob


def test_search_finds_names_numbers_addresses_and_lists_the_user_sees(db_url, db):
    _setup(db, db_url)

    async def scenario(client):
        await login(client)
        by_name = await client.get("/compose/recipients", params={"q": "ørj", "channel": "sms"})
        by_number = await client.get("/compose/recipients", params={"q": "+47 900 000 02", "channel": "sms"})
        by_mail = await client.get("/compose/recipients", params={"q": "mail@", "channel": "email"})
        sms_only = await client.get("/compose/recipients", params={"q": "mail", "channel": "sms"})
        wildcard = await client.get("/compose/recipients", params={"q": "%", "channel": "sms"})
        return by_name.json(), by_number.json(), by_mail.json(), sms_only.json(), wildcard.json()

    by_name, by_number, by_mail, sms_only, wildcard = run_app(db_url, scenario)
    labels = [r["label"] for r in by_name["results"]]
    assert "Ørjan Pizzaman <+4790000001>" in labels and "Ørjan's team" in labels
    assert not any("Secret" in label for label in labels)  # bob's contact
    assert [r["kind"] for r in by_name["results"] if r["label"] == "Ørjan's team"] == ["list"]
    assert [r["value"] for r in by_number["results"]] == ["+4790000002"]
    assert [r["label"] for r in by_mail["results"]] == ["Mail Only <mail@only.example>"]
    assert sms_only["results"] == []  # no phone number: not offered for SMS
    assert wildcard["results"] == []  # LIKE's wildcards are searched for, not obeyed


def test_search_pages_on_with_a_keyset(db_url, db):
    alice = make_user(db_url, "alice", role="user")
    db.execute(
        "INSERT INTO hub.contacts (name, phone, owner_user_id) "
        "SELECT 'Kim ' || lpad(n::text, 3, '0'), '+4791' || lpad(n::text, 6, '0'), %s FROM generate_series(1, 20) n",
        (alice,),
    )

    async def scenario(client):
        await login(client)
        first = (await client.get("/compose/recipients", params={"q": "kim"})).json()
        more = first["more"]
        second = (await client.get("/compose/recipients", params={"q": "kim", **more})).json()
        return first, second

    first, second = run_app(db_url, scenario)
    names = [r["name"] for r in first["results"]] + [r["name"] for r in second["results"]]
    assert names == [f"Kim {n:03d}" for n in range(1, len(names) + 1)] and len(names) == 16


def _inner_query(db) -> str:
    """The statement hub.recipient_search_v1 EXECUTEs, with psycopg placeholders."""
    source = db.execute("SELECT prosrc FROM pg_proc WHERE proname = 'recipient_search_v1'").fetchone()["prosrc"]
    inner = source.split("$q$")[1]
    return re.sub(r"\$(\d+)", lambda m: f"%(p{m.group(1)})s", inner.replace("%", "%%"))


def _nodes(node: dict) -> list[dict]:
    return [node, *(n for child in node.get("Plans", []) for n in _nodes(child))]


def _arm(limit: dict) -> str:
    """The index one arm of the search reads a range of (an Index Cond, no
    sequential scan), or "pruned" when its condition is false before any row
    is read. A small part of a table the user owns may come through the
    owner's index instead (the lists here): "owner"."""
    assert limit["Node Type"] == "Limit"
    nodes = _nodes(limit)
    if any(n["Node Type"] == "Result" and n.get("One-Time Filter") == "false" for n in nodes):
        return "pruned"
    assert not any(n["Node Type"] == "Seq Scan" for n in nodes), json.dumps(limit)[:1500]
    scans = [n for n in nodes if "Index Cond" in n]
    assert scans, json.dumps(limit)[:1500]
    names = {n["Index Name"] for n in scans}
    return names.pop() if len(names) == 1 and "_search" in next(iter(names)) else "owner"


def test_the_search_reads_its_indexes_at_100000_contacts(db_url, db):
    """The plan, not a timing: every arm is a range of its index, in order, cut at the limit."""
    alice = make_user(db_url, "alice", role="user")
    db.execute(
        "INSERT INTO hub.contacts (name, phone, email, owner_user_id) "
        "SELECT 'Person ' || n, '+4792' || lpad(n::text, 7, '0'), 'p' || n || '@example.org', "
        "       CASE WHEN n %% 2 = 0 THEN %s::bigint END FROM generate_series(1, 100000) n",
        (alice,),
    )
    db.execute("INSERT INTO hub.lists (name) SELECT 'list ' || n FROM generate_series(1, 2000) n")
    db.execute("ANALYZE hub.contacts")
    db.execute("ANALYZE hub.lists")
    inner = _inner_query(db)
    for q, phone in (("pers", ""), ("+47920001", "+47920001"), ("p123", ""), ("l", "")):
        pattern = q.lower() + "%"
        values = {
            "p1": pattern, "p2": (phone or "") + "%", "p3": "mms", "p4": "", "p5": 0, "p6": 8,
            "p7": False, "p8": alice, "p9": [], "p10": False,
        }
        plan = db.execute("EXPLAIN (FORMAT JSON) " + inner, values).fetchone()["QUERY PLAN"][0]["Plan"]
        arms = {_arm(limit) for limit in plan["Plans"]}
        phone_arm = "contacts_phone_search" if phone else "pruned"
        assert arms - {"lists_name_search", "owner"} == {"contacts_name_search", "contacts_email_search", phone_arm}, (
            q,
            arms,
        )
        # the contacts by name come in index order: no sort of what matched
        name_arm = plan["Plans"][0]
        assert not any(n["Node Type"] == "Sort" for n in _nodes(name_arm)), q
    # and through the function, as alice: her half of the address book
    with db.transaction():
        db.execute("SET LOCAL ROLE msghub_app")
        db.execute(
            "SELECT set_config('msghub.user_id', %s, true), set_config('msghub.system', 'off', true)", (str(alice),)
        )
        rows = db.execute(WEB_QUERIES["compose_recipient_search"], search_params("person 1", "sms")).fetchall()
    mine = sorted(f"person {n}" for n in range(2, 100001, 2) if f"person {n}".startswith("person 1"))
    assert [r["name"].lower() for r in rows] == mine[:8]


def _field_error(html: str, name: str) -> str:
    match = re.search(rf'<p class="field-error" id="err-{name}" role="alert">([^<]*)</p>', html)
    return match.group(1) if match else ""


def test_a_typed_contact_name_is_resolved_not_refused(db_url, db):
    _setup(db, db_url)

    async def scenario(client):
        await login(client)
        csrf = csrf_of((await client.get("/compose")).text)

        async def send(to, channel="sms"):
            return await client.post(
                "/compose", data={"csrf_token": csrf, "channel": channel, "to": to, "text": "pizza?"}
            )

        return (
            await send("ørjan pizzaman, +4790000077"),
            await send("Ørjan Pizzaman", "email"),
            await send("Anna Berg"),
            await send("Nobody Here"),
            await send("Mail Only"),
            await send("Ørjan Secret"),
        )

    good, mail, ambiguous, unknown, no_phone, not_mine = run_app(db_url, scenario)
    assert good.status_code == 303 and mail.status_code == 303
    rows = db.execute("SELECT channel, recipients FROM hub.messages ORDER BY id").fetchall()
    assert [(r["channel"], r["recipients"]) for r in rows] == [
        ("sms", ["+4790000001"]),
        ("sms", ["+4790000077"]),
        ("email", ["orjan@pizza.example"]),
    ]
    assert _field_error(ambiguous.text, "to").startswith("2 contacts are called “Anna Berg”")
    assert "neither a number, an e-mail address nor the name" in _field_error(unknown.text, "to")
    assert _field_error(no_phone.text, "to") == "The contact “Mail Only” has no phone number."
    assert "neither a number" in _field_error(not_mine.text, "to")  # bob's contact does not exist for alice
