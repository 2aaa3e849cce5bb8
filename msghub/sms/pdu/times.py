"""Time stamps (3GPP TS 23.040 9.2.3.11: SCTS, discharge time, absolute
validity) and the validity period in its three formats (9.2.3.12)."""

from datetime import datetime, timedelta, timezone

from msghub.sms.pdu.model import EnhancedValidity, PduError, Validity
from msghub.sms.pdu.reader import Reader

TIMESTAMP_OCTETS = 7


def _swapped(octet: int) -> int:
    """Two swapped BCD digits; -1 if either is not a decimal digit."""
    lo, hi = octet & 0x0F, octet >> 4
    if lo > 9 or hi > 9:
        return -1
    return lo * 10 + hi


def read_timestamp(r: Reader, what: str) -> datetime:
    """A 7-octet TP-SCTS/TP-DT/absolute TP-VP: yy mm dd hh mm ss tz, each two
    swapped BCD digits; tz in quarter hours with bit 3 the sign. yy 90-99 is
    19yy, 00-89 20yy."""
    start = r.pos
    raw = r.take(TIMESTAMP_OCTETS, what)
    values = [_swapped(o) for o in raw[:6]]
    for index, value in enumerate(values):
        if value < 0:
            raise PduError(f"{what} at octet {start + index}: 0x{raw[index]:02X} is not two decimal digits")
    yy, month, day, hour, minute, second = values
    tz = raw[6]
    quarters = (tz & 0x07) * 10 + (tz >> 4)
    if tz >> 4 > 9:
        raise PduError(f"{what} at octet {start + 6}: time zone 0x{tz:02X} is not decimal quarter hours")
    offset = timedelta(minutes=15 * quarters) * (-1 if tz & 0x08 else 1)
    try:
        return datetime(
            (1900 if yy >= 90 else 2000) + yy, month, day, hour, minute, second, tzinfo=timezone(offset)
        )
    except ValueError as exc:
        raise PduError(f"{what} at octet {start}: {raw.hex().upper()} is not a valid time ({exc})") from None


def _bcd2(value: int) -> int:
    return (value % 10) << 4 | (value // 10)


def write_timestamp(when: datetime, what: str) -> bytes:
    offset = when.utcoffset()
    if offset is None:
        raise PduError(f"{what}: {when.isoformat()} has no time zone")
    if not 1990 <= when.year <= 2089:
        raise PduError(f"{what}: year {when.year} is outside 1990..2089 (two digits on the air)")
    minutes, rest = divmod(abs(offset), timedelta(minutes=15))
    if rest:
        raise PduError(f"{what}: time zone offset {offset} is not a whole number of quarter hours")
    quarters = int(minutes)
    if quarters > 79:
        raise PduError(f"{what}: time zone offset {offset} exceeds 79 quarter hours")
    tz = _bcd2(quarters) | (0x08 if offset < timedelta(0) else 0)
    fields = (when.year % 100, when.month, when.day, when.hour, when.minute, when.second)
    return bytes(_bcd2(v) for v in fields) + bytes((tz,))


VPF_NONE, VPF_ENHANCED, VPF_RELATIVE, VPF_ABSOLUTE = 0, 1, 2, 3


def relative_period(code: int) -> timedelta:
    """The period of a one-octet relative TP-VP (9.2.3.12.1)."""
    if code <= 143:
        return timedelta(minutes=5 * (code + 1))
    if code <= 167:
        return timedelta(hours=12, minutes=30 * (code - 143))
    if code <= 196:
        return timedelta(days=code - 166)
    return timedelta(weeks=code - 192)


MAX_RELATIVE = relative_period(255)


def relative_code(period: timedelta) -> int:
    """The smallest relative TP-VP code whose period is at least period."""
    if period < timedelta(0):
        raise PduError(f"validity {period} is negative")
    if period > MAX_RELATIVE:
        raise PduError(f"validity {period} exceeds the longest relative period, 63 weeks")
    if period <= timedelta(hours=12):
        return max(0, -(-period // timedelta(minutes=5)) - 1)
    if period <= timedelta(hours=24):
        return 143 + -(-(period - timedelta(hours=12)) // timedelta(minutes=30))
    if period <= timedelta(days=30):
        return 166 + max(2, -(-period // timedelta(days=1)))
    return 192 + max(5, -(-period // timedelta(weeks=1)))


def vpf_of(validity: Validity | None) -> int:
    if validity is None:
        return VPF_NONE
    if isinstance(validity, EnhancedValidity):
        return VPF_ENHANCED
    if isinstance(validity, datetime):
        return VPF_ABSOLUTE
    return VPF_RELATIVE


def read_validity(r: Reader, vpf: int) -> Validity | None:
    if vpf == VPF_NONE:
        return None
    if vpf == VPF_RELATIVE:
        return relative_period(r.octet("validity period"))
    if vpf == VPF_ABSOLUTE:
        return read_timestamp(r, "absolute validity period")
    return _read_enhanced(r)


def _read_enhanced(r: Reader) -> EnhancedValidity:
    start = r.pos
    raw = r.take(TIMESTAMP_OCTETS, "enhanced validity period")
    indicator = raw[0]
    if indicator & 0x80:
        raise PduError(f"enhanced validity period at octet {start}: extension bit set, no extension is defined")
    single_shot = bool(indicator & 0x40)
    form = indicator & 0x07
    if form == 0:
        return EnhancedValidity(None, "none", single_shot)
    if form == 1:
        return EnhancedValidity(relative_period(raw[1]), "relative", single_shot)
    if form == 2:
        return EnhancedValidity(timedelta(seconds=raw[1]), "seconds", single_shot)
    if form == 3:
        hms = [_swapped(o) for o in raw[1:4]]
        if min(hms) < 0:
            raise PduError(f"enhanced validity period at octet {start + 1}: {raw[1:4].hex()} is not HH MM SS digits")
        return EnhancedValidity(timedelta(hours=hms[0], minutes=hms[1], seconds=hms[2]), "hhmmss", single_shot)
    raise PduError(f"enhanced validity period at octet {start}: reserved format {form}")


def write_validity(validity: Validity | None) -> bytes:
    if validity is None:
        return b""
    if isinstance(validity, EnhancedValidity):
        return _write_enhanced(validity)
    if isinstance(validity, datetime):
        return write_timestamp(validity, "absolute validity period")
    return bytes((relative_code(validity),))


def _write_enhanced(v: EnhancedValidity) -> bytes:
    forms = {"none": 0, "relative": 1, "seconds": 2, "hhmmss": 3}
    if v.form not in forms:
        raise PduError(f"enhanced validity form {v.form!r} is not one of {', '.join(forms)}")
    indicator = forms[v.form] | (0x40 if v.single_shot else 0)
    body = b""
    if v.form != "none":
        if v.period is None:
            raise PduError(f"enhanced validity of form {v.form!r} needs a period")
        seconds = v.period // timedelta(seconds=1)
        if v.form == "relative":
            body = bytes((relative_code(v.period),))
        elif v.form == "seconds":
            if not 0 <= seconds <= 255 or v.period % timedelta(seconds=1):
                raise PduError(f"enhanced validity {v.period} is not 0..255 whole seconds")
            body = bytes((seconds,))
        else:
            hours, rest = divmod(seconds, 3600)
            if not 0 <= hours <= 99 or v.period % timedelta(seconds=1):
                raise PduError(f"enhanced validity {v.period} is not whole seconds under 100 hours")
            body = bytes((_bcd2(hours), _bcd2(rest // 60), _bcd2(rest % 60)))
    return (bytes((indicator,)) + body).ljust(TIMESTAMP_OCTETS, b"\x00")
