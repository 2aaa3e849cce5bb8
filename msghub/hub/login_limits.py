"""The limit on failed logins per client address (docs/SECURITY.md).

Every path that takes a secret counts its failures per address: the login
form (scope "login_address") and API keys ("api_address"), each on its own
so that a program with a revoked key does not lock people out of the login
form on the same machine. Once an address has ADDRESS_LIMIT failures in a
window of ADDRESS_WINDOW_S, everything it tries on that path is refused,
the right secret too, until the window ends. The counts are rows of
hub.login_failures, so every hub node behind a load balancer shares them.
"""

from __future__ import annotations

from typing import Literal

import psycopg

from msghub.hub.db import Row
from msghub.hub.queries import QUERIES

ADDRESS_LIMIT = 20
ADDRESS_WINDOW_S = 600
RATE_LIMITED = "too many failed sign-ins from your address: try again in a few minutes"

Scope = Literal["login_address", "api_address"]


async def address_blocked(conn: psycopg.AsyncConnection[Row], scope: Scope, address: str | None) -> bool:
    if not address:
        return False
    cur = await conn.execute(QUERIES["address_blocked"], {"scope": scope, "address": address[:200],
                                                           "limit": ADDRESS_LIMIT, "window_s": ADDRESS_WINDOW_S})
    row = await cur.fetchone()
    return bool(row and row["blocked"])


async def address_failed(conn: psycopg.AsyncConnection[Row], scope: Scope, address: str | None) -> None:
    if address:
        await conn.execute(QUERIES["address_failed"], {"scope": scope, "address": address[:200],
                                                       "window_s": ADDRESS_WINDOW_S})
