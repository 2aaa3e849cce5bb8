"""Tariffs and quotas (docs/COSTS.md): the rows hub.outbox prices and
limits messages by. The database checks them (schema/90_costs.sql); this
module resolves names, turns the database's refusals into CostError and
records each change in the audit log."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

import psycopg

from msghub.errors import HubError
from msghub.services import audit
from msghub.services.queries import COSTS_QUERIES
from msghub.services.tariff_csv import TariffSpec, parse_tariffs

__all__ = ["CostError", "QuotaSpec", "TariffSpec"]
from msghub.services.tx import Actor, Tx

PERIODS = ("day", "week", "month")
UNITS = ("messages", "money")


class CostError(HubError):
    pass


@dataclass(frozen=True)
class QuotaSpec:
    name: str
    amount: Decimal
    period: str
    user: str | None = None
    group: str | None = None
    connection: str | None = None
    currency: str | None = None  # money quotas; None counts messages
    warn_percent: int | None = None
    admins_exempt: bool = True


def _refusal(exc: psycopg.Error) -> str:
    """The database's message without its CONTEXT lines."""
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


async def _id(tx: Tx, query: str, name: str, what: str) -> int:
    row = await (await tx.execute(COSTS_QUERIES[query], {"name": name})).fetchone()
    if row is None:
        raise CostError(f"no {what} named {name!r}")
    return int(row["id"])


async def list_tariffs(tx: Tx, connection: str | None = None) -> list[dict[str, Any]]:
    return [dict(r) for r in await (await tx.execute(COSTS_QUERIES["tariffs"], {"connection": connection})).fetchall()]


async def _insert_tariff(tx: Tx, spec: TariffSpec) -> int:
    params = {**asdict(spec), "connection_id": await _id(tx, "connection_id_by_name", spec.connection, "connection")}
    row = await (await tx.execute(COSTS_QUERIES["insert_tariff"], params)).fetchone()
    assert row is not None
    return int(row["id"])


async def add_tariff(tx: Tx, actor: Actor, spec: TariffSpec) -> int:
    """Adds a tariff; a later price for the same prices ends the open one
    before it. Raises CostError with the database's reason when refused."""
    try:
        tariff_id = await _insert_tariff(tx, spec)
    except (psycopg.errors.InvalidParameterValue, psycopg.errors.CheckViolation) as exc:
        raise CostError(_refusal(exc)) from None
    await audit.record(tx, actor, "tariff.add", spec.connection,
                       {"id": tariff_id, "channel": spec.channel, "prefix": spec.prefix, "price": str(spec.price),
                        "currency": spec.currency})
    return tariff_id


async def remove_tariff(tx: Tx, actor: Actor, tariff_id: int) -> None:
    row = await (await tx.execute(COSTS_QUERIES["delete_tariff"], {"id": tariff_id})).fetchone()
    if row is None:
        raise CostError(f"no tariff with id {tariff_id}")
    await audit.record(tx, actor, "tariff.remove", str(row["connection"]),
                       {"id": tariff_id, "prefix": row["prefix"], "price": str(row["price"])})


async def import_tariffs(tx: Tx, actor: Actor, text: str) -> int:
    """Adds every tariff of a CSV price list, all or none: a malformed line
    (TariffCsvError, every bad line listed) or a refused tariff (CostError,
    with its line number) leaves nothing added, as the caller's transaction
    is then rolled back."""
    specs = parse_tariffs(text)
    for spec in specs:
        line = spec.line
        try:
            await _insert_tariff(tx, spec)
        except (psycopg.errors.InvalidParameterValue, psycopg.errors.CheckViolation) as exc:
            raise CostError(f"line {line}: {_refusal(exc)}") from None
        except CostError as exc:
            raise CostError(f"line {line}: {exc}") from None
    await audit.record(tx, actor, "tariff.import", None, {"tariffs": len(specs)})
    return len(specs)


async def list_quotas(tx: Tx) -> list[dict[str, Any]]:
    return [dict(r) for r in await (await tx.execute(COSTS_QUERIES["quotas"], {})).fetchall()]


async def add_quota(tx: Tx, actor: Actor, spec: QuotaSpec) -> int:
    if (spec.user is None) == (spec.group is None):
        raise CostError("a quota holds a user or a group: give one of them")
    if spec.period not in PERIODS:
        raise CostError(f"period {spec.period!r}: use day, week or month")
    if spec.amount <= 0:
        raise CostError(f"the limit must be more than 0, not {spec.amount}")
    if spec.warn_percent is not None and not 1 <= spec.warn_percent <= 100:
        raise CostError(f"warn at {spec.warn_percent} %: give 1 to 100")
    params = {
        "name": spec.name, "amount": spec.amount, "period": spec.period,
        "unit": "money" if spec.currency else "messages", "currency": spec.currency,
        "user_id": await _id(tx, "user_id_by_name", spec.user, "user") if spec.user else None,
        "group_id": await _id(tx, "group_id_by_name", spec.group, "group") if spec.group else None,
        "connection_id": (await _id(tx, "connection_id_by_name", spec.connection, "connection")
                          if spec.connection else None),
        "warn_percent": spec.warn_percent, "admins_exempt": spec.admins_exempt,
    }
    try:
        row = await (await tx.execute(COSTS_QUERIES["insert_quota"], params)).fetchone()
    except psycopg.errors.UniqueViolation:
        raise CostError(f"a quota named {spec.name!r} already exists") from None
    except psycopg.errors.CheckViolation as exc:
        constraint = getattr(exc.diag, "constraint_name", "") or ""
        raise CostError({
            "quotas_currency_known": f"unknown currency {spec.currency!r}: give an ISO 4217 code such as EUR",
            "quotas_name_format": f"quota name {spec.name!r}: 1 to 100 characters, not starting or ending blank",
        }.get(constraint, _refusal(exc))) from None
    assert row is not None
    await audit.record(tx, actor, "quota.add", spec.name, {k: str(v) for k, v in asdict(spec).items()})
    return int(row["id"])


async def remove_quota(tx: Tx, actor: Actor, name: str) -> None:
    row = await (await tx.execute(COSTS_QUERIES["delete_quota"], {"name": name})).fetchone()
    if row is None:
        raise CostError(f"no quota named {name!r}")
    await audit.record(tx, actor, "quota.remove", name)


async def set_bill_retries(tx: Tx, actor: Actor, connection: str, bill_retries: bool) -> None:
    """Whether the connection's operator bills every attempt (a retry costs
    again) or only the one that got through."""
    row = await (await tx.execute(COSTS_QUERIES["set_bill_retries"],
                                  {"name": connection, "bill_retries": bill_retries})).fetchone()
    if row is None:
        raise CostError(f"no connection named {connection!r}")
    await audit.record(tx, actor, "connection.bill_retries", connection, {"bill_retries": bill_retries})
