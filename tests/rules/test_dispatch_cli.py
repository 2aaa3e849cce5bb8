"""The import, export and schedule commands: they change what they say, check
what can be checked first, and answer mistakes in one line."""

from __future__ import annotations

import argparse
import sqlite3
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from msghub.errors import HubError
from msghub.hub.config import Config
from msghub.rules.dispatch_cli import add_parsers
from msghub.rules.external_sql import dispose_all

Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def cli(db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Iterator[Cli]:
    monkeypatch.setenv("MSGHUB_DATABASE_URL", db_url)
    parser = argparse.ArgumentParser(prog="msghub")
    add_parsers(parser.add_subparsers(dest="command", required=True))

    def run(*args: str) -> tuple[int, str, str]:
        ns = parser.parse_args(list(args))
        try:
            code = ns.handler(ns, Config.from_env())
        except HubError as exc:  # as msghub.app.cli.main reports it
            print(f"msghub: {exc}", file=sys.stderr)
            code = 2
        out, err = capsys.readouterr()
        return code, out, err

    yield run
    dispose_all()


@pytest.fixture
def shop(tmp_path: Path) -> str:
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as ext:
        ext.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, sender TEXT)")
        ext.executemany("INSERT INTO orders VALUES (?, ?)", [(i, f"+44{i}") for i in range(1, 8)])
    return f"sqlite:///{path}"


def audit_actions(db: Any) -> list[str]:
    return [r["action"] for r in db.execute("SELECT action FROM hub.audit_log ORDER BY id")]


def test_import_source_lifecycle(cli, db, shop):
    query = "SELECT * FROM orders WHERE id > coalesce(:last_key, 0)"
    code, out, _ = cli(
        "import", "add", "shop", "--url", shop, "--query", query, "--key", "id", "--topic", "orders", "--every", "30"
    )
    assert code == 0 and "every 30 s" in out
    row = db.execute("SELECT * FROM hub.import_sources").fetchone()
    assert (row["query"], row["key_column"], row["topic"], row["interval_s"]) == (query, "id", "orders", 30)

    code, out, _ = cli("import", "test", "shop")
    assert code == 0 and "5 row(s) (first 5)" in out and '{"id": 1, "sender": "+441"}' in out
    assert db.execute("SELECT count(*) AS n FROM hub.import").fetchone()["n"] == 0, "a test imports nothing"

    db.execute("UPDATE hub.import_sources SET last_key = '6', last_error = 'boom'")
    code, out, _ = cli("import", "list")
    assert "shop" in out and "key id = 6" in out and "last error: boom" in out
    assert cli("import", "disable", "shop")[0] == 0
    assert db.execute("SELECT enabled FROM hub.import_sources").fetchone()["enabled"] is False
    assert cli("import", "reset", "shop")[0] == 0
    assert db.execute("SELECT last_key FROM hub.import_sources").fetchone()["last_key"] is None
    assert cli("import", "remove", "shop")[0] == 0
    assert db.execute("SELECT count(*) AS n FROM hub.import_sources").fetchone()["n"] == 0
    assert audit_actions(db) == ["import.add", "import.disable", "import.reset", "import.remove"]


def test_import_mistakes_are_one_line(cli, shop):
    code, _, err = cli("import", "add", "x", "--url", "not a url", "--query", "SELECT 1", "--key", "id", "--topic", "t")
    assert code == 2 and "not an SQLAlchemy database URL" in err
    assert cli("import", "remove", "ghost")[2] == "msghub: no import source named 'ghost'\n"
    cli("import", "add", "bad", "--url", shop, "--query", "SELECT * FROM nowhere", "--key", "id", "--topic", "t")
    code, _, err = cli("import", "test", "bad")
    assert code == 2 and "the query failed" in err and "nowhere" in err


def test_export_allow_checks_the_local_table(cli, db):
    code, _, err = cli("export", "allow", "log", "--table", "public.local_log")
    assert code == 2 and "no table public.local_log in msghub's database" in err
    db.execute("CREATE TABLE public.local_log (who text, n int)")
    code, _, err = cli("export", "allow", "log", "--table", "public.local_log", "--columns", "who,size")
    assert code == 2 and "has no column(s) 'size'" in err

    code, out, _ = cli("export", "allow", "log", "--table", "public.local_log", "--columns", "who, n")
    assert code == 0 and "GRANT INSERT ON public.local_log TO msghub_app" in out, "the missing grant is pointed out"
    row = db.execute("SELECT table_name, database_url, columns FROM hub.export_tables").fetchone()
    assert row == {"table_name": "public.local_log", "database_url": None, "columns": ["who", "n"]}

    db.execute("GRANT INSERT ON public.local_log TO msghub_app")
    code, out, _ = cli("export", "allow", "log", "--table", "public.local_log")
    assert code == 0 and "GRANT" not in out and "any column" in out
    assert cli("export", "list")[1].startswith("log ")
    assert cli("export", "remove", "log")[0] == 0
    assert db.execute("SELECT count(*) AS n FROM hub.export_tables").fetchone()["n"] == 0


def test_export_allow_checks_an_external_table(cli, db, shop):
    code, _, err = cli("export", "allow", "orders", "--table", "orders", "--url", shop, "--columns", "sender,total")
    assert code == 2 and "has no column(s) 'total'" in err
    code, out, _ = cli("export", "allow", "orders", "--table", "orders", "--url", shop, "--columns", "sender")
    assert code == 0 and "warning" not in out
    code, out, _ = cli("export", "allow", "later", "--table", "not_yet", "--url", shop)
    assert code == 0 and out.startswith("warning: could not look at not_yet")
    assert [r["name"] for r in db.execute("SELECT name FROM hub.export_tables ORDER BY name")] == ["later", "orders"]


def test_export_names_are_checked_before_the_database(cli):
    assert "letters, digits and _" in cli("export", "allow", "bad-name", "--table", "t")[2]
    assert "write TABLE or SCHEMA.TABLE" in cli("export", "allow", "ok", "--table", "a.b.c")[2]


def test_schedule_lifecycle(cli, db):
    code, out, _ = cli("schedule", "add", "nightly", "--every", "86400", "--first", "2030-01-01T02:00+00:00")
    assert code == 0 and "every 86400 s" in out
    row = db.execute("SELECT interval_s, enabled, next_at::text AS next_at FROM hub.schedules").fetchone()
    assert row["interval_s"] == 86400 and row["enabled"] is True and row["next_at"].startswith("2030-01-01")
    assert "nightly" in cli("schedule", "list")[1]
    assert cli("schedule", "disable", "nightly")[0] == 0
    assert db.execute("SELECT enabled FROM hub.schedules").fetchone()["enabled"] is False
    assert cli("schedule", "remove", "nightly")[0] == 0
    assert cli("schedule", "remove", "nightly")[2] == "msghub: no schedule named 'nightly'\n"
    assert audit_actions(db) == ["schedule.add", "schedule.disable", "schedule.remove"]


def test_schedule_intervals_must_be_positive(cli, capsys):
    with pytest.raises(SystemExit):
        cli("schedule", "add", "x", "--every", "0")
    assert "must be at least 1 second" in capsys.readouterr().err
