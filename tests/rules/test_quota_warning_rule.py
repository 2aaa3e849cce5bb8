"""A rule running for quota_warning events: e-mail the group's manager
when the group's quota reaches its warning share (docs/COSTS.md)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.costs_world import as_user, queue, user
from tests.rules.runner_support import Runner, add_rule, connection, runner_for


@pytest.fixture
def runner(db_url: str) -> Iterator[Runner]:
    yield from runner_for(db_url)


def test_quota_warning_reaches_a_rule_with_its_payload(db_url, db, runner):
    db.execute("UPDATE hub.connections SET is_default = true WHERE id = %s", (connection(db),))
    bob = user(db, "bob", groups=("sales",))
    db.execute("INSERT INTO hub.quotas (name, group_id, unit, amount, period, warn_percent)"
               " SELECT 'sales daily', id, 'messages', 4, 'day', 50 FROM hub.groups WHERE name = 'sales'")
    add_rule(db, "tell the manager", """
        send({channel: 'email', to: 'manager@example.com', subject: 'quota ' + event.payload.quota,
              text: event.payload.used + ' of ' + event.payload.limit + ' used (' + event.payload.period + ')'});
    """, events="{quota_warning}")
    with as_user(db_url, bob) as conn:
        queue(conn, recipient="+15550101")
        queue(conn, recipient="+15550102")  # 2 of 4: the warning share
        queue(conn, recipient="+15550103")
    assert runner.drain() == 1
    mail = db.execute("SELECT recipients, subject, body FROM hub.messages WHERE channel = 'email'").fetchall()
    assert mail == [{"recipients": ["manager@example.com"], "subject": "quota sales daily",
                     "body": "2 of 4 used (day)"}]
