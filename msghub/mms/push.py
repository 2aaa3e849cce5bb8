"""WSP push PDUs (WAP-230-WSP 8.2.4.1), which carry an m-notification-ind to a
phone in an SMS to port 2948: transaction id, PDU type, headers (content type
first), body."""

from __future__ import annotations

from dataclasses import dataclass

from msghub.mms import wsp
from msghub.mms.content import ContentType, encode_content_type, read_content_type
from msghub.mms.errors import MmsError

PUSH = 0x06
CONFIRMED_PUSH = 0x07
MMS_PORT = 2948  # WAP push to the MMS user agent (0x0B84)
MMS_CONTENT_TYPE = "application/vnd.wap.mms-message"
X_WAP_APPLICATION_ID = 0x2F
MMS_UA_APPLICATION = 0x04  # x-wap-application:mms.ua


@dataclass(frozen=True)
class WapPush:
    transaction_id: int
    content_type: ContentType
    body: bytes
    application_id: int | str | None = None
    pdu_type: int = PUSH

    @property
    def is_mms(self) -> bool:
        return self.content_type.media_type.lower() == MMS_CONTENT_TYPE


def decode_push(data: bytes) -> WapPush:
    """A connectionless WSP push (the user data after the UDH); raises MmsError."""
    r = wsp.Reader(bytes(data))
    transaction_id = r.byte()
    pdu_type = r.byte()
    if pdu_type not in (PUSH, CONFIRMED_PUSH):
        raise MmsError(f"not a WSP push: PDU type 0x{pdu_type:02X} at offset 1")
    headers = r.sub(wsp.read_uintvar(r))
    content_type = read_content_type(headers)
    application: int | str | None = None
    while not headers.at_end():
        first = headers.peek()
        if first >= 0x80 and first & 0x7F == X_WAP_APPLICATION_ID:
            headers.pos += 1
            application = wsp.read_integer(headers) if headers.peek() >= 0x80 or headers.peek() < 0x1F \
                else wsp.read_text_string(headers)  # fmt: skip
        elif first >= 0x80:
            headers.pos += 1
            wsp.skip_value(headers)
        else:
            wsp.read_text_string(headers)  # an application header: name, then its value
            if not headers.at_end():
                wsp.read_text_string(headers)
    return WapPush(transaction_id, content_type, r.rest(), application, pdu_type)


def encode_push(push: WapPush) -> bytes:
    headers = encode_content_type(push.content_type)
    if isinstance(push.application_id, int):
        headers += bytes([0x80 | X_WAP_APPLICATION_ID]) + wsp.encode_integer(push.application_id)
    elif isinstance(push.application_id, str):
        headers += bytes([0x80 | X_WAP_APPLICATION_ID]) + wsp.encode_text_string(push.application_id)
    if not 0 <= push.transaction_id <= 0xFF:
        raise MmsError(f"push transaction id out of range 0-255: {push.transaction_id}")
    return bytes([push.transaction_id, push.pdu_type]) + wsp.encode_uintvar(len(headers)) + headers + push.body


def mms_push(notification: bytes, transaction_id: int = 0) -> bytes:
    """The WSP push that carries an encoded m-notification-ind to a phone."""
    return encode_push(WapPush(transaction_id, ContentType(MMS_CONTENT_TYPE), notification, MMS_UA_APPLICATION))


__all__ = ["MMS_PORT", "WapPush", "decode_push", "encode_push", "mms_push"]
