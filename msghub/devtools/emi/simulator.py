"""SMSC simulator: an asyncio EMI/UCP server playing an operator's SMSC.

Built on the pure codec of this package; the connection handling (framing,
window accounting, results to what it sends) is in simulator_session.py,
the HTTP control API in simulator_http.py, the command line in
simulator_cli.py. docs/protocols/EMI.md describes it for users.

Behaviour, in the order an operation meets it:
- A frame that does not decode is answered with the NACK the codec gives
  (nack_for_error: EC 01 checksum, 02 syntax, 03 unknown OT); an oversized
  frame is skipped (the framer keeps no TRN to answer). The session lives on.
- 60 (login, STYP 1) is ACKed when the account matches (any account when
  `accounts` is empty), else NACKed with EC 07. Other STYP values: EC 03.
- Before a successful login (with require_login) every other operation is
  NACKed with EC 07, as an SMSC refuses an unauthenticated session.
- 31 (alert, the client's keep-alive) is ACKed at once.
- 51 (submit) is answered after the ack delay: ACK with SM "AdC:SCTS", or
  NACK with EC 06 for a recipient that is not 1-16 digits, with the EC of a
  refuse_recipients prefix, or with the EC of refuse_next. With stop_acking
  submits are swallowed (never answered).
- Any other operation: NACK EC 03 (not supported by this SMSC).

SCTS uniqueness: an SCTS has one-second resolution, and a report names its
submission by (recipient, SCTS) only. Like real SMSCs, the simulator keeps
the last SCTS it gave each recipient and steps the seconds forward when a
second submission to the same recipient arrives within the same second, so
(AdC, SCTS) never repeats; a burst to one recipient runs ahead of the clock
by one second per message.

Delivery reports: for a submission with NRq=1 the simulator sends a 53
dr_delay_s after the ACK, with an outcome drawn from dr_outcomes
("delivered": Dst 0; "failed": Dst 2, Rsn 000; "buffered": Dst 1, Rsn 108,
then "delivered" after another dr_delay_s). NT selects which of those go
out (1 delivered, 2 non-delivered, 4 buffered; an empty NT means 1+2). The
53's OAdC and SCTS are the submission's AdC and SCTS; its AdC is NAdC when
given, else the submission's numeric OAdC, else the session's username.
A report or MO goes to a bound session of the same account (the original
session first); when none is bound, or the session closes before the
client answers, it is held and sent when the account logs in again. The
client's result to each 52/53 is awaited; see simulator_session.py for
retransmission.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import logging
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from msghub.connectors.emi.builders import (
    DCS_UCS2,
    ack_frame,
    make_deliver,
    make_notification,
    nack_frame,
    submit_ack_sm,
)
from msghub.connectors.emi.errors import FieldError
from msghub.connectors.emi.operations import Alert, Operation, SessionLogin
from msghub.connectors.emi.short_message import DeliveryStatus, Notify, SubmitSM
from msghub.connectors.emi.values import format_scts, is_digits
from msghub.devtools.emi.simulator_session import (
    MAX_TRN,
    OutboundOperation,
    Session,
    SessionLimits,
)
from msghub.errors import ConfigError, HubError
from msghub.sms.split import Encoding, plan_sms

log = logging.getLogger(__name__)

OUTCOMES = ("delivered", "buffered", "failed")
EC_AUTHENTICATION = "07"
EC_NOT_SUPPORTED = "03"
EC_ADC_INVALID = "06"
REASON_FAILED = 0  # Rsn 000
REASON_BUFFERED = 108  # as in the specification's example of a buffered report
MAX_EVENTS = 10_000
STOP_GRACE_S = 2.0
WAIT_POLL_S = 0.05  # for connection handlers to finish after their links are reset
_SCTS_MEMORY = 10_000  # recipients remembered for SCTS stepping before pruning


class SimulatorError(HubError):
    """The simulator cannot do what was asked (e.g. no client to deliver to)."""


@dataclass
class SimulatorConfig:
    host: str = "127.0.0.1"
    port: int = 0  # 0: pick a free port
    accounts: dict[str, str] = field(default_factory=dict)  # username -> password; empty: accept any
    require_login: bool = True
    dr_delay_s: float = 1.0
    dr_outcomes: dict[str, float] = field(default_factory=lambda: {"delivered": 1.0})
    ack_delay_s: float = 0.0
    window: int = 100  # operations outstanding per session before further ones are discarded
    http_port: int | None = None  # control API; 0 picks a free port; None: no API
    max_frame: int = 4096
    seed: int | None = None
    mo_ack_timeout_s: float = 10.0  # wait for the client's result to a 52/53
    mo_retries: int = 2  # retransmissions of an unanswered 52/53
    history_limit: int = 100_000  # submits etc. kept for inspection; the oldest go first

    def __post_init__(self) -> None:
        unknown = set(self.dr_outcomes) - set(OUTCOMES)
        if unknown:
            raise ConfigError(f"unknown delivery outcome(s) {sorted(unknown)}; use {', '.join(OUTCOMES)}")
        weights = list(self.dr_outcomes.values())
        if any(w < 0 for w in weights) or sum(weights) <= 0:
            raise ConfigError("delivery outcome weights must be non-negative and not all zero")
        if not 1 <= self.window <= MAX_TRN:
            raise ConfigError(f"window must be 1-{MAX_TRN} (TRNs are two digits), got {self.window}")
        for name in ("dr_delay_s", "ack_delay_s", "mo_ack_timeout_s"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must not be negative")
        if self.max_frame < 64:
            raise ConfigError(f"max_frame must be at least 64, got {self.max_frame}")


@dataclass(frozen=True)
class ReceivedSubmit:
    """A 51 as the simulator received and answered it."""

    submit: SubmitSM
    session_id: int
    username: str | None  # the session's login, None without one
    received_at: float  # time.time()
    text: str | None  # None for binary (8-bit) content
    udh: bytes | None  # including the UDHL octet
    sender: str  # decoded OAdC (alphanumeric or "+international")
    scts: str = ""  # the SCTS of the ACK; "" when refused or never answered
    ec: str | None = None  # EC of the NACK when refused
    answered_at: float | None = None

    @property
    def trn(self) -> int:
        return self.submit.trn

    @property
    def recipient(self) -> str:
        return self.submit.adc

    @property
    def reference(self) -> tuple[str, str]:
        """(AdC, SCTS): what the ACK's SM and a later 53 name."""
        return self.submit.adc, self.scts

    @property
    def session(self) -> str | None:
        """The session's username (alias of `username`)."""
        return self.username


@dataclass(frozen=True)
class SimEvent:
    """Something worth knowing that is not a submit: bad frames, discards, retries."""

    at: float
    kind: str
    session_id: int | None
    detail: str


class SmscSimulator:
    """An EMI/UCP SMSC on TCP. See the module docstring for its behaviour."""

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config or SimulatorConfig()
        self.submits: list[ReceivedSubmit] = []  # ACKed
        self.refused: list[ReceivedSubmit] = []  # NACKed (ec set)
        self.swallowed: list[ReceivedSubmit] = []  # never answered (stop_acking, or the link went first)
        self.outbound: list[OutboundOperation] = []  # 52 and 53 sent, with their results
        self.logins: list[tuple[str, bool]] = []
        self.events: deque[SimEvent] = deque(maxlen=MAX_EVENTS)
        self._sessions: dict[int, Session] = {}
        self._closed_max_outstanding = 0
        self._rng = random.Random(self.config.seed)
        self._mo_refs = itertools.count(self._rng.randrange(256))
        self._ack_delay = self.config.ack_delay_s
        self._acking = True
        self._refuse_next: list[str] = []  # one EC per submit to refuse
        self._refuse_prefixes: dict[str, str] = {}
        self._last_scts: dict[str, datetime] = {}
        self._held: dict[str | None, list[Operation]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()  # answers, reports, held deliveries
        self._connections: set[asyncio.Task[Any]] = set()  # one handler per client
        self._server: asyncio.Server | None = None
        self._http: Any = None  # simulator_http.ControlServer, imported lazily
        self._changed = asyncio.Event()
        self._stopping = False

    # -- lifecycle ---------------------------------------------------------

    async def start(self) -> None:
        if self._server is not None:
            raise SimulatorError("the simulator is already running")
        self._stopping = False
        self._server = await asyncio.start_server(self._accept, self.config.host, self.config.port)
        if self.config.http_port is not None:
            from msghub.devtools.emi.simulator_http import ControlServer

            self._http = ControlServer(self, self.config.host, self.config.http_port)
            await self._http.start()
        log.info("SMSC simulator listening on %s:%d", self.config.host, self.port)

    async def stop(self) -> None:
        self._stopping = True
        if self._http is not None:
            await self._http.stop()
            self._http = None
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        # Reset every link and let each connection handler finish on its own;
        # cancel only what is still running after the grace period.
        for session in list(self._sessions.values()):
            session.abort()
        if self._connections:
            await asyncio.wait(list(self._connections), timeout=STOP_GRACE_S)
        while self._tasks or self._connections:
            tasks = list(self._tasks | self._connections)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._tasks.difference_update(tasks)
            self._connections.difference_update(tasks)
        self._notify_change()

    async def __aenter__(self) -> SmscSimulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        """The bound TCP port (0 before start)."""
        if self._server is None or not self._server.sockets:
            return 0
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def http_port(self) -> int | None:
        return None if self._http is None else int(self._http.port)

    @property
    def sessions(self) -> list[Session]:
        """Connected sessions, oldest first."""
        return list(self._sessions.values())

    @property
    def max_outstanding(self) -> int:
        """The most operations one session had received and not yet answered."""
        live = (s.max_outstanding for s in self._sessions.values())
        return max(self._closed_max_outstanding, *live, 0)

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        """Wait until predicate() holds; raises TimeoutError after timeout seconds."""
        async with asyncio.timeout(timeout):
            while not predicate():
                # Woken by any recorded change; the short poll covers state
                # that changes without one (e.g. a session's outstanding count).
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), WAIT_POLL_S)

    def _notify_change(self) -> None:
        old, self._changed = self._changed, asyncio.Event()
        old.set()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _keep(self, items: list[Any], item: Any) -> None:
        items.append(item)
        if len(items) > self.config.history_limit:
            del items[: len(items) - self.config.history_limit]

    # -- fault injection -----------------------------------------------------

    def drop_links(self) -> int:
        """Close every client connection abruptly (TCP reset); returns how many."""
        sessions = list(self._sessions.values())
        for session in sessions:
            session.abort()
        self._event(None, "drop_links", f"{len(sessions)} connection(s) reset")
        return len(sessions)

    def set_ack_delay(self, seconds: float) -> None:
        """Answer submits this long after they arrive (from the next one on)."""
        if seconds < 0:
            raise ConfigError("the ack delay must not be negative")
        self._ack_delay = seconds

    def refuse_next(self, count: int, ec: str) -> None:
        """NACK the next `count` submits with error code ec."""
        self._refuse_next.extend([_check_ec(ec)] * count)

    def refuse_recipients(self, prefix: str, ec: str | None) -> None:
        """NACK every submit whose AdC starts with prefix; ec None lifts it."""
        if ec is None:
            self._refuse_prefixes.pop(prefix, None)
        else:
            self._refuse_prefixes[prefix] = _check_ec(ec)

    def stop_acking(self) -> None:
        """Swallow submits from now on: no ACK, no NACK (client ack timeouts)."""
        self._acking = False

    def resume_acking(self) -> None:
        self._acking = True

    def clear_faults(self) -> None:
        """Back to the configured behaviour."""
        self._ack_delay = self.config.ack_delay_s
        self._acking = True
        self._refuse_next.clear()
        self._refuse_prefixes.clear()

    def send_garbage(self, data: bytes) -> int:
        """Write raw bytes to every client; returns how many got them."""
        return sum(session.write_raw(data) for session in list(self._sessions.values()))

    # -- mobile-originated messages ------------------------------------------

    async def inject_mo(
        self, sender: str, recipient: str, text: str, *, session: str | None = None, split: bool = True
    ) -> int:
        """Send text from sender (a handset) to recipient as 52s; returns the frame count.

        All parts go to one bound session (of account `session` if given);
        a text longer than one SM goes as concatenated parts with a UDH
        (8-bit reference) unless split is False. Raises SimulatorError when
        no session is bound and ConfigError (a HubError) for an address or
        text the codec cannot encode.
        """
        target = self._pick_session(session, None)
        if target is None:
            who = f"of account {session!r} " if session is not None else ""
            raise SimulatorError(f"no bound session {who}to deliver the message to")
        # unique per originator, as a real SMSC's (a phone cannot send twice in one second)
        scts = self._stamp(f"mo:{sender}")
        try:
            plan = plan_sms(text, ref=next(self._mo_refs) % 256)
            # Every part in the plan's alphabet, even one that happens to be all GSM.
            dcs = DCS_UCS2 if plan.encoding is Encoding.UCS2 else None
            parts = [(p.text, p.udh or None) for p in plan.parts] if split else [(text, None)]
            operations = [make_deliver(recipient, sender, scts, text=t, udh=u, dcs=dcs) for t, u in parts]
        except HubError as exc:
            raise ConfigError(f"cannot encode the MO: {exc}") from None
        for operation in operations:
            if not await target.send_operation(operation, self._record_outbound):
                self._hold(target.username, operation)
        return len(operations)

    # -- the SessionOwner interface ------------------------------------------

    def on_operation(self, session: Session, message: Operation) -> None:
        if isinstance(message, SessionLogin):
            self._login(session, message)
        elif self.config.require_login and not session.logged_in:
            session.answer(nack_frame(message, EC_AUTHENTICATION, sm="not logged in"))
        elif isinstance(message, Alert):
            session.answer(ack_frame(message))
        elif isinstance(message, SubmitSM):
            self._submit(session, message)
        else:
            session.answer(nack_frame(message, EC_NOT_SUPPORTED))

    def on_event(self, session: Session | None, kind: str, detail: str) -> None:
        self._event(session, kind, detail)

    def on_closed(self, session: Session) -> None:
        self._sessions.pop(session.id, None)
        self._closed_max_outstanding = max(self._closed_max_outstanding, session.max_outstanding)
        self._event(session, "disconnected", session.peer)

    def on_outbound_done(self, record: OutboundOperation) -> None:
        if record.status == "interrupted" and not self._stopping:
            # The link went before the client answered: send it again later.
            self._hold(record.username, dataclasses.replace(record.operation, trn=0))
        self._notify_change()

    # -- sessions ------------------------------------------------------------

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        limits = SessionLimits(
            window=self.config.window,
            max_frame=self.config.max_frame,
            ack_timeout_s=self.config.mo_ack_timeout_s,
            retries=self.config.mo_retries,
        )
        session = Session(reader, writer, self, limits)
        if self._stopping:
            session.abort()
            await session.close()
            return
        task = asyncio.current_task()
        if task is not None:
            self._connections.add(task)
        self._sessions[session.id] = session
        self._event(session, "connected", session.peer)
        if not self.config.require_login:
            self._flush_held(None)
        try:
            await session.run()
        except asyncio.CancelledError:
            # Only stop() cancels a handler, and Python 3.11's start_server
            # logs an error for a handler task that ends cancelled.
            pass
        finally:
            if task is not None:
                self._connections.discard(task)

    def _bound(self, session: Session) -> bool:
        return not session.closed and (session.logged_in or not self.config.require_login)

    def _pick_session(self, username: str | None, prefer: int | None) -> Session | None:
        """A bound session of account `username` (None: any), `prefer` first,
        else the one bound last."""
        candidates = [
            s for s in self._sessions.values() if self._bound(s) and (username is None or s.username == username)
        ]
        preferred = [s for s in candidates if s.id == prefer]
        if preferred:
            return preferred[0]
        return candidates[-1] if candidates else None

    def _login(self, session: Session, login: SessionLogin) -> None:
        if login.styp != "1":
            session.answer(nack_frame(login, EC_NOT_SUPPORTED, sm=f"STYP {login.styp} not supported"))
            return
        username = login.oadc
        try:
            password = login.password
        except FieldError as exc:
            session.answer(nack_frame(login, exc.ec))
            return
        ok = not self.config.accounts or self.config.accounts.get(username) == password
        self._keep_login(username, ok)
        if not ok:
            self._event(session, "login_refused", f"account {username!r}")
            session.answer(nack_frame(login, EC_AUTHENTICATION))
            return
        session.username, session.logged_in = username, True
        session.answer(ack_frame(login))
        self._event(session, "login", f"account {username!r}")
        self._flush_held(username)
        self._flush_held(None)

    def _keep_login(self, username: str, ok: bool) -> None:
        self._keep(self.logins, (username, ok))
        self._notify_change()

    def _event(self, session: Session | None, kind: str, detail: str) -> None:
        self.events.append(SimEvent(time.time(), kind, session.id if session else None, detail))
        level = logging.INFO if kind in ("connected", "disconnected", "login", "drop_links") else logging.WARNING
        log.log(level, "session %s: %s: %s", session.id if session else "-", kind, detail)
        self._notify_change()

    # -- submits -------------------------------------------------------------

    def _submit(self, session: Session, submit: SubmitSM) -> None:
        try:
            received = ReceivedSubmit(
                submit=submit,
                session_id=session.id,
                username=session.username,
                received_at=time.time(),
                text=submit.text,
                udh=submit.udh,
                sender=submit.sender,
            )
        except FieldError as exc:
            session.answer(nack_frame(submit, exc.ec, sm=str(exc)[:60]))
            return
        if not self._acking:
            session.swallow(submit.trn)
            self._keep(self.swallowed, received)
            self._event(session, "swallowed", f"submit TRN {submit.trn:02d} to {submit.adc}")
            return
        ec = self._refusal(submit.adc)
        scts = self._stamp(submit.adc) if ec is None else None
        self._spawn(self._answer_submit(session, received, ec, scts, self._ack_delay))

    def _refusal(self, adc: str) -> str | None:
        if not is_digits(adc) or len(adc) > 16:
            return EC_ADC_INVALID
        for prefix, ec in self._refuse_prefixes.items():
            if adc.startswith(prefix):
                return ec
        if self._refuse_next:
            return self._refuse_next.pop(0)
        return None

    def _stamp(self, adc: str) -> datetime:
        """A unique SCTS for this recipient (see the module docstring)."""
        now = datetime.now().replace(microsecond=0)
        last = self._last_scts.get(adc)
        if last is not None and now <= last:
            now = last + timedelta(seconds=1)
        if len(self._last_scts) >= _SCTS_MEMORY:
            # Entries in the past cannot collide any more.
            current = datetime.now().replace(microsecond=0)
            self._last_scts = {k: v for k, v in self._last_scts.items() if v >= current}
        self._last_scts[adc] = now
        return now

    async def _answer_submit(
        self, session: Session, received: ReceivedSubmit, ec: str | None, scts: datetime | None, delay: float
    ) -> None:
        if delay > 0:
            await asyncio.sleep(delay)
        submit = received.submit
        if ec is not None:
            frame = nack_frame(submit, ec)
        else:
            assert scts is not None  # stamped whenever not refused
            frame = ack_frame(submit, sm=submit_ack_sm(submit.adc, scts))
        if not session.answer(frame):
            self._keep(self.swallowed, received)
            self._notify_change()
            return
        answered = dataclasses.replace(received, answered_at=time.time())
        if ec is not None:
            self._keep(self.refused, dataclasses.replace(answered, ec=ec))
        else:
            assert scts is not None
            done = dataclasses.replace(answered, scts=format_scts(scts))
            self._keep(self.submits, done)
            if submit.notification_requested:
                self._spawn(self._report(done, session.id))
        self._notify_change()

    # -- delivery reports ----------------------------------------------------

    async def _report(self, submitted: ReceivedSubmit, session_id: int) -> None:
        wanted = submitted.submit.notification_types or (Notify.DELIVERED | Notify.NON_DELIVERED)
        names = list(self.config.dr_outcomes)
        outcome = self._rng.choices(names, weights=[self.config.dr_outcomes[n] for n in names])[0]
        await asyncio.sleep(self.config.dr_delay_s)
        if outcome == "buffered":
            if wanted & Notify.BUFFERED:
                await self._notify(submitted, session_id, DeliveryStatus.BUFFERED, REASON_BUFFERED)
            await asyncio.sleep(self.config.dr_delay_s)
            outcome = "delivered"
        if outcome == "delivered" and wanted & Notify.DELIVERED:
            await self._notify(submitted, session_id, DeliveryStatus.DELIVERED, None)
        elif outcome == "failed" and wanted & Notify.NON_DELIVERED:
            await self._notify(submitted, session_id, DeliveryStatus.NOT_DELIVERED, REASON_FAILED)

    async def _notify(
        self, submitted: ReceivedSubmit, session_id: int, status: DeliveryStatus, reason: int | None
    ) -> None:
        submit = submitted.submit
        if submit.nadc:
            address = submit.nadc
        elif is_digits(submit.oadc):
            address = submit.oadc
        else:
            address = submitted.username or ""
        report = make_notification(
            address,
            submit.adc,
            submitted.scts,
            status,
            delivered_at=datetime.now().replace(microsecond=0),
            reason=reason,
        )
        await self._deliver(submitted.username, report, prefer=session_id)

    async def _deliver(self, username: str | None, operation: Operation, prefer: int | None = None) -> None:
        target = self._pick_session(username, prefer)
        if target is None or not await target.send_operation(operation, self._record_outbound):
            self._hold(username, operation)

    def _record_outbound(self, record: OutboundOperation) -> None:
        self._keep(self.outbound, record)
        self._notify_change()

    def _hold(self, username: str | None, operation: Operation) -> None:
        if self._stopping:
            return
        self._held.setdefault(username, []).append(operation)
        self._event(None, "held", f"{operation.OT} for account {username!r} until it binds")

    def _flush_held(self, username: str | None) -> None:
        for operation in self._held.pop(username, []):
            self._spawn(self._deliver(username, operation))

    # -- status --------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """What GET /status shows."""
        return {
            "port": self.port,
            "sessions": [
                {
                    "id": s.id,
                    "peer": s.peer,
                    "username": s.username,
                    "logged_in": s.logged_in,
                    "outstanding": s.outstanding,
                    "max_outstanding": s.max_outstanding,
                }
                for s in self._sessions.values()
            ],
            "submits": len(self.submits),
            "refused": len(self.refused),
            "swallowed": len(self.swallowed),
            "outbound": len(self.outbound),
            "max_outstanding": self.max_outstanding,
            "acking": self._acking,
            "ack_delay_s": self._ack_delay,
        }


def _check_ec(ec: str) -> str:
    if len(ec) != 2 or not is_digits(ec):
        raise ConfigError(f"{ec!r} is not a two-digit EMI error code")
    return ec
