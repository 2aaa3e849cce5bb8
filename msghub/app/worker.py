"""The outbound worker of one connection: claim, send, record.

It claims due messages with SKIP LOCKED (so several nodes never send one
message twice), calls the connector's send() concurrently up to its window,
and records outcomes in batches: one round trip for many results.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import TypedDict

from msghub.connectors.base import (
    Attachment,
    Connector,
    OutboundMessage,
    PermanentFailure,
    SendResult,
    TemporaryFailure,
    UncertainFailure,
)
from msghub.hub.db import Pool
from msghub.hub.queries import QUERIES

log = logging.getLogger(__name__)

STOP_GRACE_S = 5.0
# An insert decides whether to NOTIFY before it commits, so one that checked
# just before we registered as waiting, and committed just after our last
# claim, sends none. Two quick extra looks cover that window.
RACE_POLLS_S = (0.005, 0.025)


@dataclass(frozen=True)
class Outcome:
    message_id: int
    attempt: int
    outcome: str  # sent, retry, uncertain, failed
    result: SendResult | None = None
    code: str | None = None
    reason: str | None = None


class ClaimedRow(TypedDict):
    """The columns of a claimed hub.messages row the worker reads."""
    id: int
    attempts: int
    channel: str
    recipients: list[str]
    sender: str | None
    subject: str | None
    body: str
    priority: int
    delivery_report: bool
    transliterate: bool
    valid_until: datetime | None
    send_at: datetime | None


class CopiesRow(TypedDict):
    id: int
    cc: list[str] | None
    bcc: list[str] | None


class AttachmentRow(TypedDict):
    message_id: int
    content_type: str
    data: bytes
    filename: str | None
    content_id: str | None


def message_from_row(row: ClaimedRow, attachments: tuple[Attachment, ...],
                     copies: CopiesRow | None = None) -> OutboundMessage:
    return OutboundMessage(
        id=row["id"], attempt=row["attempts"], channel=row["channel"], recipient=row["recipients"][0],
        sender=row["sender"], subject=row["subject"], text=row["body"], priority=row["priority"],
        delivery_report=row["delivery_report"], transliterate=row["transliterate"],
        valid_until=row["valid_until"], send_at=row["send_at"], attachments=attachments,
        cc=tuple(copies["cc"] or ()) if copies else (), bcc=tuple(copies["bcc"] or ()) if copies else (),
    )


class ConnectionWorker:
    def __init__(self, pool: Pool, connection_id: int, connector: Connector,
                 node: str, poll_interval_s: float) -> None:
        self.pool = pool
        self.connection_id = connection_id
        self.connector = connector
        self.node = node
        self.poll_interval_s = poll_interval_s
        self.wake = asyncio.Event()
        self._slot_freed = asyncio.Event()
        self._in_flight: dict[asyncio.Task[None], tuple[int, int]] = {}
        self._outcomes: asyncio.Queue[Outcome] = asyncio.Queue()
        self._stopping = False

    async def run(self) -> None:
        flusher = asyncio.create_task(self._flush_outcomes(), name=f"flush-{self.connector.name}")
        waiting = False  # our row in hub.outbox_waiters exists
        idle_polls: list[float] = []
        try:
            while not self._stopping:
                # cleared before looking, so a wake-up during the claim is kept
                self.wake.clear()
                self._slot_freed.clear()
                free = max(self.connector.window - len(self._in_flight), 0)
                if free == 0:
                    await self._wait(self._slot_freed, self.poll_interval_s)
                    continue
                claimed = await self._claim(free)
                for message in claimed:
                    task = asyncio.create_task(self._send(message))
                    self._in_flight[task] = (message.id, message.attempt)
                    task.add_done_callback(self._sent)
                if len(claimed) == free:
                    waiting = False  # a full batch removed our waiter row
                    continue
                if not waiting:
                    await self._register_wait()
                    waiting = True
                    idle_polls = list(RACE_POLLS_S)
                    continue  # claim once more: a row may have come in between
                await self._wait(self.wake, idle_polls.pop(0) if idle_polls else self.poll_interval_s)
        finally:
            await self._drain()
            self._stopping = True
            await self._outcomes.join()
            flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flusher

    def stop(self) -> None:
        self._stopping = True
        self.wake.set()

    async def _wait(self, event: asyncio.Event, timeout: float) -> None:
        """Until the event or the timeout: a lost NOTIFY costs latency only."""
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(event.wait(), timeout=timeout)

    async def _register_wait(self) -> None:
        async with self.pool.connection() as conn:
            await conn.execute(QUERIES["outbox_wait"], {"connection_id": self.connection_id})

    def _sent(self, task: asyncio.Task[None]) -> None:
        self._in_flight.pop(task, None)
        self._slot_freed.set()

    async def _claim(self, limit: int) -> list[OutboundMessage]:
        async with self.pool.connection() as conn:
            rows = await QUERIES.all(conn, "claim_outbound", ClaimedRow, {
                "connection_id": self.connection_id, "node": self.node, "limit": limit})
            attachments: dict[int, list[Attachment]] = defaultdict(list)
            copies: dict[int, CopiesRow] = {}
            with_parts = [r["id"] for r in rows if r["channel"] != "sms"]
            if with_parts:
                for part in await QUERIES.all(conn, "message_attachments", AttachmentRow, {"ids": with_parts}):
                    attachments[part["message_id"]].append(Attachment(
                        content_type=part["content_type"], data=bytes(part["data"]),
                        filename=part["filename"], content_id=part["content_id"]))
            mms = [r["id"] for r in rows if r["channel"] == "mms"]
            if mms:
                copies = {c["id"]: c for c in await QUERIES.all(conn, "message_copies", CopiesRow, {"ids": mms})}
        return [message_from_row(r, tuple(attachments[r["id"]]), copies.get(r["id"])) for r in rows]

    async def _send(self, message: OutboundMessage) -> None:
        try:
            result = await self.connector.send(message)
            outcome = Outcome(message.id, message.attempt, "sent", result=result)
        except PermanentFailure as exc:
            outcome = Outcome(message.id, message.attempt, "failed", code=exc.code, reason=exc.reason)
        except UncertainFailure as exc:
            outcome = Outcome(message.id, message.attempt, "uncertain", code=exc.code, reason=exc.reason)
        except TemporaryFailure as exc:
            outcome = Outcome(message.id, message.attempt, "retry", code=exc.code, reason=exc.reason)
        except asyncio.CancelledError:
            # cancelled mid-send at shutdown: it may have left on the link
            outcome = Outcome(message.id, message.attempt, "uncertain", code="interrupted",
                              reason="the hub stopped while sending")
        except Exception as exc:  # a connector bug must not lose the message
            log.exception("connector %s failed on message %s", self.connector.name, message.id,
                          extra={"message_id": message.id, "connection": self.connector.name})
            outcome = Outcome(message.id, message.attempt, "retry", code="connector_error",
                              reason=f"connector error: {exc!r}")
        await self._outcomes.put(outcome)

    async def _drain(self) -> None:
        if not self._in_flight:
            return
        _, pending = await asyncio.wait(list(self._in_flight), timeout=STOP_GRACE_S)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)

    async def _flush_outcomes(self) -> None:
        while True:
            batch = [await self._outcomes.get()]
            while not self._outcomes.empty():
                batch.append(self._outcomes.get_nowait())
            try:
                await self._record(batch)
            except Exception:
                # the rows stay in "sending"; the lease returns them to the queue
                log.exception("could not record %d send outcomes for %s", len(batch), self.connector.name,
                              extra={"connection": self.connector.name})
            finally:
                for _ in batch:
                    self._outcomes.task_done()

    async def _record(self, batch: list[Outcome]) -> None:
        segments = [(o.message_id, s) for o in batch if o.result for s in o.result.segments]
        async with self.pool.connection() as conn:
            await conn.execute(QUERIES["record_results"], {
                "ids": [o.message_id for o in batch],
                "attempts": [o.attempt for o in batch],
                "outcomes": [o.outcome for o in batch],
                "refs": [o.result.operator_ref if o.result else None for o in batch],
                "segments": [len(o.result.segments) if o.result and o.result.segments else None
                             for o in batch],
                "codes": [o.code for o in batch],
                "reasons": [o.reason for o in batch],
                "segment_message_ids": [m for m, _ in segments],
                "segment_seqs": [s.seq for _, s in segments],
                "segment_totals": [s.total for _, s in segments],
                "segment_refs": [s.operator_ref for _, s in segments],
            })
