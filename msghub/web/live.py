"""Live updates: one Server-Sent Events stream per open page.

GET /live?view=inbox&q=...&message=ID&poll=ID&since=WATERMARK

Events:
- ``change``: a message the page may show changed. Data: {message_id, kind,
  view, matches, status, failure_reason, html} while the user may see it,
  {message_id, kind, gone: true} once they may not (assigned or moved away).
- ``sync``: carries the event id (the change feed's watermark, see
  schema/46_web.sql); a browser that reconnects sends it as Last-Event-ID and
  gets every change since, filtered by row-level security.
- ``reload``: too much changed while away; reload the page.
- ``connections``: the connections that are down (the banner).
- ``poll``: the counts of the poll the page shows.

NOTIFY (msghub_messages, msghub_connections, msghub_polls) wakes the
streams; every stream also looks every POLL_INTERVAL_S, so a lost
notification costs latency, never an update.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from msghub.hub.db import Pool
from msghub.hub.notify import Listener
from msghub.hub.queries import QUERIES
from msghub.web.common import as_user, json_error, pool_of, require_user, templates
from msghub.web.queries import WEB_QUERIES
from msghub.web.security import SESSION_COOKIE, SessionUser, token_digest

log = logging.getLogger(__name__)

POLL_INTERVAL_S = 2.0
KEEPALIVE_S = 15.0
RETRY_MS = 1000
MAX_REPLAY = 500
CHANNELS = ("msghub_messages", "msghub_connections", "msghub_polls")


@dataclass(eq=False)
class Subscriber:
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    pending: set[tuple[str, str]] = field(default_factory=set)


class LiveHub:
    """Fans NOTIFY wake-ups out to the open streams of this process."""

    def __init__(self, pool: Pool, listener: Listener | None) -> None:
        self.pool = pool
        self.listener = listener
        self.subscribers: set[Subscriber] = set()
        self.closed = False
        self._own_task: asyncio.Task[None] | None = None
        if listener is not None:
            self._subscribe(listener)

    def _subscribe(self, listener: Listener) -> None:
        for channel in CHANNELS:
            listener.subscribe(channel, functools.partial(self.notify, channel))

    def ensure_listening(self) -> None:
        """Without a listener from the runtime (tests, embedding), start one."""
        if self.listener is None:
            conninfo = self.pool.conninfo
            assert isinstance(conninfo, str), "a pool with a fixed conninfo"
            self.listener = Listener(conninfo)
            self._subscribe(self.listener)
            self._own_task = asyncio.get_running_loop().create_task(self.listener.run(), name="web-live-listener")

    def close(self) -> None:
        """End every open stream (the server is stopping); browsers reconnect
        to whichever hub serves them next."""
        self.closed = True
        for sub in self.subscribers:
            sub.wake.set()
        if self._own_task is not None and self.listener is not None:
            self.listener.stop()
            self._own_task.cancel()

    def notify(self, channel: str, payload: str) -> None:
        for sub in self.subscribers:
            sub.pending.add((channel, payload))
            sub.wake.set()

    @contextlib.contextmanager
    def subscribed(self) -> Any:
        sub = Subscriber()
        self.subscribers.add(sub)
        try:
            yield sub
        finally:
            self.subscribers.discard(sub)


def live_hub(request: Request) -> LiveHub:
    state = request.app.state
    if getattr(state, "live", None) is None:
        state.live = LiveHub(pool_of(request), getattr(state, "listener", None))
    hub: LiveHub = state.live
    hub.ensure_listening()
    return hub


def sse(event: str, data: Any, event_id: str | None = None) -> str:
    lines = [f"event: {event}"]
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines.append("data: " + json.dumps(data, default=str, separators=(",", ":")))
    return "\n".join(lines) + "\n\n"


def _digits(value: str | None) -> str | None:
    return value if value and value.isdigit() and len(value) < 21 else None


@dataclass
class StreamParams:
    view: str
    q: str
    message_id: int | None
    poll_id: int | None
    watermark: str | None


def stream_params(request: Request) -> StreamParams:
    qp = request.query_params
    message = _digits(qp.get("message"))
    poll = _digits(qp.get("poll"))
    return StreamParams(
        view=qp.get("view", "")[:40],
        q=qp.get("q", "").strip()[:200],
        message_id=int(message) if message else None,
        poll_id=int(poll) if poll else None,
        watermark=_digits(request.headers.get("last-event-id")) or _digits(qp.get("since")),
    )


class Stream:
    """What one open page is sent."""

    def __init__(self, pool: Pool, user: SessionUser, params: StreamParams, session_digest: bytes = b"") -> None:
        self.pool = pool
        self.user = user
        self.params = params
        self.session_digest = session_digest
        self.watermark = params.watermark
        self.row_template = templates.env.get_template("_message_row.html")
        self.last_poll: str | None = None

    async def changes(self) -> list[str]:
        async with as_user(self.pool, self.user.user_id) as conn:
            upto_row = await (await conn.execute(WEB_QUERIES["change_watermark"])).fetchone()
            upto = str(upto_row["xid"]) if upto_row else "0"
            if self.watermark is None:
                self.watermark = upto
                return []
            if int(upto) <= int(self.watermark):
                return []
            changed = await (
                await conn.execute(
                    WEB_QUERIES["changes_since"], {"from": self.watermark, "upto": upto, "limit": MAX_REPLAY + 1}
                )
            ).fetchall()
            if len(changed) > MAX_REPLAY:
                self.watermark = upto
                return [sse("reload", {"reason": "many changes"}, upto)]
            rows: dict[int, Any] = {}
            if changed:
                ids = [c["message_id"] for c in changed]
                found = await (
                    await conn.execute(WEB_QUERIES["message_rows"], {"ids": ids, "q": self.params.q})
                ).fetchall()
                rows = {r["id"]: r for r in found}
        events = [sse("change", self._change(c, rows.get(c["message_id"]))) for c in changed]
        self.watermark = upto
        events.append(sse("sync", upto, upto))
        return events

    def _change(self, change: Any, row: Any) -> dict[str, Any]:
        if row is None:
            return {"message_id": change["message_id"], "kind": change["kind"], "gone": True}
        return {
            "message_id": row["id"],
            "kind": change["kind"],
            "view": row["view"],
            "matches": row["matches"],
            "status": row["status"],
            "failure_reason": row["failure_reason"],
            "html": self.row_template.render(row=row).strip(),
        }

    async def connections(self) -> str:
        async with as_user(self.pool, self.user.user_id) as conn:
            down = await (await conn.execute(WEB_QUERIES["connections_down"])).fetchall()
        return sse("connections", [{"name": r["name"], "last_error": r["last_error"]} for r in down])

    async def poll(self) -> str | None:
        if self.params.poll_id is None:
            return None
        async with as_user(self.pool, self.user.user_id) as conn:
            poll = await (await conn.execute(WEB_QUERIES["poll_visible"], {"id": self.params.poll_id})).fetchone()
            if poll is None:
                return None
            results = await (await conn.execute(WEB_QUERIES["poll_results"], {"id": self.params.poll_id})).fetchall()
        total = sum(int(r["votes"]) for r in results)
        return sse(
            "poll",
            {
                "poll_id": poll["id"],
                "total": total,
                "options": [
                    {
                        "option_id": r["option_id"],
                        "label": r["label"],
                        "votes": int(r["votes"]),
                        "percent": float(r["percent"]),
                    }
                    for r in results
                ],
            },
        )

    async def events(self, hub: LiveHub) -> AsyncIterator[str]:
        yield f"retry: {RETRY_MS}\n\n"
        with hub.subscribed() as sub:
            yield await self.connections()
            self.last_poll = await self.poll()
            if self.last_poll:
                yield self.last_poll
            for event in await self.changes():
                yield event
            idle = 0.0
            while True:
                try:
                    await asyncio.wait_for(sub.wake.wait(), timeout=POLL_INTERVAL_S)
                except TimeoutError:
                    idle += POLL_INTERVAL_S
                if hub.closed:
                    return
                sub.wake.clear()
                pending, sub.pending = sub.pending, set()
                channels = {c for c, _ in pending}
                if "msghub_connections" in channels:
                    yield await self.connections()
                if self.params.poll_id is not None:
                    # also when nothing was notified: votes written by hand
                    # send no NOTIFY; only what changed goes out
                    poll = await self.poll()
                    if poll and poll != self.last_poll:
                        self.last_poll = poll
                        yield poll
                events = await self.changes()
                for event in events:
                    yield event
                if events or pending:
                    idle = 0.0
                elif idle >= KEEPALIVE_S:
                    idle = 0.0
                    if not await self.session_valid():
                        # logged out or expired: the page reloads into the login page
                        yield sse("reload", {"reason": "session ended"})
                        return
                    yield ": keep-alive\n\n"

    async def session_valid(self) -> bool:
        async with self.pool.connection() as conn:
            row = await (await conn.execute(QUERIES["web_session"], {"token_sha256": self.session_digest})).fetchone()
        return row is not None and row["user_id"] == self.user.user_id


def close_streams(app: Any) -> None:
    """Called by the runtime when the web server stops."""
    hub: LiveHub | None = getattr(app.state, "live", None)
    if hub is not None:
        hub.close()


@require_user
async def live(request: Request, user: SessionUser) -> Response:
    if "text/event-stream" not in request.headers.get("accept", "text/event-stream"):
        return json_error(406, "not_acceptable", "This is an event stream; open it with EventSource.")
    token = request.cookies.get(SESSION_COOKIE, "")
    stream = Stream(pool_of(request), user, stream_params(request), token_digest(token))
    return StreamingResponse(
        stream.events(live_hub(request)),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


routes: list[BaseRoute] = [Route("/live", live)]
