"""Text mode (+CMGF=1) forms: strings in the +CSCS character set, and the
header fields +CMGR/+CMGL/+CMT/+CDS print for a stored PDU (TS 27.005 3.4)."""

from __future__ import annotations

from msghub.devtools.modem import sms as pdus
from msghub.devtools.modem.engine import Engine
from msghub.devtools.modem.storage import Stored
from msghub.sms.pdu import SmsDeliver, SmsStatusReport, SmsSubmit


def from_te(e: Engine, text: str) -> str:
    """Text-mode strings arrive in the +CSCS character set: UCS2 is hex."""
    if e.state.settings.cscs != "UCS2":
        return text
    try:
        if len(text) % 4:
            raise ValueError(text)
        return bytes.fromhex(text).decode("utf-16-be")
    except ValueError:
        raise e.cms(305) from None


def to_te(e: Engine, text: str) -> str:
    return text.encode("utf-16-be", "surrogatepass").hex().upper() if e.state.settings.cscs == "UCS2" else text


def text_header(e: Engine, item: Stored, stat: str) -> tuple[str, str]:
    """Text-mode header fields and body of a stored PDU, in the +CSCS set."""
    msg = pdus.decode_stored(item.pdu)
    if isinstance(msg, SmsDeliver):
        body = to_te(e, msg.user_data) if isinstance(msg.user_data, str) else msg.user_data.hex().upper()
        return f'"{stat}","{to_te(e, msg.sender.number)}",,"{pdus.text_mode_time(msg.scts)}"', body
    if isinstance(msg, SmsStatusReport):
        return (f'"{stat}",6,{msg.mr},"{msg.recipient.number}",{145 if msg.recipient.ton == 1 else 129},'
                f'"{pdus.text_mode_time(msg.scts)}","{pdus.text_mode_time(msg.discharge)}",{msg.status}'), ""
    if isinstance(msg, SmsSubmit):
        body = to_te(e, msg.user_data) if isinstance(msg.user_data, str) else msg.user_data.hex().upper()
        return f'"{stat}","{to_te(e, msg.recipient.number)}",', body
    return f'"{stat}"', ""
