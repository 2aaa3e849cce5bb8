"""The e-mail connectors through PostgreSQL: UIDLs and acceptances kept in the
database (restarts, crashes and a second node repeat nothing and lose nothing),
and a real hub process sending, fetching, threading and matching bounces."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from typing import Any

import pytest
from psycopg.types.json import Jsonb

from msghub.app.hublink import HubLink
from msghub.app.runtime import make_pool
from msghub.connectors.pop3.connector import Pop3Connector
from msghub.connectors.smtp.connector import SmtpConnector
from msghub.devtools.mailservers import PASSWORD, MailServers
from msghub.email.build import make_message_id
from msghub.email.port import Fetched
from tests.email.support import outbound, pop3_config, smtp_config
from tests.hubproc import start_hub, stop_hub, wait_for

pytestmark = pytest.mark.peer
WAIT_S = 60.0


def _connection(db: Any, name: str, kind: str, config: dict[str, Any], **extra: Any) -> int:
    row = db.execute(
        "INSERT INTO hub.connections (name, kind, channels, config, enabled, is_default) "
        "VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
        (name, kind, extra.get("channels", ["email"]), Jsonb(config), extra.get("enabled", True),
         extra.get("is_default", False))).fetchone()
    return int(row["id"])


def _mails(servers: MailServers, user: str, count: int) -> None:
    for i in range(count):
        servers.drop_mail(user, f"From: x@example.org\r\nTo: {user}@example.test\r\nSubject: n{i}\r\n"
                                f"Message-ID: <n{i}.{user}@example.org>\r\n\r\nbody {i}\r\n".encode(), f"n{i}")


async def _fetch(db_url: str, connection_id: int, config: dict[str, Any], link: type[HubLink] = HubLink) -> Any:
    pool = make_pool(db_url, max_size=4)
    await pool.open()
    try:
        return await Pop3Connector("in", config, link(pool, connection_id, "test")).fetch_all()
    finally:
        await pool.close()


def _stored(db: Any, connection_id: int) -> list[str]:
    rows = db.execute("SELECT subject FROM hub.messages WHERE connection_id = %s ORDER BY subject",
                      (connection_id,)).fetchall()
    return [r["subject"] for r in rows]


def test_uidls_in_the_database_make_restarts_and_second_nodes_repeat_nothing(mailboxes, db, db_url):
    config = pop3_config(mailboxes, "alice", batch_size=4)
    cid = _connection(db, "inbox", "pop3", config)
    _mails(mailboxes, "alice", 10)

    async def two_nodes() -> list[Any]:
        return list(await asyncio.gather(_fetch(db_url, cid, config), _fetch(db_url, cid, config)))

    first, second = asyncio.run(two_nodes())
    assert first.stored + second.stored == 10
    assert _stored(db, cid) == [f"n{i}" for i in range(10)]
    # a restart: a new connector, the same database
    assert asyncio.run(_fetch(db_url, cid, config)).stored == 0
    seen = db.execute("SELECT count(*) AS n FROM hub.pop3_seen WHERE connection_id = %s AND message_id IS NOT NULL",
                      (cid,)).fetchone()
    assert seen["n"] == 10
    thread = db.execute("SELECT header_id, conversation_id = message_id AS own FROM hub.email_threads "
                        "ORDER BY header_id LIMIT 1").fetchone()
    assert thread == {"header_id": "<n0.alice@example.org>", "own": True}


class Killed(BaseException):
    """Like a kill: nothing in the process handles it."""


class CrashingLink(HubLink):
    """Dies while storing the third mail: as if the process was killed before its commit."""
    calls = 0

    async def pop3_receive(self, fetched: Fetched) -> int | None:
        CrashingLink.calls += 1
        if CrashingLink.calls == 3:
            raise Killed("killed before the commit")
        return await super().pop3_receive(fetched)


def test_a_crash_between_fetch_and_commit_loses_nothing_and_deletes_nothing(mailboxes, db, db_url):
    config = pop3_config(mailboxes, "bob", delete_after_fetch=True)
    cid = _connection(db, "inbox", "pop3", config)
    _mails(mailboxes, "bob", 5)
    with pytest.raises(Killed, match="killed before the commit"):
        asyncio.run(_fetch(db_url, cid, config, CrashingLink))
    assert _stored(db, cid) == ["n0", "n1"]
    assert mailboxes.maildir_count("bob") == 5  # nothing deleted: no QUIT after the crash
    summary = asyncio.run(_fetch(db_url, cid, config))
    assert (summary.stored, summary.deleted) == (3, 5)
    assert _stored(db, cid) == [f"n{i}" for i in range(5)]
    assert mailboxes.maildir_count("bob") == 0
    undeleted = db.execute("SELECT count(*) AS n FROM hub.pop3_seen WHERE deleted_at IS NULL").fetchone()
    assert undeleted["n"] == 0


def _message(db: Any, message_id: int) -> dict[str, Any]:
    return dict(db.execute("SELECT * FROM hub.messages WHERE id = %s", (message_id,)).fetchone())


def _queue(db: Any, recipient: str, subject: str, text: str, **extra: Any) -> int:
    db.execute("INSERT INTO hub.outbox (channel, recipient, subject, text, connection, delivery_report, attachments) "
               "VALUES ('email', %s, %s, %s, 'mail-out', %s, %s)",
               (recipient, subject, text, extra.get("delivery_report", False),
                Jsonb(extra["attachments"]) if "attachments" in extra else None))
    row = db.execute("SELECT max(id) AS id FROM hub.messages WHERE direction = 'out'").fetchone()
    return int(row["id"])


def test_a_real_hub_sends_fetches_threads_and_matches_bounces(mailboxes, db, db_url):
    out = _connection(db, "mail-out", "smtp", smtp_config(mailboxes), is_default=True)
    inbox = _connection(db, "mail-in", "pop3", pop3_config(mailboxes, "hub", poll_interval_s=1,
                                                           sms_gateway_domain="sms.example.test",
                                                           sms_gateway_senders="@example.test",
                                                           delete_after_fetch=True))
    _connection(db, "sms", "loopback", {"delay_ms": 60_000}, channels=["sms"])
    hub = start_hub(db_url)
    try:
        wait_for(lambda: {r["state"] for r in db.execute("SELECT state FROM hub.connections").fetchall()} == {"up"},
                 WAIT_S, "all three connections up")
        pdf = {"filename": "notes.pdf", "content_type": "application/pdf", "data": "JVBERi0xLjQK"}
        asked = _queue(db, "alice@example.test", "Question", "Does it work?", delivery_report=True,
                       attachments=[pdf])
        bounced = _queue(db, "nobody@gone.example.test", "Lost", "into the void")
        sent = wait_for(lambda: _message(db, asked)["status"] in ("sent", "delivered") and _message(db, asked),
                        WAIT_S, "the question sent")
        header_id = sent["operator_ref"]
        assert header_id.startswith(f"<msghub.{asked}.")
        accepted = db.execute("SELECT * FROM hub.smtp_accepted WHERE message_id = %s", (asked,)).fetchone()
        assert accepted["header_id"] == header_id and accepted["recipients"][0]["code"] == 250
        # the bounce comes back through POP3 and fails the message with the reason
        failed = wait_for(lambda: _message(db, bounced)["status"] == "failed" and _message(db, bounced),
                          WAIT_S, "the bounce applied")
        assert "gone for good" in (failed["failure_reason"] or "") or "5.1.1" in (failed["failure_reason"] or "")
        # the DSN of the question marks it delivered
        wait_for(lambda: _message(db, asked)["status"] == "delivered", WAIT_S, "the success DSN applied")
        # alice answers, threaded to the question: it lands in the question's conversation
        context = ssl.create_default_context(cafile=str(mailboxes.ca))
        with smtplib.SMTP("127.0.0.1", mailboxes.ports.smtp, timeout=10) as client:
            client.starttls(context=context)
            client.login("alice@example.test", PASSWORD)
            client.sendmail("alice@example.test", ["hub@example.test"],
                            (f"From: alice@example.test\r\nTo: hub@example.test\r\nSubject: Re: Question\r\n"
                             f"Message-ID: <answer@example.test>\r\nIn-Reply-To: {header_id}\r\n"
                             f"References: {header_id}\r\n\r\nYes, it does.\r\n").encode())
        answer = wait_for(lambda: db.execute(
            "SELECT m.id, m.body, t.conversation_id FROM hub.messages m JOIN hub.email_threads t "
            "ON t.message_id = m.id WHERE m.direction = 'in' AND t.header_id = '<answer@example.test>'").fetchone(),
            WAIT_S, "alice's answer fetched")
        assert answer["conversation_id"] == asked and "Yes, it does." in answer["body"]
        # the e-mail to SMS gateway: an allowed sender's mail to +number@sms.example.test goes on as SMS
        mailboxes.drop_mail("hub", b"From: bob@example.test\r\nTo: +447700900123@sms.example.test\r\n"
                                   b"Subject: Reminder\r\n\r\nMeeting at 10\r\n", "gw")
        sms = wait_for(lambda: db.execute("SELECT recipients, body FROM hub.messages WHERE channel = 'sms'")
                       .fetchone(), WAIT_S, "the gateway's SMS queued")
        assert sms["recipients"] == ["+447700900123"] and sms["body"] == "Reminder: Meeting at 10"
        # delete_after_fetch: the mailbox is emptied once the rows are committed
        wait_for(lambda: mailboxes.maildir_count("hub") == 0, WAIT_S, "the fetched mails deleted")
    finally:
        assert stop_hub(hub) == 0
    assert db.execute("SELECT count(*) AS n FROM hub.smtp_accepted").fetchone()["n"] == 2
    assert inbox and out


RULE = """
if (message.channel === 'email' && message.subject === 'Call me') {
  reply({channel: 'sms', text: 'Calling you about: ' + message.text.trim()});
}
if (message.channel === 'sms') {
  reply({channel: 'email', subject: 'About your SMS', text: 'You wrote: ' + message.text,
         html: '<p>You wrote: <b>' + message.text + '</b></p>'});
}
"""


def _send_as_alice(servers: MailServers, headers: str, body: str) -> None:
    context = ssl.create_default_context(cafile=str(servers.ca))
    with smtplib.SMTP("127.0.0.1", servers.ports.smtp, timeout=10) as client:
        client.starttls(context=context)
        client.login("alice@example.test", PASSWORD)
        client.sendmail("alice@example.test", ["hub@example.test"],
                        f"From: alice@example.test\r\nTo: hub@example.test\r\n{headers}\r\n{body}\r\n".encode())


def test_a_rule_answers_an_email_by_sms_and_an_sms_by_email(mailboxes, db, db_url):
    _connection(db, "mail-out", "smtp", smtp_config(mailboxes), is_default=True)
    _connection(db, "mail-in", "pop3", pop3_config(mailboxes, "hub", poll_interval_s=1))
    sms = _connection(db, "sms", "loopback", {"delay_ms": 600_000, "echo": False}, channels=["sms"])
    db.execute("INSERT INTO hub.contacts (name, phone, email) VALUES ('Alice', '+447700900555', 'alice@example.test')")
    db.execute("INSERT INTO hub.rules (name, source) VALUES ('answers', %s)", (RULE,))
    hub = start_hub(db_url, roles="connectors,rules,scheduler")
    try:
        wait_for(lambda: {r["state"] for r in db.execute("SELECT state FROM hub.connections").fetchall()} == {"up"},
                 WAIT_S, "all three connections up")
        _send_as_alice(mailboxes, "Subject: Call me\r\n", "tomorrow at 10")
        answer = wait_for(lambda: db.execute(
            "SELECT recipients, body, status FROM hub.messages WHERE channel = 'sms' AND direction = 'out' "
            "AND status = 'sent'").fetchone(), WAIT_S, "the SMS answer to the e-mail")
        assert answer["recipients"] == ["+447700900555"] and answer["body"] == "Calling you about: tomorrow at 10"
        received = db.execute("SELECT hub.receive_message_v1(%s, 'sms', '+447700900555', ARRAY['+15550000'], NULL, "
                              "'running late') AS id", (sms,)).fetchone()["id"]
        mailed = wait_for(lambda: db.execute(
            "SELECT m.id, m.operator_ref, t.conversation_id FROM hub.messages m "
            "JOIN hub.email_threads t ON t.message_id = m.id "
            "WHERE m.channel = 'email' AND m.direction = 'out' AND m.status = 'sent'").fetchone(),
            WAIT_S, "the e-mail answer to the SMS sent")
        assert mailed["conversation_id"] == received  # the SMS's conversation
        wait_for(lambda: mailboxes.maildir_count("alice") == 1, WAIT_S, "the answer in alice's mailbox")
        # alice answers the e-mail: her mail joins the SMS's conversation too
        _send_as_alice(mailboxes, f"Subject: Re: About your SMS\r\nIn-Reply-To: {mailed['operator_ref']}\r\n"
                                  "Message-ID: <late@example.test>\r\n", "no problem")
        thread = wait_for(lambda: db.execute(
            "SELECT conversation_id FROM hub.email_threads WHERE header_id = '<late@example.test>'").fetchone(),
            WAIT_S, "alice's answer fetched")
        assert thread["conversation_id"] == received
        conversation = [r["id"] for r in db.execute(
            "WITH c AS (SELECT %s::bigint AS id) SELECT m.id FROM hub.messages m, c WHERE m.id = c.id OR m.id IN "
            "(SELECT message_id FROM hub.email_threads WHERE conversation_id = c.id) ORDER BY m.id",
            (received,)).fetchall()]
        assert conversation == [received, mailed["id"], conversation[-1]] and len(conversation) == 3
    finally:
        assert stop_hub(hub) == 0
    raw = next((mailboxes.mail / "alice" / "Maildir" / "new").iterdir()).read_bytes()
    assert b"multipart/alternative" in raw and b"text/html" in raw and b"Subject: About your SMS" in raw


def test_an_acceptance_in_the_database_keeps_a_retry_from_sending_again(mailboxes, db, db_url):
    """As after a crash between the server's 250 and the queue's record: the
    message is claimed again, and the connector finds the acceptance."""
    cid = _connection(db, "mail-out", "smtp", smtp_config(mailboxes), enabled=False)
    mid = _queue(db, "bob@example.test", "Once", "only once")

    async def send_twice() -> list[str]:
        pool = make_pool(db_url, max_size=4)
        await pool.open()
        try:
            refs = []
            for _attempt in (1, 2):
                connector = SmtpConnector("mail-out", smtp_config(mailboxes), HubLink(pool, cid, "test"))
                await connector.open()
                try:
                    message = outbound(mid, "bob@example.test", "Once", "only once")
                    refs.append((await connector.send(message)).operator_ref)
                finally:
                    await connector.close()
            return refs
        finally:
            await pool.close()

    first, second = asyncio.run(send_twice())
    assert first == second
    # the installation's own salt is in it: another database never makes the same Message-ID
    salt = db.execute("SELECT value FROM hub.settings WHERE key = 'email_message_id_salt'").fetchone()["value"]
    assert len(salt) == 32 and first == make_message_id(mid, "example.test", salt=f"{salt}:mail-out")
    mailboxes.settle()
    assert mailboxes.maildir_count("bob") == 1
    row = db.execute("SELECT attempt, header_id, server_reply FROM hub.smtp_accepted WHERE message_id = %s",
                     (mid,)).fetchone()
    assert row["header_id"] == first and row["server_reply"].startswith("2.0.0 Ok: queued")


def test_one_outbox_row_to_several_recipients_gets_a_result_per_recipient(mailboxes, db, db_url):
    _connection(db, "mail-out", "smtp", smtp_config(mailboxes), is_default=True)
    db.execute("INSERT INTO hub.outbox (channel, recipients, subject, text, correlation_id) VALUES "
               "('email', ARRAY['alice@example.test', 'unknown@example.test', 'bob@example.test'], 'All', "
               "'to all', 'fanout')")
    hub = start_hub(db_url)
    try:
        rows = wait_for(lambda: (r := db.execute(
            "SELECT recipients[1] AS rcpt, status, failure_code, failure_reason FROM hub.messages "
            "WHERE correlation_id = 'fanout' AND status IN ('sent', 'failed') ORDER BY 1").fetchall())
            and len(r) == 3 and r, WAIT_S, "three results")
    finally:
        assert stop_hub(hub) == 0
    by = {r["rcpt"]: r for r in rows}
    assert by["alice@example.test"]["status"] == by["bob@example.test"]["status"] == "sent"
    assert by["unknown@example.test"]["status"] == "failed" and by["unknown@example.test"]["failure_code"] == "smtp_550"
    assert "User unknown" in by["unknown@example.test"]["failure_reason"]


class RefusingLink(HubLink):
    """The database refuses the mail with subject "refused" as read."""

    async def pop3_receive(self, fetched: Fetched) -> int | None:
        if fetched.message.subject == "refused":
            raise ValueError("a value PostgreSQL cannot take")
        return await super().pop3_receive(fetched)


def test_odd_mails_never_block_the_mailbox(mailboxes, db, db_url):
    config = pop3_config(mailboxes, "alice", max_size_bytes=20_000_000)
    cid = _connection(db, "inbox", "pop3", config)
    words = " ".join(f"word{i}" for i in range(400_000)).encode()  # about 4 MB of text: a huge tsvector
    mailboxes.drop_mail("alice", b"From: x@example.org\r\nSubject: huge\r\nMessage-ID: <" + b"i" * 3000
                        + b"@x>\r\n\r\n" + words + b"\r\n", "huge")
    mailboxes.drop_mail("alice", b"From: x@example.org\r\nSubject: refused\r\n\r\nbody\r\n", "refused")
    mailboxes.drop_mail("alice", b"From: x@example.org\r\nSubject: after\r\n\r\nbody\r\n", "after")
    summary = asyncio.run(_fetch(db_url, cid, config, RefusingLink))
    assert summary.stored == 3
    rows = {r["subject"]: r for r in db.execute(
        "SELECT m.subject, length(m.body) AS chars, m.meta, array_agg(p.filename ORDER BY p.seq) AS files "
        "FROM hub.messages m LEFT JOIN hub.message_parts p ON p.message_id = m.id GROUP BY m.id").fetchall()}
    huge = rows["huge"]
    assert huge["chars"] == 200_000 and huge["files"] == ["body.txt"]
    assert any("Message-ID longer than" in n for n in huge["meta"]["email"]["notes"])
    kept = rows[None]  # the refused one, kept as its bytes
    assert kept["files"] == ["original.eml"] and "could not be stored as read" in kept["meta"]["email"]["notes"][0]
    assert "after" in rows
