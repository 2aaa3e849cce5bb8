"""UCS-2 user data (3GPP TS 23.038 section 6.2.3), sent as UTF-16-BE.

Phones and SMSCs have long carried UTF-16 surrogate pairs in "UCS-2" data,
so characters outside the BMP (emoji) are encoded as a pair and cost two
16-bit units. A split must never separate the two halves (see split.py).

decode_ucs2 is tolerant by default: an odd trailing octet or a lone
surrogate becomes U+FFFD, so a damaged inbound message is still delivered.
strict=True raises SmsDecodeError instead.
"""

from msghub.sms.errors import SmsDecodeError, SmsEncodingError


def ucs2_units(text: str) -> int:
    """16-bit units the text costs: 2 for characters outside the BMP."""
    return sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)


def char_units(ch: str) -> int:
    """16-bit units one character costs."""
    return 2 if ord(ch) > 0xFFFF else 1


def encode_ucs2(text: str) -> bytes:
    """Encode to UTF-16-BE; a lone surrogate in text raises SmsEncodingError."""
    try:
        return text.encode("utf-16-be")
    except UnicodeEncodeError as exc:
        ch = text[exc.start]
        raise SmsEncodingError(
            f"lone surrogate U+{ord(ch):04X} at position {exc.start} cannot be sent as UCS-2"
        ) from None


def decode_ucs2(data: bytes, *, strict: bool = False) -> str:
    """Decode UTF-16-BE user data (see the module docstring for tolerance)."""
    if not strict:
        return data.decode("utf-16-be", errors="replace")
    try:
        return data.decode("utf-16-be")
    except UnicodeDecodeError as exc:
        raise SmsDecodeError(
            f"invalid UCS-2 data at octet {exc.start}: {exc.reason}"
        ) from None
