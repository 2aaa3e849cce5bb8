"""Typed operations: the Operation base, and 01, 30, 31, 60 and 61.

The 50 series is in short_message.py, the results in results.py.
Attributes are the specification's field names in lower case (AdC -> adc,
DCs -> dcs, the message slot -> msg) and hold the raw strings, so
X.from_frame(f).to_frame() == f. Properties decode values on demand and
raise FieldError when a value cannot be decoded. Fields after the last known
one are kept in `extra` (real peers add some).
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Self

from msghub.connectors.emi.fields import FIELDS_60, FIELDS_61, OPERATION_FIELDS
from msghub.connectors.emi.frame import Frame
from msghub.connectors.emi.values import decode_amsg, decode_ira, hex_to_bytes, parse_time, to_int
from msghub.connectors.emi.xser import transparent_text

OTOA_INTERNATIONAL = "1139"
OTOA_ALPHANUMERIC = "5039"


def _attr(name: str) -> str:
    return name.lower()


@dataclass(frozen=True, kw_only=True)
class Operation:
    """Base of the operations (O frames); subclasses set OT and FIELDS."""

    OT: ClassVar[str]
    FIELDS: ClassVar[tuple[str, ...]]

    trn: int = 0
    extra: tuple[str, ...] = ()

    @classmethod
    def from_frame(cls, frame: Frame) -> Self:
        kwargs: dict[str, Any] = {
            _attr(name): value for name, value in zip(cls.FIELDS, frame.fields, strict=False)
        }
        return cls(trn=frame.trn, extra=frame.fields[len(cls.FIELDS) :], **kwargs)

    def values(self) -> dict[str, str]:
        """Field name -> raw value, in frame order (extra fields excluded)."""
        return {name: str(getattr(self, _attr(name))) for name in self.FIELDS}

    def to_frame(self) -> Frame:
        return Frame(self.trn, "O", self.OT, tuple(self.values().values()) + self.extra)


def message_text(mt: str, msg: str, nb: str, dcs: int) -> str | None:
    if mt == "2":
        return msg
    if mt == "3":
        return decode_amsg(msg)
    if mt == "4":
        data = hex_to_bytes(msg, "TMsg")
        return transparent_text(data, dcs, to_int(nb, "NB") if nb else None)
    return None


def message_octets(mt: str, msg: str) -> bytes:
    if mt == "2":
        return msg.encode("ascii")
    if mt in ("3", "4"):
        return hex_to_bytes(msg, "AMsg" if mt == "3" else "TMsg")
    return b""


@dataclass(frozen=True, kw_only=True)
class CallInput(Operation):
    """01: a message in a call (NMsg for MT 2, AMsg for MT 3)."""

    OT: ClassVar[str] = "01"
    FIELDS: ClassVar[tuple[str, ...]] = OPERATION_FIELDS["01"]

    adc: str = ""
    oadc: str = ""
    ac: str = ""
    mt: str = ""
    msg: str = ""

    @property
    def text(self) -> str | None:
        return message_text(self.mt, self.msg, "", 0)


@dataclass(frozen=True, kw_only=True)
class SmsMessageTransfer(Operation):
    """30: a short message with validity and deferral (AMsg only)."""

    OT: ClassVar[str] = "30"
    FIELDS: ClassVar[tuple[str, ...]] = OPERATION_FIELDS["30"]

    adc: str = ""
    oadc: str = ""
    ac: str = ""
    nrq: str = ""
    nadc: str = ""
    npid: str = ""
    dd: str = ""
    ddt: str = ""
    vp: str = ""
    amsg: str = ""

    @property
    def text(self) -> str:
        return decode_amsg(self.amsg)

    @property
    def deferred_time(self) -> datetime | None:
        return parse_time(self.ddt, "DDT") if self.dd == "1" else None

    @property
    def validity_time(self) -> datetime | None:
        return parse_time(self.vp, "VP")


@dataclass(frozen=True, kw_only=True)
class Alert(Operation):
    """31: alert; ESMEs send it as a keep-alive (PID 0539)."""

    OT: ClassVar[str] = "31"
    FIELDS: ClassVar[tuple[str, ...]] = OPERATION_FIELDS["31"]

    adc: str = ""
    pid: str = ""


@dataclass(frozen=True, kw_only=True)
class _SessionFields(Operation):
    oadc: str = ""
    oton: str = ""
    onpi: str = ""
    styp: str = ""
    pwd: str = ""
    npwd: str = ""
    vers: str = ""
    ladc: str = ""
    lton: str = ""
    lnpi: str = ""
    res1: str = ""

    @property
    def password(self) -> str:
        return decode_ira(self.pwd, "PWD")

    @property
    def new_password(self) -> str:
        return decode_ira(self.npwd, "NPWD")


@dataclass(frozen=True, kw_only=True)
class SessionLogin(_SessionFields):
    """60: session management; STYP 1 opens a session (a login)."""

    OT: ClassVar[str] = "60"
    FIELDS: ClassVar[tuple[str, ...]] = FIELDS_60

    opid: str = ""


@dataclass(frozen=True, kw_only=True)
class ListManagement(_SessionFields):
    """61: list management (as 60 without OPID, with RES2)."""

    OT: ClassVar[str] = "61"
    FIELDS: ClassVar[tuple[str, ...]] = FIELDS_61

    res2: str = ""
