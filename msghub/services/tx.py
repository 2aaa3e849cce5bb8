"""What a service runs in: one transaction (Tx) and who acts (Actor).

Services are async and take a Tx: the web passes its psycopg
AsyncConnection (already in a transaction as the signed-in user), the CLI
passes its synchronous connection through blocking.call(). A service never
commits; its caller's transaction does.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass

from msghub.hub.db import Cursor, Query, Tx

__all__ = ["SYSTEM", "Actor", "Cursor", "Query", "Tx"]

@dataclass(frozen=True)
class Actor:
    """Who asks for a change, as the audit log records it."""

    name: str
    user_id: int | None = None
    source: str | None = "cli"  # cli, or the web client's address (None: not known)

    @classmethod
    def cli(cls) -> Actor:
        return cls(getpass.getuser())


SYSTEM = Actor("msghub")
