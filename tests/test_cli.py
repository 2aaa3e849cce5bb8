"""The command line: clear one-line errors, settings validated by the kind's
declarations, and the commands doing what they say."""

from __future__ import annotations

import subprocess
import sys

import pytest

from msghub.app.cli import main


@pytest.fixture
def cli(db_url, monkeypatch, capsys):
    monkeypatch.setenv("MSGHUB_DATABASE_URL", db_url)

    def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
        if stdin is not None:
            import io

            monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err
    return run


def test_connection_lifecycle(cli, db):
    code, out, _ = cli("connection", "add", "op1", "--kind", "loopback", "--delay-ms", "250", "--echo", "no")
    assert code == 0 and "op1 (loopback" in out and "delay_ms: 250" in out
    row = db.execute("SELECT kind, config, channels, enabled FROM hub.connections WHERE name = 'op1'").fetchone()
    assert row["config"]["delay_ms"] == 250 and row["config"]["echo"] is False
    assert row["config"]["window"] == 100, "unset settings take their declared default"
    assert row["channels"] == ["sms", "mms", "email"] and row["enabled"] is True

    assert cli("connection", "edit", "op1", "--delay-ms", "5")[0] == 0
    assert db.execute("SELECT config->>'delay_ms' AS d FROM hub.connections").fetchone()["d"] == "5"
    assert cli("connection", "disable", "op1")[0] == 0
    assert db.execute("SELECT enabled FROM hub.connections").fetchone()["enabled"] is False
    assert cli("connection", "enable", "op1")[0] == 0
    code, out, _ = cli("connection", "list")
    assert "op1" in out and "loopback" in out
    code, out, _ = cli("connection", "show", "op1")
    assert "delay_ms: 5" in out
    assert cli("connection", "remove", "op1")[0] == 0
    assert db.execute("SELECT count(*) AS n FROM hub.connections").fetchone()["n"] == 0
    audit = [r["action"] for r in db.execute("SELECT action FROM hub.audit_log ORDER BY id")]
    assert audit == ["connection.create", "connection.edit", "connection.disable", "connection.enable",
                     "connection.remove"]


@pytest.mark.parametrize(("args", "message"), [
    (["--delay-ms", "soon"], "setting delay_ms: 'soon' is not a whole number"),
    (["--delay-ms", "-1"], "setting delay_ms: -1 is below the minimum 0"),
    (["--echo", "perhaps"], "setting echo: 'perhaps' is not a yes/no value"),
    (["--colour", "red"], "unknown setting 'colour'"),
])
def test_bad_settings_are_refused_naming_the_setting(cli, db, args, message):
    code, _, err = cli("connection", "add", "op1", "--kind", "loopback", *args)
    assert code == 2
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert db.execute("SELECT count(*) AS n FROM hub.connections").fetchone()["n"] == 0


def test_unknown_kind_and_duplicate_name(cli):
    code, _, err = cli("connection", "add", "x", "--kind", "carrier-pigeon")
    assert code == 2 and "unknown connection kind 'carrier-pigeon' (known kinds: " in err and "loopback" in err
    assert cli("connection", "add", "x", "--kind", "loopback")[0] == 0
    code, _, err = cli("connection", "add", "x", "--kind", "loopback")
    assert code == 2 and "a connection named 'x' already exists" in err


def test_remove_refuses_while_messages_wait(cli, db):
    cli("connection", "add", "op1", "--kind", "loopback")
    assert cli("send", "--to", "+447700900123", "hello")[0] == 0
    code, _, err = cli("connection", "remove", "op1")
    assert code == 2 and "still has 1 queued or sending messages" in err
    assert cli("connection", "remove", "op1", "--force")[0] == 0
    row = db.execute("SELECT status, failure_code FROM hub.messages").fetchone()
    assert (row["status"], row["failure_code"]) == ("failed", "connection_removed")


def test_send_queues_and_reports_database_refusals(cli, db):
    cli("connection", "add", "op1", "--kind", "loopback")
    code, out, _ = cli("send", "--to", "+447700900123", "--to", "+447700900124", "--from", "ACME",
                       "--correlation-id", "c-7", "--valid-for", "60", "hello")
    assert code == 0 and "queued 2 message(s)" in out
    rows = db.execute("SELECT recipients[1] AS r, sender, correlation_id, valid_until > now() AS valid "
                      "FROM hub.messages ORDER BY id").fetchall()
    assert [(r["r"], r["sender"], r["correlation_id"], r["valid"]) for r in rows] == [
        ("+447700900123", "ACME", "c-7", True), ("+447700900124", "ACME", "c-7", True)]
    code, _, err = cli("send", "--to", "not-a-number", "hello")
    assert code == 2 and "hub.outbox.recipients: malformed phone number 'not-a-number'" in err
    code, out, _ = cli("send", "--to", "+447700900123", "--idempotency-key", "k", "x")
    code, out, _ = cli("send", "--to", "+447700900123", "--idempotency-key", "k", "x")
    assert code == 0 and "nothing new queued" in out


def test_user_add_list_passwd(cli, db):
    code, out, _ = cli("user", "add", "alice", "--role", "operator")
    assert code == 0 and "password (shown once): " in out
    password = out.split("password (shown once): ")[1].strip()
    assert len(password) >= 16
    stored = db.execute("SELECT password_hash, role FROM hub.users WHERE username = 'alice'").fetchone()
    assert stored["password_hash"].startswith("$argon2id$") and password not in stored["password_hash"]
    assert stored["role"] == "operator"
    code, out, _ = cli("user", "list")
    assert "alice" in out and "operator" in out
    code, _, err = cli("user", "passwd", "alice", "--password-stdin", stdin="short\n")
    assert code == 2 and "password too short" in err
    assert cli("user", "passwd", "alice", "--password-stdin", stdin="a much longer secret\n")[0] == 0
    code, _, err = cli("user", "add", "alice")
    assert code == 2 and "user 'alice' already exists" in err
    code, _, err = cli("user", "passwd", "nobody", "--password-stdin", stdin="a much longer secret\n")
    assert code == 2 and "no user 'nobody'" in err


def test_status_shows_connections_and_queue(cli):
    cli("connection", "add", "op1", "--kind", "loopback")
    cli("send", "--to", "+447700900123", "hello")
    code, out, _ = cli("status")
    assert code == 0 and "queue: 1 queued, 0 sending" in out and "op1" in out


def test_migrate_twice_and_refusal_of_newer_schema(cli, db):
    code, out, _ = cli("migrate")
    assert code == 0 and "(already)" in out
    db.execute("UPDATE hub.alembic_version SET version_num = '9999_future'")
    code, _, err = cli("migrate")
    assert code == 2 and "newer than this msghub" in err
    code, _, err = cli("connection", "list")
    assert code == 2 and "newer than this msghub" in err


def test_a_real_process_prints_one_line_and_no_traceback(db_url):
    env = {"MSGHUB_DATABASE_URL": db_url, "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-m", "msghub.app.cli", "connection", "show", "missing"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr == "msghub: no connection named 'missing' (see: msghub connection list)\n"


def test_bad_environment_setting_is_one_clear_line(db_url):
    env = {"MSGHUB_DATABASE_URL": db_url, "MSGHUB_HTTP_PORT": "eighty", "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-m", "msghub.app.cli", "status"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 2 and proc.stderr == "msghub: MSGHUB_HTTP_PORT='eighty' is not a whole number\n"
