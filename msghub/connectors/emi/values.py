"""Field value conversions: hex, times, alphanumeric addresses, AMsg, PWD.

Every decoder takes the raw field string and the field's name, and raises
FieldError naming that field when the value does not fit its format.
"""

from datetime import datetime, tzinfo

from msghub.connectors.emi.errors import FieldError
from msghub.sms.errors import SmsDecodeError, SmsEncodingError
from msghub.sms.gsm7 import decode_gsm7, encode_gsm7, pack_septets, unpack_septets

_HEX_DIGITS = frozenset("0123456789ABCDEFabcdef")
# An alphanumeric OAdC is at most 11 septets: 22 hex digits with the count.
MAX_ALPHANUMERIC_SEPTETS = 11
# Two-digit years: 69-99 are 1969-1999, 00-68 are 2000-2068 (as strptime's %y).
_YEAR_PIVOT = 69


def show(value: str, limit: int = 24) -> str:
    """A value for an error message: quoted, and cut short if long (a field
    can hold tens of thousands of characters)."""
    return repr(value) if len(value) <= limit else repr(value[:limit]) + "..."


def is_digits(value: str) -> bool:
    """ASCII digits only (str.isdigit also accepts other scripts' digits)."""
    return value.isascii() and value.isdigit()


def to_int(value: str, field: str) -> int:
    """A decimal field as int; more than 9 digits is refused, since no EMI
    number is that long and int() of a huge digit string is slow or refused."""
    if not is_digits(value) or len(value) > 9:
        raise FieldError(field, f"{show(value)} is not a number of at most 9 digits")
    return int(value)


def hex_to_bytes(value: str, field: str) -> bytes:
    """Decode a hex field; odd length or a non-hex character is a FieldError."""
    if len(value) % 2:
        raise FieldError(field, f"hex value has an odd number of digits ({len(value)})")
    bad = next((ch for ch in value if ch not in _HEX_DIGITS), None)
    if bad is not None:
        raise FieldError(field, f"{bad!r} is not a hex digit")
    return bytes.fromhex(value)


def bytes_to_hex(data: bytes) -> str:
    return data.hex().upper()


def _two_digit_year(yy: int) -> int:
    return (1900 if yy >= _YEAR_PIVOT else 2000) + yy


def parse_time(value: str, field: str) -> datetime | None:
    """DDMMYYHHmm (10 digits: DDT, VP, MVP) or DDMMYYhhmmss (12: SCTS, DSCTS).

    Empty means absent (None). The result is naive: EMI times carry no zone
    and are the SMSC's local time.
    """
    if not value:
        return None
    if len(value) not in (10, 12) or not is_digits(value):
        raise FieldError(field, f"{show(value)} is not DDMMYYHHmm or DDMMYYhhmmss")
    day, month, yy, hour, minute = (int(value[i : i + 2]) for i in range(0, 10, 2))
    second = int(value[10:12]) if len(value) == 12 else 0
    try:
        return datetime(_two_digit_year(yy), month, day, hour, minute, second)
    except ValueError as exc:
        raise FieldError(field, f"{value!r} is not a valid time: {exc}") from None


def _local(dt: datetime, tz: tzinfo | None) -> datetime:
    # Aware times are converted to the SMSC's zone (tz, default: this
    # machine's); naive ones are taken as already in it.
    if dt.tzinfo is None:
        return dt
    return dt.astimezone(tz).replace(tzinfo=None)


def _format(dt: datetime, field: str, tz: tzinfo | None, seconds: bool) -> str:
    dt = _local(dt, tz)
    if not 1900 + _YEAR_PIVOT <= dt.year < 2000 + _YEAR_PIVOT:
        raise FieldError(field, f"year {dt.year} does not fit a two-digit EMI year")
    text = f"{dt.day:02d}{dt.month:02d}{dt.year % 100:02d}{dt.hour:02d}{dt.minute:02d}"
    return text + f"{dt.second:02d}" if seconds else text


def format_ddt(dt: datetime, field: str = "DDT", tz: tzinfo | None = None) -> str:
    """DDMMYYHHmm, as DDT and VP want it (seconds are dropped)."""
    return _format(dt, field, tz, seconds=False)


def format_scts(dt: datetime, field: str = "SCTS", tz: tzinfo | None = None) -> str:
    """DDMMYYhhmmss, as SCTS and DSCTS carry it."""
    return _format(dt, field, tz, seconds=True)


def parse_scts(value: str) -> datetime:
    """A 12-digit SCTS; empty or malformed is a FieldError."""
    dt = parse_time(value, "SCTS")
    if dt is None or len(value) != 12:
        raise FieldError("SCTS", f"{show(value)} is not DDMMYYhhmmss")
    return dt


def parse_ddt(value: str) -> datetime:
    """A 10-digit DDT (or VP); empty or malformed is a FieldError."""
    dt = parse_time(value, "DDT")
    if dt is None or len(value) != 10:
        raise FieldError("DDT", f"{show(value)} is not DDMMYYHHmm")
    return dt


def _gsm_septets(text: str, field: str) -> bytes:
    try:
        return encode_gsm7(text)
    except SmsEncodingError as exc:
        raise FieldError(field, str(exc)) from None


def _gsm_text(septets: bytes, field: str) -> str:
    try:
        return decode_gsm7(septets)
    except SmsDecodeError as exc:
        raise FieldError(field, str(exc)) from None


def encode_alphanumeric_address(text: str, field: str = "OAdC") -> str:
    """Alphanumeric OAdC (OTOA 5039): a count of useful semi-octets, then
    the text packed as GSM 7-bit, all hex. At most 11 septets."""
    septets = _gsm_septets(text, field)
    if not septets:
        raise FieldError(field, "an alphanumeric address cannot be empty")
    if len(septets) > MAX_ALPHANUMERIC_SEPTETS:
        raise FieldError(
            field,
            f"{text!r} needs {len(septets)} GSM septets; an alphanumeric address "
            f"allows {MAX_ALPHANUMERIC_SEPTETS}",
        )
    semi_octets = (len(septets) * 7 + 3) // 4
    return bytes_to_hex(bytes((semi_octets,)) + pack_septets(septets))


def decode_alphanumeric_address(value: str, field: str = "OAdC") -> str:
    """Inverse of encode_alphanumeric_address.

    The character count is floor(semi-octets * 4 / 7); it is right both for
    peers that count useful semi-octets and for peers that count all
    semi-octets of the packed octets.
    """
    raw = hex_to_bytes(value, field)
    if not raw:
        raise FieldError(field, "alphanumeric address is empty")
    count = raw[0] * 4 // 7
    try:
        septets = unpack_septets(raw[1:], count)
    except SmsDecodeError as exc:
        raise FieldError(field, f"semi-octet count {raw[0]} does not fit: {exc}") from None
    return _gsm_text(septets, field)


def encode_amsg(text: str, field: str = "AMsg") -> str:
    """AMsg for MT 3: each character's GSM 03.38 code as two hex digits."""
    return bytes_to_hex(_gsm_septets(text, field))


def decode_amsg(value: str, field: str = "AMsg") -> str:
    return _gsm_text(hex_to_bytes(value, field), field)


def encode_ira(text: str, field: str = "PWD") -> str:
    """IRA (ASCII) text as hex, as PWD and NPWD carry passwords."""
    if not text.isascii():
        raise FieldError(field, "only ASCII (IRA) characters can be sent")
    return bytes_to_hex(text.encode("ascii"))


def decode_ira(value: str, field: str = "PWD") -> str:
    raw = hex_to_bytes(value, field)
    if not raw.isascii():
        raise FieldError(field, "holds bytes outside ASCII (IRA)")
    return raw.decode("ascii")


def split_adc_scts(sm: str) -> tuple[str, str] | None:
    """The SM of a positive result to 51, 'AdC:SCTS', as (AdC, SCTS) raw
    strings; None when the SM has another shape."""
    adc, sep, scts = sm.rpartition(":")
    if not sep or len(scts) != 12 or not is_digits(scts):
        return None
    return adc, scts
