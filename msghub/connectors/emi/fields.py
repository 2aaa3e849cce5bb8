"""Field lists of the supported operations and results, and field syntax.

Names are the specification's. The message slot of 01 and the 50 series is
"Msg": NMsg, AMsg or TMsg according to MT.
"""

from collections.abc import Mapping

from msghub.connectors.emi.errors import FieldError
from msghub.connectors.emi.values import (
    decode_alphanumeric_address,
    hex_to_bytes,
    is_digits,
    show,
    to_int,
)
from msghub.connectors.emi.xser import parse_xser

FIELDS_5X = (
    "AdC", "OAdC", "AC", "NRq", "NAdC", "NT", "NPID", "LRq", "LRAd", "LPID",
    "DD", "DDT", "VP", "RPID", "SCTS", "Dst", "Rsn", "DSCTS", "MT", "NB",
    "Msg", "MMS", "PR", "DCs", "MCLs", "RPI", "CPg", "RPLy", "OTOA", "HPLMN",
    "XSer", "RES4", "RES5",
)  # fmt: skip
FIELDS_60 = (
    "OAdC", "OTON", "ONPI", "STYP", "PWD", "NPWD", "VERS", "LAdC", "LTON",
    "LNPI", "OPID", "RES1",
)  # fmt: skip
FIELDS_61 = (
    "OAdC", "OTON", "ONPI", "STYP", "PWD", "NPWD", "VERS", "LAdC", "LTON",
    "LNPI", "RES1", "RES2",
)  # fmt: skip

OPERATION_FIELDS: dict[str, tuple[str, ...]] = {
    "01": ("AdC", "OAdC", "AC", "MT", "Msg"),
    "30": ("AdC", "OAdC", "AC", "NRq", "NAdC", "NPID", "DD", "DDT", "VP", "AMsg"),
    "31": ("AdC", "PID"),
    **{f"5{digit}": FIELDS_5X for digit in "12345678"},
    "60": FIELDS_60,
    "61": FIELDS_61,
}
OPERATION_NAMES = {
    "01": "call input",
    "30": "SMS message transfer",
    "31": "alert",
    "51": "submit short message",
    "52": "deliver short message",
    "53": "deliver notification",
    "54": "modify message",
    "55": "inquiry message",
    "56": "delete message",
    "57": "response inquiry message",
    "58": "response delete message",
    "60": "session management",
    "61": "list management",
}
SUPPORTED_OTS = frozenset(OPERATION_FIELDS)

# 30 and the 50 series answer with a modified validity period (MVP).
ACK_FIELDS_MVP = ("ACK", "MVP", "SM")
ACK_FIELDS = ("ACK", "SM")
NACK_FIELDS = ("NACK", "EC", "SM")

MESSAGE_SLOT_NAMES = {"2": "NMsg", "3": "AMsg", "4": "TMsg"}

_DIGIT_FIELDS = frozenset(
    {
        "NRq", "NT", "NPID", "LRq", "LPID", "DD", "RPID", "Dst", "Rsn", "MT", "NB",
        "MMS", "PR", "DCs", "MCLs", "RPI", "CPg", "RPLy", "OTOA", "HPLMN", "PID",
        "OTON", "ONPI", "STYP", "VERS", "LTON", "LNPI", "OPID",
    }
)  # fmt: skip
_TIME_FIELDS = {"DDT": 10, "VP": 10, "MVP": 10, "SCTS": 12, "DSCTS": 12}
_HEX_FIELDS = frozenset({"PWD", "NPWD", "AMsg"})


def result_fields(ot: str, positive: bool) -> tuple[str, ...]:
    if not positive:
        return NACK_FIELDS
    return ACK_FIELDS_MVP if ot == "30" or ot.startswith("5") else ACK_FIELDS


def field_names(kind: str, ot: str, first_field: str) -> tuple[str, ...]:
    """The field list of a frame; a result's list depends on ACK/NACK."""
    if kind == "O":
        return OPERATION_FIELDS[ot]
    return result_fields(ot, first_field == "A")


def message_slot_name(mt: str) -> str:
    return MESSAGE_SLOT_NAMES.get(mt, "Msg")


def _check_simple(name: str, value: str) -> None:
    if name in _DIGIT_FIELDS and not is_digits(value):
        raise FieldError(name, f"{show(value)} is not a number")
    if name in _TIME_FIELDS:
        if len(value) != _TIME_FIELDS[name] or not is_digits(value):
            raise FieldError(name, f"{show(value)} is not {_TIME_FIELDS[name]} digits")
    elif name in _HEX_FIELDS:
        hex_to_bytes(value, name)
    elif name == "XSer":
        parse_xser(value)
    elif name == "EC" and (len(value) != 2 or not is_digits(value)):
        raise FieldError("EC", f"{show(value)} is not a two-digit error code")


def _check_message(values: Mapping[str, str]) -> None:
    mt, msg = values.get("MT", ""), values.get("Msg", "")
    slot = message_slot_name(mt)
    if mt == "2" and msg and not is_digits(msg):
        raise FieldError(slot, f"{show(msg)} is not a numeric message")
    if mt in ("3", "4"):
        data = hex_to_bytes(msg, slot)
        nb = values.get("NB", "")
        if mt == "4" and nb and to_int(nb, "NB") > 8 * len(data):
            raise FieldError("NB", f"{nb} bits but TMsg holds {8 * len(data)}")


def check_fields(values: Mapping[str, str]) -> None:
    """Raise FieldError for the first value that breaks its field's format.

    Empty fields are always allowed (every field is optional on the wire,
    the receiving side decides what it needs); addresses and free text are
    not checked beyond the frame's printable-ASCII rule.
    """
    for name, value in values.items():
        if value:
            _check_simple(name, value)
    if "Msg" in values:
        _check_message(values)
    if values.get("OTOA") == "5039" and values.get("OAdC"):
        decode_alphanumeric_address(values["OAdC"])
