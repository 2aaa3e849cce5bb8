"""hub.outbox.cc and bcc: copies of an MMS, checked by the outbox trigger and
kept, normalised, in the queued message's meta; refused with the column
named for anything but one MMS recipient and well-formed addresses."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

INSERT = "INSERT INTO hub.outbox (channel, recipients, cc, bcc, text) VALUES (%s, %s, %s, %s, 'x')"


@pytest.fixture
def loop(db: Any) -> Any:
    db.execute("INSERT INTO hub.connections (name, kind, channels, is_default) "
               "VALUES ('loop', 'loopback', '{sms,mms,email}', true)")  # fmt: skip
    return db


def test_copies_are_normalised_into_the_message_meta(loop: Any) -> None:
    loop.execute(INSERT, ("mms", ["+31 6 1234 5678"], ["0031612345679", " bob@example.org "], ["+31612345680"]))
    row = loop.execute("SELECT recipients, meta FROM hub.messages").fetchone()
    assert row["recipients"] == ["+31612345678"]
    assert row["meta"] == {"cc": ["+31612345679", "bob@example.org"], "bcc": ["+31612345680"]}
    loop.execute(INSERT, ("mms", ["+31612345681"], [], None))  # empty copies are none
    assert loop.execute("SELECT meta FROM hub.messages ORDER BY id DESC LIMIT 1").fetchone()["meta"] == {}


@pytest.mark.parametrize(("row", "column", "reason"), [
    (("sms", ["+3161"], ["+3162"], None), "cc", "only an MMS has cc copies; this is sms"),
    (("email", ["a@example.org"], None, ["b@example.org"]), "bcc", "only an MMS has bcc copies; this is email"),
    (("mms", ["+31611", "+31622"], ["+31633"], None), "cc", "copies go with one recipient, not 2"),
    (("mms", ["+31611"], ["not a number"], None), "cc", "malformed phone number or e-mail address 'not a number'"),
    (("mms", ["+31611"], None, ["+3162"] * 101), "bcc", "101 copies, more than 100"),
])  # fmt: skip
def test_bad_copies_are_refused_naming_the_column(loop: Any, row: tuple[Any, ...], column: str, reason: str) -> None:
    with pytest.raises(psycopg.errors.InvalidParameterValue) as refused:
        loop.execute(INSERT, row)
    assert refused.value.diag.column_name == column
    assert reason in str(refused.value)
    assert loop.execute("SELECT count(*) AS n FROM hub.messages").fetchone()["n"] == 0
