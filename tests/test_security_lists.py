"""Distribution lists resolve among the lists the sender may see (issue 10,
item 1): the outbox trigger runs with msghub's own rights, so it must apply
the visibility rule itself. Names may repeat across owners; someone else's
list answers exactly like a list that does not exist."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg import errors

from tests.security_world import Conn, as_hub_user, as_integrator, as_system, make_world


@pytest.fixture
def world(db_url: str, db: Conn) -> dict[str, int]:
    """alice and bob each own a list named "alist" with one contact of their
    own; helpdesk (alice's group) owns "team"; nobody owns "public"."""
    ids = make_world(db_url)
    db.execute("INSERT INTO hub.connections (name, kind, channels, is_default)"
               " VALUES ('link', 'loopback', '{sms,mms,email}', true)")
    for key, name, user, group, phone in (
            ("alice_list", "alist", ids["alice"], None, "+15550000001"),
            ("bob_list", "alist", ids["bob"], None, "+15550000002"),
            ("helpdesk_list", "team", None, ids["helpdesk"], "+15550000003"),
            ("sales_team", "team", None, ids["sales"], "+15550000005"),
            ("helpdesk_alist", "alist", None, ids["helpdesk"], "+15550000006"),
            ("public_list", "public", None, None, "+15550000004")):
        ids[key] = db.execute("INSERT INTO hub.lists (name, owner_user_id, owner_group_id) VALUES (%s, %s, %s)"
                              " RETURNING id", (name, user, group)).fetchone()["id"]
        contact = db.execute("INSERT INTO hub.contacts (name, phone, owner_user_id, owner_group_id)"
                             " VALUES (%s, %s, %s, %s) RETURNING id", (key, phone, user, group)).fetchone()["id"]
        db.execute("INSERT INTO hub.list_members (list_id, contact_id) VALUES (%s, %s)", (ids[key], contact))
    return ids


def _send(conn: Conn, **columns: Any) -> dict[str, Any]:
    names = ", ".join(columns)
    marks = ", ".join(["%s"] * len(columns))
    row = conn.execute(f"INSERT INTO hub.outbox ({names}, text) VALUES ({marks}, 'hello') RETURNING recipients",
                       tuple(columns.values())).fetchone()
    assert row is not None
    return row


def _refusal(conn: Conn, **columns: Any) -> psycopg.Error:
    with pytest.raises(errors.InvalidParameterValue) as info:
        _send(conn, **columns)
    return info.value


def test_a_user_sends_to_their_own_list_when_another_user_has_one_of_the_same_name(db_url, world, db):
    """Seen on main: bob picked his own "alist" and the message went to alice's contact."""
    with as_hub_user(db_url, world["bob"]) as bob:
        assert _send(bob, list="alist")["recipients"] == ["+15550000002"]
    with as_hub_user(db_url, world["alice"]) as alice:
        # alice's own list wins over her group's list of the same name
        assert _send(alice, list="alist")["recipients"] == ["+15550000001"]
    sent = db.execute("SELECT recipients[1] AS r, owner_user_id FROM hub.messages ORDER BY id").fetchall()
    assert [(s["r"], s["owner_user_id"]) for s in sent] == [
        ("+15550000002", world["bob"]), ("+15550000001", world["alice"])]


def test_someone_elses_list_answers_like_a_missing_one(db_url, world, db):
    with as_hub_user(db_url, world["carol"]) as carol:
        # carol (helpdesk) may not use alice's private list by id
        by_id = _refusal(carol, list_id=world["alice_list"])
        missing_id = _refusal(carol, list_id=999_999)
    assert by_id.diag.column_name == missing_id.diag.column_name == "list_id"
    assert by_id.diag.message_primary.replace(str(world["alice_list"]), "N") == \
        missing_id.diag.message_primary.replace("999999", "N")
    with as_hub_user(db_url, world["bob"]) as bob:
        # a name only others use, and a name nobody uses: the same words
        hidden = _refusal(bob, list="prospects-of-alice-only")
    db.execute("INSERT INTO hub.lists (name, owner_user_id) VALUES ('secret', %s)", (world["alice"],))
    with as_hub_user(db_url, world["bob"]) as bob:
        secret = _refusal(bob, list="secret")
    assert secret.diag.column_name == hidden.diag.column_name == "list"
    assert secret.diag.message_primary == "hub.outbox.list: unknown distribution list 'secret'"
    assert hidden.diag.message_primary == "hub.outbox.list: unknown distribution list 'prospects-of-alice-only'"
    assert db.execute("SELECT count(*) AS n FROM hub.messages").fetchone()["n"] == 0


def test_an_integrator_cannot_read_another_users_list_through_returning(db_url, world, db):
    db.execute("INSERT INTO hub.lists (name, owner_user_id) VALUES ('vip', %s)", (world["alice"],))
    vip = db.execute("SELECT id FROM hub.lists WHERE name = 'vip'").fetchone()["id"]
    contact = db.execute("INSERT INTO hub.contacts (name, phone, owner_user_id) VALUES ('vip', '+15550000099', %s)"
                         " RETURNING id", (world["alice"],)).fetchone()["id"]
    db.execute("INSERT INTO hub.list_members VALUES (%s, %s)", (vip, contact))
    with as_integrator(db_url, username="bob") as crm:
        err = _refusal(crm, list="vip")
        assert err.diag.message_primary == "hub.outbox.list: unknown distribution list 'vip'"
        assert _send(crm, list="alist")["recipients"] == ["+15550000002"]
    with as_integrator(db_url, username="alice") as crm:
        assert _send(crm, list="vip")["recipients"] == ["+15550000099"]


def test_a_group_login_sees_its_groups_lists(db_url, world):
    with as_integrator(db_url, group="helpdesk") as crm:
        assert _send(crm, list="team")["recipients"] == ["+15550000003"]
        assert _send(crm, list="alist")["recipients"] == ["+15550000006"]
        assert _refusal(crm, list_id=world["bob_list"]).diag.column_name == "list_id"


def test_a_list_by_id_and_the_row_records_which_list(db_url, world, db):
    with as_hub_user(db_url, world["alice"]) as alice:
        assert _send(alice, list_id=world["helpdesk_alist"])["recipients"] == ["+15550000006"]
        err = _refusal(alice, list="alist", list_id=world["alice_list"])
        assert err.diag.column_name == "list_id" and "not both" in err.diag.message_primary
    row = db.execute("SELECT list, list_id FROM hub.outbox").fetchone()
    assert row == {"list": None, "list_id": world["helpdesk_alist"]}
    with as_hub_user(db_url, world["bob"]) as bob:
        _send(bob, list="alist")
    row = db.execute("SELECT list, list_id FROM hub.outbox ORDER BY id DESC LIMIT 1").fetchone()
    assert row == {"list": "alist", "list_id": world["bob_list"]}


def test_two_visible_lists_of_one_name_at_the_same_rank_are_refused_as_ambiguous(db_url, world, db):
    db.execute("INSERT INTO hub.memberships (user_id, group_id) VALUES (%s, %s)", (world["bob"], world["helpdesk"]))
    with as_hub_user(db_url, world["bob"]) as bob:
        err = _refusal(bob, list="team")  # helpdesk's and sales' "team", both bob's groups
    assert err.diag.column_name == "list"
    assert "2 distribution lists you can see are named 'team'" in err.diag.message_primary
    assert "list_id" in err.diag.message_primary


def test_unowned_lists_are_for_everyone_who_sees_unassigned_rows_and_the_hub(db_url, world, db):
    with as_hub_user(db_url, world["carol"]) as carol:  # an operator
        assert _send(carol, list="public")["recipients"] == ["+15550000004"]
    with as_hub_user(db_url, world["alice"]) as alice:
        assert _refusal(alice, list="public").diag.column_name == "list"
    with as_system(db_url) as hub:
        # the hub queuing for alice (a rule's send()): her list first
        assert _send(hub, list="alist", created_by=world["alice"])["recipients"] == ["+15550000001"]
        assert _send(hub, list="public")["recipients"] == ["+15550000004"]
        # for nobody in particular, three lists of that name are equally near
        assert "3 distribution lists" in _refusal(hub, list="alist").diag.message_primary


def test_the_same_idempotency_key_of_another_sender_is_refused_not_silently_dropped(db_url, world, db):
    insert = ("INSERT INTO hub.outbox (recipient, text, idempotency_key)"
              " VALUES ('+15550000010', %s, 'order-1') RETURNING id")
    with as_hub_user(db_url, world["alice"]) as alice:
        assert len(alice.execute(insert, ("from alice",)).fetchall()) == 1
        assert alice.execute(insert, ("again",)).fetchall() == []  # her own repeat: dropped, as documented
    with as_hub_user(db_url, world["bob"]) as bob, pytest.raises(errors.InvalidParameterValue) as info:
        bob.execute(insert, ("from bob",))
    assert info.value.diag.column_name == "idempotency_key"
    assert db.execute("SELECT count(*) AS n FROM hub.messages").fetchone()["n"] == 1


def test_an_integrator_cannot_choose_the_actor_an_assignment_is_recorded_under(db_url, world, db):
    """hub.assign_v1 wrote whatever p_actor said into hub.assignments: 'root' for anyone."""
    message = db.execute("SELECT hub.receive_message_v1(1, 'sms', '+15550000001', '{+15550001}', NULL, 'x') AS id"
                         ).fetchone()["id"]
    db.execute("UPDATE hub.messages SET owner_user_id = %s WHERE id = %s", (world["alice"], message))
    with as_integrator(db_url, username="alice") as crm:
        login = crm.execute("SELECT session_user AS s").fetchone()["s"]
        assert crm.execute("SELECT hub.assign_v2(%s, %s, NULL, 'root') AS ok", (message, world["bob"])
                           ).fetchone()["ok"] is True
    with as_system(db_url) as hub:  # the hub's own processes name the actor (a rule, the CLI)
        assert hub.execute("SELECT hub.assign_v2(%s, %s, NULL, 'rule triage') AS ok", (message, world["alice"])
                           ).fetchone()["ok"] is True
    actors = db.execute("SELECT by_actor, by_user_id FROM hub.assignments ORDER BY id").fetchall()
    assert actors == [{"by_actor": "alice", "by_user_id": world["alice"]},
                      {"by_actor": "rule triage", "by_user_id": None}]
    assert login.startswith("crm_")


def test_a_disabled_users_login_queues_nothing(db_url, world, db):
    """Seen on main: an integrator login mapped to a disabled user kept sending as them."""
    db.execute("UPDATE hub.users SET enabled = false WHERE id = %s", (world["bob"],))
    with as_integrator(db_url, username="bob") as crm:
        err = _refusal(crm, recipient="+15550000020")
    assert err.diag.column_name == "created_by"
    assert err.diag.message_primary == "hub.outbox.created_by: your hub user is disabled"
    with as_hub_user(db_url, world["bob"]) as bob:  # a web session left over
        assert _refusal(bob, recipient="+15550000020").diag.column_name == "created_by"
    with as_integrator(db_url, group="sales") as crm:  # the group still sends
        assert _send(crm, recipient="+15550000020")["recipients"] == ["+15550000020"]
