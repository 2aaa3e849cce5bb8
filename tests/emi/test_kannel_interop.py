"""The SMSC simulator against a real EMI client: Kannel (Debian package `kannel`).

Each test writes a kannel.conf into tmp_path, starts bearerbox (connected to
the simulator over EMI with a login) and smsbox (sendsms HTTP interface and
an sms-service whose get-url points at an HTTP receiver run by the test),
all on free loopback ports, and stops both in a finally block.

Without bearerbox the tests fail and say how to install it
(scripts/install-test-deps); MSGHUB_SKIP_PEERS=1 skips them instead.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, quote_from_bytes, unquote_to_bytes, urlsplit

import httpx
import pytest

from msghub.connectors.emi import OTOA_ALPHANUMERIC, OTOA_INTERNATIONAL
from msghub.devtools.emi.simulator import ReceivedSubmit, SimulatorConfig, SmscSimulator
from msghub.sms.reassembly import Fragment, Reassembler
from msghub.sms.udh import parse_udh

pytestmark = pytest.mark.peer

USERNAME, PASSWORD = "kannel", "s3cret"
SENDSMS_USER, SENDSMS_PASSWORD = "tester", "foobar"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0
WAIT_S = 15.0
LONG_TEXT = " ".join(f"word{i:03d}" for i in range(60))  # 479 characters: 4 parts of 153
SBIN_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin", "/sbin"])


def kannel_binaries() -> tuple[str, str]:
    found = [shutil.which(name, path=SBIN_PATH) for name in ("bearerbox", "smsbox")]
    if None in found:
        if os.environ.get("MSGHUB_SKIP_PEERS") == "1":
            pytest.skip("Kannel is not installed (MSGHUB_SKIP_PEERS=1)")
        pytest.fail(
            "Kannel (bearerbox, smsbox) is not installed: run scripts/install-test-deps "
            "(or set MSGHUB_SKIP_PEERS=1 to skip the peer tests)"
        )
    bearerbox, smsbox = found
    assert bearerbox is not None and smsbox is not None
    return bearerbox, smsbox


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- an HTTP receiver for smsbox's get-url and dlr-url ------------------------------------


@dataclass
class Receiver:
    """Records the query of every GET it receives; answers 200 with no body."""

    requests: asyncio.Queue[tuple[str, dict[str, bytes]]] = field(default_factory=asyncio.Queue)
    server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(WAIT_S):
                head = await reader.readuntil(b"\r\n\r\n")
            target = head.split(b" ", 2)[1].decode("ascii")
            url = urlsplit(target)
            # Values as bytes: %b is the message's raw octets in its own charset.
            query = {
                unquote_to_bytes(k).decode(): unquote_to_bytes(v.replace("+", " "))
                for k, _, v in (item.partition("=") for item in url.query.split("&") if item)
            }
            await self.requests.put((url.path, query))
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
            await writer.drain()
        except (TimeoutError, ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            with suppress(OSError):
                await writer.wait_closed()

    async def next(self, path: str) -> dict[str, bytes]:
        async with asyncio.timeout(WAIT_S):
            while True:
                got, query = await self.requests.get()
                if got == path:
                    return query


# -- Kannel ----------------------------------------------------------------------------------


@dataclass
class Kannel:
    sendsms_port: int
    logs: Path

    def log_tail(self, lines: int = 40) -> str:
        parts = []
        for name in ("bearerbox.log", "smsbox.log"):
            path = self.logs / name
            if path.exists():
                parts.append(f"--- {name}\n" + "\n".join(path.read_text(errors="replace").splitlines()[-lines:]))
        return "\n".join(parts)

    async def sendsms(self, **params: str | bytes) -> httpx.Response:
        """GET /cgi-bin/sendsms; bytes values go as raw octets (udh, 8-bit text)."""
        values: dict[str, str | bytes] = {"username": SENDSMS_USER, "password": SENDSMS_PASSWORD, **params}
        query = "&".join(
            f"{quote(name)}={quote_from_bytes(v) if isinstance(v, bytes) else quote(v)}" for name, v in values.items()
        )
        async with httpx.AsyncClient(timeout=WAIT_S) as http:
            return await http.get(f"http://127.0.0.1:{self.sendsms_port}/cgi-bin/sendsms?{query}")


def kannel_conf(tmp: Path, smsc_port: int, receiver_port: int) -> tuple[str, int, int]:
    """The configuration text, bearerbox's smsbox port and smsbox's sendsms port."""
    admin, box, sendsms = free_port(), free_port(), free_port()
    mo_url = f"http://127.0.0.1:{receiver_port}/mo?from=%p&to=%P&text=%b&udh=%u&coding=%c&charset=%C"
    conf = f"""
group = core
admin-port = {admin}
admin-interface = 127.0.0.1
admin-password = adminpw
admin-allow-ip = "127.0.0.1"
smsbox-port = {box}
smsbox-interface = 127.0.0.1
box-allow-ip = "127.0.0.1"
log-file = "{tmp}/bearerbox.log"
log-level = 0
access-log = "{tmp}/access.log"
dlr-storage = internal
sms-combine-concatenated-mo = true

group = smsc
smsc = emi
smsc-id = sim
host = 127.0.0.1
port = {smsc_port}
smsc-username = "{USERNAME}"
smsc-password = "{PASSWORD}"
keepalive = 30
wait-ack = 30

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = {box}
sendsms-port = {sendsms}
sendsms-interface = 127.0.0.1
log-file = "{tmp}/smsbox.log"
log-level = 0
access-log = "{tmp}/smsbox-access.log"

group = sendsms-user
username = {SENDSMS_USER}
password = {SENDSMS_PASSWORD}
max-messages = 10
concatenation = true

group = sms-service
keyword = default
catch-all = true
get-url = "{mo_url}"
max-messages = 0
"""
    return conf, box, sendsms


async def _port_open(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return False
    writer.close()
    with suppress(OSError):
        await writer.wait_closed()
    return True


async def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT_S
        # Poll so the event loop (and the simulator Kannel talks to) keeps running.
        while proc.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=STOP_TIMEOUT_S)


@asynccontextmanager
async def running_kannel(tmp: Path, sim: SmscSimulator, receiver: Receiver) -> AsyncIterator[Kannel]:
    bearerbox, smsbox = kannel_binaries()
    conf, box_port, sendsms_port = kannel_conf(tmp, sim.port, receiver.port)
    conf_path = tmp / "kannel.conf"
    conf_path.write_text(conf)
    kannel = Kannel(sendsms_port, tmp)
    procs: list[subprocess.Popen[bytes]] = []
    outputs = []

    async def start(name: str, binary: str, ready_port: int) -> None:
        out = (tmp / f"{name}.out").open("wb")
        outputs.append(out)
        procs.append(subprocess.Popen([binary, "-v", "0", str(conf_path)], stdout=out, stderr=subprocess.STDOUT))
        async with asyncio.timeout(START_TIMEOUT_S):
            while not await _port_open(ready_port):
                assert procs[-1].poll() is None, f"{name} exited with status {procs[-1].returncode}"
                await asyncio.sleep(0.1)

    try:
        try:
            # smsbox gives up at once when bearerbox is not listening yet.
            await start("bearerbox", bearerbox, box_port)
            await start("smsbox", smsbox, sendsms_port)
            await sim.wait_for(lambda: any(s.username == USERNAME for s in sim.sessions), timeout=START_TIMEOUT_S)
        except (TimeoutError, AssertionError) as exc:
            raise AssertionError(f"Kannel did not come up ({exc!r})\n{kannel.log_tail()}") from None
        yield kannel
    finally:
        for proc in reversed(procs):  # smsbox first
            await _stop(proc)
        for out in outputs:
            out.close()


Body = Callable[[SmscSimulator, "Kannel", "Receiver"], Awaitable[None]]


def scenario_runner(tmp_path: Path, body: Body, **config: object) -> None:
    async def main() -> None:
        settings: dict[str, object] = {"accounts": {USERNAME: PASSWORD}, "dr_delay_s": 0.5}
        settings.update(config)
        sim = SmscSimulator(SimulatorConfig(**settings))  # type: ignore[arg-type]
        receiver = Receiver()
        await sim.start()
        await receiver.start()
        try:
            async with running_kannel(tmp_path, sim, receiver) as kannel:
                try:
                    async with asyncio.timeout(90):
                        await body(sim, kannel, receiver)
                except (AssertionError, TimeoutError) as exc:
                    raise AssertionError(f"{exc!r}\n{kannel.log_tail()}") from None
        finally:
            await receiver.stop()
            await sim.stop()

    asyncio.run(main())


async def submits_to(sim: SmscSimulator, recipient: str, count: int) -> list[ReceivedSubmit]:
    await sim.wait_for(lambda: len([s for s in sim.submits if s.recipient == recipient]) >= count, timeout=WAIT_S)
    return [s for s in sim.submits if s.recipient == recipient]


# -- (a) sendsms through Kannel to the simulator --------------------------------------------------


def test_sendsms_through_kannel_arrives_decoded_at_the_simulator(tmp_path: Path) -> None:
    async def body(sim: SmscSimulator, kannel: Kannel, receiver: Receiver) -> None:
        # Alphanumeric sender, GSM text with characters from the extension table.
        text = "Hello @ home: 10€ {ok} [1]"
        reply = await kannel.sendsms(**{"from": "Shop", "to": "0612345678", "text": text})
        assert reply.status_code == 202, reply.text
        [short] = await submits_to(sim, "0612345678", 1)
        assert (short.text, short.sender, short.udh) == (text, "Shop", None)
        assert short.submit.otoa == OTOA_ALPHANUMERIC and short.username == USERNAME

        # International sender, a long text: Kannel splits it with a concatenation UDH.
        reply = await kannel.sendsms(**{"from": "+4917012345", "to": "0612345679", "text": LONG_TEXT})
        assert reply.status_code == 202, reply.text
        parts = await submits_to(sim, "0612345679", 4)
        assert len(parts) == 4
        reassembler = Reassembler()
        whole = None
        for part in parts:
            assert part.sender == "+4917012345" and part.submit.otoa == OTOA_INTERNATIONAL
            assert part.udh is not None and part.text is not None
            concat = parse_udh(part.udh).concat
            assert concat is not None and concat.total == 4
            fragment = Fragment("kannel", part.sender, concat.ref, concat.total, concat.seq, part.text, 0.0)
            whole = reassembler.add(fragment) or whole
        assert whole is not None and whole.text == LONG_TEXT and not whole.partial
        assert len({p.reference for p in parts}) == 4  # every part its own AdC:SCTS

        # Binary content with a caller-given UDH (WAP push ports) goes through untouched.
        udh = bytes.fromhex("0605040B8423F0")
        params: dict[str, str | bytes] = {"from": "0800123", "to": "0612345670", "coding": "1"}
        reply = await kannel.sendsms(**params, udh=udh, text=b"\x01\x02\xff")
        assert reply.status_code == 202, reply.text
        [binary] = await submits_to(sim, "0612345670", 1)
        assert binary.udh == udh and binary.text is None
        assert binary.submit.user_data == b"\x01\x02\xff" and binary.sender == "0800123"

    scenario_runner(tmp_path, body)


def test_kannel_matches_the_simulators_delivery_report_to_its_submission(tmp_path: Path) -> None:
    async def body(sim: SmscSimulator, kannel: Kannel, receiver: Receiver) -> None:
        dlr_url = f"http://127.0.0.1:{receiver.port}/dlr?status=%d&to=%p&id=first"
        reply = await kannel.sendsms(
            **{"from": "0800123", "to": "0612345671", "text": "report me", "dlr-mask": "3", "dlr-url": dlr_url}
        )
        assert reply.status_code == 202, reply.text
        [submitted] = await submits_to(sim, "0612345671", 1)
        assert submitted.submit.notification_requested
        # Kannel found its message by the 53's recipient and SCTS: status 2 = failed.
        report = await receiver.next("/dlr")
        assert (report["status"], report["to"], report["id"]) == (b"2", b"0612345671", b"first")
        await sim.wait_for(lambda: [o.status for o in sim.outbound] == ["acked"], timeout=WAIT_S)

    scenario_runner(tmp_path, body, dr_outcomes={"failed": 1.0})


# -- (b) MO from the simulator to Kannel's sms-service ------------------------------------------


def _received_text(query: dict[str, bytes]) -> str:
    charset = query["charset"].decode() or "UTF-8"
    return query["text"].decode(charset)


def test_mo_injected_by_the_simulator_reaches_kannels_sms_service(tmp_path: Path) -> None:
    async def body(sim: SmscSimulator, kannel: Kannel, receiver: Receiver) -> None:
        cases = [
            ("0612345678", "4444", "Hello MO @ 100% & more €"),  # GSM, extension table
            ("0612345679", "4445", LONG_TEXT),  # 4 parts; Kannel reassembles
            ("0612345670", "4446", "Привет, мир"),  # UCS-2
        ]
        for sender, recipient, text in cases:
            frames = await sim.inject_mo(sender, recipient, text)
            assert frames == (4 if text == LONG_TEXT else 1)
            query = await receiver.next("/mo")
            assert (query["from"], query["to"]) == (sender.encode(), recipient.encode())
            assert _received_text(query) == text
        # Kannel acknowledged every 52 it was given.
        await sim.wait_for(lambda: [o.status for o in sim.outbound] == ["acked"] * 6, timeout=WAIT_S)

    scenario_runner(tmp_path, body)
