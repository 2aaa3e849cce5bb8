"""A large import: 100,000 contacts through the upload page, in batches,
with the progress endpoint moving to the end."""

from __future__ import annotations

import asyncio

import pytest

from tests.web_admin.helpers import login, run, user

CONTACTS = 100_000


@pytest.mark.slow
def test_hundred_thousand_contacts(db_url, db):
    user(db_url, "alice")
    rows = [f"Person {i},+49170{i:07d},p{i}@example.org,List {i % 3}\r\n" for i in range(CONTACTS)]
    # the last 1,000 rows repeat earlier people: they update, not duplicate
    rows += [f"Again {i},+49170{i:07d},,\r\n" for i in range(1000)]
    content = ("name,phone,email,lists\r\n" + "".join(rows)).encode()

    async def scenario(client):
        token = await login(client, "alice")
        response = await client.post(
            "/contacts/import", data={"csrf_token": token}, files={"file": ("big.csv", content)}
        )
        location = response.headers["location"]
        seen = []
        for _ in range(100_000):
            progress = (await client.get(f"{location}/progress")).json()
            seen.append(progress["bytes_done"])
            if progress["state"] != "running":
                export = await client.get("/contacts/export?format=csv")
                return progress, seen, export
            await asyncio.sleep(0.1)
        raise AssertionError("the import did not end")

    progress, seen, export = run(db_url, scenario)
    assert progress["state"] == "done" and progress["error_count"] == 0
    assert (progress["created"], progress["updated"]) == (CONTACTS, 1000)
    assert progress["bytes_done"] == progress["bytes_total"] == len(content)
    assert seen == sorted(seen)
    counts = db.execute(
        "SELECT count(*) AS n, count(*) FILTER (WHERE name LIKE 'Again %%') AS again FROM hub.contacts"
    ).fetchone()
    assert counts == {"n": CONTACTS, "again": 1000}
    members = db.execute(
        "SELECT l.name, count(*) AS n FROM hub.list_members m JOIN hub.lists l ON l.id = m.list_id "
        "GROUP BY l.name ORDER BY l.name"
    ).fetchall()
    assert [m["n"] for m in members] == [33334, 33333, 33333]
    # the export streams every contact, with one header row
    lines = export.text.split("\r\n")
    assert lines[0] == "name,phone,email,notes,lists" and lines.count("name,phone,email,notes,lists") == 1
    assert len(lines) == CONTACTS + 2 and lines[-1] == ""
