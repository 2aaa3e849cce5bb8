"""In-process limits for the public face: a per-key request rate (429 with
Retry-After) and slowed answers after failed logins (sendsms, the API).

Per process, in memory: with several hub nodes each enforces its own share;
a restart forgets. That bounds abuse without a database write per request.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import deque

log = logging.getLogger(__name__)

MAX_DELAY_S = 4.0
FAILURE_MEMORY_S = 600.0
MAX_TRACKED = 10_000


class RateLimit:
    """At most `per_minute` events per key in any 60 s window."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._seen: dict[str, deque[float]] = {}

    def retry_after(self, key: str, now: float | None = None) -> int | None:
        """None when the event may go (and counts it), else seconds to wait."""
        now = time.monotonic() if now is None else now
        if len(self._seen) > MAX_TRACKED:
            self._seen.clear()
        seen = self._seen.setdefault(key, deque())
        while seen and now - seen[0] >= 60.0:
            seen.popleft()
        if len(seen) >= self.per_minute:
            return max(1, math.ceil(60.0 - (now - seen[0])))
        seen.append(now)
        return None


class FailedLogins:
    """Each failure from an address doubles the wait of its next answer (up to MAX_DELAY_S)."""

    def __init__(self) -> None:
        self._failures: dict[str, tuple[int, float]] = {}

    async def failed(self, what: str, client: str) -> None:
        count, since = self._failures.get(client, (0, 0.0))
        if time.monotonic() - since > FAILURE_MEMORY_S:
            count = 0
        if len(self._failures) > MAX_TRACKED:
            self._failures.clear()
        self._failures[client] = (count + 1, time.monotonic())
        log.warning("%s: failed login from %s (%d in a row)", what, client, count + 1)
        await asyncio.sleep(min(MAX_DELAY_S, 0.25 * 2 ** count))

    def succeeded(self, client: str) -> None:
        self._failures.pop(client, None)
