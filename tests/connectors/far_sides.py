"""The far side of each connection kind, for the contract suite.

A FarSide stands up what a kind talks to (a real peer or simulator, never a
mock) and can make it refuse a message, drop the link and send a message to
the hub. A new kind joins the contract suite by writing its FarSide here
and adding one line to FAR_SIDES.
"""

from __future__ import annotations

import socket
from typing import Any, Protocol

from msghub.connectors.base import Connector, OutboundMessage
from msghub.connectors.registry import kind_class
from msghub.connectors.settings import validate_config
from msghub.devtools.emi.simulator import SimulatorConfig, SmscSimulator

SENDER = "+15550001"
REFUSED = "+4477009990"  # a recipient prefix the far side refuses for good


class FarSide(Protocol):
    kind: str
    # a recipient the far side refuses for good
    refused_recipient: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def config(self) -> dict[str, Any]:
        """Validated settings that reach this far side."""

    def unreachable_config(self) -> dict[str, Any] | None:
        """Validated settings that reach nothing; None for a kind without a far side."""

    async def drop_link(self) -> bool:
        """Drops the connector's link from the far side; False when the kind has no link."""

    async def send_inbound(self, connector: Connector, text: str) -> None:
        """Has the far side send text to the hub through the open connector."""

    async def wait_disconnected(self) -> None:
        """Returns once the far side sees no link from the connector."""


def closed_port() -> int:
    """A local port with nothing listening (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def outbound(recipient: str, text: str = "hello", *, report: bool = False, message_id: int = 1) -> OutboundMessage:
    return OutboundMessage(id=message_id, attempt=1, channel="sms", recipient=recipient, sender=SENDER,
                           subject=None, text=text, delivery_report=report)


class LoopbackFarSide:
    """Loopback is its own far side: it refuses by fail_prefix and "receives"
    by returning what it sends."""

    kind = "loopback"
    refused_recipient = REFUSED + "1"

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    def config(self) -> dict[str, Any]:
        return validate_config(kind_class(self.kind).settings, {"delay_ms": 0, "fail_prefix": REFUSED})

    def unreachable_config(self) -> dict[str, Any] | None:
        return None

    async def drop_link(self) -> bool:
        return False

    async def send_inbound(self, connector: Connector, text: str) -> None:
        await connector.send(outbound("+15550002", text, message_id=99))

    async def wait_disconnected(self) -> None:
        pass


class EmiFarSide:
    """The SMSC simulator, speaking EMI/UCP over TCP on 127.0.0.1."""

    kind = "emi"
    refused_recipient = REFUSED + "1"
    user, password = "hub", "s3cret"

    def __init__(self) -> None:
        self.sim = SmscSimulator(SimulatorConfig(accounts={self.user: self.password}, dr_delay_s=0.05))

    async def start(self) -> None:
        await self.sim.start()
        # the connector sends + as international_prefix 00; EC 05 is permanent
        self.sim.refuse_recipients("00" + REFUSED.removeprefix("+"), "05")

    async def stop(self) -> None:
        await self.sim.stop()

    def _settings(self, port: int) -> dict[str, Any]:
        return validate_config(kind_class(self.kind).settings, {
            "host": "127.0.0.1", "port": port, "username": self.user, "password": self.password,
            "connect_timeout_s": 5})

    def config(self) -> dict[str, Any]:
        return self._settings(self.sim.port)

    def unreachable_config(self) -> dict[str, Any] | None:
        return self._settings(closed_port())

    async def drop_link(self) -> bool:
        await self.sim.wait_for(lambda: bool(self.sim.sessions), timeout=30)
        return self.sim.drop_links() > 0

    async def send_inbound(self, connector: Connector, text: str) -> None:
        await self.sim.inject_mo("447700900222", "5550001", text, session=self.user)

    async def wait_disconnected(self) -> None:
        await self.sim.wait_for(lambda: not self.sim.sessions, timeout=30)


# One line per kind: the contract suite runs for each.
FAR_SIDES: dict[str, type[FarSide]] = {
    "loopback": LoopbackFarSide,
    "emi": EmiFarSide,
}
