"""The loopback connection kind: what it sends comes back.

Each message is acknowledged at once; after `delay_ms` it returns as a
received message (from the recipient, to the sender) and, when asked for, a
delivery report marks it delivered. It runs the whole pipeline end to end
without any network, and is the demo connection of `make run`.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import uuid
from typing import Any, TypedDict

from msghub.connectors.base import (
    Connector,
    DeliveryReport,
    HubPort,
    InboundMessage,
    OutboundMessage,
    PermanentFailure,
    ProbeResult,
    SegmentRef,
    SendResult,
)
from msghub.connectors.settings import Setting

log = logging.getLogger(__name__)


def _sms_segment_count(text: str, transliterate: bool) -> int:
    from msghub.sms.split import plan_sms

    return plan_sms(text, transliterate=transliterate).segments


class LoopbackSettings(TypedDict):
    """LoopbackConnector.settings as a type (the contract tests check that the two agree)."""
    delay_ms: int
    echo: bool
    delivery_reports: bool
    reply_prefix: str
    own_number: str
    fail_prefix: str
    window: int


class LoopbackConnector(Connector):
    kind = "loopback"
    channels = ("sms", "mms", "email")
    description = "sends every message back to the hub as received, with a delivery report"
    docs_page = "OPERATIONS.md"
    settings = (
        Setting("delay_ms", int, "how long a message takes to come back, in milliseconds",
                default=1000, minimum=0, maximum=3_600_000),
        Setting("echo", bool, "return each message as a received message", default=True),
        Setting("delivery_reports", bool, "report each message as delivered", default=True),
        Setting("reply_prefix", str, "text put before the echoed text", default="echo: "),
        Setting("own_number", str, "the address echoes are sent to when a message has no sender",
                default="loopback"),
        Setting("fail_prefix", str,
                "recipients starting with this are refused permanently (for tests); empty: none",
                default=""),
        Setting("window", int, "messages in flight at once", default=100, minimum=1, maximum=1000),
    )

    settings_type = LoopbackSettings
    config: LoopbackSettings

    def __init__(self, name: str, config: dict[str, Any], hub: HubPort) -> None:
        super().__init__(name, config, hub)
        self.window = int(self.config["window"])
        self._tasks: set[asyncio.Task[None]] = set()
        self._ids = itertools.count(1)
        self._run = uuid.uuid4().hex[:8]

    @classmethod
    async def probe(cls, config: dict[str, Any]) -> ProbeResult:
        return ProbeResult(True, "loopback has no link to test: it sends every message back to the hub itself")

    async def open(self) -> None:
        log.info("loopback %s ready (delay %s ms)", self.name, self.config["delay_ms"])

    async def send(self, message: OutboundMessage) -> SendResult:
        prefix = self.config["fail_prefix"]
        if prefix and message.recipient.startswith(prefix):
            raise PermanentFailure(f"loopback refuses {message.recipient} (fail_prefix {prefix})",
                                   code="refused")
        ref = f"loop-{self._run}-{next(self._ids)}"
        segments: tuple[SegmentRef, ...] = ()
        if message.channel == "sms":
            total = _sms_segment_count(message.text, message.transliterate)
            segments = tuple(SegmentRef(seq, total, f"{ref}.{seq}") for seq in range(1, total + 1))
        task = asyncio.create_task(self._come_back(message, ref, segments))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return SendResult(operator_ref=ref, segments=segments)

    async def _come_back(self, message: OutboundMessage, ref: str,
                         segments: tuple[SegmentRef, ...]) -> None:
        await asyncio.sleep(self.config["delay_ms"] / 1000)
        try:
            if self.config["delivery_reports"]:
                for report_ref in [s.operator_ref for s in segments] or [ref]:
                    await self.hub.report_delivery(DeliveryReport(report_ref, "delivered"))
            if self.config["echo"]:
                await self.hub.deliver(InboundMessage(
                    channel=message.channel, sender=message.recipient,
                    recipients=(message.sender or self.config["own_number"],),
                    text=self.config["reply_prefix"] + message.text,
                    subject=message.subject, attachments=message.attachments,
                    operator_ref=ref, meta={"loopback_of": message.id}))
        except Exception:
            log.exception("loopback %s could not return message %s", self.name, message.id)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks))
