"""Errors of the SMS encoding core.

Both are CodecErrors, so the CLI and the API report them as one clear line.
"""

from msghub.errors import CodecError


class SmsEncodingError(CodecError):
    """Text cannot be put into the requested SMS encoding or structure."""


class SmsDecodeError(CodecError):
    """Received SMS bytes (septets, UDH, fragments) are malformed."""
