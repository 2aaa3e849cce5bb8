"""The connector interface: one protocol, one module, one small interface.

A connector opens its link, sends one message at a time (the worker calls
send() concurrently up to the connector's window), hands what arrives to the
hub through a HubPort, and reports its link state. It knows nothing of SQL.

probe(config) is the "Test connection" of a kind: a classmethod that reaches
the far side with these settings, without a hub, and says what happened.

A kind whose far side calls the hub over HTTP (mm7: the MMSC POSTs
deliveries and reports) sets receives_http and answers receive_http(); the
composition root mounts POST /<kind>/<connection name> on the web role and
calls it on a connector made for the request (not opened) with the
connection's HubPort.

Outcomes of send():
  return SendResult           the far side accepted the message
  raise TemporaryFailure      not sent; retry later with backoff
  raise PermanentFailure      refused for good; do not retry
  raise UncertainFailure      written to the link but no answer came back; the
                              retry is flagged as a possible duplicate
"""

from __future__ import annotations

import abc
import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol

from msghub.connectors.settings import Setting
from msghub.errors import HubError


@dataclass(frozen=True)
class Attachment:
    content_type: str
    data: bytes
    filename: str | None = None
    content_id: str | None = None


@dataclass(frozen=True)
class OutboundMessage:
    id: int
    attempt: int
    channel: str
    recipient: str
    sender: str | None
    subject: str | None
    text: str
    priority: int = 1
    delivery_report: bool = False
    transliterate: bool = False
    valid_until: datetime | None = None
    send_at: datetime | None = None
    attachments: tuple[Attachment, ...] = ()
    # copies of an MMS (hub.outbox.cc, bcc): kinds that send one MMS to several addresses use them
    cc: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()


@dataclass(frozen=True)
class SegmentRef:
    """One SMS part as the far side acknowledged it."""
    seq: int
    total: int
    operator_ref: str


@dataclass(frozen=True)
class SendResult:
    operator_ref: str
    segments: tuple[SegmentRef, ...] = ()


@dataclass(frozen=True)
class InboundMessage:
    channel: str
    sender: str | None
    recipients: tuple[str, ...]
    text: str
    subject: str | None = None
    attachments: tuple[Attachment, ...] = ()
    operator_ref: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ProbeResult:
    """What a "test connection" found: whether it worked, and what happened."""
    ok: bool
    detail: str


@dataclass(frozen=True)
class DeliveryReport:
    operator_ref: str
    status: str  # delivered, buffered or failed
    reason: str | None = None


class SendFailure(HubError):
    """Base of the failures send() raises; code is machine-readable."""

    def __init__(self, reason: str, code: str = "error") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


class TemporaryFailure(SendFailure):
    pass


class PermanentFailure(SendFailure):
    pass


class UncertainFailure(SendFailure):
    pass


@dataclass(frozen=True)
class HttpRequest:
    """A request the far side sent to the hub's web role, framework-free."""
    method: str
    headers: Mapping[str, str]  # names in lower case
    body: bytes
    client_host: str | None = None


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    body: bytes
    content_type: str = "text/plain; charset=utf-8"
    headers: Mapping[str, str] = field(default_factory=dict)


class HubPort(Protocol):
    """What a connector may ask of the hub."""

    async def deliver(self, message: InboundMessage) -> int: ...

    async def find_received(self, operator_ref: str, meta: Mapping[str, Any]) -> int | None:
        """The id of a message this connection received already with this
        operator reference whose meta holds `meta` (a far side that sends a
        delivery again when its answer was lost); None when there is none."""

    async def report_delivery(self, report: DeliveryReport) -> int | None: ...

    async def set_state(self, state: str, error: str | None = None) -> None: ...


class Connector(abc.ABC):
    kind: ClassVar[str]
    channels: ClassVar[tuple[str, ...]]
    settings: ClassVar[tuple[Setting, ...]]
    description: ClassVar[str]
    # the page under docs/ that documents the kind and its settings (tests/test_docs.py checks)
    docs_page: ClassVar[str | None] = None  # None: protocols/<KIND>.md
    # how many send() calls may be in flight at once
    window: int = 1
    # the validated settings; a kind narrows this to its TypedDict, settings_type
    config: Mapping[str, Any]
    settings_type: ClassVar[type | None] = None
    # the far side POSTs to the hub's web role (see receive_http)
    receives_http: ClassVar[bool] = False

    @classmethod
    def channels_for(cls, config: Mapping[str, Any]) -> tuple[str, ...]:
        """The channels a connection with this config carries (a modem with
        an MMSC URL carries MMS too); stored on the connection's row."""
        return cls.channels

    @classmethod
    def with_defaults(cls, config: Mapping[str, Any]) -> dict[str, Any]:
        """The config with each declared setting it lacks at its default (a
        config stored by an older msghub may lack a setting added since)."""
        return {s.name: s.default for s in cls.settings} | dict(config)

    def __init__(self, name: str, config: dict[str, Any], hub: HubPort) -> None:
        self.name = name
        self.config = config
        self.hub = hub
        self._lost = asyncio.Event()
        self.lost_reason = ""

    def link_lost(self, reason: str) -> None:
        """Called by the connector when its link drops; the supervisor reconnects."""
        self.lost_reason = reason
        self._lost.set()

    async def wait_lost(self) -> str:
        await self._lost.wait()
        return self.lost_reason

    @abc.abstractmethod
    async def open(self) -> None:
        """Brings the link up; raises on failure (the supervisor retries)."""

    @abc.abstractmethod
    async def send(self, message: OutboundMessage) -> SendResult: ...

    @abc.abstractmethod
    async def close(self) -> None: ...

    async def receive_http(self, request: HttpRequest) -> HttpAnswer:
        """Answers what the far side POSTed to /<kind>/<connection name>,
        handing what it carries to self.hub. Only for kinds that set
        receives_http."""
        return HttpAnswer(404, f"the {self.kind} kind receives nothing over HTTP".encode())

    @classmethod
    async def probe(cls, config: dict[str, Any]) -> ProbeResult:
        """Reaches the far side with these (validated) settings, without a hub,
        and closes again. A kind with a far side overrides this."""
        return ProbeResult(False, f"the {cls.kind} kind has no test")
