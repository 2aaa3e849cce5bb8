"""The MMS client of a modem connection.

Inbound: the user data of a WAP push SMS (port 2948) is a WSP push; when it
carries an m-notification-ind the MMS is fetched from its Content-Location,
stored with its parts and answered with m-notifyresp-ind (Retrieved). A
fetch that fails for now is answered Deferred and tried again (every
RETRY_FIRST_S, doubling, until the notification expires); once it succeeds
the MMSC gets an m-acknowledge-ind. An m-delivery-ind (or m-read-orig-ind)
becomes the delivery report of the message whose m-send-conf named its
Message-ID.

Outbound: send() POSTs an m-send-req to the MMSC URL; the m-send-conf's
Message-ID becomes the message's operator reference.
"""

from __future__ import annotations

import logging
import time
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from msghub.connectors.base import (
    DeliveryReport,
    HubPort,
    OutboundMessage,
    PermanentFailure,
    SendFailure,
    SendResult,
    TemporaryFailure,
    UncertainFailure,
)
from msghub.connectors.mm1.client import Mm1Client, fetch_hosts
from msghub.connectors.mm1.content import inbound_message, send_req
from msghub.connectors.mm1.status import delivery_status, response_name, send_outcome
from msghub.mms import (
    AcknowledgeInd,
    DeliveryInd,
    MmsError,
    NotificationInd,
    NotifyRespInd,
    Pdu,
    ReadOrigInd,
    RetrieveConf,
    SendConf,
    decode_pdu,
)
from msghub.mms.push import decode_push

log = logging.getLogger(__name__)
RETRY_FIRST_S = 5.0
RETRY_MAX_S = 600.0
DEFAULT_EXPIRY = timedelta(days=2)
RETRIEVE_OK = 0x80


class PushError(Exception):
    """A WAP push to the MMS client that cannot be read."""


@dataclass
class Deferred:
    notification: NotificationInd
    device: str
    expires: float  # time.monotonic()
    next_try: float
    delay_s: float = RETRY_FIRST_S


class Mm1Agent:
    def __init__(self, name: str, hub: HubPort, own_number: str, config: Mapping[str, Any]) -> None:
        self.name = name
        self.hub = hub
        self.own_number = own_number
        self.client = Mm1Client(config)
        self.deferred: list[Deferred] = []
        # a notification is an SMS anyone can send: fetch only from the operator's hosts
        self.fetch_hosts = fetch_hosts(str(config.get("mms_fetch_hosts") or "")) or (
            (urllib.parse.urlsplit(str(config["mms_url"])).hostname or "").lower(),)

    async def aclose(self) -> None:
        await self.client.aclose()

    # --- outbound ------------------------------------------------------------

    async def send(self, message: OutboundMessage) -> SendResult:
        transaction_id = f"{self.name}-{message.id}-{message.attempt}"
        try:
            request = send_req(message, transaction_id)
        except MmsError as exc:
            raise PermanentFailure(f"cannot build the m-send-req: {exc}", code="mm1_build") from None
        answer = await self.client.post(request)
        if not isinstance(answer, SendConf):
            got = answer.message_type if answer is not None else "nothing"
            raise UncertainFailure(f"the MMSC answered an m-send-req with {got}", code="mm1_answer")
        code = answer.response_status if answer.response_status is not None else -1
        verdict = send_outcome(code)
        if verdict == "ok":
            if not answer.message_id:
                raise UncertainFailure("the MMSC accepted the MMS but named no Message-ID", code="mm1_no_id")
            return SendResult(operator_ref=answer.message_id)
        reason = f"MMSC response status 0x{code:02X} {response_name(code)}"
        if answer.response_text:
            reason += f": {answer.response_text}"
        failure = TemporaryFailure if verdict == "retry" else PermanentFailure
        raise failure(reason, code=f"mm1_{code:02x}")

    # --- inbound -------------------------------------------------------------

    async def handle_push(self, device: str, sender: str, user_data: bytes) -> str | None:
        """What a WAP push SMS carried: "message", "report", "notice" (nothing
        to store), or None when it is no MMS push (the caller stores it as a
        data SMS). Raises PushError for an unreadable one; hub errors propagate."""
        try:
            push = decode_push(user_data)
        except MmsError as exc:
            raise PushError(f"unreadable WAP push from {sender}: {exc}") from None
        if not push.is_mms:
            return None
        try:
            pdu = decode_pdu(push.body)
        except MmsError as exc:
            raise PushError(f"unreadable MMS PDU in a WAP push from {sender}: {exc}") from None
        if isinstance(pdu, NotificationInd):
            return await self._notified(device, pdu)
        if isinstance(pdu, DeliveryInd | ReadOrigInd):
            await self._report(pdu)
            return "report"
        log.info("mm1 %s: a push from %s carries %s; nothing to do", self.name, sender, pdu.message_type)
        return "notice"

    async def _report(self, pdu: DeliveryInd | ReadOrigInd) -> None:
        if not pdu.message_id:
            raise PushError(f"{pdu.message_type} without a Message-ID")
        if isinstance(pdu, DeliveryInd):
            status, reason = delivery_status(pdu.status)
            if pdu.status_text:
                reason = f"{reason}: {pdu.status_text}" if reason else pdu.status_text
        else:
            status, reason = "delivered", f"read report: {pdu.read_status}"
        found = await self.hub.report_delivery(DeliveryReport(pdu.message_id, status, reason))
        log.info("mm1 %s: %s for %s: %s (message %s)", self.name, pdu.message_type, pdu.message_id, status, found)

    async def _notified(self, device: str, notification: NotificationInd) -> str:
        if not notification.content_location:
            raise PushError("m-notification-ind without a Content-Location")
        host = (urllib.parse.urlsplit(notification.content_location).hostname or "").lower()
        if host not in self.fetch_hosts:
            raise PushError(f"m-notification-ind names {notification.content_location}, not on "
                            f"{', '.join(self.fetch_hosts)} (mms_fetch_hosts): not fetched")  # fmt: skip
        try:
            stored = await self._retrieve(device, notification)
        except TemporaryFailure as exc:
            log.warning("mm1 %s: cannot fetch %s now (%s); deferred", self.name, notification.content_location, exc)
            self._defer(device, notification)
            await self._answer(NotifyRespInd(transaction_id=notification.transaction_id, status="deferred",
                                             mms_version=notification.mms_version))  # fmt: skip
            return "notice"
        except (PermanentFailure, UncertainFailure) as exc:
            log.warning("mm1 %s: %s cannot be fetched: %s; rejected", self.name, notification.content_location, exc)
            await self._answer(NotifyRespInd(transaction_id=notification.transaction_id, status="rejected",
                                             mms_version=notification.mms_version))  # fmt: skip
            return "notice"
        await self._answer(NotifyRespInd(transaction_id=notification.transaction_id, status="retrieved",
                                         mms_version=notification.mms_version))  # fmt: skip
        return "message" if stored else "notice"

    async def _retrieve(self, device: str, notification: NotificationInd) -> RetrieveConf:
        location = str(notification.content_location)
        conf = await self.client.fetch(location)
        if not isinstance(conf, RetrieveConf):
            raise PermanentFailure(f"{location} gave {conf.message_type}, not m-retrieve-conf", code="mm1_answer")
        if conf.retrieve_status not in (None, RETRIEVE_OK):
            status = conf.retrieve_status
            failure = TemporaryFailure if 0xC0 <= status < 0xE0 else PermanentFailure
            raise failure(f"retrieve status 0x{status:02X} {conf.retrieve_text or ''}".strip(), code="mm1_retrieve")
        meta = {key: value for key, value in (
            ("content_location", location), ("transaction_id", notification.transaction_id),
            ("message_id", conf.message_id), ("device", device), ("mms_version", conf.mms_version),
            ("cc", [to.split("/", 1)[0] for to in conf.cc] or None)) if value}  # fmt: skip
        message = inbound_message(conf, self.own_number, meta)
        # a notification sent again (the MMSC missed our answer): fetched, not stored twice
        if message.operator_ref and await self.hub.find_received(message.operator_ref,
                                                                 {"mm1": {"content_location": location}}):
            log.info("mm1 %s: %s is stored already", self.name, location)
        else:
            message_id = await self.hub.deliver(message)
            log.info("mm1 %s: MMS from %s (%s) stored as message %s", self.name, message.sender, location, message_id)
        return conf

    async def _answer(self, pdu: Pdu) -> None:
        """m-notifyresp-ind and m-acknowledge-ind: the MMSC resends its
        notification when one is lost, so a failure is only logged."""
        try:
            await self.client.post(pdu)
        except SendFailure as exc:
            log.warning("mm1 %s: the MMSC did not take our %s: %s", self.name, pdu.message_type, exc)

    def _defer(self, device: str, notification: NotificationInd) -> None:
        now = time.monotonic()
        expiry = notification.expiry
        if isinstance(expiry, datetime):
            left = (expiry - datetime.now(UTC)).total_seconds()
        else:
            left = (expiry or DEFAULT_EXPIRY).total_seconds()
        self.deferred.append(Deferred(notification, device, now + left, now + RETRY_FIRST_S))

    async def retry_deferred(self, now: float | None = None) -> None:
        """Fetches deferred MMS whose time has come (the modem's expire loop calls this)."""
        now = time.monotonic() if now is None else now
        for item in list(self.deferred):
            if item.expires <= now:
                self.deferred.remove(item)
                log.warning("mm1 %s: %s expired before it could be fetched", self.name,
                            item.notification.content_location)  # fmt: skip
                continue
            if item.next_try > now:
                continue
            try:
                conf = await self._retrieve(item.device, item.notification)
            except TemporaryFailure as exc:
                item.delay_s = min(item.delay_s * 2, RETRY_MAX_S)
                item.next_try = now + item.delay_s
                log.info("mm1 %s: %s still cannot be fetched: %s", self.name, item.notification.content_location, exc)
                continue
            except (PermanentFailure, UncertainFailure) as exc:
                self.deferred.remove(item)
                log.warning("mm1 %s: giving up on %s: %s", self.name, item.notification.content_location, exc)
                continue
            self.deferred.remove(item)
            await self._answer(AcknowledgeInd(transaction_id=conf.transaction_id or item.notification.transaction_id,
                                              mms_version=item.notification.mms_version))  # fmt: skip
