"""Sites: a connection pinned to a site runs only on that site's nodes, real
hub processes against a real PostgreSQL; a pinned connection with no live
node is shown as "no node" with the reason, and never taken elsewhere."""

from __future__ import annotations

import json
import signal
from typing import Any

import pytest

from msghub.app.cli import main
from tests.hubproc import start_hub, stop_hub, wait_for

SETTINGS = {"delay_ms": 50, "echo": False, "delivery_reports": False, "reply_prefix": "",
            "own_number": "hub", "fail_prefix": "", "window": 10}


def _add(db: Any, name: str, site: str | None = None, node: str | None = None) -> None:
    db.execute("INSERT INTO hub.connections (name, kind, channels, config, pinned_site, pinned_node) "
               "VALUES (%s, 'loopback', '{sms}', %s, %s, %s)", (name, json.dumps(SETTINGS), site, node))


def _row(db: Any, name: str) -> dict[str, Any]:
    row = db.execute("SELECT c.state, c.node, c.state_since, p.no_node_reason, p.eligible_nodes "
                     "FROM hub.connections c JOIN hub.connection_placement p USING (id) "
                     "WHERE c.name = %s", (name,)).fetchone()
    assert row is not None
    return dict(row)


def _another_pass(db: Any, node: str) -> None:
    """Waits until the node's supervisor has looked at every connection again:
    an edit of the free connection restarts it there, in the same pass that
    considers the pinned one (speed-independent: no sleeping)."""
    before = _row(db, "anywhere")["state_since"]
    db.execute("UPDATE hub.connections SET updated_at = now() WHERE name = 'anywhere'")
    wait_for(lambda: (r := _row(db, "anywhere"))["state"] == "up" and r["node"] == node
             and r["state_since"] > before, what=f"{node} to restart the free connection")


def test_a_connection_pinned_to_a_site_runs_only_there(db_url, db):
    _add(db, "anywhere")
    _add(db, "modem", site="branch")
    head = start_hub(db_url, node="head-1", MSGHUB_NODE_SITE="head")
    branch = None
    try:
        wait_for(lambda: _row(db, "anywhere")["state"] == "up", what="the free connection on head-1")
        _another_pass(db, "head-1")
        modem = _row(db, "modem")
        assert modem["node"] is None and modem["state"] == "stopped"
        assert modem["no_node_reason"] == "pinned to site branch, where no node is running"
        assert db.execute("SELECT site FROM hub.nodes WHERE name = 'head-1'").fetchone()["site"] == "head"

        branch = start_hub(db_url, node="branch-1", MSGHUB_NODE_SITE="branch")
        wait_for(lambda: (r := _row(db, "modem"))["state"] == "up" and r["node"] == "branch-1",
                 what="the branch node to take the pinned connection")
        assert _row(db, "modem")["no_node_reason"] is None
        db.execute("INSERT INTO hub.outbox (recipient, text, connection, correlation_id) "
                   "VALUES ('+4470001', 'via the branch', 'modem', 'pinned')")
        wait_for(lambda: db.execute("SELECT 1 FROM hub.message_status WHERE correlation_id = 'pinned' "
                                    "AND status = 'sent'").fetchone(), what="the pinned connection to send")

        branch.send_signal(signal.SIGKILL)  # the branch machine dies: its lock session ends
        branch.wait(10)
        branch = None
        wait_for(lambda: db.execute("SELECT pg_try_advisory_lock(hashtext('msghub.connection'), id::integer) AS ok "
                                    "FROM hub.connections WHERE name = 'modem'").fetchone()["ok"],
                 what="the dead node's lock to be free")
        db.execute("SELECT pg_advisory_unlock_all()")
        # head-1 looks again with the lock free, and still leaves it alone
        _another_pass(db, "head-1")
        _another_pass(db, "head-1")
        assert _row(db, "modem")["node"] != "head-1"
        reason = wait_for(lambda: _row(db, "modem")["no_node_reason"], timeout=90,
                          what="the dead node's heartbeat to age out")
        assert reason == "pinned to site branch, where no node is running"
        assert _row(db, "modem")["node"] != "head-1"

        # unpinned, any node may take it
        db.execute("UPDATE hub.connections SET pinned_site = NULL WHERE name = 'modem'")
        wait_for(lambda: (r := _row(db, "modem"))["state"] == "up" and r["node"] == "head-1",
                 what="head-1 to take the unpinned connection")
    finally:
        if branch is not None:
            stop_hub(branch)
        assert stop_hub(head) == 0


def test_pinning_away_from_the_holder_moves_the_connection(db_url, db):
    _add(db, "anywhere")
    _add(db, "link")
    one = start_hub(db_url, node="one", MSGHUB_NODE_SITE="a")
    two = None
    try:
        # one after the other: two nodes migrating a fresh database at once race for its first admin
        wait_for(lambda: db.execute("SELECT 1 FROM hub.nodes WHERE name = 'one'").fetchone(), what="node one")
        two = start_hub(db_url, node="two", MSGHUB_NODE_SITE="b")
        wait_for(lambda: db.execute("SELECT 1 FROM hub.nodes WHERE name = 'two'").fetchone(), what="node two")
        held = wait_for(lambda: (r := _row(db, "link"))["state"] == "up" and r["node"], what="someone to take link")
        other = "two" if held == "one" else "one"
        db.execute("UPDATE hub.connections SET pinned_node = %s, updated_at = now() WHERE name = 'link'", (other,))
        wait_for(lambda: (r := _row(db, "link"))["state"] == "up" and r["node"] == other,
                 what=f"link to move to {other}")
        assert _row(db, "link")["eligible_nodes"] == [other]
    finally:
        assert stop_hub(one) == 0
        if two is not None:
            assert stop_hub(two) == 0


@pytest.fixture
def cli(db_url, monkeypatch, capsys):
    monkeypatch.setenv("MSGHUB_DATABASE_URL", db_url)

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err
    return run


def test_site_commands_pin_unpin_and_list(cli, db):
    _add(db, "modem")
    code, out, _ = cli("site", "pin", "modem", "--site", "branch")
    assert code == 0 and "runs on site branch" in out
    row = db.execute("SELECT pinned_site, pinned_node FROM hub.connections WHERE name = 'modem'").fetchone()
    assert row == {"pinned_site": "branch", "pinned_node": None}
    audit = db.execute("SELECT action, target, detail FROM hub.audit_log WHERE action = 'connection.pin'").fetchone()
    assert audit["target"] == "modem" and audit["detail"] == {"site": "branch", "node": None}

    code, out, _ = cli("site", "list")
    assert code == 0 and "no node: pinned to site branch, where no node is running" in out
    code, out, _ = cli("site", "list", "--json")
    listed = json.loads(out)["connections"]
    assert listed[0]["runs_on"] == "site branch" and listed[0]["eligible_nodes"] == []

    assert cli("site", "pin", "modem", "--node", "box-7")[0] == 0
    row = db.execute("SELECT pinned_site, pinned_node FROM hub.connections WHERE name = 'modem'").fetchone()
    assert row == {"pinned_site": None, "pinned_node": "box-7"}
    assert cli("site", "unpin", "modem")[0] == 0
    assert db.execute("SELECT pinned_node FROM hub.connections").fetchone()["pinned_node"] is None

    code, _, err = cli("site", "pin", "nothing", "--site", "x")
    assert code == 2 and "no connection named 'nothing'" in err
    with pytest.raises(SystemExit):
        cli("site", "pin", "modem", "--site", "x", "--node", "y")  # one or the other


def test_a_connection_cannot_be_pinned_to_both(db):
    import psycopg

    with pytest.raises(psycopg.errors.CheckViolation, match="connections_pinned_once"):
        _add(db, "both", site="a", node="b")
