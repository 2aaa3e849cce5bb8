"""The UcpError family: every way the EMI/UCP codec refuses bytes or values.

Each error carries what could be read before the fault (trn, kind, ot), so an
SMSC can still answer with a negative result, and `ec`, the EMI error code
that answer should carry (01 checksum, 02 syntax, 03 operation not
supported).
"""

from typing import TypedDict

from msghub.errors import CodecError


class Context(TypedDict):
    """What is known of the frame an error is about (keyword arguments)."""

    trn: int | None
    kind: str | None
    ot: str | None


class UcpError(CodecError):
    """Base of the EMI/UCP codec errors."""

    ec = "02"

    def __init__(
        self,
        message: str,
        *,
        trn: int | None = None,
        kind: str | None = None,
        ot: str | None = None,
    ) -> None:
        super().__init__(message)
        self.trn = trn
        self.kind = kind
        self.ot = ot


class FrameSyntaxError(UcpError):
    """The frame's structure is wrong: header, separators, characters, field count."""


class FieldError(FrameSyntaxError):
    """One field holds a value its format does not allow; `field` names it."""

    def __init__(
        self,
        field: str,
        message: str,
        *,
        trn: int | None = None,
        kind: str | None = None,
        ot: str | None = None,
    ) -> None:
        super().__init__(f"{field}: {message}", trn=trn, kind=kind, ot=ot)
        self.field = field


class LengthError(UcpError):
    """LEN disagrees with the frame, or the frame is longer than allowed."""


class FrameTooLargeError(LengthError):
    """FrameReader met a frame over its size limit and skipped it."""


class ChecksumError(UcpError):
    """The CK field does not match the frame's contents."""

    ec = "01"


class UnknownOperationError(UcpError):
    """The OT is not one this codec supports."""

    ec = "03"
