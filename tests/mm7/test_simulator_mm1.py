"""The MM1 half of the MMSC simulator, as a phone sees it: m-send-req answered
with m-send-conf, an MMS waiting behind an m-notification-ind in a WAP push,
retrieved as m-retrieve-conf, acknowledged."""

from __future__ import annotations

import asyncio

import httpx

from msghub.connectors.base import OutboundMessage
from msghub.connectors.mm7.connector import Mm7Connector
from msghub.connectors.settings import validate_config
from msghub.devtools.mmsc.simulator import MmscConfig, MmscSimulator
from msghub.mms import (
    INSERT_ADDRESS,
    ContentType,
    NotificationInd,
    NotifyRespInd,
    Part,
    RetrieveConf,
    SendConf,
    SendReq,
    decode_pdu,
    encode_pdu,
)
from msghub.mms.push import decode_push
from tests.mm7.test_connector import NoHub

MMS = {"Content-Type": "application/vnd.wap.mms-message"}


def test_a_phone_sends_receives_and_acknowledges() -> None:
    async def main() -> None:
        sim = MmscSimulator(MmscConfig(mm1_notify=True))
        await sim.start()
        try:
            async with httpx.AsyncClient() as phone:
                send = SendReq(transaction_id="p1", sender=INSERT_ADDRESS, to=("1234/TYPE=PLMN",), subject="hi",
                               content_type=ContentType("text/plain"),
                               parts=(Part(ContentType("text/plain"), b"hello"),))  # fmt: skip
                answer = await phone.post(sim.mm1_url, content=encode_pdu(send), headers=MMS)
                conf = decode_pdu(answer.content)
                assert isinstance(conf, SendConf) and conf.response_status == 0x80 and conf.transaction_id == "p1"
                assert sim.mm1.mm1_sent == [send]

                # the VASP (msghub) submits over MM7; the phone is told by a WAP push
                config = validate_config(Mm7Connector.settings, {"url": sim.url})
                connector = Mm7Connector("op", config, NoHub())
                await connector.open()
                try:
                    await connector.send(OutboundMessage(id=1, attempt=1, channel="mms", recipient="+15550199",
                                                         sender="1234", subject="news", text="read this"))  # fmt: skip
                finally:
                    await connector.close()
                (push,) = sim.mm1.pushes
                wap = decode_push(push.user_data)
                notification = decode_pdu(wap.body)
                assert wap.is_mms and isinstance(notification, NotificationInd)
                assert notification.content_location == push.location and notification.subject == "news"
                fetched = decode_pdu((await phone.get(push.location)).content)
                assert isinstance(fetched, RetrieveConf) and fetched.to == ("+15550199",)
                texts = [p.data for p in fetched.parts if p.content_type.media_type == "text/plain"]
                assert texts == [b"read this"]
                ack = NotifyRespInd(transaction_id=notification.transaction_id, status="retrieved")
                assert (await phone.post(sim.mm1_url, content=encode_pdu(ack), headers=MMS)).status_code == 200
                assert sim.mm1.mm1_acks == [ack]
                assert (await phone.post(sim.mm1_url, content=b"junk", headers=MMS)).status_code == 400
                assert (await phone.get(sim.mm1_url + "/m/999")).status_code == 404
        finally:
            await sim.stop()

    asyncio.run(asyncio.wait_for(main(), 60))
