"""What an SMSC sends us: mobile-originated messages (52) and delivery
notifications (53), turned into hub calls and answered.

A 52 or 53 is acknowledged only after the hub stored it (deliver() or
report_delivery() returned, so the row is committed); when storing fails it
gets a NACK and the SMSC sends it again later.

Concatenated parts are reassembled (msghub.sms.reassembly). A part that does
not complete its message is acknowledged once it is held in memory; the
message is stored when its last part arrives, or, when parts are missing
after reassembly_timeout_s, stored as partial with meta
{"partial": true, "missing": [...]}. The reassembly state belongs to the
connection (its HubPort), not to one link, so parts split across a reconnect
still come together.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from collections.abc import AsyncIterator
from typing import Any

from msghub.connectors.base import Attachment, DeliveryReport, HubPort, InboundMessage
from msghub.connectors.emi.codec import (
    DeliverSM,
    DeliveryNotification,
    DeliveryStatus,
    Frame,
    Operation,
    UcpError,
    ack_frame,
    nack_frame,
)
from msghub.connectors.emi.reasons import describe_rsn
from msghub.sms.errors import SmsDecodeError
from msghub.sms.reassembly import Fragment, Reassembled, Reassembler
from msghub.sms.udh import parse_udh

log = logging.getLogger(__name__)

EC_SYNTAX = "02"
EC_TRY_LATER = "04"  # temporary: the SMSC sends it again
TEXT, DATA = "text", "data"
BINARY_TYPE = "application/octet-stream"

DR_STATUS = {
    DeliveryStatus.DELIVERED: "delivered",
    DeliveryStatus.BUFFERED: "buffered",
    DeliveryStatus.NOT_DELIVERED: "failed",
}


class InboundState:
    """Reassembly of one connection, and complete messages not yet stored."""

    def __init__(self, timeout_s: float) -> None:
        self.reassembler = Reassembler(timeout_s)
        self.unstored: list[Reassembled] = []


_STATES: weakref.WeakKeyDictionary[Any, InboundState] = weakref.WeakKeyDictionary()


def state_for(hub: HubPort, timeout_s: float) -> InboundState:
    """The connection's state: the supervisor keeps one HubPort per
    connection across reconnects, so it keys the state."""
    try:
        state = _STATES.get(hub)
        if state is None:
            state = _STATES[hub] = InboundState(timeout_s)
    except TypeError:  # a HubPort that cannot be weakly referenced
        return InboundState(timeout_s)
    state.reassembler.timeout_s = timeout_s  # the setting may have changed
    return state


class KeyedLock:
    """One lock per key, forgotten when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (None, 0))
        lock = lock or asyncio.Lock()
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)


class Inbound:
    def __init__(self, name: str, hub: HubPort, state: InboundState) -> None:
        self.name = name
        self.hub = hub
        self.state = state
        # Reports on the parts of one message (one recipient) are stored one
        # after the other: applied concurrently, each transaction would count
        # the parts delivered without seeing the others' (uncommitted) ones,
        # and the message would never be marked delivered.
        self.report_locks = KeyedLock()

    async def handle(self, op: Operation) -> Frame:
        """The answer to a 52 or 53, given once the hub has it."""
        if isinstance(op, DeliveryNotification):
            return await self._report(op)
        if isinstance(op, DeliverSM):
            return await self._mobile_originated(op)
        return nack_frame(op, "03")

    # -- 53 --------------------------------------------------------------

    async def _report(self, op: DeliveryNotification) -> Frame:
        try:
            status = DR_STATUS[op.status]
            rsn = op.reason
        except UcpError as exc:
            log.warning("%s: unreadable delivery notification: %s", self.name, exc)
            return nack_frame(op, EC_SYNTAX)
        adc, scts = op.submit_reference
        # Rsn says why a message is buffered or failed; with Dst 0 it means nothing.
        reason = describe_rsn(rsn) if rsn is not None and status != "delivered" else None
        try:
            async with self.report_locks.hold(adc):
                await self.hub.report_delivery(DeliveryReport(f"{adc}:{scts}", status, reason))
        except Exception:
            log.exception("%s: could not store the delivery report for %s:%s", self.name, adc, scts)
            return nack_frame(op, EC_TRY_LATER)
        return ack_frame(op)

    # -- 52 --------------------------------------------------------------

    async def _mobile_originated(self, op: DeliverSM) -> Frame:
        try:
            sender = op.sender
            text = op.text
            data = op.user_data if text is None else b""
            udh = parse_udh(op.udh) if op.udh else None
        except (UcpError, SmsDecodeError) as exc:
            log.warning("%s: unreadable mobile-originated message: %s", self.name, exc)
            return nack_frame(op, EC_SYNTAX)
        concat = udh.concat if udh else None
        if concat is None:
            meta: dict[str, Any] = {"scts": op.scts}
            if op.udh:
                meta["udh"] = op.udh.hex()
            message = _message(TEXT if text is not None else DATA, op.adc, sender,
                               text if text is not None else "", data, meta, f"{op.oadc}:{op.scts}")
            return await self._store(op, message)
        kind = TEXT if text is not None else DATA
        fragment = Fragment(key=f"{kind}:{op.adc}", sender=sender, ref=concat.ref, total=concat.total,
                            seq=concat.seq, text=text if text is not None else data.decode("latin-1"),
                            received_at=time.monotonic())
        try:
            done = self.state.reassembler.add(fragment)
        except SmsDecodeError as exc:
            log.warning("%s: bad concatenated part: %s", self.name, exc)
            return nack_frame(op, EC_SYNTAX)
        if done is None:
            return ack_frame(op)  # held until its message is complete
        if await self._store_reassembled(done):
            return ack_frame(op)
        # Kept to be stored later (the reassembler has already let it go);
        # the NACK makes the SMSC resend this part, which then counts as a copy.
        self.state.unstored.append(done)
        return nack_frame(op, EC_TRY_LATER)

    async def _store(self, op: DeliverSM, message: InboundMessage) -> Frame:
        try:
            # An SMSC sends a message again when its ACK never came (a hub
            # killed between its commit and the ACK): the same originator and
            # SCTS stored already on this connection is only ACKed.
            if message.operator_ref and await self.hub.find_received(message.operator_ref, {"scts": op.scts}):
                log.info("%s: %s sent again by the SMSC; stored already", self.name, message.operator_ref)
                return ack_frame(op)
            await self.hub.deliver(message)
        except Exception:
            log.exception("%s: could not store a message from %s", self.name, message.sender)
            return nack_frame(op, EC_TRY_LATER)
        return ack_frame(op)

    async def _store_reassembled(self, done: Reassembled) -> bool:
        kind, _, recipient = done.key.partition(":")
        meta: dict[str, Any] = {"parts": done.total, "concat_ref": done.ref}
        if done.partial:
            meta.update(partial=True, missing=list(done.missing), parts_received=done.parts_received)
        data = done.text.encode("latin-1") if kind == DATA else b""
        message = _message(kind, recipient, done.sender, done.text if kind == TEXT else "", data, meta, None)
        try:
            await self.hub.deliver(message)
        except Exception:
            log.exception("%s: could not store a message from %s", self.name, done.sender)
            return False
        return True

    async def expire(self, now: float | None = None) -> None:
        """Stores timed-out partial messages and retries unstored ones."""
        expired = self.state.reassembler.expire(time.monotonic() if now is None else now)
        for partial in expired:
            log.info("%s: message from %s ref %d incomplete after %g s; stored without parts %s",
                     self.name, partial.sender, partial.ref, self.state.reassembler.timeout_s,
                     list(partial.missing))
        self.state.unstored.extend(expired)
        while self.state.unstored:
            if not await self._store_reassembled(self.state.unstored[0]):
                return  # the hub cannot store now: next time
            self.state.unstored.pop(0)


def _message(kind: str, recipient: str, sender: str, text: str, data: bytes, meta: dict[str, Any],
             operator_ref: str | None) -> InboundMessage:
    attachments = (Attachment(BINARY_TYPE, data),) if kind == DATA else ()
    return InboundMessage(channel="sms", sender=sender or None, recipients=(recipient,), text=text,
                          attachments=attachments, operator_ref=operator_ref, meta=meta)
