"""The data coding scheme (3GPP TS 23.038 section 4)."""

from dataclasses import dataclass

from msghub.sms.pdu.model import Alphabet, MessageWaiting, PduError


@dataclass(frozen=True)
class Dcs:
    alphabet: Alphabet
    message_class: int | None = None
    waiting: MessageWaiting | None = None
    auto_delete: bool = False


_ALPHABET_BITS = {0: "gsm7", 1: "8bit", 2: "ucs2", 3: "gsm7"}  # 3: reserved, as gsm7
_BITS_OF = {"gsm7": 0, "8bit": 1, "ucs2": 2}


def parse_dcs(dcs: int, offset: int) -> Dcs:
    """TS 23.038 section 4. Reserved codings count as the GSM 7-bit default
    alphabet, as the section prescribes; compressed text is refused."""
    group = dcs >> 4
    if group <= 0x07:  # 00xx general, 01xx the same marked for automatic deletion
        if dcs & 0x20:
            raise PduError(
                f"DCS 0x{dcs:02X} at octet {offset}: compressed user data (TS 23.038 ch. 3) is not supported"
            )
        klass = dcs & 0x03 if dcs & 0x10 else None
        return Dcs(_ALPHABET_BITS[(dcs >> 2) & 0x03], klass, auto_delete=bool(dcs & 0x40))
    if group in (0x0C, 0x0D, 0x0E):
        waiting = MessageWaiting(active=bool(dcs & 0x08), kind=dcs & 0x03, store=group != 0x0C)
        return Dcs("ucs2" if group == 0x0E else "gsm7", None, waiting)
    if group == 0x0F:
        return Dcs("8bit" if dcs & 0x04 else "gsm7", dcs & 0x03)
    return Dcs("gsm7")  # 1000..1011: reserved coding groups


def make_dcs(d: Dcs) -> int:
    if d.alphabet not in _BITS_OF:
        raise PduError(f"alphabet {d.alphabet!r} is not one of gsm7, 8bit, ucs2")
    if d.message_class is not None and not 0 <= d.message_class <= 3:
        raise PduError(f"message class {d.message_class} is not 0..3")
    if d.waiting is not None:
        w = d.waiting
        if d.message_class is not None or d.auto_delete:
            raise PduError("a message-waiting DCS carries no message class and no automatic deletion")
        if not 0 <= w.kind <= 3:
            raise PduError(f"message-waiting kind {w.kind} is not 0..3")
        if d.alphabet == "8bit" or (d.alphabet == "ucs2" and not w.store):
            raise PduError(f"message-waiting groups have no {d.alphabet} variant for store={w.store}")
        group = 0xE0 if d.alphabet == "ucs2" else (0xD0 if w.store else 0xC0)
        return group | (0x08 if w.active else 0) | w.kind
    dcs = _BITS_OF[d.alphabet] << 2 | (0x40 if d.auto_delete else 0)
    if d.message_class is not None:
        dcs |= 0x10 | d.message_class
    return dcs
