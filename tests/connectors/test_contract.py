"""The connector contract, run for every kind in far_sides.FAR_SIDES: open,
send, refuse, link lost, close, probe, inbound delivery, delivery report,
typed settings and registration. The hub side is MemoryHub, the far side
is real (a simulator or the kind itself)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Coroutine
from typing import Any, TypeVar

import pytest

from msghub.connectors.base import Connector, PermanentFailure, ProbeResult, SendResult
from msghub.connectors.memory import MemoryHub
from msghub.connectors.registry import KINDS, kind_class
from msghub.connectors.settings import typed_settings_problems
from tests.connectors.far_sides import FAR_SIDES, FarSide

T = TypeVar("T")
TEST_TIMEOUT_S = 60.0
_names = itertools.count(1)

pytestmark = pytest.mark.parametrize("kind", sorted(FAR_SIDES))


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(asyncio.wait_for(coro, TEST_TIMEOUT_S))


@contextlib.asynccontextmanager
async def far_side(kind: str) -> AsyncIterator[FarSide]:
    far = FAR_SIDES[kind]()
    await far.start()
    try:
        yield far
    finally:
        await far.stop()


@contextlib.asynccontextmanager
async def opened(far: FarSide, hub: MemoryHub) -> AsyncIterator[Connector]:
    connector = kind_class(far.kind)(f"contract-{far.kind}-{next(_names)}", far.config(), hub)
    far.attach(connector)
    await connector.open()
    try:
        yield connector
    finally:
        await connector.close()


def test_registered_with_typed_settings(kind: str) -> None:
    cls = kind_class(kind)
    assert KINDS[kind] is cls and cls.kind == kind
    assert cls.channels and cls.description and cls.settings
    assert cls.settings_type is not None, f"{kind} declares no settings TypedDict"
    assert typed_settings_problems(cls.settings_type, cls.settings) == []
    assert cls.probe.__func__ is not Connector.probe.__func__, f"{kind} has no probe"  # type: ignore[attr-defined]


def test_open_send_close(kind: str) -> None:
    async def scenario() -> None:
        async with far_side(kind) as far:
            hub = MemoryHub()
            async with opened(far, hub) as connector:
                assert connector.window >= 1
                if not far.sends:
                    pytest.skip(f"{kind} only receives")
                result = await connector.send(far.outbound("+447700900123", "contract hello"))
                assert isinstance(result, SendResult) and result.operator_ref
                assert all(s.operator_ref for s in result.segments)
            # close() is not a lost link, and the far side sees the link go
            assert connector.lost_reason == ""
            await far.wait_disconnected()

    run(scenario())


def test_refused_for_good(kind: str) -> None:
    async def scenario() -> None:
        async with far_side(kind) as far, opened(far, MemoryHub()) as connector:
            if not far.sends:
                pytest.skip(f"{kind} only receives")
            with pytest.raises(PermanentFailure):
                await connector.send(far.outbound(far.refused_recipient))
            # the link outlives a refusal
            result = await connector.send(far.outbound("+447700900124"))
            assert result.operator_ref

    run(scenario())


def test_link_lost(kind: str) -> None:
    async def scenario() -> None:
        async with far_side(kind) as far, opened(far, MemoryHub()) as connector:
            if not await far.drop_link():
                pytest.skip(f"{kind} has no link to lose")
            reason = await connector.wait_lost()
            assert reason and connector.lost_reason == reason

    run(scenario())


def test_probe(kind: str) -> None:
    async def scenario() -> None:
        cls = kind_class(kind)
        async with far_side(kind) as far:
            up = await cls.probe(far.config())
            assert isinstance(up, ProbeResult) and up.ok, up.detail
            unreachable = far.unreachable_config()
            if unreachable is not None:
                down = await cls.probe(unreachable)
                assert not down.ok and down.detail

    run(scenario())


def test_inbound_delivery(kind: str) -> None:
    async def scenario() -> None:
        async with far_side(kind) as far:
            if not far.delivers:
                pytest.skip(f"{kind} delivers nothing to HubPort.deliver")
            hub = MemoryHub()
            async with opened(far, hub) as connector:
                await far.send_inbound(connector, "contract inbound")
                await hub.wait_for(lambda: any("contract inbound" in m.text for m in hub.delivered), "a delivery")
            message = next(m for m in hub.delivered if "contract inbound" in m.text)
            assert message.channel in kind_class(kind).channels and message.recipients

    run(scenario())


def test_delivery_report(kind: str) -> None:
    async def scenario() -> None:
        async with far_side(kind) as far:
            if not far.reports:
                pytest.skip(f"{kind} reports no deliveries to HubPort")
            hub = MemoryHub()
            async with opened(far, hub) as connector:
                result = await connector.send(far.outbound("+447700900125", report=True))
                refs = {s.operator_ref for s in result.segments} | {result.operator_ref}
                await hub.wait_for(lambda: any(r.operator_ref in refs for r in hub.reports), "a delivery report")
            report = next(r for r in hub.reports if r.operator_ref in refs)
            assert report.status == "delivered"

    run(scenario())
