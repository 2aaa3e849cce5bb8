"""MemoryHub.find_received answers as HubLink's query does (meta @> ...)."""

from __future__ import annotations

import asyncio

from msghub.connectors.base import InboundMessage
from msghub.connectors.memory import MemoryHub


def test_find_received_by_operator_ref_and_contained_meta() -> None:
    async def scenario() -> None:
        hub = MemoryHub()
        meta = {"mm7": {"transaction_id": "t1", "linked_id": "L", "cc": ["+1", "+2"]}}
        first = await hub.deliver(InboundMessage("mms", "+1555", ("1234",), "hi", operator_ref="L", meta=meta))
        assert await hub.find_received("L", {"mm7": {"transaction_id": "t1"}}) == first
        assert await hub.find_received("L", {"mm7": {"cc": ["+2"]}}) == first
        assert await hub.find_received("L", {}) == first
        assert await hub.find_received("L", {"mm7": {"transaction_id": "t2"}}) is None
        assert await hub.find_received("M", {"mm7": {"transaction_id": "t1"}}) is None
        assert await hub.find_received("L", {"mm7": {"cc": ["+3"]}}) is None

    asyncio.run(scenario())
