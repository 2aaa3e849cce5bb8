"""The MM1 half of the MMSC simulator: what a phone (or a modem's MMS client) sees.

- POST <mm1 path> with an m-send-req: answered with m-send-conf; the MMS is
  kept (`mm1_sent`, its Message-ID in `mm1_ids`) and, with a hub_url, handed
  to the hub as a DeliverReq (a phone writing to the VASP's short code). When
  it asks for a delivery report, dr_delay_s later an m-delivery-ind
  (dr_status, lower case: retrieved, rejected, ...) is pushed to the sender.
- POST with an m-notifyresp-ind or m-acknowledge-ind: recorded (`mm1_acks`).
- GET <mm1 path>/m/<id>: the m-retrieve-conf of an MMS waiting for a phone
  (the first mm1_fetch_failures GETs answer HTTP 503).
- notify_phone(): an MMS for a phone: kept for retrieval, and its
  m-notification-ind wrapped in a WSP push (`pushes`), the user data of the
  WAP push SMS (port 2948) that a simulated modem would deliver.
- push_sink: called with every Push made (notifications and delivery
  reports); a test points it at a simulated modem's inject_wap_push, which
  is how the MMSC reaches the phone.
- The simulator is also the operator's MMS proxy: a request in absolute form
  (GET http://mmsc.example/mms/m/1, as a client sends it to its proxy) is
  served as if it had reached that MMSC, and listed in `proxied`.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from msghub.connectors.mm7 import mime
from msghub.mms import (
    AcknowledgeInd,
    ContentType,
    DeliveryInd,
    MmsError,
    NotificationInd,
    NotifyRespInd,
    Part,
    RetrieveConf,
    SendConf,
    SendReq,
    decode_pdu,
    encode_pdu,
)
from msghub.mms.push import mms_push

if TYPE_CHECKING:
    from msghub.devtools.mmsc.simulator import MmscSimulator

MMS_MESSAGE = "application/vnd.wap.mms-message"
OK = 0x80
FORMAT_CORRUPT = 0x83  # error-message-format-corrupt
EXPIRY = timedelta(days=2)


@dataclass(frozen=True)
class Push:
    to: str
    location: str
    user_data: bytes  # the WSP push: what goes after the UDH of the WAP push SMS


class Mm1Side:
    def __init__(self, sim: MmscSimulator, path: str = "/mms") -> None:
        self.sim = sim
        self.path = path
        self.mm1_sent: list[SendReq] = []
        self.mm1_acks: list[NotifyRespInd | AcknowledgeInd] = []
        self.waiting: dict[str, RetrieveConf] = {}
        self.pushes: list[Push] = []
        self.mm1_ids: list[str] = []  # the Message-ID each m-send-req got, in order
        self.push_sink: Callable[[Push], None] | None = None
        self.proxied: list[str] = []  # URLs requested through the simulator as a proxy
        self._ids = itertools.count(1)
        self._tasks: set[asyncio.Task[None]] = set()
        self.fetches = 0  # GETs of waiting MMS, answered or not

    def routes(self) -> list[Route]:
        return [Route(self.path, self._post, methods=["POST"]),
                Route(self.path + "/m/{id}", self._retrieve, methods=["GET"])]  # fmt: skip

    def url(self, base: str) -> str:
        return base + self.path

    async def _post(self, request: Request) -> Response:
        try:
            pdu = decode_pdu(await request.body())
        except MmsError as exc:
            return PlainTextResponse(f"not an MMS PDU: {exc}", 400)
        if isinstance(pdu, SendReq):
            self.mm1_sent.append(pdu)
            message_id = f"mm1-{next(self._ids)}"
            self.mm1_ids.append(message_id)
            if self.sim.config.hub_url and pdu.to:
                await self._to_vasp(pdu)
            if pdu.delivery_report and pdu.to:
                self._later(self.sim.config.dr_delay_s, self._delivery_ind(pdu, message_id))
            conf = SendConf(mms_version=pdu.mms_version, transaction_id=pdu.transaction_id, response_status=OK,
                            message_id=message_id)  # fmt: skip
            return Response(encode_pdu(conf), media_type=MMS_MESSAGE)
        if isinstance(pdu, NotifyRespInd | AcknowledgeInd):
            self.mm1_acks.append(pdu)
            return Response(b"", 200)
        return PlainTextResponse(f"{pdu.message_type} is not posted to an MMSC", 400)

    async def _retrieve(self, request: Request) -> Response:
        self.fetches += 1
        if self.fetches <= self.sim.config.mm1_fetch_failures:
            return PlainTextResponse("try again later (simulated)", 503)
        found = self.waiting.get(request.path_params["id"])
        if found is None:
            return PlainTextResponse("no such MMS", 404)
        return Response(encode_pdu(found), media_type=MMS_MESSAGE)

    async def _to_vasp(self, pdu: SendReq) -> None:
        media = [mime.MediaPart(_mime_type(p.content_type), p.data, p.content_id, p.content_location)
                 for p in pdu.parts]  # fmt: skip
        sender = pdu.sender if isinstance(pdu.sender, str) else "+15550100"
        await self.sim.deliver(sender.split("/", 1)[0], pdu.to[0].split("/", 1)[0], subject=pdu.subject, media=media)

    def _later(self, delay_s: float, work: Any) -> None:
        async def run() -> None:
            await asyncio.sleep(delay_s)
            await work

        task = asyncio.create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _delivery_ind(self, pdu: SendReq, message_id: str) -> None:
        sender = pdu.sender if isinstance(pdu.sender, str) else "phone"
        report = DeliveryInd(mms_version=pdu.mms_version, message_id=message_id, to=(pdu.to[0],),
                             date=datetime.now(UTC).replace(microsecond=0),
                             status=self.sim.config.dr_status.lower())  # fmt: skip
        user_data = mms_push(encode_pdu(report), transaction_id=len(self.pushes) % 256)
        self._push(Push(sender.split("/", 1)[0], "", user_data))

    def _push(self, push: Push) -> None:
        self.pushes.append(push)
        if self.push_sink is not None:
            self.push_sink(push)

    def notify_phone(self, to: str, sender: str, subject: str | None, parts: list[Part], base_url: str) -> Push:
        """An MMS waiting for a phone, and the push that tells the phone about it."""
        n = next(self._ids)
        location = f"{base_url}{self.path}/m/{n}"
        content_type = ContentType("application/vnd.wap.multipart.related" if parts else "text/plain")
        conf = RetrieveConf(mms_version="1.2", transaction_id=f"r{n}", message_id=f"mt-{n}",
                            date=datetime.now(UTC).replace(microsecond=0), sender=sender, to=(to,), subject=subject,
                            content_type=content_type, parts=tuple(parts) or (Part(content_type, b""),))  # fmt: skip
        self.waiting[str(n)] = conf
        size = sum(len(p.data) for p in parts)
        notification = NotificationInd(mms_version="1.2", transaction_id=f"n{n}", sender=sender, subject=subject,
                                       message_class="personal", message_size=size, expiry=EXPIRY,
                                       content_location=location)  # fmt: skip
        push = Push(to, location, mms_push(encode_pdu(notification), transaction_id=n % 256))
        self._push(push)
        return push


def _mime_type(ct: ContentType) -> str:
    params = "".join(f'; {key.lower()}="{value}"' for key, value in ct.params.items())
    return ct.media_type + params


class ProxyForm:
    """ASGI middleware: a request whose target is absolute (what a client sends
    its HTTP proxy) is served as the path it names, and recorded."""

    def __init__(self, app: Any, mm1: Mm1Side) -> None:
        self.app = app
        self.mm1 = mm1

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path.startswith(("http://", "https://")):
            self.mm1.proxied.append(path)
            rest = path.split("://", 1)[1]
            local = "/" + rest.split("/", 1)[1] if "/" in rest else "/"
            scope = dict(scope, path=local, raw_path=local.encode())
        await self.app(scope, receive, send)
