"""`msghub codec ucp decode FRAME` and `msghub codec ucp encode` (JSON on
stdin). The lead wires these two functions into the CLI; they return the
text to print and let UcpError (a CodecError) propagate.

JSON shape (decode prints it, encode reads it back; "decoded" and
"problems" are ignored by encode):
  {"trn": 0, "type": "O", "ot": "51", "operation": "submit short message",
   "fields": {"AdC": "...", ..., "AMsg": "...", ...},
   "extra_fields": [...],            # only when the frame has some
   "decoded": {"text": ..., "sender": ..., "udh": ..., "dcs": ...},
   "problems": [...]}                # values that could not be decoded
The message slot is named NMsg, AMsg or TMsg by MT ("Msg" otherwise); encode
accepts any of these names for it.
"""

import json
from collections.abc import Callable
from datetime import datetime
from enum import Enum
from typing import Any

from msghub.connectors.emi.errors import FieldError, FrameSyntaxError, UnknownOperationError
from msghub.connectors.emi.fields import (
    MESSAGE_SLOT_NAMES,
    OPERATION_FIELDS,
    OPERATION_NAMES,
    message_slot_name,
    result_fields,
)
from msghub.connectors.emi.frame import Frame, Kind, encode_frame
from msghub.connectors.emi.messages import Message, decode_message, from_frame
from msghub.connectors.emi.operations import (
    CallInput,
    ListManagement,
    SessionLogin,
    SmsMessageTransfer,
)
from msghub.connectors.emi.results import Ack, Nack
from msghub.connectors.emi.short_message import DeliveryNotification, Notify, ShortMessageOperation
from msghub.connectors.emi.values import is_digits, parse_time
from msghub.connectors.emi.xser import XSerItem
from msghub.errors import CodecError
from msghub.sms.udh import parse_udh

_SLOT_ALIASES = ("Msg", *MESSAGE_SLOT_NAMES.values())


def _jsonable(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex().upper()
    if isinstance(value, Enum):
        return value.name.lower()
    if isinstance(value, tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, XSerItem):
        return {"type": f"{value.type:02X}", "data": value.data.hex().upper()}
    return value


class _Decoded:
    """Collects decoded values; a value that fails becomes a problem line."""

    def __init__(self) -> None:
        self.values: dict[str, object] = {}
        self.problems: list[str] = []

    def add(self, key: str, getter: Callable[[], object]) -> None:
        try:
            value = getter()
        except CodecError as exc:
            if str(exc) not in self.problems:  # one bad XSer spoils several views
                self.problems.append(str(exc))
            return
        if value is not None and value != "" and value != ():
            self.values[key] = _jsonable(value)


def _flag_names(flags: Notify | None) -> list[str] | None:
    if flags is None:
        return None
    return [str(flag.name).lower() for flag in Notify if flag in flags]


def _udh_info(udh: bytes | None) -> dict[str, object] | None:
    if udh is None:
        return None
    parsed = parse_udh(udh)
    info: dict[str, object] = {
        "elements": [
            {"iei": f"{ie.iei:02X}", "data": ie.data.hex().upper()} for ie in parsed.elements
        ]
    }
    if parsed.concat:
        info["concat"] = parsed.concat._asdict()
    if parsed.ports:
        info["ports"] = parsed.ports._asdict()
    return info


def _decode_5x(op: ShortMessageOperation, out: _Decoded) -> None:
    out.add("text", lambda: op.text)
    if op.mt == "4":
        out.add("user_data", lambda: op.user_data)
    out.add("sender", lambda: op.sender if op.otoa else None)
    out.add("xser", lambda: op.xser_items)
    out.add("udh", lambda: op.udh)
    out.add("udh_info", lambda: _udh_info(op.udh))
    out.add("dcs", lambda: op.data_coding if op.mt or op.xser else None)
    out.add("notify", lambda: _flag_names(op.notification_types))
    out.add("scts", lambda: op.scts_time)
    out.add("dscts", lambda: op.dscts_time)
    out.add("validity", lambda: op.validity_time)
    out.add("deferred", lambda: op.deferred_time)
    if isinstance(op, DeliveryNotification):
        out.add("status", lambda: op.status if op.dst else None)
        out.add("reason", lambda: op.reason)


def _decoded(message: Message) -> _Decoded:
    out = _Decoded()
    if isinstance(message, ShortMessageOperation):
        _decode_5x(message, out)
    elif isinstance(message, CallInput):
        out.add("text", lambda: message.text)
    elif isinstance(message, SmsMessageTransfer):
        out.add("text", lambda: message.text)
        out.add("validity", lambda: message.validity_time)
        out.add("deferred", lambda: message.deferred_time)
    elif isinstance(message, Ack):
        _decode_ack(message, out)
    elif isinstance(message, Nack):
        out.add("ec_description", lambda: message.description)
        out.values["permanent"] = message.permanent
    elif isinstance(message, SessionLogin | ListManagement):
        if message.pwd:
            out.add("password", lambda: message.password)
        if message.npwd:
            out.add("new_password", lambda: message.new_password)
    return out


def _decode_ack(ack: Ack, out: _Decoded) -> None:
    out.add("mvp", lambda: ack.mvp_time)
    reference = ack.submit_reference
    if reference is not None:
        out.values["submit_reference"] = {"adc": reference[0], "scts": reference[1]}
        out.add("sm_scts", lambda: parse_time(reference[1], "SM"))
    elif len(ack.sm) == 12 and is_digits(ack.sm):
        out.add("sm_scts", lambda: parse_time(ack.sm, "SM"))


def _json_names(frame: Frame) -> tuple[str, ...]:
    names = frame.field_names
    if "Msg" in names and "MT" in names:
        mt = frame.fields[names.index("MT")]
        return tuple(message_slot_name(mt) if name == "Msg" else name for name in names)
    return names


def describe(message: Message) -> dict[str, object]:
    """The JSON-ready description decode_command prints."""
    frame = message.to_frame()
    names = _json_names(frame)
    out: dict[str, object] = {
        "trn": frame.trn,
        "type": frame.kind,
        "ot": frame.ot,
        "operation": OPERATION_NAMES[frame.ot] + (" result" if frame.kind == "R" else ""),
        "fields": dict(zip(names, frame.fields, strict=False)),
    }
    if len(frame.fields) > len(names):
        out["extra_fields"] = list(frame.fields[len(names) :])
    decoded = _decoded(message)
    out["decoded"] = decoded.values
    if decoded.problems:
        out["problems"] = decoded.problems
    return out


def decode_command(frame_text: str) -> str:
    """JSON of a frame given as text, with or without STX/ETX."""
    message = decode_message(frame_text.strip(" \t\r\n"))
    return json.dumps(describe(message), ensure_ascii=False, indent=2)


def _header(data: dict[str, Any]) -> tuple[int, Kind, str]:
    trn, kind, ot = data.get("trn"), data.get("type"), data.get("ot")
    if isinstance(trn, str) and is_digits(trn):
        trn = int(trn)
    if not isinstance(trn, int) or isinstance(trn, bool):
        raise FieldError("trn", "must be a number 0-99")
    if kind != "O" and kind != "R":
        raise FieldError("type", "must be 'O' or 'R'")
    if isinstance(ot, int) and not isinstance(ot, bool):
        ot = f"{ot:02d}"
    if not isinstance(ot, str):
        raise FieldError("ot", "must be two digits")
    if ot not in OPERATION_FIELDS:
        raise UnknownOperationError(f"operation type {ot} is not supported")
    return trn, kind, ot


def _take(fields: dict[str, Any], name: str) -> str:
    keys = [key for key in (_SLOT_ALIASES if name == "Msg" else (name,)) if key in fields]
    if len(keys) > 1:
        raise FieldError(name, f"given twice, as {' and '.join(keys)}")
    value = fields.pop(keys[0]) if keys else ""
    if not isinstance(value, str):
        raise FieldError(name, "must be a string (leading zeros matter)")
    return value


def frame_from_json(data: object) -> Frame:
    """The Frame a decode_command JSON describes."""
    if not isinstance(data, dict):
        raise FrameSyntaxError("the JSON must be an object")
    trn, kind, ot = _header(data)
    fields = data.get("fields", {})
    if not isinstance(fields, dict):
        raise FieldError("fields", "must be an object of field name to value")
    fields = dict(fields)
    if kind == "O":
        names = OPERATION_FIELDS[ot]
    else:
        names = result_fields(ot, positive="NACK" not in fields)
        fields.setdefault(names[0], names[0][0])  # ACK is 'A', NACK is 'N'
    values = [_take(fields, name) for name in names]
    if kind == "R" and values[0] != names[0][0]:
        raise FieldError(names[0], f"must be {names[0][0]!r}, not {values[0]!r}")
    if fields:
        raise FieldError("fields", f"{', '.join(sorted(fields))} not in {kind}/{ot}")
    extra = data.get("extra_fields", [])
    if not isinstance(extra, list) or not all(isinstance(v, str) for v in extra):
        raise FieldError("extra_fields", "must be a list of strings")
    return Frame(trn=trn, kind=kind, ot=ot, fields=(*values, *extra))


def encode_command(json_text: str) -> str:
    """The frame (without STX/ETX) a decode_command JSON describes."""
    try:
        data = json.loads(json_text)
    except json.JSONDecodeError as exc:
        raise FrameSyntaxError(f"not valid JSON: {exc}") from None
    frame = frame_from_json(data)
    encoded = encode_frame(frame)
    from_frame(frame)  # the same field checks a decoder applies
    return encoded.decode("ascii")
