"""`msghub tariff` and `msghub quota`, and CSV price lists with
line-numbered errors."""

from __future__ import annotations

import sys
from decimal import Decimal

import pytest

from msghub.app.cli import main
from msghub.services.tariff_csv import TariffCsvError, parse_tariffs
from tests.costs_world import connection, user


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


def test_tariff_add_list_remove(cli, db):
    connection(db, "op1")
    assert cli("tariff", "add", "op1", "0.045", "--currency", "eur", "--prefix", "+49")[0] == 0
    assert cli("tariff", "add", "op1", "0.08", "--currency", "EUR")[0] == 0
    code, out, _ = cli("tariff", "list")
    assert code == 0 and "+49" in out and "0.045000 EUR" in out and "(default)" in out
    tariff_id = db.execute("SELECT id FROM hub.tariffs WHERE prefix = '+49'").fetchone()["id"]
    assert cli("tariff", "remove", str(tariff_id))[0] == 0
    assert [r["prefix"] for r in db.execute("SELECT prefix FROM hub.tariffs")] == [""]
    actions = [r["action"] for r in db.execute("SELECT action FROM hub.audit_log ORDER BY id")]
    assert actions == ["tariff.add", "tariff.add", "tariff.remove"]


@pytest.mark.parametrize(("args", "message"), [
    (["op1", "0.1", "--currency", "EUX"], "hub.tariffs.currency: unknown currency 'EUX'"),
    (["nope", "0.1", "--currency", "EUR"], "no connection named 'nope'"),
])
def test_tariff_add_refusals_are_one_clear_line(cli, db, args, message):
    connection(db, "op1")
    code, _, err = cli("tariff", "add", *args)
    assert code == 2 and message in err and "Traceback" not in err and err.count("\n") == 1


def test_a_negative_price_is_refused_by_the_parser(cli, db, capsys):
    with pytest.raises(SystemExit) as exited:
        cli("tariff", "add", "op1", "--currency", "EUR", "--", "-0.1")
    assert exited.value.code == 2
    assert "price -0.1 is negative: prices are 0 or more" in capsys.readouterr().err


def test_tariff_import_all_or_nothing_with_line_numbers(cli, db, tmp_path):
    connection(db, "op1")
    connection(db, "op2")
    good = tmp_path / "prices.csv"
    good.write_text("connection;prefix;price;currency\nop1;+49;0,045;EUR\n\nop2;+49;0.060;EUR\nop1;;0.08;EUR\n")
    code, out, _ = cli("tariff", "import", str(good))
    assert code == 0 and "3 tariffs imported" in out
    # line 3 overlaps what is there (same price row, same validity start): nothing of the file stays
    clash = "connection,prefix,price,currency,valid_from\nop2,+33,0.07,EUR,\nop1,+49,0.05,EUR,2000-01-01\n"
    code, _, err = cli("tariff", "import", "-", stdin=clash)
    assert code == 2 and "line 3: hub.tariffs.valid_from: sms out 0.05 prefix '+49' on op1" in err
    assert "overlaps tariff" in err and err.count("\n") == 1
    assert db.execute("SELECT count(*) AS n FROM hub.tariffs").fetchone()["n"] == 3


def test_quota_add_list_remove(cli, db):
    user(db, "alice", groups=("sales",))
    assert cli("quota", "add", "sales monthly", "500", "--per", "month", "--group", "sales",
               "--currency", "EUR", "--warn-at", "80")[0] == 0
    assert cli("quota", "add", "alice daily", "100", "--per", "day", "--user", "alice")[0] == 0
    code, out, _ = cli("quota", "list")
    assert code == 0 and "sales monthly" in out and "0.00 of 500.00 EUR per month" in out
    assert "0.00 of 100.00 messages per day" in out
    row = db.execute("SELECT * FROM hub.quotas WHERE name = 'sales monthly'").fetchone()
    assert (row["unit"], row["amount"], row["warn_percent"], row["admins_exempt"]) == (
        "money", Decimal("500"), 80, True)
    code, _, err = cli("quota", "add", "sales monthly", "5", "--per", "day", "--user", "alice")
    assert code == 2 and "a quota named 'sales monthly' already exists" in err
    code, _, err = cli("quota", "add", "x", "5", "--per", "day", "--user", "nobody")
    assert code == 2 and "no user named 'nobody'" in err
    assert cli("quota", "remove", "alice daily")[0] == 0
    assert [r["name"] for r in db.execute("SELECT name FROM hub.quotas")] == ["sales monthly"]


def test_csv_errors_name_every_bad_line():
    text = ("connection,price,currency,channel\n"
            "op1,0.05,EUR,sms\n"
            "op1,abc,EUR,sms\n"
            "op1,0.05,EURO,sms\n"
            "op1,0.05,EUR,fax\n"
            "op1,-1,EUR,sms\n")
    with pytest.raises(TariffCsvError) as refused:
        parse_tariffs(text)
    assert refused.value.problems == [
        "line 3: price 'abc' is not a number",
        "line 4: currency 'EURO': an ISO 4217 code such as EUR",
        "line 5: channel 'fax': use sms, mms or email",
        "line 6: price -1 is negative: prices are 0 or more",
    ]


def test_csv_header_problems():
    with pytest.raises(TariffCsvError, match=r"line 1: missing column currency"):
        parse_tariffs("connection,price\nop1,0.05\n")
    with pytest.raises(TariffCsvError, match=r"line 1: unknown column 'cost'"):
        parse_tariffs("connection,price,currency,cost\nop1,0.05,EUR,1\n")
    with pytest.raises(TariffCsvError, match=r"line 1: the file is empty"):
        parse_tariffs("\n")


def test_csv_reads_spreadsheet_exports():
    specs = parse_tariffs("\ufeffconnection;price;currency;prefix;max_bytes;channel\n"
                          "op1;0,20;eur;;30000;mms\nop1;0.05;EUR;+49 17;;sms\n".lstrip("\ufeff"))
    assert [(s.price, s.currency, s.prefix, s.max_bytes, s.line) for s in specs] == [
        (Decimal("0.20"), "EUR", "", 30000, 2), (Decimal("0.05"), "EUR", "+4917", None, 3)]


def test_tariff_retries_sets_the_connection_billing(cli, db):
    connection(db, "op1")
    assert cli("tariff", "retries", "op1", "yes")[0] == 0
    assert db.execute("SELECT bill_retries FROM hub.connections").fetchone()["bill_retries"] is True
    code, _, err = cli("tariff", "retries", "nope", "no")
    assert code == 2 and "no connection named 'nope'" in err
