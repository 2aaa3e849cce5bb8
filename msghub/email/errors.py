"""The e-mail codec's own errors: the only exceptions its functions raise."""

from msghub.errors import CodecError


class MailError(CodecError):
    """A mail could not be read or written."""


class MailParseError(MailError):
    """Bytes that are not a mail at all (a malformed mail is kept with a note instead)."""


class MailBuildError(MailError):
    """An outbound mail cannot be written as asked (a bad address, a header with a line break)."""
