"""The generic EMI/UCP frame: STX TRN/LEN/O|R/OT/field/.../CK ETX.

Fields stay the raw strings they were on the wire, so decoding and encoding
again gives the same bytes. decode_frame checks the structure (header, LEN,
checksum, a supported OT, enough fields); the typed layer in operations.py
checks field contents.
"""

from dataclasses import dataclass
from typing import Literal

from msghub.connectors.emi.errors import (
    ChecksumError,
    Context,
    FieldError,
    FrameSyntaxError,
    LengthError,
    UnknownOperationError,
)
from msghub.connectors.emi.fields import SUPPORTED_OTS, field_names
from msghub.connectors.emi.values import is_digits

STX = 0x02
ETX = 0x03
# TRN, LEN, O/R and OT with their separators, plus the two checksum digits.
FIXED_CHARS = 16
MAX_LEN = 99_999  # LEN has five digits

Kind = Literal["O", "R"]


@dataclass(frozen=True)
class Frame:
    """One frame: trn 0-99, kind 'O' (operation) or 'R' (result), ot two
    digits, fields the raw values between the separators."""

    trn: int
    kind: Kind
    ot: str
    fields: tuple[str, ...]

    @property
    def positive(self) -> bool:
        """A result's ACK; False for a NACK and for operations."""
        return self.kind == "R" and bool(self.fields) and self.fields[0] == "A"

    @property
    def field_names(self) -> tuple[str, ...]:
        """The specification's names of the fields (extra ones have none)."""
        return field_names(self.kind, self.ot, self.fields[0] if self.fields else "")


def checksum(data: bytes) -> str:
    """Low 8 bits of the byte sum, two upper-case hex digits."""
    return f"{sum(data) & 0xFF:02X}"


def _printable(value: str) -> bool:
    return all(" " <= ch <= "~" for ch in value)


def encode_frame(frame: Frame) -> bytes:
    """The frame's bytes without STX/ETX; LEN and CK computed here."""
    context = Context(trn=frame.trn, kind=frame.kind, ot=frame.ot)
    if not 0 <= frame.trn <= 99:
        raise FieldError("TRN", f"{frame.trn} is outside 00-99", **context)
    if frame.kind not in ("O", "R"):
        raise FieldError("O/R", f"{frame.kind!r} is neither 'O' nor 'R'", **context)
    if len(frame.ot) != 2 or not is_digits(frame.ot):
        raise FieldError("OT", f"{frame.ot!r} is not two digits", **context)
    for pos, value in enumerate(frame.fields):
        if "/" in value or not _printable(value):
            raise FieldError(
                f"field {pos + 1}", "holds '/' or a character outside printable ASCII", **context
            )
    body = "".join(value + "/" for value in frame.fields)
    length = FIXED_CHARS + len(body)
    if length > MAX_LEN:
        raise LengthError(f"frame of {length} characters exceeds LEN's {MAX_LEN}", **context)
    head = f"{frame.trn:02d}/{length:05d}/{frame.kind}/{frame.ot}/{body}".encode("ascii")
    return head + checksum(head).encode("ascii")


def wrap(data: bytes) -> bytes:
    """Add STX and ETX around an encoded frame."""
    return bytes((STX,)) + data + bytes((ETX,))


def unwrap(data: bytes) -> bytes:
    """Drop STX and ETX if present; one without the other is a truncation."""
    starts, ends = data[:1] == bytes((STX,)), data[-1:] == bytes((ETX,))
    if starts and ends and len(data) >= 2:
        return data[1:-1]
    if starts:
        raise LengthError("frame starts with STX but has no ETX (truncated?)")
    if ends:
        raise FrameSyntaxError("frame ends with ETX but has no STX")
    return data


def _as_bytes(data: bytes | bytearray | str) -> bytes:
    if isinstance(data, str):
        if not data.isascii():
            raise FrameSyntaxError("frame holds characters outside ASCII")
        return data.encode("ascii")
    return bytes(data)


def _header(text: str) -> tuple[int, Kind, str, list[str]]:
    parts = text.split("/")
    if len(parts) < 5:
        raise FrameSyntaxError(f"frame has {len(parts) - 1} separators; a header alone needs 4")
    trn_s, len_s, kind_s, ot = parts[0], parts[1], parts[2], parts[3]
    if len(trn_s) != 2 or not is_digits(trn_s):
        raise FieldError("TRN", f"{trn_s[:10]!r} is not two digits")
    trn = int(trn_s)
    if kind_s not in ("O", "R"):
        raise FieldError("O/R", f"{kind_s[:10]!r} is neither 'O' nor 'R'", trn=trn)
    kind: Kind = "O" if kind_s == "O" else "R"
    if len(ot) != 2 or not is_digits(ot):
        raise FieldError("OT", f"{ot[:10]!r} is not two digits", trn=trn, kind=kind)
    if len(len_s) != 5 or not is_digits(len_s):
        raise FieldError("LEN", f"{len_s[:10]!r} is not five digits", trn=trn, kind=kind, ot=ot)
    if int(len_s) != len(text):
        raise LengthError(
            f"LEN says {int(len_s)} characters, the frame has {len(text)}",
            trn=trn, kind=kind, ot=ot,
        )  # fmt: skip
    return trn, kind, ot, parts


def decode_frame(data: bytes | bytearray | str) -> Frame:
    """Parse one frame, with or without STX/ETX; raises a UcpError."""
    raw = unwrap(_as_bytes(data))
    if not raw.isascii() or not _printable(raw.decode("ascii")):
        raise FrameSyntaxError("frame holds bytes outside printable ASCII")
    text = raw.decode("ascii")
    trn, kind, ot, parts = _header(text)
    context = Context(trn=trn, kind=kind, ot=ot)
    ck = parts[-1]
    if len(ck) != 2:
        raise FrameSyntaxError(f"checksum {ck[:10]!r} is not two hex digits", **context)
    expected = checksum(raw[:-2])
    if ck.upper() != expected:
        raise ChecksumError(f"checksum {ck!r} should be {expected}", **context)
    if ot not in SUPPORTED_OTS:
        raise UnknownOperationError(f"operation type {ot} is not supported", **context)
    fields = tuple(parts[4:-1])
    if kind == "R" and (not fields or fields[0] not in ("A", "N")):
        first = fields[0][:10] if fields else ""
        raise FieldError("ACK", f"a result starts with 'A' or 'N', not {first!r}", **context)
    names = field_names(kind, ot, fields[0] if fields else "")
    if len(fields) < len(names):
        raise FrameSyntaxError(
            f"{kind}/{ot} needs {len(names)} fields, the frame has {len(fields)}", **context
        )
    return Frame(trn=trn, kind=kind, ot=ot, fields=fields)
