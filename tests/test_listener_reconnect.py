"""The notification listener outlives a database that is not there: a
reconnect that finds no server (PostgreSQL restarting) is tried again, not
the end of the listener (which ended the whole node: seen when an
embedded-server restart took longer than the reconnect delay)."""

from __future__ import annotations

import asyncio
import logging
import socket
import time

import pytest

from msghub.hub.notify import Listener

WAIT_S = 60.0


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nobody listens once it is closed


def test_a_reconnect_without_a_server_is_tried_again(caplog: pytest.LogCaptureFixture) -> None:
    url = f"postgresql://msghub@127.0.0.1:{_closed_port()}/msghub?connect_timeout=5"
    listener = Listener(url)

    async def scenario() -> None:
        task = asyncio.create_task(listener.run())
        deadline = time.monotonic() + WAIT_S
        while sum("reconnecting" in r.getMessage() for r in caplog.records) < 2:  # failed twice, still there
            assert not task.done(), task.exception() if not task.cancelled() else "cancelled"
            assert time.monotonic() < deadline, "the listener never said it was reconnecting"
            await asyncio.sleep(0.05)
        listener.stop()
        await asyncio.wait_for(task, WAIT_S)

    with caplog.at_level(logging.WARNING, logger="msghub.hub.notify"):
        asyncio.run(scenario())
    assert "cannot connect to" in caplog.text
