"""What a device receives, turned into hub calls.

SMS-DELIVER: a message (concatenated parts reassembled by the SMS core); a
binary one to WAP push port 2948 goes to on_wap_push first (the MMS client,
msghub/connectors/mm1), and is stored as a data SMS only when that says it
is no MMS push;
SMS-STATUS-REPORT: a delivery report on the segment sent with its TP-MR from
the same device. The reassembly state lives as long as the connector object
(one per connection run).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from msghub.connectors.base import Attachment, DeliveryReport, HubPort, InboundMessage
from msghub.connectors.mm1.agent import PushError
from msghub.sms.errors import SmsDecodeError
from msghub.sms.pdu import PduError, SmsDeliver, SmsStatusReport, decode
from msghub.sms.reassembly import Fragment, Reassembled, Reassembler

log = logging.getLogger(__name__)

BINARY_TYPE = "application/octet-stream"
WAP_PUSH_PORT = 2948
# (device key, sender, the push's octets) -> "message", "report", "notice", or None: not for it
WapPushHandler = Callable[[str, str, bytes], Awaitable[str | None]]
REPORT_STATUS = {"delivered": "delivered", "pending": "buffered", "failed": "failed"}


def segment_ref(device_key: str, mr: int) -> str:
    """The operator reference of a segment: the device and its TP-MR (0..255,
    wrapping; the hub matches the newest open segment with it)."""
    return f"{device_key}/{mr}"


class InboundError(Exception):
    """A PDU that is neither a message nor a report we can read."""


class Inbound:
    def __init__(self, name: str, hub: HubPort, own_number: str, reassembly_timeout_s: float,
                 on_wap_push: WapPushHandler | None = None) -> None:
        self.name = name
        self.on_wap_push = on_wap_push
        self.hub = hub
        self.own_number = own_number
        self.reassembler = Reassembler(reassembly_timeout_s)
        self.unstored: list[Reassembled] = []

    async def handle_pdu(self, device_key: str, pdu: str) -> str:
        """Stores what pdu carries; returns "message", "part", "report" or
        raises InboundError for a PDU to drop. Hub errors propagate: the caller
        keeps the PDU (in storage, or unacknowledged) to try again."""
        try:
            decoded = decode(pdu, direction="sc_to_ms")
        except (PduError, SmsDecodeError, ValueError) as exc:
            raise InboundError(f"unreadable PDU {pdu[:60]!r}: {exc}") from None
        if isinstance(decoded, SmsStatusReport):
            await self._report(device_key, decoded)
            return "report"
        if isinstance(decoded, SmsDeliver):
            return await self._deliver(device_key, decoded)
        raise InboundError(f"a {type(decoded).__name__} is neither a message nor a status report")

    async def _report(self, device_key: str, report: SmsStatusReport) -> None:
        status = REPORT_STATUS[report.outcome]
        reason = None if status == "delivered" else f"{report.reason} (TP-ST 0x{report.status:02x})"
        await self.hub.report_delivery(DeliveryReport(segment_ref(device_key, report.mr), status, reason))

    async def _deliver(self, device_key: str, sms: SmsDeliver) -> str:
        sender = sms.sender.number
        is_text = isinstance(sms.user_data, str)
        text = sms.user_data if isinstance(sms.user_data, str) else sms.user_data.decode("latin-1")
        concat = sms.udh.concat if sms.udh else None
        ports = sms.udh.ports if sms.udh else None
        wap = self.on_wap_push is not None and not is_text and ports is not None and ports.dst == WAP_PUSH_PORT
        if wap and (concat is None or concat.total <= 1):
            kind = await self._push(device_key, sender, text.encode("latin-1"))
            if kind is not None:
                return kind
        if concat is None or concat.total <= 1:
            meta: dict[str, Any] = {"scts": sms.scts.isoformat(), "device": device_key}
            if sms.message_class is not None:
                meta["class"] = sms.message_class
            if sms.udh is not None:
                meta["udh"] = sms.udh.to_bytes().hex()
            await self.hub.deliver(_message(is_text, self.own_number, sender, text, meta))
            return "message"
        kind = "text" if is_text else ("wap" if wap else "data")
        fragment = Fragment(key=f"{kind}:{device_key}", sender=sender, ref=concat.ref, total=concat.total,
                            seq=concat.seq, text=text, received_at=time.monotonic())
        try:
            done = self.reassembler.add(fragment)
        except SmsDecodeError as exc:
            raise InboundError(f"bad concatenated part: {exc}") from None
        if done is not None:
            await self._store(done)
            return "message"
        return "part"

    async def _push(self, device_key: str, sender: str, data: bytes) -> str | None:
        assert self.on_wap_push is not None
        try:
            return await self.on_wap_push(device_key, sender, data)
        except PushError as exc:
            raise InboundError(str(exc)) from None

    async def _store(self, done: Reassembled) -> None:
        kind, _, device_key = done.key.partition(":")
        meta: dict[str, Any] = {"parts": done.total, "concat_ref": done.ref, "device": device_key}
        if done.partial:
            meta.update(partial=True, missing=list(done.missing), parts_received=done.parts_received)
        try:
            if kind == "wap" and not done.partial and await self._push(
                    device_key, done.sender, done.text.encode("latin-1")) is not None:  # fmt: skip
                return
            await self.hub.deliver(_message(kind == "text", self.own_number, done.sender, done.text, meta))
        except InboundError as exc:
            log.warning("%s: dropping a WAP push from %s: %s", self.name, done.sender, exc)
        except Exception:
            self.unstored.append(done)  # the reassembler let it go: keep it here
            raise

    async def expire(self, now: float | None = None) -> None:
        """Stores timed-out partial messages and retries unstored ones."""
        self.unstored.extend(self.reassembler.expire(time.monotonic() if now is None else now))
        while self.unstored:
            done = self.unstored.pop(0)
            try:
                await self._store(done)
            except Exception:
                log.exception("%s: could not store a message from %s; trying again later", self.name, done.sender)
                return


def _message(is_text: bool, recipient: str, sender: str, text: str, meta: dict[str, Any]) -> InboundMessage:
    if is_text:
        return InboundMessage(channel="sms", sender=sender or None, recipients=(recipient,), text=text, meta=meta)
    return InboundMessage(channel="sms", sender=sender or None, recipients=(recipient,), text="",
                          attachments=(Attachment(BINARY_TYPE, text.encode("latin-1")),), meta=meta)
