"""The smtp and pop3 connectors against Debian's Postfix and Dovecot (no database:
the connectors' bookkeeping is kept in a MemoryMailPort here; tests/email/test_hub_email.py
runs them through PostgreSQL)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from msghub.connectors.base import (
    Attachment,
    DeliveryReport,
    InboundMessage,
    PermanentFailure,
    TemporaryFailure,
    UncertainFailure,
)
from msghub.connectors.pop3.connector import Pop3Connector
from msghub.connectors.pop3.session import Pop3AuthError, Pop3Error
from msghub.connectors.smtp.connector import SmtpConnector
from msghub.connectors.smtp.session import SmtpAuthError, SmtpLinkError
from msghub.devtools.mailservers import MESSAGE_SIZE_LIMIT, MailServers
from msghub.email.port import MemoryMailPort
from tests.email.corpus import MALFORMED
from tests.email.support import CuttingProxy, outbound, pop3_config, smtp_config, wait_for

pytestmark = pytest.mark.peer


class Hub(MemoryMailPort):
    """A HubPort and MailPort in memory."""

    async def deliver(self, message: InboundMessage) -> int:
        raise AssertionError("the e-mail connectors store through pop3_receive")

    async def report_delivery(self, report: DeliveryReport) -> int | None:
        return None

    async def set_state(self, state: str, error: str | None = None) -> None:
        pass


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def _send(config: dict[str, Any], *messages: Any, hub: Hub | None = None) -> list[Any]:
    connector = SmtpConnector("out", config, hub or Hub())
    await connector.open()
    try:
        results = []
        for message in messages:
            try:
                results.append(await connector.send(message))
            except Exception as exc:
                results.append(exc)
        return results
    finally:
        await connector.close()


async def _fetch(config: dict[str, Any], hub: Hub) -> Any:
    connector = Pop3Connector("in", config, hub)
    return await connector.fetch_all()


@pytest.mark.parametrize("smtp_tls, pop3_tls", [("starttls", "stls"), ("implicit", "implicit")])
def test_round_trip_through_postfix_and_dovecot(mailboxes: MailServers, smtp_tls: str, pop3_tls: str):
    port = mailboxes.ports.smtp if smtp_tls == "starttls" else mailboxes.ports.smtps
    pdf = Attachment("application/pdf", b"%PDF-1.4\n" + bytes(range(256)) * 40, "Bericht März.pdf")
    html = Attachment("text/html", b"<p>Hello <b>Alice</b></p>", None)
    hub = Hub()
    [result] = run(_send(smtp_config(mailboxes, port=port, tls=smtp_tls),
                         outbound(1, "alice@example.test", "Grüße", "Hallo Alice", attachments=(pdf, html)),
                         hub=hub))
    assert result.operator_ref.startswith("<msghub.1.") and hub.accepted[1].header_id == result.operator_ref
    wait_for(lambda: mailboxes.maildir_count("alice") == 1, "the mail in alice's maildir")
    pop_port = mailboxes.ports.pop3 if pop3_tls == "stls" else mailboxes.ports.pop3s
    inbox = Hub()
    summary = run(_fetch(pop3_config(mailboxes, "alice", port=pop_port, tls=pop3_tls), inbox))
    assert summary.stored == 1
    [fetched] = inbox.stored
    message = fetched.message
    assert message.subject == "Grüße" and message.text.strip() == "Hallo Alice"
    assert message.sender == "hub@example.test" and message.recipients == ("alice@example.test",)
    assert fetched.header_id == result.operator_ref
    parts = {(a.content_type, a.filename): a.data for a in message.attachments}
    assert parts[("application/pdf", "Bericht März.pdf")] == pdf.data
    assert b"<b>Alice</b>" in parts[("text/html", None)]
    assert message.meta["email"]["uidl"] == fetched.uidl
    # a second fetch finds nothing new: the UIDL is known
    assert run(_fetch(pop3_config(mailboxes, "alice"), inbox)).stored == 0
    assert len(inbox.stored) == 1


def test_an_accepted_message_is_not_sent_again(mailboxes: MailServers):
    hub = Hub()
    first, again = run(_send(smtp_config(mailboxes), outbound(2, "bob@example.test"),
                             outbound(2, "bob@example.test"), hub=hub))
    assert first.operator_ref == again.operator_ref
    wait_for(lambda: mailboxes.maildir_count("bob") == 1, "the mail in bob's maildir")
    assert mailboxes.maildir_count("bob") == 1


def test_wrong_passwords_are_refused_in_the_servers_words(mailboxes: MailServers):
    with pytest.raises(SmtpAuthError, match=r"refused the login of hub@example.test: 535"):
        run(_send(smtp_config(mailboxes, password="wrong")))
    with pytest.raises(Pop3AuthError, match=r"refused the login of hub: .*(Authentication failed|ERR)"):
        run(_fetch(pop3_config(mailboxes, password="wrong"), Hub()))
    assert run(SmtpConnector.probe(smtp_config(mailboxes, password="wrong"))).ok is False
    assert run(Pop3Connector.probe(pop3_config(mailboxes, password="wrong"))).ok is False
    probe = run(SmtpConnector.probe(smtp_config(mailboxes)))
    assert probe.ok and "with TLS" in probe.detail and "logged in as hub@example.test" in probe.detail
    probe = run(Pop3Connector.probe(pop3_config(mailboxes)))
    assert probe.ok and "with TLS" in probe.detail


def test_certificates_are_checked(mailboxes: MailServers):
    with pytest.raises(SmtpLinkError, match="CERTIFICATE_VERIFY_FAILED"):
        run(_send(smtp_config(mailboxes, tls_ca_file="")))
    with pytest.raises(Pop3Error, match="CERTIFICATE_VERIFY_FAILED"):
        run(_fetch(pop3_config(mailboxes, tls_ca_file=""), Hub()))
    # turned off on purpose, the same server is accepted
    assert run(SmtpConnector.probe(smtp_config(mailboxes, tls_ca_file="", tls_verify=False))).ok


def test_submission_port_requires_tls_before_auth(mailboxes: MailServers):
    with pytest.raises(SmtpLinkError, match="offers no AUTH"):
        run(_send(smtp_config(mailboxes, port=mailboxes.ports.submission, tls="off")))
    [ok] = run(_send(smtp_config(mailboxes, port=mailboxes.ports.submission, tls="opportunistic"),
                     outbound(3, "bob@example.test")))
    assert ok.operator_ref


def test_permanent_and_per_recipient_refusals(mailboxes: MailServers):
    big = Attachment("application/octet-stream", b"x" * (MESSAGE_SIZE_LIMIT + 1000), "big.bin")
    too_large, unknown, fine = run(_send(smtp_config(mailboxes),
                                         outbound(4, "alice@example.test", attachments=(big,)),
                                         outbound(5, "unknown@example.test"),
                                         outbound(6, "alice@example.test")))
    assert isinstance(too_large, PermanentFailure) and too_large.code == "smtp_552"
    assert "552" in too_large.reason and "size" in too_large.reason.lower()
    assert isinstance(unknown, PermanentFailure) and unknown.code == "smtp_550"
    assert "RCPT TO <unknown@example.test>" in unknown.reason and "User unknown" in unknown.reason
    # the session survives refusals: the next mail goes through it
    assert fine.operator_ref.startswith("<msghub.6.")


@pytest.mark.parametrize("method", ["plain", "login"])
def test_each_auth_mechanism(mailboxes: MailServers, method: str):
    [ok] = run(_send(smtp_config(mailboxes, auth_method=method), outbound(30, "bob@example.test")))
    assert ok.operator_ref.startswith("<msghub.30.")
    with pytest.raises(SmtpAuthError):
        run(_send(smtp_config(mailboxes, auth_method=method, password="wrong")))


def test_a_4xx_answer_is_retried_later(mailboxes: MailServers):
    [later] = run(_send(smtp_config(mailboxes), outbound(8, "later@example.test")))
    assert isinstance(later, TemporaryFailure) and not isinstance(later, UncertainFailure)
    assert later.code == "smtp_450" and "try again later" in later.reason


def test_apop_login(mailboxes: MailServers):
    mailboxes.drop_mail("alice", b"From: x@example.org\r\nSubject: apop\r\n\r\nbody\r\n", "apop")
    hub = Hub()
    assert run(_fetch(pop3_config(mailboxes, "alice", apop=True), hub)).stored == 1
    with pytest.raises(Pop3AuthError):
        run(_fetch(pop3_config(mailboxes, "alice", apop=True, password="wrong"), Hub()))


def test_a_link_cut_mid_transfer_is_retried_or_uncertain(mailboxes: MailServers):
    # plain SMTP through the proxy so the cut falls inside the mail's bytes
    body = "line of text\n" * 2000
    with CuttingProxy(mailboxes.ports.smtp, cut_after=5000, direction="up") as proxy:
        config = smtp_config(mailboxes, port=proxy.port, tls="off", username="", password="")
        [cut] = run(_send(config, outbound(7, "alice@example.test", text=body)))
    # the kernel took the whole mail into its buffer before the cut: from the
    # client's side it was written and no answer came, so it is uncertain
    # (retried, flagged as a possible duplicate); a cut earlier is temporary
    assert isinstance(cut, UncertainFailure | TemporaryFailure), cut
    assert cut.code in ("smtp_no_answer", "smtp_link") and proxy.cuts == 1
    # nothing half-written reached the mailbox
    mailboxes.settle()
    assert mailboxes.maildir_count("alice") == 0


def test_a_pop3_link_cut_mid_retrieve_loses_and_repeats_nothing(mailboxes: MailServers):
    run(_send(smtp_config(mailboxes), *[outbound(10 + i, "bob@example.test", f"mail {i}", "x" * 20_000)
                                        for i in range(3)]))
    wait_for(lambda: mailboxes.maildir_count("bob") == 3, "three mails for bob")
    hub = Hub()
    with CuttingProxy(mailboxes.ports.pop3, cut_after=30_000, direction="down") as proxy, pytest.raises(Pop3Error):
        run(_fetch(pop3_config(mailboxes, "bob", port=proxy.port, tls="off"), hub))
    assert proxy.cuts == 1
    assert len(hub.stored) == 1  # the first was committed; the cut one was not
    summary = run(_fetch(pop3_config(mailboxes, "bob"), hub))
    assert summary.stored == 2 and sorted(f.message.subject for f in hub.stored) == ["mail 0", "mail 1", "mail 2"]


def test_bounded_batches_delete_after_fetch_and_too_large(mailboxes: MailServers):
    for i in range(7):
        mailboxes.drop_mail("alice", f"From: x@example.org\r\nSubject: n{i}\r\n\r\nbody {i}\r\n".encode(), f"m{i}")
    mailboxes.drop_mail("alice", b"From: x@example.org\r\nSubject: huge\r\n\r\n" + b"y" * 5000 + b"\r\n", "huge")
    hub = Hub()
    summary = run(_fetch(pop3_config(mailboxes, "alice", batch_size=3, delete_after_fetch=True,
                                     max_size_bytes=4096), hub))
    assert (summary.stored, summary.too_large, summary.deleted) == (7, 1, 7)
    huge = next(f for f in hub.stored if f.outcome == "too_large")
    assert huge.message.subject == "huge" and "only its headers were fetched" in huge.message.text
    assert b"y" * 100 not in huge.message.text.encode()
    # deleted on the server, except the too-large one which stays for a person to deal with
    assert mailboxes.maildir_count("alice") == 1


def test_the_malformed_corpus_is_fetched_and_kept(mailboxes: MailServers):
    for name, raw in MALFORMED.items():
        mailboxes.drop_mail("bob", raw, name)
    hub = Hub()
    summary = run(_fetch(pop3_config(mailboxes, "bob"), hub))
    assert summary.stored == len(MALFORMED)
    assert sum(1 for f in hub.stored if f.message.meta["email"]["notes"]) >= len(MALFORMED) - 6


def test_bounces_and_dsns_come_back_to_the_sender(mailboxes: MailServers):
    hub = Hub()
    bounced, delivered = run(_send(smtp_config(mailboxes), outbound(20, "someone@gone.example.test"),
                                   outbound(21, "bob@example.test", delivery_report=True), hub=hub))
    wait_for(lambda: mailboxes.maildir_count("hub") == 2, "a bounce and a DSN for hub")
    reports: list[tuple[str, str | None, str | None, str, str | None]] = []

    class Reports(Hub):
        async def pop3_report(self, uidl: str, size: int, header_id: str | None, envelope_id: str | None,
                              status: str, reason: str | None) -> int | None:
            reports.append((uidl, header_id, envelope_id, status, reason))
            return 1

    inbox = Reports()
    summary = run(_fetch(pop3_config(mailboxes, "hub"), inbox))
    assert summary.reports == 2 and summary.stored == 0
    found = {(h, e, s) for _, h, e, s, _ in reports}
    assert found == {(bounced.operator_ref, "msghub.20", "failed"), (delivered.operator_ref, "msghub.21", "delivered")}
    reason = next(r for *_, s, r in reports if s == "failed")
    assert reason is not None and "someone@gone.example.test: 5.1.1" in reason and "gone for good" in reason


def test_a_server_gone_mid_run_is_reported_as_link_lost(mailboxes: MailServers):
    async def scenario() -> str:
        with CuttingProxy(mailboxes.ports.pop3s, cut_after=None) as proxy:
            connector = Pop3Connector("in", pop3_config(mailboxes, port=proxy.port, poll_interval_s=3600), Hub())
            await connector.open()
        # the proxy is gone: the next poll cannot connect, and says so to the supervisor
        try:
            connector.check_now.set()
            return await asyncio.wait_for(connector.wait_lost(), 30)
        finally:
            await connector.close()

    reason = run(scenario())
    assert reason.startswith("fetching failed: cannot talk to 127.0.0.1:")


def test_an_acceptance_that_cannot_be_recorded_still_counts_as_sent(mailboxes: MailServers):
    class Unrecorded(Hub):
        async def smtp_accept(self, acceptance: Any) -> None:
            raise ConnectionError("the database went away")

    [result] = run(_send(smtp_config(mailboxes), outbound(40, "bob@example.test"), hub=Unrecorded()))
    assert result.operator_ref.startswith("<msghub.40.")  # sent, not retried: the server has it
