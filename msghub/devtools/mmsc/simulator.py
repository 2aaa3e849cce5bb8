"""An operator's MMSC speaking MM7 (the MMSC side), for tests, benchmarks and demos.

It accepts SubmitReq (answering SubmitRsp with a MessageID, or the fault a
configured recipient prefix asks for), CancelReq and ReplaceReq for messages
it still holds, and after configurable delays posts DeliveryReportReq and
ReadReplyReq to the hub's /mm7/<connection> URL; deliver() sends an MMS from a
phone as DeliverReq.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from msghub.connectors.mm7 import httpauth, mime, soap
from msghub.connectors.mm7.errors import UNSUPPORTED_OPERATION, Mm7Error
from msghub.connectors.mm7.status import DEFAULT_SCHEMA
from msghub.devtools.mmsc.mm1 import Mm1Side, ProxyForm, Push
from msghub.mms import ContentType, Part

log = logging.getLogger(__name__)
MESSAGE_NOT_FOUND = 2005
XML = 'text/xml; charset="utf-8"'


@dataclass
class MmscConfig:
    host: str = "127.0.0.1"
    port: int = 0  # 0: any free port (see MmscSimulator.port)
    path: str = "/mm7"
    username: str = ""  # the VASP must log in when set
    password: str = ""
    auth: str = "basic"  # or "digest"
    hub_url: str = ""  # where DeliverReq and reports go: http://hub:8080/mm7/<connection>
    hub_username: str = ""
    hub_password: str = ""
    hub_auth: str = "basic"
    dr_delay_s: float = 0.5
    dr_status: str = "Retrieved"
    rr_delay_s: float | None = None  # None: no read replies
    rr_status: str = "Read"
    faults: dict[str, int] = field(default_factory=dict)  # recipient prefix -> status code of the fault
    schema: str = DEFAULT_SCHEMA  # of what the simulator starts (DeliverReq); answers use the request's
    mm1_path: str = "/mms"  # the phones' MMSC URL (m-send-req, retrieval)
    mm1_notify: bool = False  # a submitted MMS also waits for its phone (an m-notification-ind push)
    mm1_fetch_failures: int = 0  # the first this many retrievals answer HTTP 503 (the phone must try again)


@dataclass
class Submitted:
    request: soap.SubmitReq
    parts: list[mime.MediaPart]
    message_id: str
    envelope: bytes = b""  # the SOAP envelope as the hub sent it (tests validate it)
    state: str = "held"  # held (no report yet), reported, cancelled
    replaced: int = 0


class MmscSimulator:
    def __init__(self, config: MmscConfig) -> None:
        self.config = config
        self.submits: list[Submitted] = []
        self.by_id: dict[str, Submitted] = {}
        self.cancels: list[str] = []
        self.sent_to_hub: list[tuple[str, int]] = []  # (operation, HTTP status)
        self._ids = itertools.count(1)
        self._tasks: set[asyncio.Task[None]] = set()
        self._server: uvicorn.Server | None = None
        self._serve: asyncio.Task[None] | None = None
        self._socket: socket.socket | None = None
        self._client: httpx.AsyncClient | None = None
        self.mm1 = Mm1Side(self, config.mm1_path)

    @property
    def port(self) -> int:
        assert self._socket is not None, "the simulator is not started"
        return int(self._socket.getsockname()[1])

    @property
    def base_url(self) -> str:
        return f"http://{self.config.host}:{self.port}"

    @property
    def url(self) -> str:
        return self.base_url + self.config.path

    @property
    def mm1_url(self) -> str:
        return self.base_url + self.config.mm1_path

    def notify_phone(self, to: str, sender: str, subject: str | None, parts: list[Part]) -> Push:
        """An MMS for a phone over MM1: kept for retrieval, its notification pushed (see mm1.py)."""
        return self.mm1.notify_phone(to, sender, subject, parts, self.base_url)

    async def start(self) -> None:
        app = ProxyForm(Starlette(routes=[Route(self.config.path, self._endpoint, methods=["POST"]),
                                          *self.mm1.routes()]), self.mm1)  # fmt: skip
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((self.config.host, self.config.port))
        server_config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
        self._server = uvicorn.Server(server_config)
        self._serve = asyncio.create_task(self._server.serve(sockets=[self._socket]))
        while not self._server.started:
            if self._serve.done():
                await self._serve  # raises what stopped it
            await asyncio.sleep(0.01)
        auth: httpx.Auth | None = None
        if self.config.hub_username:
            user, password = self.config.hub_username, self.config.hub_password
            digest = self.config.hub_auth == "digest"
            auth = httpx.DigestAuth(user, password) if digest else httpx.BasicAuth(user, password)
        self._client = httpx.AsyncClient(auth=auth, timeout=30.0)
        log.info("MMSC simulator listening on %s", self.url)

    async def stop(self) -> None:
        await self.mm1.stop()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            self._server.should_exit = True
        if self._serve is not None:
            await self._serve
        if self._client is not None:
            await self._client.aclose()
        if self._socket is not None:
            self._socket.close()

    # --- the VASP's requests ------------------------------------------------------

    async def _endpoint(self, request: Request) -> Response:
        if self.config.username and not httpauth.check(
            self.config.auth, request.headers.get("authorization"), self.config.username, self.config.password,
            request.method,
        ):  # fmt: skip
            challenge = httpauth.challenge(self.config.auth, self.config.password)
            return PlainTextResponse("authentication required", 401, headers={"WWW-Authenticate": challenge})
        transaction_id, schema = "", self.config.schema
        try:
            received = mime.parse_request(request.headers.get("content-type", ""), await request.body())
            op = soap.parse_envelope(received.envelope)
            transaction_id, schema = op.transaction_id, op.schema
            answer = self._answer(op, received)
            if isinstance(op, soap.SubmitReq) and isinstance(answer, soap.Response) and answer.message_id:
                self.by_id[answer.message_id].envelope = received.envelope
        except Mm7Error as exc:
            fault = soap.fault_for(exc, transaction_id, "RSErrorRsp", schema)
            return Response(soap.build_envelope(fault), 500, media_type=XML)
        status = 500 if isinstance(answer, soap.Fault) else 200
        return Response(soap.build_envelope(answer), status, media_type=XML)

    def _answer(self, op: soap.Operation, received: mime.Received) -> soap.Operation:
        if isinstance(op, soap.SubmitReq):
            return self._submit(op, received)
        if isinstance(op, soap.CancelReq | soap.ReplaceReq):
            held = self.by_id.get(op.message_id)
            if held is None or held.state != "held":
                raise Mm7Error(f"no message {op.message_id} is held here", MESSAGE_NOT_FOUND)
            if isinstance(op, soap.CancelReq):
                held.state = "cancelled"
                self.cancels.append(op.message_id)
                kind = "CancelRsp"
            else:
                held.replaced += 1
                kind = "ReplaceRsp"
            return soap.Response(transaction_id=op.transaction_id, schema=op.schema, kind=kind,
                                 status=soap.Status(1000, "Success"))  # fmt: skip
        raise Mm7Error(f"the MMSC does not accept {type(op).__name__}", UNSUPPORTED_OPERATION)

    def _submit(self, op: soap.SubmitReq, received: mime.Received) -> soap.Operation:
        for address in (*op.recipients.to, *op.recipients.cc, *op.recipients.bcc):
            for prefix, code in self.config.faults.items():
                if address.startswith(prefix):
                    raise Mm7Error(f"recipient {address} refused (simulated)", code)
        parts: list[mime.MediaPart] = []
        if op.content_href is not None:
            content = received.parts.get(mime.normalise_cid(op.content_href))
            if content is None:
                raise Mm7Error(f"Content {op.content_href} names no attachment", 2007)
            parts = mime.media_parts(content)
        message_id = f"mmsc-{next(self._ids)}"
        held = Submitted(op, parts, message_id)
        if self.config.mm1_notify:
            for address in op.recipients.to:
                self.notify_phone(address, op.sender_address or "vasp", op.subject, [_wsp_part(p) for p in parts])
        self.submits.append(held)
        self.by_id[message_id] = held
        if self.config.hub_url and op.delivery_report:
            self._later(self.config.dr_delay_s, self._report(held))
        if self.config.hub_url and op.read_reply and self.config.rr_delay_s is not None:
            self._later(self.config.rr_delay_s, self._read_reply(held))
        return soap.Response(transaction_id=op.transaction_id, schema=op.schema, kind="SubmitRsp",
                             status=soap.Status(1000, "Success"), message_id=message_id)  # fmt: skip

    # --- what the MMSC starts ----------------------------------------------------

    def _later(self, delay_s: float, work: Any) -> None:
        async def run() -> None:
            await asyncio.sleep(delay_s)
            try:
                await work
            except (httpx.HTTPError, Mm7Error) as exc:
                log.warning("MMSC simulator: the hub did not take a report: %s", exc)

        task = asyncio.create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _report(self, held: Submitted) -> None:
        if held.state != "held":
            return
        held.state = "reported"
        op = soap.DeliveryReportReq(
            transaction_id=f"dr-{held.message_id}", schema=held.request.schema, message_id=held.message_id,
            recipient=held.request.recipients.to[0] if held.request.recipients.to else "",
            sender=held.request.sender_address or "vasp", date=datetime.now(UTC).replace(microsecond=0),
            mm_status=self.config.dr_status, relay_server_id="msghub-simulator",
        )  # fmt: skip
        await self._post_to_hub(op, None)

    async def _read_reply(self, held: Submitted) -> None:
        op = soap.ReadReplyReq(
            transaction_id=f"rr-{held.message_id}", schema=held.request.schema, message_id=held.message_id,
            recipient=held.request.recipients.to[0] if held.request.recipients.to else "",
            sender=held.request.sender_address or "vasp", timestamp=datetime.now(UTC).replace(microsecond=0),
            mm_status=self.config.rr_status, relay_server_id="msghub-simulator",
        )  # fmt: skip
        await self._post_to_hub(op, None)

    async def deliver(self, sender: str, to: str, text: str = "", subject: str | None = None,
                      media: list[mime.MediaPart] | None = None, linked_id: str | None = None) -> soap.Operation:
        """An MMS from a phone to the VASP: a DeliverReq to the hub; returns its answer."""
        parts = list(media or [])
        if text:
            parts.insert(0, mime.MediaPart('text/plain; charset="utf-8"', text.encode("utf-8"), "text0", "text0.txt"))
        n = next(self._ids)
        op = soap.DeliverReq(
            transaction_id=f"mo-{n}", schema=self.config.schema, sender=sender, recipients=soap.Recipients(to=(to,)),
            relay_server_id="msghub-simulator", linked_id=linked_id or f"mo-link-{n}",
            timestamp=datetime.now(UTC).replace(microsecond=0), subject=subject,
            content_href=f"cid:{mime.CONTENT_CID}" if parts else None,
        )  # fmt: skip
        return await self._post_to_hub(op, mime.build_content(parts, None) if parts else None)

    async def _post_to_hub(self, op: soap.Operation, content: tuple[str, bytes] | None) -> soap.Operation:
        assert self._client is not None and self.config.hub_url, "no hub_url to post to"
        content_type, body = mime.build_request(soap.build_envelope(op), content)
        response = await self._client.post(self.config.hub_url, content=body,
                                           headers={"Content-Type": content_type, "SOAPAction": '""'})  # fmt: skip
        self.sent_to_hub.append((type(op).__name__, response.status_code))
        received = mime.parse_request(response.headers.get("content-type", ""), response.content)
        return soap.parse_envelope(received.envelope)


def _wsp_part(part: mime.MediaPart) -> Part:
    media, _, rest = part.content_type.partition(";")
    params = {}
    for item in rest.split(";"):
        key, sep, value = item.partition("=")
        if sep and key.strip().lower() in ("charset", "name"):
            params[key.strip().capitalize()] = value.strip().strip('"')
    return Part(ContentType(media.strip(), params), part.data, part.content_id, part.content_location)
