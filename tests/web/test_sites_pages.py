"""The pages an operator reads about sites and grants: compose offers only
the connections the person may use; the status and connections pages show
who holds a connection, or "no node" and why for a pinned one."""

from __future__ import annotations

import re

from tests.web.webkit import login, make_user, run_app


def _options(html: str) -> list[str]:
    select = re.search(r'<select name="connection".*?</select>', html, re.S)
    assert select, "the compose form has a connection choice"
    return [v for v in re.findall(r'<option value="([^"]*)"', select.group(0)) if v]


def test_compose_offers_only_the_connections_the_person_may_use(db_url, db):
    alice = make_user(db_url, "alice", role="operator")
    make_user(db_url, "bob", role="operator")
    db.execute("INSERT INTO hub.connections (name, kind, channels) VALUES "
               "('open', 'loopback', '{sms}'), ('alices', 'loopback', '{sms}'), ('teams', 'loopback', '{sms}')")
    db.execute("INSERT INTO hub.groups (name) VALUES ('team')")
    db.execute("INSERT INTO hub.connection_grants (connection_id, user_id) "
               "SELECT id, %s FROM hub.connections WHERE name = 'alices'", (alice,))
    db.execute("INSERT INTO hub.connection_grants (connection_id, group_id) "
               "SELECT c.id, g.id FROM hub.connections c, hub.groups g WHERE c.name = 'teams' AND g.name = 'team'")
    db.execute("INSERT INTO hub.memberships (user_id, group_id) SELECT u.id, g.id FROM hub.users u, hub.groups g "
               "WHERE u.username = 'bob' AND g.name = 'team'")
    make_user(db_url, "root", role="admin")

    def offered(user: str) -> list[str]:
        async def scenario(client):
            await login(client, user)
            return await client.get("/compose")

        page = run_app(db_url, scenario)
        assert page.status_code == 200
        return _options(page.text)

    assert offered("alice") == ["alices", "open"]
    assert offered("bob") == ["open", "teams"]
    assert offered("root") == ["alices", "open", "teams"]  # admins use any


def test_status_and_connections_pages_show_no_node_and_why(db_url, db):
    make_user(db_url, "alice", role="admin")
    db.execute("INSERT INTO hub.nodes (name, host, pid, roles, site) VALUES ('hq-1', 'hq', 1, '{connectors}', 'hq')")
    db.execute("INSERT INTO hub.connections (name, kind, channels, pinned_site, node, state) VALUES "
               "('modem', 'loopback', '{sms}', 'branch', NULL, 'stopped'), "
               "('smsc', 'loopback', '{sms}', 'hq', 'hq-1', 'up'), "
               "('free', 'loopback', '{sms}', NULL, 'hq-1', 'up')")

    async def scenario(client):
        await login(client)
        return (await client.get("/status")).text, (await client.get("/connections")).text

    status, connections = run_app(db_url, scenario)
    for html in (status, connections):
        modem = re.search(r"<tr[^>]*>\s*<td>modem.*?</tr>", html, re.S)
        assert modem and "no node" in modem.group(0)
        assert "pinned to site branch, where no node is running" in modem.group(0)
        smsc = re.search(r"<tr[^>]*>\s*<td>smsc.*?</tr>", html, re.S)
        assert smsc and "hq-1" in smsc.group(0) and "pinned to site hq" in smsc.group(0)
        assert "no node" not in smsc.group(0)
        free = re.search(r"<tr[^>]*>\s*<td>free.*?</tr>", html, re.S)
        assert free and "hq-1" in free.group(0) and "pinned" not in free.group(0)
