"""hub.outbox refuses, naming the column, values that PostgreSQL would
otherwise refuse late without a column (an index row too big, a search
document over 1 MB), that no reader can show (infinite or absurd times), or
that a connector cannot send (an SMS of more than 255 parts): issue 10,
items 5 and 8."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import errors

from msghub.sms.gsm7 import BASIC, EXTENSION, is_gsm7
from msghub.sms.split import MAX_PARTS, cost
from tests.sql_fixtures import EXAMPLES_SETUP

Conn = psycopg.Connection[dict[str, Any]]
MB = 1_000_000


@pytest.fixture
def hub(db: Conn) -> Conn:
    db.execute(EXAMPLES_SETUP)
    return db


def _messages(hub: Conn) -> int:
    row = hub.execute("SELECT count(*) AS n FROM hub.messages").fetchone()
    assert row is not None
    return int(row["n"])


def refused(hub: Conn, statement: str, params: tuple[Any, ...] = ()) -> errors.InvalidParameterValue:
    before = _messages(hub)
    with pytest.raises(errors.InvalidParameterValue) as info:
        hub.execute(statement, params)
    exc = info.value
    assert (exc.diag.schema_name, exc.diag.table_name) == ("hub", "outbox")
    assert (exc.diag.message_primary or "").startswith(f"hub.outbox.{exc.diag.column_name}: ")
    assert len(exc.diag.message_primary or "") < 300, "a refusal must not echo a huge value"
    assert _messages(hub) == before, "a refused row queues nothing"
    return exc


# -- times (item 5) --------------------------------------------------------------------------

@pytest.mark.parametrize(("column", "value", "words"), [
    ("send_at", "infinity", "infinity is not a time"),
    ("send_at", "-infinity", "-infinity is not a time"),
    ("valid_until", "infinity", "infinity is not a time"),
    ("valid_until", "-infinity", "-infinity is not a time"),
    ("send_at", "20000-01-01 00:00+00", "out of range: give a time between 1970 and 9999"),
    ("send_at", "0500-01-01 00:00+00", "out of range"),
    ("send_at", "1969-12-31 23:59+00", "out of range"),
    ("valid_until", "20000-01-01 00:00+00", "out of range: give a time before 9999-12-30"),
])
def test_non_finite_and_absurd_times_are_refused_naming_the_column(hub: Conn, column: str, value: str,
                                                                   words: str) -> None:
    exc = refused(hub, f"INSERT INTO hub.outbox (recipient, text, {column}) VALUES ('+447700900123', 'Hi', %s)",
                  (value,))
    assert exc.diag.column_name == column
    assert words in (exc.diag.message_primary or "")


def test_times_within_the_range_are_accepted(hub: Conn) -> None:
    hub.execute("INSERT INTO hub.outbox (recipient, text, send_at, valid_until) VALUES"
                " ('+447700900123', 'Hi', '9999-12-29 23:00+00', '9999-12-29 23:30+00'),"
                " ('+447700900123', 'Hi', '1970-01-01 00:00+00', NULL)")
    row = hub.execute("SELECT count(*) AS n FROM hub.messages").fetchone()
    assert row == {"n": 2}


def test_the_api_and_the_message_page_can_show_the_extreme_accepted_times(db_url: str, hub: Conn) -> None:
    """Seen on main: send_at 'infinity' queued, then GET /api/v1/messages/{id} and the page answered 500."""
    from tests.security_world import as_hub_user
    from tests.web_admin.helpers import api_key, login, run, user

    alice = user(db_url, "alice")
    key = api_key(db_url, alice)
    with as_hub_user(db_url, alice) as conn:
        conn.execute("INSERT INTO hub.outbox (recipient, text, send_at, valid_until, connection) VALUES"
                     " ('+447700900123', 'late', '9999-12-29 23:00+00', '9999-12-29 23:30+00', 'demo'),"
                     " ('+447700900123', 'early', '1970-01-01 00:00+00', NULL, 'demo')")
        ids = [r["id"] for r in conn.execute("SELECT id FROM hub.messages ORDER BY id").fetchall()]

    async def scenario(client: Any) -> list[Any]:
        auth = {"Authorization": f"Bearer {key}"}
        answers = [await client.get(f"/api/v1/messages/{i}", headers=auth) for i in ids]
        await login(client, "alice")
        return answers + [await client.get(f"/messages/{i}") for i in ids]

    answers = run(db_url, scenario)
    assert [a.status_code for a in answers] == [200] * 4, [a.text[:200] for a in answers]


# -- text columns that would fail without naming a column (item 8) ---------------------------

@pytest.mark.parametrize(("column", "statement"), [
    ("correlation_id", "INSERT INTO hub.outbox (recipient, text, correlation_id) VALUES ('+447700900123', 'Hi', %s)"),
    ("idempotency_key", "INSERT INTO hub.outbox (recipient, text, idempotency_key) VALUES ('+447700900123', 'Hi', %s)"),
    ("subject", "INSERT INTO hub.outbox (channel, recipient, text, subject)"
                " VALUES ('email', 'a@example.com', 'Hi', %s)"),
    ("sender", "INSERT INTO hub.outbox (channel, recipient, text, sender) VALUES ('mms', '+447700900123', 'Hi', %s)"),
    ("recipient", "INSERT INTO hub.outbox (recipient, text) VALUES (%s, 'Hi')"),
    ("list", "INSERT INTO hub.outbox (list, text) VALUES (%s, 'Hi')"),
    ("connection", "INSERT INTO hub.outbox (recipient, connection, text) VALUES ('+447700900123', %s, 'Hi')"),
    ("attachments", "INSERT INTO hub.outbox (channel, recipient, attachments) VALUES ('mms', '+447700900123',"
                    " jsonb_build_array(jsonb_build_object('filename', %s::text, 'content_type', 'image/png',"
                    " 'data', 'eHh4')))"),
])
def test_a_megabyte_in_a_text_column_is_refused_naming_it(hub: Conn, column: str, statement: str) -> None:
    exc = refused(hub, statement, ("7" * MB,))
    assert exc.diag.column_name == column


def test_the_length_bounds_are_the_apis(hub: Conn) -> None:
    from msghub.web.pages.api import MAX_STRING

    for column in ("correlation_id", "idempotency_key"):
        limit = MAX_STRING[column]
        hub.execute(f"INSERT INTO hub.outbox (recipient, text, {column}) VALUES ('+447700900123', 'Hi', %s)",
                    ("k" * limit,))
        refused(hub, f"INSERT INTO hub.outbox (recipient, text, {column}) VALUES ('+447700900123', 'Hi', %s)",
                ("j" * (limit + 1),))


def test_a_text_too_rich_for_the_search_index_is_refused_naming_text(hub: Conn) -> None:
    """40,000 different words: 'string is too long for tsvector' on main, naming no column."""
    exc = refused(hub, "INSERT INTO hub.outbox (channel, recipient, text) SELECT 'email', 'a@example.com',"
                  " string_agg(md5(i::text), ' ') FROM generate_series(1, 40000) i")
    assert exc.diag.column_name == "text"
    assert "too many different words" in (exc.diag.message_primary or "")
    # a long text of few words is fine
    hub.execute("INSERT INTO hub.outbox (channel, recipient, text)"
                " VALUES ('email', 'a@example.com', repeat('word ', 300000))")


# -- SMS parts (item 8) ---------------------------------------------------------------------

def test_a_megabyte_sms_is_refused_at_insert_with_its_part_count(hub: Conn) -> None:
    text = "x" * MB
    exc = refused(hub, "INSERT INTO hub.outbox (recipient, text) VALUES ('+447700900123', %s)", (text,))
    assert exc.diag.column_name == "text"
    parts = cost(text)["segments"]
    assert (exc.diag.message_primary or "") == (
        f"hub.outbox.text: the text needs {parts} SMS parts; at most {MAX_PARTS} can be joined")


@pytest.mark.parametrize("transliterate", [False, True])
def test_the_longest_sendable_sms_is_accepted_and_one_more_character_is_not(hub: Conn, transliterate: bool) -> None:
    for unit, per_part in (("a", 153), ("€", 76), ("ж", 67), ("😀", 33)):
        text = unit * (per_part * MAX_PARTS)
        assert cost(text, transliterate)["sendable"]
        assert not cost(text + unit, transliterate)["sendable"]
        hub.execute("INSERT INTO hub.outbox (recipient, text, transliterate) VALUES ('+447700900123', %s, %s)",
                    (text, transliterate))
        refused(hub, "INSERT INTO hub.outbox (recipient, text, transliterate) VALUES ('+447700900123', %s, %s)",
                (text + unit, transliterate))


def test_with_transliteration_an_sms_is_refused_exactly_when_the_core_would(hub: Conn) -> None:
    """The web form's "Replace special characters": what the counter calls too long is refused."""
    savable = "ł" * 30_000  # 448 parts in UCS-2, 197 as GSM look-alikes
    assert not cost(savable)["sendable"] and cost(savable, True)["sendable"]
    hub.execute("INSERT INTO hub.outbox (recipient, text, transliterate) VALUES ('+447700900123', %s, true)",
                (savable,))
    refused(hub, "INSERT INTO hub.outbox (recipient, text) VALUES ('+447700900123', %s)", (savable,))
    hub.execute("INSERT INTO hub.outbox (recipient, text, transliterate) VALUES ('+447700900123', %s, true)",
                ("hello" + "\u200b" * 100_000,))  # the invisible characters are dropped
    for hopeless in ("ж" * MB, "ł" * 40_000 + "ж"):  # Cyrillic is never transliterated
        exc = refused(hub, "INSERT INTO hub.outbox (recipient, text, transliterate)"
                      " VALUES ('+447700900123', %s, true)", (hopeless,))
        parts = cost(hopeless, True)["segments"]
        assert (exc.diag.message_primary or "") == (
            f"hub.outbox.text: the text needs {parts} SMS parts; at most {MAX_PARTS} can be joined")


def test_the_sql_transliteration_table_is_the_python_one(db: Conn) -> None:
    from msghub.devtools.sms_transliteration_sql import mapping

    rows = db.execute("SELECT ch, gsm FROM hub.sms_transliterations").fetchall()
    assert {r["ch"]: r["gsm"] for r in rows} == mapping(), (
        "regenerate schema/52_sms_transliteration.sql with python -m msghub.devtools.sms_transliteration_sql"
        " (and add a migration)")


GSM = "".join(ch for code, ch in enumerate(BASIC) if code != 0x1B) + "".join(EXTENSION.values())
# characters every branch of the count cares about: GSM, extension (two septets),
# BMP outside GSM, beyond the BMP (two UCS-2 units), and what transliteration drops
ALPHABET = st.sampled_from(list(GSM) + list("€^{}[]~|\\\f") + list("żłжж中…ﬁ½") + ["😀", "𝄞"] + ["\u200b", "\u00ad"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.one_of(st.text(ALPHABET, max_size=400),
                      st.builds(lambda unit, n, tail: unit * n + tail, st.sampled_from(["a", "€", "ж", "😀", "a€"]),
                                st.integers(0, 700), st.text(ALPHABET, max_size=5))),
       transliterate=st.booleans())
def test_sql_counts_sms_parts_as_the_sms_core_does(db: Conn, text: str, transliterate: bool) -> None:
    row = db.execute("SELECT hub.sms_parts_v1(%s, %s) AS parts, hub.sms_is_gsm7_v1(%s) AS gsm",
                     (text, transliterate, text)).fetchone()
    assert row is not None
    assert row["gsm"] == is_gsm7(text)
    expected = cost(text, transliterate)["segments"]
    assert row["parts"] == expected
