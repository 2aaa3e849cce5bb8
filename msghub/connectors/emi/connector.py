"""The EMI/UCP connection kind: a client link to an operator's SMSC.

open() connects (TCP, or TLS), logs in with operation 60 and starts the
keep-alive; send() submits a message as one 51 per SMS part; the SMSC's 52s
(messages from phones) and 53s (delivery notifications) go to the hub.
The transport half (TRNs, window, ack timeouts, throttle, keep-alive,
malformed frames) is session.py; the 52/53 half is inbound.py. The
supervisor reconnects after link_lost(); this class never loops on its own.

Outcomes of send():
- every part acknowledged: SendResult with the first part's AdC:SCTS as the
  operator reference and one SegmentRef per part (53s refer to these);
- a NACK: PermanentFailure or TemporaryFailure by its error code, or
  UncertainFailure when earlier parts were already accepted (a retry sends
  them again);
- no answer (ack timeout, link lost after writing): UncertainFailure;
- link down before anything was written: TemporaryFailure.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import ssl
from datetime import UTC, datetime, timedelta
from typing import Any, TypedDict
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from msghub.connectors.base import (
    Connector,
    HubPort,
    OutboundMessage,
    PermanentFailure,
    ProbeResult,
    SegmentRef,
    SendResult,
    TemporaryFailure,
    UncertainFailure,
)
from msghub.connectors.emi.codec import (
    Ack,
    FieldError,
    Nack,
    Notify,
    SubmitSM,
    describe_ec,
    is_permanent_error,
    login_frame,
    make_submit,
)
from msghub.connectors.emi.inbound import Inbound, state_for
from msghub.connectors.emi.probe import probe, tls_context
from msghub.connectors.emi.session import (
    AckTimeout,
    EmiSession,
    GarbledAnswer,
    LinkClosed,
    SessionConfig,
    SessionError,
)
from msghub.connectors.settings import Setting
from msghub.errors import HubError
from msghub.sms.errors import SmsEncodingError
from msghub.sms.split import Encoding, plan_sms

log = logging.getLogger(__name__)

MAX_FRAME = 4096  # characters between STX and ETX; a long 51 part needs under 700
DCS_UCS2 = 0x08
# A send_at this far ahead is passed to the SMSC as deferred delivery. The
# hub itself holds deferred messages until they are due, so this only
# matters when a message is handed over early.
DEFERRED_MIN = timedelta(minutes=1)
# Buffered reports too: they say why a message waits (absent subscriber, ...).
NOTIFY_ALL = int(Notify.DELIVERED | Notify.NON_DELIVERED | Notify.BUFFERED)


class EmiError(HubError):
    """The EMI link could not be brought up."""


def _check_zone(name: str) -> str | None:
    if not name:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return f"{name!r} is not a known time zone (e.g. Europe/Amsterdam)"
    return None


def _check_prefix(value: str) -> str | None:
    return None if value.isdigit() and len(value) <= 4 else "give 1-4 digits, e.g. 00"


def _check_networks(value: str) -> str | None:
    try:
        _networks(value)
    except ValueError as exc:
        return str(exc)
    return None


def _networks(value: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(item.strip(), strict=False) for item in value.split(",") if item.strip()]


def _is_number(sender: str) -> bool:
    digits = sender[1:] if sender.startswith("+") else sender
    return digits.isdigit()


SETTINGS = (
    Setting("host", str, "host name or address of the SMSC", required=True),
    Setting("port", int, "TCP port of the SMSC's EMI service", required=True, minimum=1, maximum=65535),
    Setting("username", str, "login (OAdC of operation 60); empty: no login, the SMSC knows us by address",
            default=""),
    Setting("password", str, "login password", default="", secret=True),
    Setting("source_address", str, "sender (OAdC) of messages that name none; empty: the SMSC decides",
            default=""),
    Setting("window", int, "operations sent and not yet answered, at most", default=10, minimum=1, maximum=100),
    Setting("tls", bool, "connect with TLS", default=False),
    Setting("tls_verify", bool, "check the SMSC's certificate and host name (with tls)", default=True),
    Setting("tls_ca_file", str, "PEM file of CA certificates to check the SMSC with; empty: the system's",
            default=""),
    Setting("connect_timeout_s", float, "seconds to wait for the TCP (and TLS) connection",
            default=10.0, minimum=0.1, maximum=300),
    Setting("keepalive_s", float, "idle seconds before an alert (operation 31) keeps the link open; 0: never",
            default=60.0, minimum=0, maximum=86400),
    Setting("ack_timeout_s", float, "seconds to wait for the answer to an operation; then the link is dropped",
            default=30.0, minimum=0.1, maximum=600),
    Setting("throttle_per_s", float, "submits (51) per second at most; 0: unlimited",
            default=0.0, minimum=0, maximum=100_000),
    Setting("default_validity_min", int,
            "validity period of messages without their own, in minutes; 0: the SMSC's default",
            default=0, minimum=0, maximum=525_600),
    Setting("transliterate", bool,
            "replace characters outside the GSM alphabet by look-alikes (a message's own flag also applies)",
            default=False),
    Setting("alphanumeric_sender", str,
            "a sender that is not a number: send (OTOA 5039, at most 11 characters), "
            "replace (by source_address) or refuse",
            default="send", choices=("send", "replace", "refuse")),
    Setting("concat_ref16", bool, "16-bit concatenation references in long messages (8-bit otherwise)",
            default=False),
    Setting("reassembly_timeout_s", float,
            "seconds to wait for the missing parts of a long incoming message before storing it as partial",
            default=300.0, minimum=0.5, maximum=86400),
    Setting("international_prefix", str, "what the leading + of a recipient number becomes", default="00",
            check=_check_prefix),
    Setting("smsc_timezone", str,
            "time zone of the SMSC's clock for validity and deferred times (e.g. Europe/Amsterdam); "
            "empty: this machine's", default="", check=_check_zone),
    Setting("receive_port", int,
            "TCP port where the SMSC may open a second link to deliver 52 and 53; 0: none",
            default=0, minimum=0, maximum=65535),
    Setting("receive_host", str, "address the receiving link listens on", default="0.0.0.0"),
    Setting("receive_allow", str,
            "addresses or networks (comma-separated) allowed on the receiving link; empty: the SMSC host's",
            default="", check=_check_networks),
)



class EmiSettings(TypedDict):
    """SETTINGS as a type (the contract tests check that the two agree)."""
    host: str
    port: int
    username: str
    password: str
    source_address: str
    window: int
    tls: bool
    tls_verify: bool
    tls_ca_file: str
    connect_timeout_s: float
    keepalive_s: float
    ack_timeout_s: float
    throttle_per_s: float
    default_validity_min: int
    transliterate: bool
    alphanumeric_sender: str
    concat_ref16: bool
    reassembly_timeout_s: float
    international_prefix: str
    smsc_timezone: str
    receive_port: int
    receive_host: str
    receive_allow: str


class EmiConnector(Connector):
    kind = "emi"
    channels = ("sms",)
    description = "SMS through an operator's SMSC over EMI/UCP (TCP or TLS)"
    settings = SETTINGS
    settings_type = EmiSettings
    config: EmiSettings

    def __init__(self, name: str, config: dict[str, Any], hub: HubPort) -> None:
        full = self.with_defaults(config)
        super().__init__(name, full, hub)
        self.window = int(full["window"])
        zone = full["smsc_timezone"]
        self._tz = ZoneInfo(zone) if zone else None
        self._inbound = Inbound(name, hub, state_for(hub, float(full["reassembly_timeout_s"])))
        self._session: EmiSession | None = None
        self._opened = False
        self._expiry: asyncio.Task[None] | None = None
        self._receiver: asyncio.Server | None = None
        self._receiving: set[EmiSession] = set()
        self._allowed: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []

    # -- link -------------------------------------------------------------

    @property
    def session(self) -> EmiSession | None:
        return self._session

    def _session_config(self) -> SessionConfig:
        c = self.config
        return SessionConfig(window=self.window, ack_timeout_s=float(c["ack_timeout_s"]),
                             keepalive_s=float(c["keepalive_s"]),
                             keepalive_adc=c["username"] or c["source_address"],
                             throttle_per_s=float(c["throttle_per_s"]), max_frame=MAX_FRAME)

    def _tls_context(self) -> ssl.SSLContext | None:
        return tls_context(self.config)

    @classmethod
    async def probe(cls, config: dict[str, Any]) -> ProbeResult:
        return await probe(cls.with_defaults(config))

    def _on_lost(self, reason: str) -> None:
        if self._opened:
            self.link_lost(reason)

    async def open(self) -> None:
        host, port = self.config["host"], int(self.config["port"])
        try:
            tls = self._tls_context()
        except OSError as exc:  # ssl.SSLError is one too
            raise EmiError(f"cannot use tls_ca_file {self.config['tls_ca_file']!r}: {exc}") from exc
        try:
            session = await EmiSession.connect(
                host, port, self._session_config(), self._inbound.handle, self._on_lost,
                tls=tls, connect_timeout_s=float(self.config["connect_timeout_s"]), name=self.name)
        except (OSError, TimeoutError) as exc:
            raise EmiError(f"cannot connect to {host}:{port}: {exc or type(exc).__name__}") from exc
        try:
            await self._login(session)
            if self.config["receive_port"]:
                await self._start_receiver()
        except BaseException:
            await session.close()
            await self._stop_receiver()
            raise
        self._session = session
        self._opened = True
        session.start_keepalive()
        self._expiry = asyncio.create_task(self._expire_loop(), name=f"emi-expire-{self.name}")
        log.info("emi %s: link up to %s:%s (window %d)", self.name, host, port, self.window)

    async def _login(self, session: EmiSession) -> None:
        username = self.config["username"]
        if not username:
            return
        try:
            answer = await session.request(login_frame(username, self.config["password"]))
        except SessionError as exc:
            raise EmiError(f"login got no answer: {exc.reason}") from None
        if isinstance(answer, Nack):
            text = describe_ec(answer.ec)
            detail = f" ({answer.sm})" if answer.sm else ""
            raise EmiError(f"login refused: {answer.ec} {text[:1].lower()}{text[1:]}{detail}")

    async def _expire_loop(self) -> None:
        interval = min(5.0, max(0.05, float(self.config["reassembly_timeout_s"]) / 5))
        while True:
            await asyncio.sleep(interval)
            try:
                await self._inbound.expire()
            except Exception:
                log.exception("emi %s: storing expired partial messages failed", self.name)

    async def close(self) -> None:
        self._opened = False
        if self._expiry is not None:
            self._expiry.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._expiry
            self._expiry = None
        await self._stop_receiver()
        if self._session is not None:
            await self._session.close()

    # -- the receiving link ------------------------------------------------

    async def _start_receiver(self) -> None:
        self._allowed = _networks(self.config["receive_allow"])
        if not self._allowed:
            infos = await asyncio.get_running_loop().getaddrinfo(self.config["host"], None)
            self._allowed = [ipaddress.ip_network(info[4][0]) for info in infos]
        try:
            self._receiver = await asyncio.start_server(self._accept, self.config["receive_host"],
                                                        int(self.config["receive_port"]))
        except OSError as exc:
            raise EmiError(f"cannot listen on {self.config['receive_host']}:{self.config['receive_port']} "
                           f"for the receiving link: {exc}") from exc

    @property
    def receive_port(self) -> int | None:
        """The port the receiving link listens on (useful with receive_port 0 in tests)."""
        if self._receiver is None or not self._receiver.sockets:
            return None
        return int(self._receiver.sockets[0].getsockname()[1])

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        address = ipaddress.ip_address(peer[0]) if peer else None
        if address is None or not any(address in net for net in self._allowed):
            log.warning("emi %s: receiving link refused for %s (not in receive_allow)", self.name, peer)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
            return
        ended = asyncio.Event()
        config = SessionConfig(window=1, ack_timeout_s=float(self.config["ack_timeout_s"]), keepalive_s=0,
                               max_frame=MAX_FRAME)
        session = EmiSession(reader, writer, config, self._inbound.handle, lambda _reason: ended.set(),
                             name=f"{self.name}-receive")
        self._receiving.add(session)
        session.start_reading()
        log.info("emi %s: receiving link from %s", self.name, peer)
        try:
            await ended.wait()
        finally:
            self._receiving.discard(session)
            await session.close()

    async def _stop_receiver(self) -> None:
        if self._receiver is None:
            return
        self._receiver.close()
        for session in list(self._receiving):
            await session.close()
        await self._receiver.wait_closed()
        self._receiver = None

    # -- sending ----------------------------------------------------------

    async def send(self, message: OutboundMessage) -> SendResult:
        session = self._session
        if session is None or session.closed:
            reason = session.closed_reason if session is not None else "not open"
            raise TemporaryFailure(f"the EMI link is down ({reason})", code="link_down")
        submits = self._submits(message)
        total = len(submits)
        refs: list[str] = []
        for seq, submit in enumerate(submits, start=1):
            part = f" (part {seq} of {total})" if total > 1 else ""
            # once a part is accepted, a retry would send it again
            accepted_before = seq > 1
            try:
                answer = await session.request(submit, throttled=True)
            except (AckTimeout, GarbledAnswer) as exc:
                code = "ack_timeout" if isinstance(exc, AckTimeout) else "garbled_answer"
                raise UncertainFailure(f"{exc.reason}{part}", code=code) from None
            except LinkClosed as exc:
                if exc.written or accepted_before:
                    raise UncertainFailure(f"link lost before the SMSC answered: {exc.reason}{part}",
                                           code="link_lost") from None
                raise TemporaryFailure(f"link lost: {exc.reason}", code="link_down") from None
            if isinstance(answer, Nack):
                raise self._refusal(answer, part, accepted_before)
            refs.append(self._reference(answer, submit))
        return SendResult(operator_ref=refs[0],
                          segments=tuple(SegmentRef(seq, total, ref) for seq, ref in enumerate(refs, start=1)))

    @staticmethod
    def _refusal(answer: Nack, part: str, accepted_before: bool) -> Exception:
        reason = describe_ec(answer.ec) + (f": {answer.sm}" if answer.sm else "") + part
        if is_permanent_error(answer.ec):
            return PermanentFailure(reason, code=answer.ec)
        if accepted_before:
            return UncertainFailure(reason, code=answer.ec)
        return TemporaryFailure(reason, code=answer.ec)

    def _reference(self, answer: Ack, submit: SubmitSM) -> str:
        ref = answer.submit_reference
        if ref is not None:
            return f"{ref[0]}:{ref[1]}"
        # Without AdC:SCTS no 53 can be matched; keep what the SMSC said.
        log.warning("emi %s: acknowledgement without AdC:SCTS (SM %r)", self.name, answer.sm)
        return f"{submit.adc}:{answer.sm}"

    def _sender(self, message: OutboundMessage) -> str | None:
        sender = message.sender or self.config["source_address"] or None
        if sender is None or _is_number(sender):
            return sender
        policy = self.config["alphanumeric_sender"]
        if policy == "refuse":
            raise PermanentFailure(f"alphanumeric sender {sender!r} is refused on this connection",
                                   code="sender_refused")
        if policy == "replace":
            return self.config["source_address"] or None
        return sender

    def concat_ref(self, message: OutboundMessage) -> int:
        """From the message id, so a retry reuses it and a phone can tell a
        resent part from a new message."""
        return message.id % (0x10000 if self.config["concat_ref16"] else 0x100)

    def _submits(self, message: OutboundMessage) -> list[SubmitSM]:
        if message.channel != "sms":
            raise PermanentFailure(f"EMI carries SMS, not {message.channel}", code="unsupported_channel")
        try:
            plan = plan_sms(message.text, transliterate=message.transliterate or self.config["transliterate"],
                            ref=self.concat_ref(message), ref16=self.config["concat_ref16"])
        except SmsEncodingError as exc:
            raise PermanentFailure(str(exc), code="encoding") from None
        now = datetime.now(UTC)
        validity: datetime | timedelta | None = message.valid_until
        if validity is None and self.config["default_validity_min"]:
            validity = timedelta(minutes=self.config["default_validity_min"])
        deferred = message.send_at if message.send_at and message.send_at > now + DEFERRED_MIN else None
        sender = self._sender(message)
        dcs = DCS_UCS2 if plan.encoding is Encoding.UCS2 else 0x00
        notify = NOTIFY_ALL if message.delivery_report else False
        try:
            return [make_submit(message.recipient, sender=sender, text=part.text, dcs=dcs, udh=part.udh or None,
                                validity=validity, deferred=deferred, notify=notify,
                                priority=message.priority >= 2, now=now, tz=self._tz,
                                international_prefix=self.config["international_prefix"])
                    for part in plan.parts]
        except FieldError as exc:
            code = {"AdC": "invalid_recipient", "OAdC": "invalid_sender"}.get(exc.field, "invalid")
            raise PermanentFailure(str(exc), code=code) from None
