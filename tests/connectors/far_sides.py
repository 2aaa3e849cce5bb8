"""The far side of each connection kind, for the contract suite.

A FarSide stands up what a kind talks to (a real peer or simulator, never a
mock) and can make it refuse a message, drop the link and send a message to
the hub. A new kind joins the contract suite by writing its FarSide here
and adding one line to FAR_SIDES. A kind that only sends (smtp) or only
receives (pop3) says so (sends, delivers, reports): the suite skips what
it cannot do and runs the rest.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import socket
import tempfile
from pathlib import Path
from typing import Any, Protocol

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from msghub.app.inbound import http_request, response
from msghub.connectors.base import Connector, OutboundMessage
from msghub.connectors.registry import kind_class
from msghub.connectors.settings import validate_config
from msghub.devtools.emi.simulator import SimulatorConfig, SmscSimulator
from msghub.devtools.mailservers import PASSWORD, MailServers, ServersMissing
from msghub.devtools.mmsc.simulator import MmscConfig, MmscSimulator
from msghub.devtools.modem import ModemSimulator

SENDER = "+15550001"
REFUSED = "+4477009990"  # a recipient prefix the far side refuses for good


class FarSide(Protocol):
    kind: str
    # a recipient the far side refuses for good
    refused_recipient: str
    # what the kind does: send messages, deliver what arrives to HubPort.deliver, report deliveries
    sends: bool
    delivers: bool
    reports: bool

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def config(self) -> dict[str, Any]:
        """Validated settings that reach this far side."""

    def unreachable_config(self) -> dict[str, Any] | None:
        """Validated settings that reach nothing; None for a kind without a far side."""

    def attach(self, connector: Connector) -> None:
        """The connector opened against this far side: where a far side that
        calls the hub over HTTP (receives_http) sends what it has."""

    async def drop_link(self) -> bool:
        """Drops the connector's link from the far side; False when the kind has no link."""

    async def send_inbound(self, connector: Connector, text: str) -> None:
        """Has the far side send text to the hub through the open connector."""

    async def wait_disconnected(self) -> None:
        """Returns once the far side sees no link from the connector."""

    def outbound(self, recipient: str, text: str = "hello", *, report: bool = False,
                 message_id: int = 1) -> OutboundMessage:
        """A message on the kind's channel to this recipient (the suite names SMS numbers)."""


def closed_port() -> int:
    """A local port with nothing listening (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def outbound(recipient: str, text: str = "hello", *, report: bool = False, message_id: int = 1) -> OutboundMessage:
    return OutboundMessage(id=message_id, attempt=1, channel="sms", recipient=recipient, sender=SENDER,
                           subject=None, text=text, delivery_report=report)


class SmsFarSide:
    sends = delivers = reports = True

    def attach(self, connector: Connector) -> None:
        pass  # the connector reaches its far side; nothing posts to the hub

    def outbound(self, recipient: str, text: str = "hello", *, report: bool = False,
                 message_id: int = 1) -> OutboundMessage:
        return outbound(recipient, text, report=report, message_id=message_id)


class LoopbackFarSide(SmsFarSide):
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


class EmiFarSide(SmsFarSide):
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


class HubWeb:
    """The hub's web role as far as a kind that receives over HTTP sees it:
    POST /<kind>/<connector name> answered by the open connector's
    receive_http, as msghub/app/inbound.py does it for a running hub, with
    the connector's own HubPort (MemoryHub here) instead of the database."""

    def __init__(self) -> None:
        self.connectors: dict[str, Connector] = {}
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self.port = int(self._socket.getsockname()[1])
        app = Starlette(routes=[Route("/{kind}/{connection}", self._receive, methods=["POST"])])
        self._server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False))
        self._serve: asyncio.Task[None] | None = None

    def url(self, connector: Connector) -> str:
        return f"http://127.0.0.1:{self.port}/{connector.kind}/{connector.name}"

    async def _receive(self, request: Request) -> Response:
        connector = self.connectors.get(request.path_params["connection"])
        if connector is None or connector.kind != request.path_params["kind"]:
            return PlainTextResponse("no such connection", status_code=404)
        return response(await connector.receive_http(await http_request(request)))

    async def start(self) -> None:
        self._serve = asyncio.create_task(self._server.serve(sockets=[self._socket]))
        while not self._server.started:
            if self._serve.done():
                await self._serve  # raises what stopped it
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        self._server.should_exit = True
        if self._serve is not None:
            await self._serve
        self._socket.close()


class Mm7FarSide(SmsFarSide):
    """The MMSC simulator, speaking MM7 (SOAP over HTTP) on 127.0.0.1, with a
    digest login both ways; it posts deliveries and delivery reports to the
    connector through HubWeb."""

    kind = "mm7"
    refused_recipient = REFUSED + "1"
    user, password = "vasp", "s3cret"
    hub_user, hub_password = "mmsc", "in-s3cret"

    def __init__(self) -> None:
        self.web = HubWeb()
        # 2002 (address error) is permanent
        self.sim = MmscSimulator(MmscConfig(
            username=self.user, password=self.password, auth="digest", hub_username=self.hub_user,
            hub_password=self.hub_password, hub_auth="digest", dr_delay_s=0.05, faults={REFUSED: 2002}))

    async def start(self) -> None:
        await self.web.start()
        await self.sim.start()

    async def stop(self) -> None:
        await self.sim.stop()
        await self.web.stop()

    def _settings(self, url: str) -> dict[str, Any]:
        return validate_config(kind_class(self.kind).settings, {
            "url": url, "username": self.user, "password": self.password, "auth": "digest", "timeout_s": 10,
            "inbound_username": self.hub_user, "inbound_password": self.hub_password, "inbound_auth": "digest",
            "inbound_allow": "127.0.0.1/32"})

    def config(self) -> dict[str, Any]:
        return self._settings(self.sim.url)

    def unreachable_config(self) -> dict[str, Any] | None:
        return self._settings(f"http://127.0.0.1:{closed_port()}/mm7")

    def attach(self, connector: Connector) -> None:
        self.web.connectors[connector.name] = connector
        self.sim.config.hub_url = self.web.url(connector)

    async def drop_link(self) -> bool:
        return False  # each request is an HTTP exchange of its own: no lasting link

    async def send_inbound(self, connector: Connector, text: str) -> None:
        await self.sim.deliver("+447700900222", "5550001", text)

    async def wait_disconnected(self) -> None:
        pass


class ModemFarSide(SmsFarSide):
    """The modem simulator: a GSM modem speaking AT commands (PDU mode) on a
    pseudo-terminal, served by a thread of this process."""

    kind = "modem"
    refused_recipient = REFUSED + "1"

    def __init__(self) -> None:
        # CMS ERROR 21 (short message transfer rejected) is permanent
        self.sim = ModemSimulator("generic", cms_error_for={REFUSED: 21}, report_delay_s=0.05)
        self.path = ""

    async def start(self) -> None:
        self.path = await asyncio.to_thread(self.sim.start)

    async def stop(self) -> None:
        await asyncio.to_thread(self.sim.stop)

    def _settings(self, port: str) -> dict[str, Any]:
        return validate_config(kind_class(self.kind).settings, {"port": port, "sweep": False})

    def config(self) -> dict[str, Any]:
        return self._settings(self.path)

    def unreachable_config(self) -> dict[str, Any] | None:
        return self._settings(str(Path(tempfile.gettempdir()) / "msghub-contract-no-such-modem"))

    async def drop_link(self) -> bool:
        await asyncio.to_thread(self.sim.fault, "unplug")  # the pty goes away until replug()
        return True

    async def send_inbound(self, connector: Connector, text: str) -> None:
        await asyncio.to_thread(self.sim.inject_sms, "+447700900222", text)

    async def wait_disconnected(self) -> None:
        assert await asyncio.to_thread(self.sim.wait_for, lambda: not self.sim.connected, 30.0)


_mail: MailServers | None = None


def mail_servers() -> MailServers:
    """Debian's Postfix and Dovecot on loopback (msghub/devtools/mailservers.py),
    started once for the whole run, as tests/email/conftest.py does."""
    global _mail
    if _mail is None:
        try:
            servers = MailServers()
        except ServersMissing as exc:
            if os.environ.get("MSGHUB_SKIP_PEERS") == "1":
                pytest.skip(f"{exc} (MSGHUB_SKIP_PEERS=1)")
            pytest.fail(f"{exc} (or set MSGHUB_SKIP_PEERS=1 to skip the peer tests)")
        servers.start()
        atexit.register(servers.stop)
        _mail = servers
    return _mail


class MailFarSide:
    """A real Postfix (smtp sends into it) and Dovecot (pop3 logs in to it);
    the mailbox user is bob, whose mail no other contract test reads."""

    kind: str
    refused_recipient = "unknown@example.test"  # no such mailbox: 550
    reports = False  # bounces and DSNs come back through a pop3 mailbox (tests/email)
    user = "bob"

    def __init__(self) -> None:
        self.servers: MailServers | None = None

    def attach(self, connector: Connector) -> None:
        pass

    async def start(self) -> None:
        self.servers = mail_servers()

    async def stop(self) -> None:
        pass

    def _servers(self) -> MailServers:
        assert self.servers is not None, "start() first"
        return self.servers

    def config(self) -> dict[str, Any]:
        return self._settings(self._port())

    def unreachable_config(self) -> dict[str, Any] | None:
        return self._settings(closed_port())

    def _port(self) -> int:
        raise NotImplementedError

    def _settings(self, port: int) -> dict[str, Any]:
        raise NotImplementedError

    async def drop_link(self) -> bool:
        return False  # each session is short: a lost one is retried by the next send or poll

    async def send_inbound(self, connector: Connector, text: str) -> None:
        raise AssertionError(f"{self.kind} delivers nothing to HubPort.deliver")

    async def wait_disconnected(self) -> None:
        pass  # close() ends every session with QUIT before it returns

    def outbound(self, recipient: str, text: str = "hello", *, report: bool = False,
                 message_id: int = 1) -> OutboundMessage:
        # the suite's SMS numbers stand for bob's mailbox; the refused one stays as it is
        address = recipient if recipient == self.refused_recipient else f"{self.user}@example.test"
        return OutboundMessage(id=message_id, attempt=1, channel="email", recipient=address, sender=None,
                               subject="contract", text=text, delivery_report=report)


class SmtpFarSide(MailFarSide):
    kind = "smtp"
    sends, delivers = True, False

    def _port(self) -> int:
        return self._servers().ports.smtp

    def _settings(self, port: int) -> dict[str, Any]:
        servers = self._servers()
        return validate_config(kind_class(self.kind).settings, {
            "host": "127.0.0.1", "port": port, "tls": "starttls", "tls_ca_file": str(servers.ca),
            "username": "hub@example.test", "password": PASSWORD, "from_address": "hub@example.test",
            "timeout_s": 10})


class Pop3FarSide(MailFarSide):
    kind = "pop3"
    sends, delivers = False, False  # only receives, and stores through MailPort (tests/email)

    def _port(self) -> int:
        return self._servers().ports.pop3s

    def _settings(self, port: int) -> dict[str, Any]:
        servers = self._servers()
        return validate_config(kind_class(self.kind).settings, {
            "host": "127.0.0.1", "port": port, "tls": "implicit", "tls_ca_file": str(servers.ca),
            "username": self.user, "password": PASSWORD, "timeout_s": 10, "poll_interval_s": 3600})


# One line per kind: the contract suite runs for each.
FAR_SIDES: dict[str, type[FarSide]] = {
    "loopback": LoopbackFarSide,
    "emi": EmiFarSide,
    "mm7": Mm7FarSide,
    "modem": ModemFarSide,
    "smtp": SmtpFarSide,
    "pop3": Pop3FarSide,
}
