"""What the e-mail connectors ask of the hub beyond HubPort: the database
bookkeeping that makes fetching and sending exactly-once (see schema/85_email.sql).

msghub.services.email_link.EmailLink implements it against PostgreSQL (the
running connection's msghub.app.hublink.HubLink includes it); MemoryMailPort
keeps it in memory for a connector run without a hub (probes, unit tests).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from msghub.connectors.base import InboundMessage


@dataclass(frozen=True)
class Acceptance:
    message_id: int
    attempt: int
    header_id: str
    server_reply: str
    recipients: tuple[dict[str, Any], ...]
    in_reply_to: str | None
    references: tuple[str, ...]


@dataclass(frozen=True)
class Fetched:
    """One mail as fetched, with what threads it."""
    uidl: str
    size: int
    outcome: str  # stored or too_large
    message: InboundMessage
    header_id: str | None
    in_reply_to: str | None
    references: tuple[str, ...]


@runtime_checkable
class MailPort(Protocol):
    async def message_id_salt(self) -> str: ...

    async def smtp_accepted(self, message_id: int) -> str | None: ...

    async def smtp_accept(self, acceptance: Acceptance) -> None: ...

    async def email_answers(self, message_id: int) -> tuple[str | None, tuple[str, ...]]: ...

    async def pop3_unseen(self, uidls: list[str]) -> list[str]: ...

    async def pop3_receive(self, fetched: Fetched) -> int | None: ...

    async def pop3_report(self, uidl: str, size: int, header_id: str | None, envelope_id: str | None,
                          status: str, reason: str | None) -> int | None: ...

    async def pop3_undeleted(self) -> list[str]: ...

    async def pop3_mark_deleted(self, uidls: list[str]) -> None: ...

    async def gateway_sms(self, message_id: int, number: str, text: str, connection: str) -> int: ...


@dataclass
class MemoryMailPort:
    accepted: dict[int, Acceptance] = field(default_factory=dict)
    seen: dict[str, str] = field(default_factory=dict)  # uidl -> outcome
    stored: list[Fetched] = field(default_factory=list)
    deleted: set[str] = field(default_factory=set)
    sms: list[tuple[int, str, str, str]] = field(default_factory=list)

    async def message_id_salt(self) -> str:
        return "memory"

    async def smtp_accepted(self, message_id: int) -> str | None:
        found = self.accepted.get(message_id)
        return found.header_id if found else None

    async def smtp_accept(self, acceptance: Acceptance) -> None:
        self.accepted.setdefault(acceptance.message_id, acceptance)

    async def email_answers(self, message_id: int) -> tuple[str | None, tuple[str, ...]]:
        return None, ()

    async def pop3_unseen(self, uidls: list[str]) -> list[str]:
        return [u for u in uidls if u not in self.seen]

    async def pop3_receive(self, fetched: Fetched) -> int | None:
        if fetched.uidl in self.seen:
            return None
        self.seen[fetched.uidl] = fetched.outcome
        self.stored.append(fetched)
        return len(self.stored)

    async def pop3_report(self, uidl: str, size: int, header_id: str | None, envelope_id: str | None,
                          status: str, reason: str | None) -> int | None:
        return None

    async def pop3_undeleted(self) -> list[str]:
        return [u for u, outcome in self.seen.items() if u not in self.deleted and outcome != "too_large"]

    async def pop3_mark_deleted(self, uidls: list[str]) -> None:
        self.deleted.update(uidls)

    async def gateway_sms(self, message_id: int, number: str, text: str, connection: str) -> int:
        self.sms.append((message_id, number, text, connection))
        return len(self.sms)
