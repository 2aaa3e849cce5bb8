"""`msghub connection add --kind smtp/pop3` and `msghub email check` from the command line."""

from __future__ import annotations

import json

import pytest

from msghub.app.cli import main
from msghub.devtools.mailservers import PASSWORD, MailServers

pytestmark = pytest.mark.peer


def test_add_pop3_and_smtp_connections_and_check_a_mailbox(mailboxes: MailServers, db_url, db, monkeypatch, capsys):
    monkeypatch.setenv("MSGHUB_DATABASE_URL", db_url)
    assert main(["connection", "add", "mail-in", "--kind", "pop3", "--host", "127.0.0.1",
                 "--port", str(mailboxes.ports.pop3s), "--tls-ca-file", str(mailboxes.ca), "--username", "bob",
                 "--password", PASSWORD, "--disabled"]) == 0
    assert main(["connection", "add", "mail-out", "--kind", "smtp", "--host", "127.0.0.1", "--from-address",
                 "hub@example.test", "--password", PASSWORD, "--default", "--disabled"]) == 0
    out = capsys.readouterr().out
    assert "mail-in (pop3, carries email)" in out and "password: ***" in out and PASSWORD not in out
    assert main(["connection", "add", "bad", "--kind", "smtp", "--host", "x", "--from-address", "not mail"]) == 2
    assert "from_address" in capsys.readouterr().err
    mailboxes.drop_mail("bob", b"From: x@example.org\r\nSubject: via cli\r\n\r\nbody\r\n", "cli")
    assert main(["email", "check", "mail-in"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["stored"] == 1 and summary["listed"] == 1
    assert main(["email", "check", "mail-in"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["stored"] == 0
    assert main(["email", "check", "mail-out"]) == 2
    assert "no pop3 connection named 'mail-out'" in capsys.readouterr().err
    assert db.execute("SELECT subject FROM hub.messages").fetchone()["subject"] == "via cli"
