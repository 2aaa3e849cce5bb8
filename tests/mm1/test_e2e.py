"""End to end, MM1 through a modem: a real hub process (`msghub run`) with a
`modem` connection (mms_url set) to the modem simulator, and the MMSC
simulator on loopback as both the operator's MMSC and its MMS proxy. The
MMSC reaches the phone the way a real one does, by WAP push SMS (port 2948)
through the simulated modem. Every wait is bounded."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from msghub.devtools.mmsc.mm1 import Push
from msghub.devtools.mmsc.thread import MmscThread
from msghub.devtools.modem import ModemSimulator
from msghub.mms import INSERT_ADDRESS, AcknowledgeInd, ContentType, NotifyRespInd, Part
from tests.hubproc import wait_for
from tests.mm1.world import MMSC_URL, NAME, OWN, PUSH_SENDER, mm1_world

JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4
AMR = b"#!AMR\n" + bytes(range(200))


@pytest.fixture
def world(db_url: str, db: Any) -> Iterator[tuple[MmscThread, ModemSimulator, Any]]:
    with mm1_world(db_url, db) as w:
        yield w.mmsc, w.modem, w.db


def _status(db: Any, correlation_id: str) -> dict[str, Any]:
    row = db.execute("SELECT * FROM hub.message_status WHERE correlation_id = %s", (correlation_id,)).fetchone()
    return dict(row) if row else {}


def test_the_connection_carries_mms(world: tuple[MmscThread, ModemSimulator, Any]) -> None:
    _, _, db = world
    row = db.execute("SELECT channels FROM hub.connections WHERE name = %s", (NAME,)).fetchone()
    assert row["channels"] == ["sms", "mms"]


def test_an_mms_sent_through_the_modem_is_reported_delivered(world: tuple[MmscThread, ModemSimulator, Any]) -> None:
    mmsc, modem, db = world
    files = [("photo.jpg", "image/jpeg", JPEG), ("hello.amr", "audio/amr", AMR)]
    attachments = [{"filename": n, "content_type": t, "data": base64.b64encode(d).decode()} for n, t, d in files]
    db.execute("INSERT INTO hub.outbox (channel, recipient, subject, text, attachments, delivery_report, "
               "correlation_id) VALUES ('mms', '+31612345678', 'Hi', 'a photo and a sound', %s::jsonb, true, "
               "'mm1-out')", (psycopg.types.json.Json(attachments),))  # fmt: skip
    wait_for(lambda: _status(db, "mm1-out").get("status") == "delivered", timeout=60,
             what="the MMS to be reported delivered")  # fmt: skip
    (sent,) = mmsc.call(lambda s: list(s.mm1.mm1_sent))
    (message_id,) = mmsc.call(lambda s: list(s.mm1.mm1_ids))
    assert _status(db, "mm1-out")["operator_ref"] == message_id
    assert sent.sender == INSERT_ADDRESS and sent.to == ("+31612345678/TYPE=PLMN",) and sent.subject == "Hi"
    assert sent.delivery_report is True
    assert sent.content_type.media_type == "application/vnd.wap.multipart.related"
    assert sent.content_type.param("type") == "application/smil"
    kinds = [p.content_type.media_type for p in sent.parts]
    assert kinds == ["application/smil", "text/plain", "image/jpeg", "audio/amr"]
    assert [p.data for p in sent.parts[2:]] == [JPEG, AMR]
    assert b'src="cid:part1"' in sent.parts[0].data and b'src="cid:part2"' in sent.parts[0].data
    assert MMSC_URL in mmsc.call(lambda s: list(s.mm1.proxied))  # through the proxy, as configured
    # the delivery report came as a WAP push SMS through the modem, not as a stored SMS
    assert db.execute("SELECT count(*) AS n FROM hub.messages WHERE direction = 'in'").fetchone()["n"] == 0
    report = db.execute("SELECT status FROM hub.delivery_reports WHERE operator_ref = %s", (message_id,)).fetchone()
    assert report["status"] == "delivered"
    assert not modem.storage("SM")  # the push SMS was read and deleted


def _notify(mmsc: MmscThread, subject: str) -> Push:
    parts = [Part(ContentType("application/smil"), b'<smil><body><par><img src="cid:img"/><text src="cid:t"/>'
                  b'</par></body></smil>', "<smil>", "s.smil"),
             Part(ContentType("image/jpeg"), JPEG, "<img>", "beach.jpg"),
             Part(ContentType("text/plain", {"Charset": "utf-8"}), "Grüße".encode(), "<t>", "t.txt")]
    return mmsc.call(lambda s: s.notify_phone(OWN, "+31698765432/TYPE=PLMN", subject, parts))


def _inbound(db: Any, subject: str) -> dict[str, Any] | None:
    row = db.execute("SELECT * FROM hub.messages WHERE direction = 'in' AND subject = %s", (subject,)).fetchone()
    return dict(row) if row else None


def test_an_mms_notified_by_wap_push_is_fetched_stored_and_acknowledged(
        world: tuple[MmscThread, ModemSimulator, Any]) -> None:  # fmt: skip
    mmsc, modem, db = world
    push = _notify(mmsc, "Holiday")
    row = wait_for(lambda: _inbound(db, "Holiday"), timeout=60, what="the MMS to be fetched and stored")
    assert (row["channel"], row["sender"], row["recipients"], row["body"]) == ("mms", "+31698765432", [OWN], "Grüße")
    assert row["meta"]["mm1"]["content_location"] == push.location
    parts = db.execute("SELECT content_type, filename, content_id, data FROM hub.message_parts "
                       "WHERE message_id = %s ORDER BY seq", (row["id"],)).fetchall()  # fmt: skip
    assert [(p["content_type"], p["filename"], p["content_id"]) for p in parts] == [
        ("application/smil", "s.smil", "smil"), ("image/jpeg", "beach.jpg", "img"), ("text/plain", "t.txt", "t")]
    assert bytes(parts[1]["data"]) == JPEG
    acks = wait_for(lambda: mmsc.call(lambda s: list(s.mm1.mm1_acks)), what="the m-notifyresp-ind")
    assert [(type(a), a.status) for a in acks if isinstance(a, NotifyRespInd)] == [(NotifyRespInd, "retrieved")]
    assert push.location.replace(mmsc.call(lambda s: s.base_url), "") in "".join(mmsc.call(lambda s: s.mm1.proxied))
    # the MMSC sends the same notification again (it missed our answer): answered, not stored twice
    modem.inject_wap_push(PUSH_SENDER, push.user_data)
    wait_for(lambda: len(mmsc.call(lambda s: s.mm1.mm1_acks)) == 2, what="the second m-notifyresp-ind")
    assert db.execute("SELECT count(*) AS n FROM hub.messages WHERE direction = 'in'").fetchone()["n"] == 1


def test_a_fetch_that_fails_is_deferred_then_acknowledged(world: tuple[MmscThread, ModemSimulator, Any]) -> None:
    mmsc, _, db = world
    mmsc.call(lambda s: setattr(s.config, "mm1_fetch_failures", s.mm1.fetches + 1))
    _notify(mmsc, "Later")
    row = wait_for(lambda: _inbound(db, "Later"), timeout=90, what="the deferred MMS to be fetched")
    assert row["body"] == "Grüße"
    acks = wait_for(lambda: [a for a in mmsc.call(lambda s: list(s.mm1.mm1_acks))
                             if isinstance(a, AcknowledgeInd)], what="the m-acknowledge-ind")  # fmt: skip
    first = [a.status for a in mmsc.call(lambda s: list(s.mm1.mm1_acks)) if isinstance(a, NotifyRespInd)]
    assert first == ["deferred"] and len(acks) == 1
