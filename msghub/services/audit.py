"""The audit log: one way to record who did what (hub.audit_log)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from psycopg.types.json import Jsonb

from msghub.hub.queries import QUERIES
from msghub.services.tx import Actor, Tx


async def record(tx: Tx, actor: Actor, action: str, target: str | None = None,
                 detail: Mapping[str, Any] | None = None) -> None:
    await tx.execute(QUERIES["audit"], {"actor_user_id": actor.user_id, "actor": actor.name, "action": action,
                                        "target": target, "detail": Jsonb(dict(detail or {})),
                                        "source": actor.source})
