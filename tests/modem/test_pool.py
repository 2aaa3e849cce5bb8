"""Pools: several modems behind one connection share the queue by free
capacity and routes, honour per-device limits, and a dead device's messages
go to the others."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from msghub.connectors.base import TemporaryFailure
from msghub.connectors.modem.pool import NoDevice, Pool, Slot, parse_routes
from tests.modem.fakemodem import FakeModem
from tests.modem.support import HubRecorder, connector, run, until
from tests.modem.test_connector import sms


def test_routes_parse() -> None:
    assert parse_routes("+31,+32=/dev/a; +44=/dev/b") == {"/dev/a": ("+31", "+32"), "/dev/b": ("+44",)}
    with pytest.raises(ValueError):
        parse_routes("+31")


def test_pool_prefers_routes_then_free_capacity_and_honours_limits() -> None:
    async def body() -> None:
        now = [1000.0]
        slots = [Slot("a", "a", per_minute=2, up=True), Slot("b", "b", prefixes=("+44",), per_day=1, up=True)]
        pool = Pool(slots, clock=lambda: now[0])
        first = await pool.acquire("+4479")
        assert first.key == "b"  # the route
        await pool.release(first, sent=True)
        assert (await pool.acquire("+4479")).key == "a"  # b has used its day
        await pool.release(slots[0], sent=True)
        assert (await pool.acquire("+31")).key == "a"
        await pool.release(slots[0], sent=True)
        # a is at 2 per minute, b at its day: wait for the minute to pass
        waiting = asyncio.create_task(pool.acquire("+31"))
        await asyncio.sleep(0.1)
        assert not waiting.done()
        now[0] += 61
        await pool.changed()
        assert (await asyncio.wait_for(waiting, 30)).key == "a"
        slots[0].up = False
        with pytest.raises(NoDevice, match="messages per day"):
            await pool.acquire("+31")
        slots[1].up = False
        with pytest.raises(NoDevice, match="no device is up"):
            await pool.acquire("+31")
        assert slots[1].day == datetime.now(UTC).date()

    run(body)


def test_messages_spread_over_devices_and_a_dead_one_leaves_its_work_to_the_other() -> None:
    async def body() -> None:
        modems = [FakeModem(imei=f"35000000000000{i}") for i in range(2)]
        for modem in modems:
            modem.start()
        hub = HubRecorder()
        conn = connector(",".join(m.path for m in modems), hub)
        try:
            await conn.open()
            assert conn.window == 4
            results = await asyncio.gather(*(conn.send(sms(f"m{i}", id=i)) for i in range(6)))
            assert all(r.operator_ref for r in results)
            assert len(modems[0].sent) >= 1 and len(modems[1].sent) >= 1
            assert len(modems[0].sent) + len(modems[1].sent) == 6
            devices = hub.metas[-1]["devices"]
            assert [d["imei"] for d in devices] == ["350000000000000", "350000000000001"]
            modems[0].peer.unplug()
            await until(lambda: not conn.slots[0].up, "the unplugged device to count as down")
            assert not conn._lost.is_set()  # the other still serves
            before = len(modems[1].sent)
            for i in range(3):
                await conn.send(sms(f"after {i}", id=10 + i))
            assert len(modems[1].sent) == before + 3
            await until(lambda: not hub.metas[-1]["devices"][0]["up"], "the pool's state")
        finally:
            await conn.close()
            for modem in modems:
                modem.close()

    run(body)


def test_a_pool_with_no_device_left_reports_the_link_lost() -> None:
    async def body() -> None:
        modems = [FakeModem(), FakeModem()]
        for modem in modems:
            modem.start()
        conn = connector(",".join(m.path for m in modems))
        try:
            await conn.open()
            for modem in modems:
                modem.peer.unplug()
            await asyncio.wait_for(conn.wait_lost(), 30)
            with pytest.raises(TemporaryFailure):
                await conn.send(sms())
        finally:
            await conn.close()
            for modem in modems:
                modem.close()

    run(body)


def test_a_claimed_message_does_not_wait_for_ever() -> None:
    async def body() -> None:
        pool = Pool([Slot("a", "a", up=True, busy=True)])
        with pytest.raises(NoDevice, match="stayed busy"):
            await pool.acquire("+31", timeout_s=0.1)

    run(body)


def test_routes_by_sim_and_by_device() -> None:
    from msghub.connectors.modem.connector import prefixes_for

    routes = parse_routes("+31=imsi:20408; +44=imei:3512; +49=/dev/a")
    assert prefixes_for(routes, "/dev/a", "204081234", "3512") == ("+49", "+31", "+44")
    assert prefixes_for(routes, "/dev/b", "262011234", "9999") == ()


def test_a_pool_routes_by_sim() -> None:
    async def body() -> None:
        modems = [FakeModem(imei=f"35000000000000{i}") for i in range(2)]
        for modem in modems:
            modem.start()
        conn = connector(",".join(m.path for m in modems), routes="+44=imei:350000000000001")
        try:
            await conn.open()
            for i in range(4):
                await conn.send(sms(f"to uk {i}", recipient=f"+4479111111{i}", id=i))
            assert len(modems[1].sent) == 4 and not modems[0].sent
        finally:
            await conn.close()
            for modem in modems:
                modem.close()

    run(body)
