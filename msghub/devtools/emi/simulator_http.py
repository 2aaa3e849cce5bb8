"""HTTP control API of the SMSC simulator (plain asyncio, JSON in and out).

  GET  /status               sessions, counters, max_outstanding
  GET  /submits?limit=N      the last N accepted submits (default 50)
  POST /mo      {"sender", "recipient", "text", "session"?, "split"?}
                             inject a mobile-originated message -> {"frames": n}
  POST /drop                 reset every client connection -> {"dropped": n}
  POST /faults  {"ack_delay_s"?, "acking"?, "refuse_next"?: {"count", "ec"},
                 "refuse_prefix"?: {"prefix", "ec" | null}, "clear"?}

One request per connection (Connection: close); bodies up to 64 KiB. Meant
for tests and manual trials on loopback, not for exposure.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from msghub.devtools.emi.simulator import SimulatorError
from msghub.errors import HubError

if TYPE_CHECKING:
    from msghub.devtools.emi.simulator import ReceivedSubmit, SmscSimulator

log = logging.getLogger(__name__)

MAX_BODY = 65536
MAX_HEADER = 16384
REQUEST_TIMEOUT_S = 10.0
_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Payload Too Large",
    500: "Internal Server Error",
}


class HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def submit_json(item: ReceivedSubmit) -> dict[str, Any]:
    return {
        "session_id": item.session_id,
        "username": item.username,
        "trn": item.trn,
        "recipient": item.recipient,
        "sender": item.sender,
        "text": item.text,
        "udh": item.udh.hex() if item.udh is not None else None,
        "scts": item.scts,
        "notification": item.submit.notification_requested,
        "received_at": item.received_at,
    }


class ControlServer:
    def __init__(self, simulator: SmscSimulator, host: str, port: int) -> None:
        self.simulator = simulator
        self.host = host
        self._port = port
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def port(self) -> int:
        if self._server is None or not self._server.sockets:
            return 0
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self._port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            try:
                async with asyncio.timeout(REQUEST_TIMEOUT_S):
                    method, target, body = await _read_request(reader)
                status, payload = await self._route(method, target, body)
            except HttpError as exc:
                status, payload = exc.status, {"error": str(exc)}
            except (TimeoutError, ConnectionError, asyncio.IncompleteReadError):
                return
            except SimulatorError as exc:
                status, payload = 409, {"error": str(exc)}
            except HubError as exc:
                status, payload = 400, {"error": str(exc)}
            data = json.dumps(payload).encode()
            head = (
                f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\nConnection: close\r\n\r\n"
            )
            writer.write(head.encode("ascii") + data)
            await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass  # stop() cancels; Python 3.11's start_server logs handlers that end cancelled
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            if task is not None:
                self._tasks.discard(task)

    async def _route(self, method: str, target: str, body: bytes) -> tuple[int, dict[str, Any]]:
        url = urlsplit(target)
        routes = {
            ("GET", "/status"): self._status,
            ("GET", "/submits"): self._submits,
            ("POST", "/mo"): self._mo,
            ("POST", "/drop"): self._drop,
            ("POST", "/faults"): self._faults,
        }
        handler = routes.get((method, url.path))
        if handler is None:
            known = {path for _, path in routes}
            raise HttpError(405 if url.path in known else 404, f"{method} {url.path} is not part of the API")
        return 200, await handler(url.query, body)

    async def _status(self, query: str, body: bytes) -> dict[str, Any]:
        return self.simulator.status()

    async def _submits(self, query: str, body: bytes) -> dict[str, Any]:
        try:
            limit = int(parse_qs(query).get("limit", ["50"])[0])
        except ValueError:
            raise HttpError(400, "limit must be a number") from None
        items = self.simulator.submits[-limit:] if limit > 0 else []
        return {"submits": [submit_json(s) for s in items]}

    async def _mo(self, query: str, body: bytes) -> dict[str, Any]:
        data = _json_object(body)
        fields = {name: data.get(name) for name in ("sender", "recipient", "text")}
        missing = [name for name, value in fields.items() if not isinstance(value, str)]
        if missing:
            raise HttpError(400, f"string field(s) {', '.join(missing)} required")
        session = data.get("session")
        if session is not None and not isinstance(session, str):
            raise HttpError(400, "session must be a string")
        frames = await self.simulator.inject_mo(
            str(fields["sender"]),
            str(fields["recipient"]),
            str(fields["text"]),
            session=session,
            split=bool(data.get("split", True)),
        )
        return {"frames": frames}

    async def _drop(self, query: str, body: bytes) -> dict[str, Any]:
        return {"dropped": self.simulator.drop_links()}

    async def _faults(self, query: str, body: bytes) -> dict[str, Any]:
        data = _json_object(body)
        sim = self.simulator
        try:
            if data.get("clear"):
                sim.clear_faults()
            if "ack_delay_s" in data:
                sim.set_ack_delay(float(data["ack_delay_s"]))
            if "acking" in data:
                (sim.resume_acking if data["acking"] else sim.stop_acking)()
            if "refuse_next" in data:
                spec = data["refuse_next"]
                sim.refuse_next(int(spec["count"]), str(spec["ec"]))
            if "refuse_prefix" in data:
                spec = data["refuse_prefix"]
                ec = spec.get("ec")
                sim.refuse_recipients(str(spec["prefix"]), None if ec is None else str(ec))
        except (KeyError, TypeError, ValueError) as exc:
            raise HttpError(400, f"bad fault description: {exc}") from None
        return sim.status()


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        raise HttpError(400, "the body is not JSON") from None
    if not isinstance(data, dict):
        raise HttpError(400, "the body must be a JSON object")
    return data


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, str, bytes]:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.LimitOverrunError:
        raise HttpError(413, "request header too large") from None
    if len(head) > MAX_HEADER:
        raise HttpError(413, "request header too large")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3:
        raise HttpError(400, "malformed request line")
    method, target, _version = parts
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            try:
                length = int(value.strip())
            except ValueError:
                raise HttpError(400, "bad Content-Length") from None
    if not 0 <= length <= MAX_BODY:
        raise HttpError(413, f"body over {MAX_BODY} bytes")
    body = await reader.readexactly(length) if length else b""
    return method.upper(), target, body
