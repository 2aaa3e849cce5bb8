"""Gammu SMSD's tables over msghub: the columns of Gammu's current schema,
an application's outbox rows queued (text, hex Text, multipart joined by
UDH), and sentitems / inbox as Gammu fills them."""

from __future__ import annotations

import subprocess

import psycopg
import pytest
from psycopg.rows import dict_row

from msghub.gateway import gammu

GAMMU_REPO = "/work/.mirror/gammu+gammu/repo"


def _enable(db_url: str, version: int = 18) -> None:
    with psycopg.connect(db_url, row_factory=dict_row) as conn:
        gammu.enable(conn, version)
        conn.commit()


def _loopback(db) -> None:
    db.execute("INSERT INTO hub.connections (name, kind, channels, enabled) VALUES ('loop', 'loopback', '{sms}', true)")


def test_refuses_twice_and_unknown_versions(db_url):
    _enable(db_url)
    with psycopg.connect(db_url, row_factory=dict_row) as conn, pytest.raises(ValueError, match="exist already"):
        gammu.enable(conn)
    with psycopg.connect(db_url, row_factory=dict_row) as conn, pytest.raises(ValueError, match="serve 17 to 18"):
        gammu.enable(conn, 16)


def _columns(conn, schema: str) -> dict[tuple[str, str], tuple[object, ...]]:
    rows = conn.execute(
        "SELECT table_name, column_name, data_type, character_maximum_length, column_default, is_nullable "
        "FROM information_schema.columns WHERE table_schema = %s AND table_name IN "
        "('gammu', 'inbox', 'outbox', 'outbox_multipart', 'sentitems', 'phones')", (schema,)).fetchall()
    return {(r["table_name"], r["column_name"]): tuple(
        str(v).replace(f"{schema}.", "") if v is not None else None for k, v in r.items()
        if k not in ("table_name", "column_name")) for r in rows}


def test_columns_are_gammus(db_url, db):
    """Against Gammu's own docs/sql/pgsql.sql, when the Gammu sources are at hand."""
    try:
        reference = subprocess.run(["git", "-C", GAMMU_REPO, "show", "HEAD:docs/sql/pgsql.sql"],
                                   capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("Gammu's sources are not on this machine")
    _enable(db_url)
    db.execute("CREATE SCHEMA gammu_reference")
    db.execute("SET search_path = gammu_reference")
    db.execute(reference.replace("CREATE EXTENSION IF NOT EXISTS plpgsql;", ""))
    db.execute("RESET search_path")
    ours, theirs = _columns(db, "gammu"), _columns(db, "gammu_reference")
    assert len(theirs) > 80 and ours == theirs


def test_outbox_rows_become_messages_and_move_to_sentitems(db_url, db):
    _enable(db_url)
    _loopback(db)
    db.execute("""INSERT INTO gammu.outbox ("DestinationNumber", "TextDecoded", "CreatorID", "DeliveryReport",
                  "RelativeValidity") VALUES ('+4917012345', 'Hello', 'app', 'yes', 11)""")
    hex_text = "Привет 😀".encode("utf-16-be").hex().upper()
    db.execute("""INSERT INTO gammu.outbox ("DestinationNumber", "Text", "Coding", "CreatorID")
                  VALUES ('+4917012346', %s, 'Unicode_No_Compression', 'app')""", (hex_text,))
    first = db.execute("""INSERT INTO gammu.outbox ("DestinationNumber", "TextDecoded", "UDH", "MultiPart",
                          "CreatorID") VALUES ('+4917012347', 'part one, ', '050003AA0201', true, 'app')
                          RETURNING "ID" """).fetchone()["ID"]
    assert db.execute("SELECT count(*) AS n FROM hub.messages").fetchone()["n"] == 2  # waits for part 2
    db.execute("""INSERT INTO gammu.outbox_multipart ("ID", "SequencePosition", "TextDecoded", "UDH")
                  VALUES (%s, 2, 'part two', '050003AA0202')""", (first,))
    rows = db.execute("SELECT id, body, recipients[1] AS r, delivery_report, valid_until - created_at AS valid "
                      "FROM hub.messages ORDER BY id").fetchall()
    assert [(r["r"], r["body"]) for r in rows] == [
        ("+4917012345", "Hello"), ("+4917012346", "Привет 😀"), ("+4917012347", "part one, part two")]
    assert rows[0]["delivery_report"] and round(rows[0]["valid"].total_seconds() / 60) == 60  # (11 + 1) * 5 minutes
    joined = rows[2]["id"]
    db.execute("UPDATE hub.messages SET status = 'sent' WHERE id = %s", (joined,))
    sent = db.execute('SELECT "ID", "SequencePosition", "Status", "TextDecoded", "UDH", "SenderID", "CreatorID" '
                      'FROM gammu.sentitems ORDER BY "SequencePosition"').fetchall()
    assert [(s["ID"], s["SequencePosition"], s["Status"], s["TextDecoded"], s["UDH"]) for s in sent] == [
        (first, 1, "SendingOKNoReport", "part one, ", "050003AA0201"),
        (first, 2, "SendingOKNoReport", "part two", "050003AA0202")]
    assert sent[0]["SenderID"] == "loop" and sent[0]["CreatorID"] == "app"
    assert db.execute('SELECT count(*) AS n FROM gammu.outbox WHERE "ID" = %s', (first,)).fetchone()["n"] == 0
    db.execute("UPDATE hub.messages SET status = 'delivered' WHERE id = %s", (joined,))
    assert {r["Status"] for r in db.execute('SELECT "Status" FROM gammu.sentitems')} == {"DeliveryOK"}
    db.execute("UPDATE hub.messages SET status = 'failed' WHERE id = %s", (rows[1]["id"],))
    assert db.execute("""SELECT "Status" FROM gammu.sentitems WHERE "DestinationNumber" = '+4917012346'"""
                      ).fetchone()["Status"] == "SendingError"


def test_refused_and_binary_rows_go_to_sentitems_as_errors(db_url, db):
    _enable(db_url)
    _loopback(db)
    db.execute("""INSERT INTO gammu.outbox ("DestinationNumber", "TextDecoded", "CreatorID")
                  VALUES ('not a number', 'x', 'app')""")
    db.execute("""INSERT INTO gammu.outbox ("DestinationNumber", "Text", "Coding", "CreatorID")
                  VALUES ('+4917012345', '0102', '8bit', 'app')""")
    assert [r["Status"] for r in db.execute('SELECT "Status" FROM gammu.sentitems ORDER BY "ID"')] == [
        "SendingError", "SendingError"]
    assert db.execute("SELECT count(*) AS n FROM gammu.outbox").fetchone()["n"] == 0
    assert db.execute("SELECT count(*) AS n FROM hub.messages").fetchone()["n"] == 0


def test_received_sms_appear_in_inbox(db_url, db):
    _enable(db_url)
    _loopback(db)
    db.execute("SELECT hub.receive_message_v1((SELECT id FROM hub.connections), 'sms', '+4917099', "
               "ARRAY['+4917000'], NULL, 'Grüße 😀', '{}')")
    row = db.execute('SELECT "Text", "TextDecoded", "SenderNumber", "RecipientID", "Coding" FROM gammu.inbox'
                     ).fetchone()
    assert row == {"Text": "Grüße 😀".encode("utf-16-be").hex().upper(), "TextDecoded": "Grüße 😀",
                   "SenderNumber": "+4917099", "RecipientID": "loop", "Coding": "Default_No_Compression"}


def test_disable_drops_it_all(db_url, db):
    _enable(db_url)
    with psycopg.connect(db_url, row_factory=dict_row) as conn:
        gammu.disable(conn)
        conn.commit()
    assert db.execute("SELECT count(*) AS n FROM pg_trigger WHERE tgname LIKE 'gammu_%%'").fetchone()["n"] == 0



def test_bridge_functions_fuzzed(db_url, db):
    """What applications write into Text and UDH never makes the bridge raise."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    _enable(db_url)
    texts = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(text=texts, junk=st.text(max_size=30))
    def check(text: str, junk: str) -> None:
        row = db.execute("SELECT gammu.msghub_hex_to_text_v1(gammu.msghub_text_to_hex_v1(%s)) AS back, "
                         "gammu.msghub_hex_to_text_v1(%s) AS junk_text, gammu.msghub_udh_parts_v1(%s) AS parts",
                         (text, junk.replace("\x00", ""), junk.replace("\x00", ""))).fetchone()
        assert row["back"] == text
        assert row["parts"] is None or 0 <= row["parts"] <= 255

    check()


def test_garbage_hex_goes_to_sentitems_as_an_error(db_url, db):
    _enable(db_url)
    _loopback(db)
    db.execute("""INSERT INTO gammu.outbox ("DestinationNumber", "Text", "Coding", "CreatorID")
                  VALUES ('+4917012345', 'not hex at all', 'Default_No_Compression', 'app')""")
    assert db.execute('SELECT "Status" FROM gammu.sentitems').fetchone()["Status"] == "SendingError"
    assert db.execute("SELECT count(*) AS n FROM hub.messages").fetchone()["n"] == 0
