"""In a real browser (Debian's chromium): a user writes an e-mail with an
attachment; it goes out through Postfix; the answer comes back through
Dovecot and appears live in the message's conversation, without a reload."""

from __future__ import annotations

import shutil
import smtplib
import socket
import ssl
from pathlib import Path

import pytest
from psycopg.types.json import Jsonb

from msghub.devtools.mailservers import PASSWORD as MAIL_PASSWORD
from tests.email.support import pop3_config, smtp_config
from tests.hubproc import start_hub, stop_hub, wait_for
from tests.web.webkit import PASSWORD, make_user

CHROMIUM = "/usr/bin/chromium"
WAIT_MS = 30_000

pytestmark = [pytest.mark.peer, pytest.mark.skipif(
    not Path(CHROMIUM).exists() or shutil.which("chromium") is None,
    reason="chromium is not installed (scripts/install-test-deps installs it)")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def test_an_email_with_an_attachment_and_its_answer_arriving_live(mailboxes, db_url, db):
    from playwright.sync_api import expect, sync_playwright

    make_user(db_url, "ann", role="admin")
    for name, kind, config in (("mail-out", "smtp", smtp_config(mailboxes)),
                               ("mail-in", "pop3", pop3_config(mailboxes, "hub", poll_interval_s=1))):
        db.execute("INSERT INTO hub.connections (name, kind, channels, config, is_default) VALUES "
                   "(%s, %s, '{email}', %s, %s)", (name, kind, Jsonb(config), kind == "smtp"))
    port = _free_port()
    hub = start_hub(db_url, roles="connectors,scheduler,web", MSGHUB_HTTP_PORT=str(port),
                    MSGHUB_HTTP_HOST="127.0.0.1", MSGHUB_ADMIN_PASSWORD="admin password 1")
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: {r["state"] for r in db.execute("SELECT state FROM hub.connections").fetchall()} == {"up"},
                 60, "both connections up")
        wait_for(lambda: _answers(port), what="the web server")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
            try:
                page = browser.new_page()
                page.set_default_timeout(WAIT_MS)
                errors: list[str] = []
                page.on("pageerror", lambda exc: errors.append(str(exc)))
                page.goto(url + "/login")
                page.fill("input[name=username]", "ann")
                page.fill("input[name=password]", PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_url(url + "/")
                page.goto(url + "/compose")
                page.check("input[name=channel][value=email]")
                page.fill("#to", "alice@example.test")
                page.fill("#subject", "Quarterly report")
                page.fill("#text", "The report is attached.")
                page.set_input_files("#files", files=[{"name": "report.pdf", "mimeType": "application/pdf",
                                                       "buffer": b"%PDF-1.4 the report"}])
                page.click("#send")
                page.wait_for_url(f"{url}/messages/*")
                sent_id = int(page.url.rsplit("/", 1)[1])
                expect(page.locator("#message-view [data-status-of]")).to_have_text("sent", timeout=WAIT_MS)
                page.evaluate("window.__sameDocument = true")
                header_id = db.execute("SELECT header_id FROM hub.smtp_accepted WHERE message_id = %s",
                                       (sent_id,)).fetchone()["header_id"]
                wait_for(lambda: mailboxes.maildir_count("alice") == 1, 60, "the mail in alice's mailbox")
                context = ssl.create_default_context(cafile=str(mailboxes.ca))
                with smtplib.SMTP("127.0.0.1", mailboxes.ports.smtp, timeout=10) as client:
                    client.starttls(context=context)
                    client.login("alice@example.test", MAIL_PASSWORD)
                    client.sendmail("alice@example.test", ["hub@example.test"], (
                        f"From: alice@example.test\r\nTo: hub@example.test\r\nSubject: Re: Quarterly report\r\n"
                        f"In-Reply-To: {header_id}\r\nMessage-ID: <got-it@example.test>\r\n\r\nGot it.\r\n").encode())
                answer = page.locator("#conversation li", has_text="from alice@example.test")
                expect(answer).to_have_count(1, timeout=WAIT_MS)
                assert page.evaluate("window.__sameDocument") is True
                assert errors == []
            finally:
                browser.close()
    finally:
        assert stop_hub(hub) == 0
