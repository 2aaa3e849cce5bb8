"""What each role sees in every view (docs/SECURITY.md, "What each role
sees"; issue 10, item 3): the views run with their owner's rights, so each
applies the visibility rule itself. Tested through real sessions: the web
app's role for a user, real integrator logins, the hub's system mode and the
database owner."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.security_world import Conn, as_hub_user, as_integrator, as_owner, as_system, make_world

# (owner user, owner group, direction, status, count)
MESSAGES = {
    "alice": ("alice", None, "out", "sent", 3),
    "bob": ("bob", None, "out", "delivered", 5),
    "helpdesk": (None, "helpdesk", "in", "received", 2),
    "sales": (None, "sales", "in", "received", 7),
    "nobody": (None, None, "in", "received", 11),
}
POLLS = {"alice_poll": ("alice", None), "bob_poll": ("bob", None), "helpdesk_poll": (None, "helpdesk"),
         "open_poll": (None, None)}


@pytest.fixture
def world(db_url: str, db: Conn) -> dict[str, int]:
    ids = make_world(db_url)
    link = db.execute("INSERT INTO hub.connections (name, kind, channels) VALUES ('link', 'loopback', '{sms}')"
                      " RETURNING id").fetchone()["id"]
    for user, group, direction, status, count in MESSAGES.values():
        db.execute("INSERT INTO hub.messages (channel, direction, connection_id, recipients, status, owner_user_id,"
                   " owner_group_id) SELECT 'sms', %s, %s, '{+15550001}', %s, %s, %s FROM generate_series(1, %s)",
                   (direction, link, status, ids.get(user or ""), ids.get(group or ""), count))
    for name, (user, group) in POLLS.items():
        poll = db.execute("INSERT INTO hub.polls (name, question, owner_user_id, owner_group_id)"
                          " VALUES (%s, 'Best?', %s, %s) RETURNING id",
                          (name, ids.get(user or ""), ids.get(group or ""))).fetchone()["id"]
        db.execute("INSERT INTO hub.poll_options (poll_id, position, label, keywords) VALUES (%s, 1, 'yes', '{yes}')",
                   (poll,))
    return ids


@contextlib.contextmanager
def _user(name: str, db_url: str, ids: dict[str, int]) -> Iterator[Conn]:
    with as_hub_user(db_url, ids[name]) as conn:
        yield conn


SESSIONS: dict[str, Callable[[str, dict[str, int]], contextlib.AbstractContextManager[Conn]]] = {
    "user alice": lambda url, ids: _user("alice", url, ids),
    "operator carol": lambda url, ids: _user("carol", url, ids),
    "admin root": lambda url, ids: _user("root", url, ids),
    "integrator as alice": lambda url, ids: as_integrator(url, username="alice"),
    "integrator as helpdesk": lambda url, ids: as_integrator(url, group="helpdesk"),
    "integrator as bob": lambda url, ids: as_integrator(url, username="bob"),
    "hub (system)": lambda url, ids: as_system(url),
    "owner, no identity": lambda url, ids: as_owner(url),
}

# the messages (by owner key) and polls each session sees: the same rule as hub.inbox
SEES = {
    "user alice": ({"alice", "helpdesk"}, {"alice_poll", "helpdesk_poll"}),
    "operator carol": ({"helpdesk", "nobody"}, {"helpdesk_poll", "open_poll"}),
    "admin root": (set(MESSAGES), set(POLLS)),
    "integrator as alice": ({"alice", "helpdesk"}, {"alice_poll", "helpdesk_poll"}),
    "integrator as helpdesk": ({"helpdesk"}, {"helpdesk_poll"}),
    "integrator as bob": ({"bob", "sales"}, {"bob_poll"}),
    "hub (system)": (set(MESSAGES), set(POLLS)),
    "owner, no identity": (set(), set()),
}


def _rows(conn: Conn, query: str) -> list[dict[str, Any]]:
    return conn.execute(query).fetchall()


@pytest.mark.parametrize("who", list(SESSIONS))
def test_each_role_sees_in_each_view_what_it_sees_in_the_inbox(db_url: str, world: dict[str, int], who: str) -> None:
    messages, polls = SEES[who]
    expected_total = sum(MESSAGES[k][4] for k in messages)
    expected_users = {MESSAGES[k][0] for k in messages}
    with SESSIONS[who](db_url, world) as conn:
        stats = _rows(conn, "SELECT username, direction, status, messages FROM hub.stats_messages")
        assert sum(r["messages"] for r in stats) == expected_total
        assert {r["username"] for r in stats} == expected_users
        by_user = _rows(conn, "SELECT username, messages FROM hub.stats_by_user_day")
        assert sum(r["messages"] for r in by_user) == expected_total
        assert {r["username"] for r in by_user} == expected_users
        by_connection = _rows(conn, "SELECT connection, messages, received FROM hub.stats_by_connection_day")
        assert sum(r["messages"] for r in by_connection) == expected_total
        assert sum(r["received"] or 0 for r in by_connection) == sum(
            MESSAGES[k][4] for k in messages if MESSAGES[k][2] == "in")
        assert {r["poll"] for r in _rows(conn, "SELECT poll FROM hub.poll_results")} == polls
        # the same messages as the message views
        seen = _rows(conn, "SELECT count(*) AS n FROM (SELECT id FROM hub.inbox UNION ALL"
                           " SELECT message_id FROM hub.message_status) m")
        assert seen[0]["n"] == expected_total


def test_the_visible_counts_agree_with_the_folded_totals(db_url: str, world: dict[str, int], db: Conn) -> None:
    """For one who sees everything the view reads the totals; for the others the
    messages: both ways count alike, before and after the deltas are folded."""
    query = ("SELECT day, connection_id, owner_user_id, channel, direction, status, messages, segments"
             " FROM hub.stats_messages ORDER BY 1, 2, 3, 4, 5, 6")
    with as_system(db_url) as hub:
        from_totals = _rows(hub, query)
        hub.execute("SELECT hub.stats_rollup_v1()")
        assert _rows(hub, query) == from_totals
    db.execute("UPDATE hub.messages SET owner_user_id = NULL, owner_group_id = NULL")
    with as_hub_user(db_url, world["carol"]) as carol:  # an operator: everything is unassigned now
        counted = _rows(carol, query)
    with as_system(db_url) as hub:
        assert counted == _rows(hub, query)


def test_integrators_are_not_granted_connection_status_the_tables_nor_the_web_helpers(
        db_url: str, world: dict[str, int]) -> None:
    import psycopg

    with as_integrator(db_url, username="alice") as crm:
        for relation in ("hub.connection_status", "hub.stats_daily", "hub.stats_deltas", "hub.polls",
                         "hub.poll_votes", "hub.lists", "hub.contacts"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                crm.execute(f"SELECT * FROM {relation}")
        # the web app's SECURITY DEFINER helpers are for the web app's role
        for call in ("hub.web_message_ids_v1('all', NULL, '', NULL, 10)",
                     "hub.contacts_matching_v1(NULL, NULL, '{}', '{}')"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                crm.execute(f"SELECT * FROM {call}")


@pytest.mark.parametrize("session", ["integrator as bob", "user bob"])
def test_a_disabled_user_sees_nothing_and_queues_nothing(db_url: str, world: dict[str, int], db: Conn,
                                                          session: str) -> None:
    """Disabling a user ends what they see everywhere at once: their
    integrator login and any session that still names them read nothing
    (not even their own messages and groups') and may not queue."""
    import psycopg

    def opened() -> contextlib.AbstractContextManager[Conn]:
        if session == "user bob":
            return _user("bob", db_url, world)
        return as_integrator(db_url, username="bob")

    def seen(conn: Conn) -> int:
        return int(_rows(conn, "SELECT count(*) AS n FROM (SELECT id FROM hub.inbox UNION ALL"
                               " SELECT message_id FROM hub.message_status) m")[0]["n"])

    with opened() as conn:
        assert seen(conn) == MESSAGES["bob"][4] + MESSAGES["sales"][4]
    db.execute("UPDATE hub.users SET enabled = false WHERE id = %s", (world["bob"],))
    with opened() as conn:
        assert seen(conn) == 0
        assert _rows(conn, "SELECT * FROM hub.stats_messages") == []
        assert _rows(conn, "SELECT poll FROM hub.poll_results") == []
        with pytest.raises(psycopg.errors.Error):
            conn.execute("INSERT INTO hub.outbox (channel, recipient, body) VALUES ('sms', '+15550002', 'hi')")
    db.execute("UPDATE hub.users SET enabled = true WHERE id = %s", (world["bob"],))
    with opened() as conn:
        assert seen(conn) == MESSAGES["bob"][4] + MESSAGES["sales"][4]
