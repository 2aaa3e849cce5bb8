"""Contacts and distribution lists through the pages, as real users."""

from __future__ import annotations

import asyncio
import re

import vobject

from tests.web_admin.helpers import assert_inert, login, run, user


async def _wait_import(client, location: str) -> dict:
    """Polls the import's progress endpoint until it has ended."""
    for _ in range(2000):
        progress = (await client.get(f"{location}/progress")).json()
        if progress["state"] != "running":
            return progress
        await asyncio.sleep(0.05)
    raise AssertionError("the import did not end")


async def _import(client, token: str, filename: str, content: bytes, **fields: str) -> tuple[dict, str]:
    response = await client.post(
        "/contacts/import", data={"csrf_token": token, **fields}, files={"file": (filename, content)}
    )
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    progress = await _wait_import(client, location)
    page = await client.get(location)
    return progress, page.text


def test_create_edit_search_and_delete(db_url, db):
    user(db_url, "alice")

    async def scenario(client):
        token = await login(client, "alice")
        bad = await client.post("/contacts/new", data={"csrf_token": token, "name": "X", "phone": "+12ab"})
        assert bad.status_code == 400 and "Phone &#39;+12ab&#39; is not a phone number" in bad.text
        made = await client.post(
            "/contacts/new",
            data={"csrf_token": token, "name": "Ann Example", "phone": "0049 (0)171 234-567", "email": "", "notes": ""},
        )
        assert made.status_code == 303
        contact_url = made.headers["location"].split("?")[0]
        await client.post("/contacts/new", data={"csrf_token": token, "name": "Bob", "email": "bob@example.org"})
        found = await client.get("/contacts?q=ann")
        assert "Ann Example" in found.text and "Bob" not in found.text and 'id="filtered-bar"' in found.text
        none = await client.get("/contacts?q=zzz")
        assert "No contact matches" in none.text
        shown = await client.get(contact_url)
        assert 'href="/compose?to=%2B49171234567"' in shown.text
        edited = await client.post(
            contact_url,
            data={"csrf_token": token, "name": "Ann Edited", "phone": "+49171234567", "email": "ann@example.org"},
        )
        assert edited.status_code == 303
        no_csrf = await client.post(f"{contact_url}/delete", data={})
        assert no_csrf.status_code == 403
        deleted = await client.post(f"{contact_url}/delete", data={"csrf_token": token})
        assert deleted.status_code == 303
        gone = await client.get(contact_url)
        assert gone.status_code == 404
        return True

    assert run(db_url, scenario)
    rows = db.execute("SELECT name, phone, email FROM hub.contacts ORDER BY id").fetchall()
    assert rows == [{"name": "Bob", "phone": None, "email": "bob@example.org"}]


def test_someone_elses_contact_is_not_found(db_url, db):
    alice = user(db_url, "alice")
    user(db_url, "bob")
    contact_id = db.execute(
        "INSERT INTO hub.contacts (name, phone, owner_user_id) VALUES ('Secret', '+4912345', %s) RETURNING id", (alice,)
    ).fetchone()["id"]

    async def scenario(client):
        token = await login(client, "bob")
        missing = await client.get("/contacts/999999")
        theirs = await client.get(f"/contacts/{contact_id}")
        post = await client.post(
            f"/contacts/{contact_id}", data={"csrf_token": token, "name": "Mine", "phone": "+4912345"}
        )
        delete = await client.post(f"/contacts/{contact_id}/delete", data={"csrf_token": token})
        listing = await client.get("/contacts")
        return missing, theirs, post, delete, listing

    missing, theirs, post, delete, listing = run(db_url, scenario)
    assert missing.status_code == theirs.status_code == post.status_code == delete.status_code == 404
    assert theirs.text == missing.text
    assert "Secret" not in listing.text
    assert db.execute("SELECT name FROM hub.contacts").fetchone()["name"] == "Secret"


def test_group_owner_must_be_one_of_my_groups(db_url, db):
    user(db_url, "alice")
    other_group = db.execute("INSERT INTO hub.groups (name) VALUES ('other') RETURNING id").fetchone()["id"]

    async def scenario(client):
        token = await login(client, "alice")
        return await client.post(
            "/contacts/new", data={"csrf_token": token, "name": "X", "phone": "+4912345", "owner": str(other_group)}
        )

    response = run(db_url, scenario)
    assert response.status_code == 400 and "one of your groups" in response.text
    assert db.execute("SELECT count(*) AS n FROM hub.contacts").fetchone()["n"] == 0


def test_hostile_names_are_escaped(db_url, db):
    alice = user(db_url, "alice")
    db.execute(
        "INSERT INTO hub.contacts (name, phone, notes, owner_user_id) VALUES "
        "('<script>alert(1)</script>', '+4912345', '<img src=x onerror=alert(2)> javascript:alert(3)', %s)",
        (alice,),
    )
    db.execute("INSERT INTO hub.lists (name, owner_user_id) VALUES ('\"><svg onload=alert(4)>', %s)", (alice,))

    async def scenario(client):
        await login(client, "alice")
        pages = [await client.get("/contacts"), await client.get("/lists"), await client.get("/contacts/new")]
        contact_id = re.search(r'href="/contacts/(\d+)"', pages[0].text).group(1)
        pages.append(await client.get(f"/contacts/{contact_id}"))
        return [p.text for p in pages]

    for html in run(db_url, scenario):
        assert "<script>alert(1)" not in html and "<svg onload" not in html and "<img src=x" not in html
        assert_inert(html)


def test_lists_membership(db_url, db):
    user(db_url, "alice")

    async def scenario(client):
        token = await login(client, "alice")
        made = await client.post("/lists", data={"csrf_token": token, "name": "Team", "description": "the team"})
        assert made.status_code == 303
        list_url = made.headers["location"]
        list_id = list_url.rsplit("/", 1)[1]
        empty = await client.post("/lists", data={"csrf_token": token, "name": "  "})
        assert empty.status_code == 400
        contact = await client.post(
            "/contacts/new", data={"csrf_token": token, "name": "Ann", "phone": "+4912345", "lists": list_id}
        )
        assert contact.status_code == 303
        page = await client.get(list_url)
        assert "Ann" in page.text
        contact_id = contact.headers["location"].split("?")[0].rsplit("/", 1)[1]
        removed = await client.post(f"{list_url}/remove", data={"csrf_token": token, "contact_id": contact_id})
        assert removed.status_code == 303
        after = await client.get(list_url)
        assert "has no members yet" in after.text
        renamed = await client.post(list_url, data={"csrf_token": token, "name": "Crew", "description": ""})
        assert renamed.status_code == 303
        deleted = await client.post(f"{list_url}/delete", data={"csrf_token": token})
        assert deleted.status_code == 303
        return (await client.get(list_url)).status_code

    assert run(db_url, scenario) == 404
    assert db.execute("SELECT count(*) AS n FROM hub.contacts").fetchone()["n"] == 1


def test_csv_import_with_errors_duplicates_and_lists(db_url, db):
    alice = user(db_url, "alice")
    db.execute("INSERT INTO hub.contacts (name, phone, owner_user_id) VALUES ('Old Ann', '+4917100000', %s)", (alice,))
    content = (
        b"Name;Mobile;E-mail;Lists\r\n"
        b"Ann;0049 171 00000;ann@example.org;Team\r\n"
        b"Bob;+12ab;;\r\n"
        b"Carol;;carol@example.org;Team;Extra\r\n"
        b"Carol;;carol@example.org;Team\r\n"
        b"Carol Again;;CAROL@example.org;\r\n"
        b";;;\r\n"
        b"Dan;;;Team\r\n"
    )

    async def scenario(client):
        token = await login(client, "alice")
        return await _import(client, token, "people.csv", content)

    progress, page = run(db_url, scenario)
    assert progress["state"] == "done"
    assert (progress["created"], progress["updated"], progress["error_count"]) == (1, 2, 3)
    assert "line 3: phone &#39;+12ab&#39; is not a phone number" in page
    assert "line 4: 5 fields, but the header names 4 columns" in page
    assert "line 8: no phone number or e-mail address" in page
    rows = db.execute("SELECT name, phone, email FROM hub.contacts ORDER BY id").fetchall()
    assert rows == [
        {"name": "Ann", "phone": "+4917100000", "email": "ann@example.org"},
        {"name": "Carol Again", "phone": None, "email": "carol@example.org"},
    ]
    members = db.execute(
        "SELECT l.name, c.name AS contact FROM hub.list_members m JOIN hub.lists l ON l.id = m.list_id "
        "JOIN hub.contacts c ON c.id = m.contact_id ORDER BY c.id"
    ).fetchall()
    assert members == [{"name": "Team", "contact": "Ann"}, {"name": "Team", "contact": "Carol Again"}]


def test_vcard_import_keeps_hostile_urls_as_inert_text(db_url, db):
    user(db_url, "alice")
    card = (
        b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:<script>alert(1)</script>\r\nTEL;TYPE=CELL:+4917155555\r\n"
        b"URL:javascript:alert(document.cookie)\r\nEND:VCARD\r\n"
        b"BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Broken\r\nTEL:+12ab\r\nEND:VCARD\r\n"
    )

    async def scenario(client):
        token = await login(client, "alice")
        progress, page = await _import(client, token, "cards.vcf", card)
        listing = await client.get("/contacts")
        contact_id = re.search(r'href="/contacts/(\d+)"', listing.text).group(1)
        return progress, page, listing.text, (await client.get(f"/contacts/{contact_id}")).text

    progress, page, listing, contact = run(db_url, scenario)
    assert progress["created"] == 1 and progress["error_count"] == 1
    assert "card 2 (line 7): TEL &#39;+12ab&#39; is not a phone number" in page
    row = db.execute("SELECT name, notes FROM hub.contacts").fetchone()
    assert row == {"name": "<script>alert(1)</script>", "notes": "URL: javascript:alert(document.cookie)"}
    for html in (listing, contact):
        assert "<script>alert(1)" not in html and "&lt;script&gt;" in html
        assert_inert(html)


def test_import_refuses_a_file_that_is_not_contacts(db_url, db):
    user(db_url, "alice")

    async def scenario(client):
        token = await login(client, "alice")
        not_csv = await _import(client, token, "x.csv", b"foo,bar\r\n1,2\r\n")
        binary = await _import(client, token, "x.csv", b"name,phone\r\n\xff\xfe\x00\r\n")
        no_file = await client.post("/contacts/import", data={"csrf_token": token})
        forged = await client.post(
            "/contacts/import",
            data={"csrf_token": "forged"},
            files={"file": ("x.csv", b"name,phone\r\nA,+4912345\r\n")},
        )
        return not_csv, binary, no_file, forged

    not_csv, binary, no_file, forged = run(db_url, scenario)
    assert not_csv[0]["state"] == "failed" and "no phone or e-mail column" in not_csv[0]["failure"]
    assert binary[0]["state"] == "failed" and "line 2: not UTF-8" in binary[0]["failure"]
    assert no_file.status_code == 400 and "Choose a CSV or vCard file" in no_file.text
    assert forged.status_code == 403
    assert db.execute("SELECT count(*) AS n FROM hub.contacts").fetchone()["n"] == 0


def test_others_cannot_see_my_import(db_url, db):
    user(db_url, "alice")
    user(db_url, "bob")

    async def scenario(client):
        token = await login(client, "alice")
        progress, _ = await _import(client, token, "a.csv", b"name,phone\r\nA,+4912345\r\n")
        client.cookies.clear()
        await login(client, "bob")
        return (await client.get(f"/contacts/imports/{progress['id']}")).status_code, (
            await client.get(f"/contacts/imports/{progress['id']}/progress")
        ).status_code

    assert run(db_url, scenario) == (404, 404)


def test_export_round_trips_through_csv_and_vcard(db_url, db):
    alice = user(db_url, "alice")
    names = ['=HYPERLINK("x")', 'Zoë, "quoted"; semi', "line\nbreak", "plain"]
    for index, name in enumerate(names):
        db.execute(
            "INSERT INTO hub.contacts (name, phone, email, notes, owner_user_id) VALUES (%s, %s, %s, %s, %s)",
            (name, f"+49171000{index}", f"p{index}@example.org", f"note {index}; with, punctuation", alice),
        )
    list_id = db.execute(
        "INSERT INTO hub.lists (name, owner_user_id) VALUES ('Team, A', %s) RETURNING id", (alice,)
    ).fetchone()["id"]
    db.execute("INSERT INTO hub.list_members SELECT %s, id FROM hub.contacts WHERE name = 'plain'", (list_id,))

    async def scenario(client):
        await login(client, "alice")
        csv_export = await client.get("/contacts/export?format=csv")
        vcard = await client.get("/contacts/export?format=vcard4")
        vcard3 = await client.get("/contacts/export?format=vcard3")
        of_list = await client.get(f"/contacts/export?format=csv&list={list_id}")
        bad = await client.get("/contacts/export?format=pdf")
        missing_list = await client.get("/contacts/export?format=csv&list=999999")
        return csv_export, vcard, vcard3, of_list, bad, missing_list

    csv_export, vcard, vcard3, of_list, bad, missing_list = run(db_url, scenario)
    assert csv_export.headers["content-disposition"] == 'attachment; filename="contacts.csv"'
    assert "'=HYPERLINK" in csv_export.text  # a spreadsheet would not run it
    assert bad.status_code == 400 and missing_list.status_code == 404
    assert of_list.text.count("\r\n") == 2 and "plain" in of_list.text

    from io import BytesIO

    from msghub.contacts.contacts_io import parse_csv, parse_vcard

    from_csv = list(parse_csv(BytesIO(csv_export.content)))
    assert sorted(r.name for r in from_csv) == sorted(names)
    plain = next(r for r in from_csv if r.name == "plain")
    assert plain.lists == ("Team, A",) and plain.notes == "note 3; with, punctuation"
    for export in (vcard, vcard3):
        ours = list(parse_vcard(BytesIO(export.content)))
        assert [(r.name, r.phone, r.email, r.notes) for r in ours] == [
            (r.name, r.phone, r.email, r.notes) for r in from_csv
        ]
        theirs = list(vobject.readComponents(export.text))
        assert sorted(c.fn.value for c in theirs) == sorted(names)
        assert {c.fn.value: [x.value for x in c.contents.get("categories", [])] for c in theirs}["plain"] == [
            ["Team, A"]
        ]


def test_an_import_that_stopped_moving_shows_as_interrupted(db_url, db):
    alice = user(db_url, "alice")
    import_id = db.execute(
        "INSERT INTO hub.contact_imports (user_id, owner_user_id, filename, format, on_duplicate, updated_at) "
        "VALUES (%s, %s, 'old.csv', 'csv', 'update', now() - interval '1 hour') RETURNING id",
        (alice, alice),
    ).fetchone()["id"]

    async def scenario(client):
        await login(client, "alice")
        progress = (await client.get(f"/contacts/imports/{import_id}/progress")).json()
        page = (await client.get(f"/contacts/imports/{import_id}")).text
        return progress, page

    progress, page = run(db_url, scenario)
    assert progress["state"] == "interrupted"
    assert "Interrupted: the hub stopped while importing" in page and 'data-state="interrupted"' in page


def test_import_into_a_group_is_shared_with_its_members(db_url, db):
    alice = user(db_url, "alice")
    bob = user(db_url, "bob")
    user(db_url, "carol")
    group = db.execute("INSERT INTO hub.groups (name) VALUES ('team') RETURNING id").fetchone()["id"]
    db.execute("INSERT INTO hub.memberships VALUES (%s, %s), (%s, %s)", (alice, group, bob, group))

    async def scenario(client):
        token = await login(client, "alice")
        progress, _ = await _import(
            client, token, "team.csv", b"name,phone\r\nShared,+4912345\r\n", owner=str(group), on_duplicate="skip"
        )
        again, _ = await _import(
            client, token, "team.csv", b"name,phone\r\nRenamed,+4912345\r\n", owner=str(group), on_duplicate="skip"
        )
        client.cookies.clear()
        await login(client, "bob")
        bob_sees = (await client.get("/contacts")).text
        client.cookies.clear()
        await login(client, "carol")
        carol_sees = (await client.get("/contacts")).text
        return progress, again, bob_sees, carol_sees

    progress, again, bob_sees, carol_sees = run(db_url, scenario)
    assert progress["created"] == 1 and (again["created"], again["skipped"]) == (0, 1)
    assert "Shared" in bob_sees and "group team" in bob_sees
    assert "Shared" not in carol_sees
    assert db.execute("SELECT owner_user_id, owner_group_id, name FROM hub.contacts").fetchone() == {
        "owner_user_id": None,
        "owner_group_id": group,
        "name": "Shared",
    }
