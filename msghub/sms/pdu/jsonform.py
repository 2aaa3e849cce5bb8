"""PDU messages as JSON-able dicts, for `msghub codec pdu decode/encode`.

    {"type": "SMS-SUBMIT", "recipient": {"number": "+4479...", "ton": 1, "npi": 1},
     "alphabet": "gsm7", "user_data": "hello", "mr": 0, "srr": false,
     "validity": {"relative_s": 86400}, "udh": [{"iei": 0, "data": "2A0201"}], ...}

to_json() writes every field; from_json() reads the same shape back, and
lets most fields out (they take the dataclass defaults). Conveniences for
people typing it: an address may be a plain string ("+4479..", "0790..",
"Shop": see Address.of), 8-bit user data is hex, times are ISO 8601 with a
zone. Informative keys ("concat", "ports", "outcome", "reason", "notes",
"length") are ignored when encoding. Errors are PduErrors naming the key.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import datetime, timedelta
from typing import Any

from msghub.sms.pdu.model import (
    Address,
    DeliverReport,
    EnhancedValidity,
    Message,
    MessageWaiting,
    PduError,
    SmsCommand,
    SmsDeliver,
    SmsStatusReport,
    SmsSubmit,
    SubmitReport,
    Udh,
)

TYPE_NAMES: dict[type, str] = {
    SmsSubmit: "SMS-SUBMIT",
    SmsDeliver: "SMS-DELIVER",
    SmsStatusReport: "SMS-STATUS-REPORT",
    SubmitReport: "SMS-SUBMIT-REPORT",
    DeliverReport: "SMS-DELIVER-REPORT",
    SmsCommand: "SMS-COMMAND",
}
TYPES = {name: cls for cls, name in TYPE_NAMES.items()}
INFORMATIVE = ("concat", "ports", "outcome", "reason", "notes", "length")


# --- to JSON -----------------------------------------------------------------


def _value(name: str, value: object) -> object:
    if isinstance(value, Address):
        return {"number": value.number, "ton": value.ton, "npi": value.npi}
    if isinstance(value, Udh):
        return [{"iei": iei, "data": data.hex().upper()} for iei, data in value.elements]
    if isinstance(value, MessageWaiting):
        return dataclasses.asdict(value)
    if isinstance(value, EnhancedValidity):
        period = None if value.period is None else value.period.total_seconds()
        return {"enhanced": {"form": value.form, "period_s": period, "single_shot": value.single_shot}}
    if isinstance(value, timedelta):
        return {"relative_s": value.total_seconds()}
    if isinstance(value, datetime):
        return {"absolute": value.isoformat()} if name == "validity" else value.isoformat()
    if isinstance(value, bytes):
        return value.hex().upper()
    if isinstance(value, tuple):
        return list(value)
    return value


def to_json(msg: Message) -> dict[str, Any]:
    out: dict[str, Any] = {"type": TYPE_NAMES[type(msg)]}
    for f in dataclasses.fields(msg):
        out[f.name] = _value(f.name, getattr(msg, f.name))
    udh = getattr(msg, "udh", None)
    if udh is not None:
        out["concat"] = None if udh.concat is None else udh.concat._asdict()
        out["ports"] = None if udh.ports is None else udh.ports._asdict()
    if isinstance(msg, SmsStatusReport):
        out["outcome"] = msg.outcome
        out["reason"] = msg.reason
    return out


# --- from JSON ---------------------------------------------------------------


def _address(key: str, value: object) -> Address:
    if isinstance(value, str):
        return Address.of(value)
    if isinstance(value, dict) and isinstance(value.get("number"), str):
        return Address(value["number"], int(value.get("ton", 1)), int(value.get("npi", 1)))
    raise PduError(f"{key!r} must be a number string or {{\"number\": ..., \"ton\": ..., \"npi\": ...}}")


def _time(key: str, value: object) -> datetime:
    if not isinstance(value, str):
        raise PduError(f"{key!r} must be an ISO 8601 time with a zone, e.g. 2026-12-01T09:00:00+01:00")
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise PduError(f"{key!r}: {value!r} is not an ISO 8601 time") from None
    if when.tzinfo is None:
        raise PduError(f"{key!r}: {value!r} has no time zone")
    return when


def _udh(value: object) -> Udh:
    if not isinstance(value, list):
        raise PduError("'udh' must be a list of {\"iei\": n, \"data\": \"hex\"}")
    elements = []
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("iei"), int):
            raise PduError(f"'udh' element {item!r} needs an integer 'iei' and hex 'data'")
        elements.append((item["iei"], _hex("udh data", item.get("data", ""))))
    return Udh(tuple(elements))


def _hex(key: str, value: object) -> bytes:
    try:
        return bytes.fromhex(str(value))
    except ValueError:
        raise PduError(f"{key!r} must be hex octets, not {value!r}") from None


def _seconds(key: str, value: object) -> timedelta:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise PduError(f"{key!r} must be a number of seconds")
    try:
        return timedelta(seconds=value)
    except OverflowError:
        raise PduError(f"{key!r}: {value} seconds is out of range") from None


def _validity(value: object) -> object:
    if value is None:
        return None
    if isinstance(value, dict) and "relative_s" in value:
        return _seconds("validity.relative_s", value["relative_s"])
    if isinstance(value, dict) and "absolute" in value:
        return _time("validity.absolute", value["absolute"])
    if isinstance(value, dict) and isinstance(value.get("enhanced"), dict):
        e = value["enhanced"]
        period = e.get("period_s")
        return EnhancedValidity(
            None if period is None else _seconds("validity.enhanced.period_s", period),
            e.get("form", "seconds"),
            bool(e.get("single_shot", False)),
        )
    raise PduError("'validity' must be {\"relative_s\": n}, {\"absolute\": ISO time} or {\"enhanced\": {...}}")


def _field(key: str, value: object, data: dict[str, Any]) -> object:
    if key in ("recipient", "sender", "smsc"):
        return None if value is None and key == "smsc" else _address(key, value)
    if key in ("scts", "discharge"):
        return _time(key, value)
    if key == "udh":
        return None if value is None else _udh(value)
    if key == "validity":
        return _validity(value)
    if key == "waiting":
        if value is None:
            return None
        if not isinstance(value, dict):
            raise PduError("'waiting' must be {\"active\": bool, \"kind\": 0..3, \"store\": bool}")
        return MessageWaiting(bool(value.get("active")), int(value.get("kind", 0)), bool(value.get("store", True)))
    if key == "user_data" and data.get("alphabet") == "8bit" and isinstance(value, str):
        return _hex("user_data", value)
    if key == "data" and data.get("type") == "SMS-COMMAND":
        return _hex("data", value)
    return value


_KIND_WORDS = {bool: "true or false", int: "an integer", str: "a string", bytes: "hex octets"}


def _check_type(key: str, value: object, hint: object) -> None:
    """value against the field's annotation; bool is no int here."""
    allowed = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    for kind in allowed:
        if kind is type(None) and value is None:
            return
        if isinstance(kind, type) and isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
            return
    words = " or ".join(_KIND_WORDS.get(k, getattr(k, "__name__", str(k))) for k in allowed if k is not type(None))
    raise PduError(f"{key!r} must be {words}{' or null' if type(None) in allowed else ''}, not {value!r}")


def from_json(data: object) -> Message:
    if not isinstance(data, dict):
        raise PduError("the message must be a JSON object with a 'type'")
    cls = TYPES.get(str(data.get("type")))
    if cls is None:
        raise PduError(f"'type' must be one of {', '.join(TYPES)}, not {data.get('type')!r}")
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(data) - names - {"type", *INFORMATIVE}
    if unknown:
        raise PduError(f"unknown keys for {data['type']}: {', '.join(sorted(unknown))}")
    try:
        kwargs = {k: _field(k, v, data) for k, v in data.items() if k in names and k != "notes"}
    except (TypeError, ValueError) as exc:
        raise PduError(f"{data['type']}: {exc}") from None
    hints = typing.get_type_hints(cls)
    for key, value in kwargs.items():
        _check_type(key, value, hints[key])
    try:
        msg: Message = cls(**kwargs)
    except TypeError as exc:  # a required field left out
        raise PduError(f"{data['type']}: {exc}") from None
    return msg
