"""The MM1 half of the MMSC simulator: what a phone (or a modem's MMS client) sees.

- POST <mm1 path> with an m-send-req: answered with m-send-conf; the MMS is
  kept (`mm1_sent`) and, with a hub_url, handed to the hub as a DeliverReq
  (a phone writing to the VASP's short code).
- POST with an m-notifyresp-ind or m-acknowledge-ind: recorded (`mm1_acks`).
- GET <mm1 path>/m/<id>: the m-retrieve-conf of an MMS waiting for a phone.
- notify_phone(): an MMS for a phone: kept for retrieval, and its
  m-notification-ind wrapped in a WSP push (`pushes`), the user data of the
  WAP push SMS (port 2948) that a simulated modem would deliver.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from msghub.connectors.mm7 import mime
from msghub.mms import (
    AcknowledgeInd,
    ContentType,
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
        self._ids = itertools.count(1)

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
            if self.sim.config.hub_url and pdu.to:
                await self._to_vasp(pdu)
            conf = SendConf(mms_version=pdu.mms_version, transaction_id=pdu.transaction_id, response_status=OK,
                            message_id=message_id)  # fmt: skip
            return Response(encode_pdu(conf), media_type=MMS_MESSAGE)
        if isinstance(pdu, NotifyRespInd | AcknowledgeInd):
            self.mm1_acks.append(pdu)
            return Response(b"", 200)
        return PlainTextResponse(f"{pdu.message_type} is not posted to an MMSC", 400)

    async def _retrieve(self, request: Request) -> Response:
        found = self.waiting.get(request.path_params["id"])
        if found is None:
            return PlainTextResponse("no such MMS", 404)
        return Response(encode_pdu(found), media_type=MMS_MESSAGE)

    async def _to_vasp(self, pdu: SendReq) -> None:
        media = [mime.MediaPart(_mime_type(p.content_type), p.data, p.content_id, p.content_location)
                 for p in pdu.parts]  # fmt: skip
        sender = pdu.sender if isinstance(pdu.sender, str) else "+15550100"
        await self.sim.deliver(sender.split("/", 1)[0], pdu.to[0].split("/", 1)[0], subject=pdu.subject, media=media)

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
        self.pushes.append(push)
        return push


def _mime_type(ct: ContentType) -> str:
    params = "".join(f'; {key.lower()}="{value}"' for key, value in ct.params.items())
    return ct.media_type + params
