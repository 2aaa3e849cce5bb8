"""The MM7 codec's error: carries the MM7 status code a fault answers with."""

from msghub.errors import CodecError

CLIENT_ERROR = 2000
MESSAGE_FORMAT_CORRUPT = 2007
UNSUPPORTED_VERSION = 4002
UNSUPPORTED_OPERATION = 4003
VALIDATION_ERROR = 4004


class Mm7Error(CodecError):
    """An MM7 message could not be built or understood.

    `status` is the MM7 status code (TS 23.140 table L.x) that a fault about
    this problem carries: 2007 for broken XML or MIME, 4002 for an unknown
    schema version, 4003 for an operation we do not serve, 4004 for a missing
    or malformed element.
    """

    def __init__(self, message: str, status: int = VALIDATION_ERROR) -> None:
        super().__init__(message)
        self.status = status
