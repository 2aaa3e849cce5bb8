"""The AT layer's parsers against arbitrary input (hypothesis): nothing
escapes but their own typed error, and the line splitter never loses text
nor grows without bound."""

from __future__ import annotations

import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st

from msghub.connectors.modem.device import index_of, operator_of, registration_of, signal_of
from msghub.connectors.modem.errors import Reason, reason_for
from msghub.connectors.modem.inbound import Inbound, InboundError
from msghub.connectors.modem.lines import MAX_LINE, LineSplitter, is_final, is_urc
from msghub.connectors.modem.scan import candidates
from tests.modem.support import HubRecorder

AT_ALPHABET = st.sampled_from([b"\r", b"\n", b"\r\n", b"> ", b"OK", b"ERROR", b"+CMS ERROR: ", b"+CME ERROR: ",
                               b"+CMTI: \"SM\",", b"^RSSI:", b"1", b"99", b",", b"\x00", b"\xff", b"\x1a"])
CHUNKS = st.lists(st.one_of(st.binary(max_size=64), AT_ALPHABET), max_size=60)


@given(CHUNKS)
def test_splitter_keeps_every_line_whatever_the_chunking(chunks: list[bytes]) -> None:
    whole = LineSplitter()
    pieces = LineSplitter()
    data = b"".join(chunks)
    lines_whole = whole.feed(data)
    lines_pieces = [line for chunk in chunks for line in pieces.feed(chunk)]
    assert lines_whole == lines_pieces or len(data) > MAX_LINE  # a cut may fall elsewhere
    assert len(pieces.pending) <= MAX_LINE
    for line in lines_pieces:
        assert "\r" not in line and "\n" not in line and line == line.strip(" \t\x00")
        is_final(line), is_urc(line)  # never raise


@given(st.binary(max_size=3 * MAX_LINE))
def test_noise_without_line_ends_is_cut_not_kept(noise: bytes) -> None:
    splitter = LineSplitter()
    splitter.feed(noise.replace(b"\r", b"").replace(b"\n", b""))
    assert len(splitter.pending) <= MAX_LINE


@given(st.text(max_size=80))
def test_error_finals_always_get_a_reason(text: str) -> None:
    for final in (text, f"+CMS ERROR: {text}", f"+CME ERROR: {text}"):
        assert isinstance(reason_for(final), Reason)


@given(st.integers(min_value=0, max_value=100_000))
def test_every_numeric_code_gets_a_name(code: int) -> None:
    reason = reason_for(f"+CMS ERROR: {code}")
    assert reason.code == code and reason.name


@given(st.text(max_size=60))
def test_urc_value_parsers_never_raise(text: str) -> None:
    signal_of(text)
    registration_of(text)
    operator_of(text)
    index = index_of(text)
    assert index is None or index >= 0


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(alphabet="0123456789ABCDEF", max_size=200), st.text(max_size=100),
                 st.binary(max_size=100).map(bytes.hex)))
def test_inbound_pdus_raise_only_inbound_error(pdu: str) -> None:
    hub = HubRecorder()
    inbound = Inbound("fuzz", hub, "+31600000000", 60.0)

    async def body() -> None:
        try:
            kind = await inbound.handle_pdu("dev", pdu)
        except InboundError:
            return
        assert kind in ("message", "part", "report")

    asyncio.run(body())


def test_candidates_of_nothing_is_empty(tmp_path) -> None:
    assert candidates((str(tmp_path / "*"),)) == [] or all(not n.startswith(str(tmp_path))
                                                            for n, _ in candidates((str(tmp_path / "*"),)))


@given(st.text(max_size=12))
def test_settings_checks_refuse_or_accept_but_never_raise(text: str) -> None:
    from msghub.connectors.modem.connector import ModemConnector
    from msghub.connectors.settings import validate_config
    from msghub.errors import ConfigError

    for name in ("port", "pin", "smsc", "routes", "init"):
        values = {"port": "/dev/ttyUSB0", name: text}
        try:
            config = validate_config(ModemConnector.settings, values)
        except ConfigError:
            continue
        if name == "pin" and text:
            assert text.isascii() and text.isdigit()
        if name == "port":
            ModemConnector("fuzz", config, HubRecorder())  # a port that passes builds a connector
