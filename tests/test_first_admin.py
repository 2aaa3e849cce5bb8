"""Two nodes starting together on an empty database create one admin
between them: the second waits for the first's transaction, then finds the
admin (before, it failed on the unique username and did not start)."""

from __future__ import annotations

import threading
import time

from msghub.hub.db import connect
from msghub.services.blocking import call
from msghub.services.users import FirstAdmin, ensure_first_admin

WAIT_S = 60.0


def _waiting_on_a_lock(db_url: str, pid: int) -> bool:
    with connect(db_url, autocommit=True) as probe:
        row = probe.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone()
    return bool(row and row["wait_event_type"] == "Lock")


def test_two_nodes_on_an_empty_database_create_one_admin(db_url):
    first, second = connect(db_url), connect(db_url)
    results: list[FirstAdmin | BaseException] = []

    def second_node() -> None:
        try:
            results.append(call(second, ensure_first_admin, "second-node-password-123"))
            second.commit()
        except BaseException as exc:  # the test reads it below
            results.append(exc)

    try:
        assert call(first, ensure_first_admin, "first-node-password-123").created  # not committed yet
        thread = threading.Thread(target=second_node, daemon=True)
        thread.start()
        deadline = time.monotonic() + WAIT_S
        while not _waiting_on_a_lock(db_url, second.info.backend_pid):  # the second node is inside, waiting
            assert thread.is_alive() and time.monotonic() < deadline, results
            time.sleep(0.05)
        first.commit()
        thread.join(WAIT_S)
        assert results == [FirstAdmin(False, None)]
        with connect(db_url) as conn:
            assert conn.execute("SELECT username, role FROM hub.users").fetchall() == [
                {"username": "admin", "role": "admin"}]
    finally:
        first.close()
        second.close()
