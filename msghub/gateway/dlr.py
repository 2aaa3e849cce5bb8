"""Kannel's escape codes, filled into a dlr-url (docs/KANNEL.md).

The same codes and encodings as Kannel's urltrans_fill_escape_codes: each
value is percent-encoded as Kannel's octstr_url_encode does (letters, digits
and ``-_.*`` kept, a space becomes ``+``); an unknown code stays as it is;
``%%`` is one ``%``. In a delivery report the message's text is the report
(``%A``, ``%b``, the words ``%k %s %S %r %a``), as in Kannel.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

DLR_DELIVERED = 1
DLR_UNDELIVERED = 2
DLR_BUFFERED = 4
DLR_SMSC_SUCCESS = 8
DLR_SMSC_FAIL = 16

_KEEP = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.*")


def url_encode(text: str) -> str:
    """Kannel's octstr_url_encode of the UTF-8 bytes."""
    out = []
    for byte in text.encode("utf-8"):
        if byte in _KEEP:
            out.append(chr(byte))
        elif byte == 0x20:
            out.append("+")
        else:
            out.append(f"%{byte:02X}")
    return "".join(out)


@dataclass(frozen=True)
class DlrFacts:
    """What a callback's codes are filled from."""

    message_id: int
    dlr_type: int
    sender: str  # the original message's sender (%p)
    receiver: str  # its recipient (%P)
    reply: str  # the report's text (%A)
    time: datetime  # the report's time (%t, %T)
    smsc_id: str = ""  # the connection (%i)
    foreign_id: str | None = None  # the operator's reference (%F)
    service: str = ""  # the sendsms user (%n)
    params: dict[str, Any] = field(default_factory=dict)


def message_uuid(message_id: int) -> str:
    """%I: Kannel's message id is a UUID; msghub's is the message id, shown as one."""
    return str(uuid.UUID(int=message_id))


def report_text(dlr_type: int, operator_ref: str | None, submitted: datetime, done: datetime,
                text: str, failure_code: str | None, failure_reason: str | None) -> str:
    """%A: what Kannel gives for each kind of report: ACK/ and NACK/ from the
    SMSC's answer, an SMPP-style receipt for a report from the handset."""
    if dlr_type == DLR_SMSC_SUCCESS:
        return "ACK/"
    if dlr_type == DLR_SMSC_FAIL:
        return f"NACK/{failure_code or ''}/{failure_reason or ''}"
    stat = {DLR_DELIVERED: "DELIVRD", DLR_UNDELIVERED: "UNDELIV", DLR_BUFFERED: "ENROUTE"}[dlr_type]
    delivered = "001" if dlr_type == DLR_DELIVERED else "000"
    return (
        f"id:{operator_ref or ''} sub:001 dlvrd:{delivered} submit date:{submitted:%y%m%d%H%M}"
        f" done date:{done:%y%m%d%H%M} stat:{stat} err:000 text:{text[:20]}"
    )


def _number(value: Any) -> str:
    return str(int(value)) if isinstance(value, int) else "-1"


def _plus_for_00(number: str) -> str:
    return "%2B" + url_encode(number[2:]) if number.startswith("00") else url_encode(number)


def _charset(params: dict[str, Any]) -> str:
    if params.get("charset"):
        return str(params["charset"])
    return {1: "8-BIT", 2: "UTF-16BE"}.get(int(params.get("coding", -1)), "UTF-8")


def _dcs(params: dict[str, Any]) -> int:
    """%O: the data coding scheme the fields give (GSM 03.38 general coding group)."""
    coding = max(int(params.get("coding", -1)), 0)
    mclass = int(params.get("mclass", -1))
    dcs = {0: 0x00, 1: 0x04, 2: 0x08}[coding]
    if mclass >= 0:
        dcs |= 0x10 | mclass
    return dcs


def fill_escape_codes(pattern: str, facts: DlrFacts) -> str:
    words = facts.reply.split()
    params = facts.params
    out: list[str] = []
    next_word = 1
    pos = 0
    while pos < len(pattern):
        char = pattern[pos]
        if char != "%" or pos + 1 >= len(pattern):
            out.append(char)
            pos += 1
            continue
        code = pattern[pos + 1]
        pos += 2
        if code == "s" or code == "S":
            if next_word < len(words):
                word = words[next_word]
                out.append(url_encode(word) if code == "s" else word.replace("*", "~"))
                next_word += 1
            continue
        if code == "r":
            out.append("+".join(url_encode(w) for w in words[next_word:]))
            continue
        out.append(_value(code, facts, words, params))
    return "".join(out)


def _value(code: str, facts: DlrFacts, words: list[str], params: dict[str, Any]) -> str:
    simple: dict[str, Any] = {
        "a": lambda: "+".join(url_encode(w) for w in words),
        "A": lambda: url_encode(facts.reply),
        "b": lambda: url_encode(facts.reply),
        "B": lambda: url_encode(str(params.get("binfo", ""))),
        "c": lambda: _number(params.get("coding", -1)),
        "C": lambda: _charset(params),
        "d": lambda: str(facts.dlr_type),
        "D": lambda: url_encode(str(params.get("meta-data", ""))),
        "f": lambda: "",
        "F": lambda: url_encode(facts.foreign_id or ""),
        "i": lambda: url_encode(facts.smsc_id),
        "I": lambda: message_uuid(facts.message_id),
        "k": lambda: url_encode(words[0]) if words else "",
        "m": lambda: _number(params.get("mclass", -1)),
        "M": lambda: _number(params.get("mwi", -1)),
        "n": lambda: url_encode(facts.service),
        "o": lambda: url_encode(str(params.get("account", ""))),
        "O": lambda: f"{_dcs(params):02d}",
        "p": lambda: url_encode(facts.sender),
        "P": lambda: url_encode(facts.receiver),
        "q": lambda: _plus_for_00(facts.sender),
        "Q": lambda: _plus_for_00(facts.receiver),
        "t": lambda: f"{facts.time.astimezone(UTC):%Y-%m-%d+%H:%M:%S}",
        "T": lambda: str(int(facts.time.timestamp())),
        "u": lambda: "",
        "%": lambda: "%",
    }
    fill = simple.get(code)
    return str(fill()) if fill is not None else "%" + code
