"""The rule engine's records are purged with the events they came from."""

from __future__ import annotations

from msghub.hub.queries import QUERIES


def test_old_rule_records_go_and_recent_ones_stay(db):
    db.execute("INSERT INTO hub.rule_log (level, message, at) VALUES ('info', 'old', now() - interval '40 days'),"
               " ('info', 'new', now())")
    db.execute("INSERT INTO hub.http_requests (method, url, status, done_at) VALUES"
               " ('GET', 'https://a.example/', 'done', now() - interval '40 days'),"
               " ('GET', 'https://b.example/', 'done', now()),"
               " ('GET', 'https://c.example/', 'pending', NULL)")
    db.execute("INSERT INTO hub.auto_reply_counts (address, hour, replies) VALUES"
               " ('+1', date_trunc('hour', now()) - interval '1 hour', 3), ('+2', date_trunc('hour', now()), 1)")
    db.execute(QUERIES["purge_rule_records"])
    assert [r["message"] for r in db.execute("SELECT message FROM hub.rule_log")] == ["new"]
    assert sorted(r["url"] for r in db.execute("SELECT url FROM hub.http_requests")) == [
        "https://b.example/", "https://c.example/"]
    assert [r["address"] for r in db.execute("SELECT address FROM hub.auto_reply_counts")] == ["+2"]
