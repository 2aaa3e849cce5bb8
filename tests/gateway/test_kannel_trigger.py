"""The trigger that owes dlr-url callbacks, on the rows of hub.messages."""

from __future__ import annotations


def test_kannel_callbacks_for_each_change_even_when_a_report_comes_with_the_result(db_url, db):
    """The dlr-url trigger, on the rows: 8 then 1 for a message reported
    delivered in the same change that recorded its send; 16 for a refusal."""
    db.execute("INSERT INTO hub.connections (name, kind, channels, enabled) VALUES ('loop', 'loopback', '{sms}', true)")
    db.execute("INSERT INTO hub.outbox (recipients, text) VALUES ('{+4917000001,+4917000002,+4917000003}', 'x')")
    ids = [r["id"] for r in db.execute("SELECT id FROM hub.messages ORDER BY id")]
    for message_id, mask in zip(ids, (31, 1, 16), strict=True):
        db.execute("INSERT INTO hub.kannel_requests (message_id, username, dlr_url, dlr_mask) "
                   "VALUES (%s, 'k', 'http://x/', %s)", (message_id, mask))
    db.execute("UPDATE hub.messages SET status = 'delivered' WHERE id = ANY(%s)", (ids[:2],))
    db.execute("UPDATE hub.messages SET status = 'failed' WHERE id = %s", (ids[2],))
    calls = [(r["message_id"], r["dlr_type"]) for r in
             db.execute("SELECT message_id, dlr_type FROM hub.kannel_dlr_calls ORDER BY id")]
    assert calls == [(ids[0], 8), (ids[0], 1), (ids[1], 1), (ids[2], 16)]
