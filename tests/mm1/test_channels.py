"""A modem connection carries MMS exactly while it has an mms_url: the
channels stored on its row follow its settings when added and edited."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from msghub.services.blocking import call
from msghub.services.connections import add_connection, edit_connection, get_connection, set_enabled
from msghub.services.tx import SYSTEM


def _channels(db: Any) -> list[str]:
    return list(db.execute("SELECT channels FROM hub.connections WHERE name = 'gsm'").fetchone()["channels"])


def test_channels_follow_the_mms_url(db: Any) -> None:
    call(db, add_connection, SYSTEM, "gsm", "modem", {"port": "/dev/ttyUSB0"})
    assert _channels(db) == ["sms"]
    call(db, edit_connection, SYSTEM, call(db, get_connection, "gsm"), {"mms_url": "http://mmsc.example/mms"})
    assert _channels(db) == ["sms", "mms"]
    call(db, set_enabled, SYSTEM, call(db, get_connection, "gsm"), False)
    assert _channels(db) == ["sms", "mms"]
    call(db, edit_connection, SYSTEM, call(db, get_connection, "gsm"), {"mms_url": ""})
    assert _channels(db) == ["sms"]
    # an MMS can no longer be queued on it
    db.execute("UPDATE hub.connections SET enabled = true WHERE name = 'gsm'")
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="does not carry mms"):
        db.execute("INSERT INTO hub.outbox (channel, recipient, text, connection) VALUES ('mms', '+3161', 'x', 'gsm')")
