"""The MM1 client (msghub/connectors/mm1) against the MMSC simulator in
process, with a MemoryHub: status codes, what a push becomes, failures."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from msghub.connectors.base import OutboundMessage, PermanentFailure, TemporaryFailure
from msghub.connectors.memory import MemoryHub
from msghub.connectors.mm1.agent import Mm1Agent, PushError
from msghub.connectors.mm1.content import send_req
from msghub.connectors.mm1.status import delivery_status, send_outcome
from msghub.connectors.modem.inbound import Inbound, InboundError
from msghub.connectors.modem.settings import SETTINGS
from msghub.connectors.settings import validate_config
from msghub.devtools.mmsc.simulator import MmscConfig, MmscSimulator
from msghub.devtools.modem.sms import wap_push_pdus
from msghub.mms import ContentType, DeliveryInd, NotificationInd, NotifyRespInd, Part, encode_pdu
from msghub.mms.push import WapPush, encode_push, mms_push

OWN = "+31600000001"


def _config(url: str, **more: Any) -> dict[str, Any]:
    return validate_config(SETTINGS, {"port": "/dev/ttyUSB0", "mms_url": url, **more})


def _run(body: Callable[[MmscSimulator, Mm1Agent, MemoryHub], Awaitable[None]], **sim: Any) -> None:
    async def main() -> None:
        mmsc = MmscSimulator(MmscConfig(dr_delay_s=0.05, **sim))
        await mmsc.start()
        hub = MemoryHub()
        agent = Mm1Agent("phone", hub, OWN, _config(mmsc.mm1_url, mms_timeout_s=10))
        try:
            await body(mmsc, agent, hub)
        finally:
            await agent.aclose()
            await mmsc.stop()

    asyncio.run(main())


def _message(**more: Any) -> OutboundMessage:
    fields: dict[str, Any] = dict(id=7, attempt=1, channel="mms", recipient="+31612345678", sender=None,
                                  subject="s", text="hello")  # fmt: skip
    return OutboundMessage(**(fields | more))


def test_response_and_delivery_statuses_map_to_outcomes() -> None:
    assert [send_outcome(c) for c in (0x80, 0xC1, 0xC4, 0xDF, 0x86, 0x82, 0x88, 0xE3, 0xFF)] == [
        "ok", "retry", "retry", "retry", "retry", "permanent", "permanent", "permanent", "permanent"]
    assert delivery_status("Retrieved") == ("delivered", None)
    assert delivery_status("expired") == ("failed", "expired")
    assert delivery_status("unreachable") == ("buffered", "unreachable")
    assert delivery_status(None) == ("buffered", "status missing")


def test_the_send_req_has_a_smil_start_and_the_recipient_as_plmn() -> None:
    req = send_req(_message(recipient="someone@example.org", priority=2), "t-1")
    assert req.to == ("someone@example.org",) and req.priority == "high" and req.transaction_id == "t-1"
    assert [p.content_type.media_type for p in req.parts] == ["application/smil", "text/plain"]
    assert req.content_type.param("start") == "<smil>"
    assert send_req(_message(), "t-2").to == ("+31612345678/TYPE=PLMN",)
    copies = send_req(_message(cc=("+31612345679", "ann@example.org"), bcc=("+31612345680",)), "t-3")
    assert copies.cc == ("+31612345679/TYPE=PLMN", "ann@example.org") and copies.bcc == ("+31612345680/TYPE=PLMN",)


def test_send_returns_the_message_id_and_its_report_arrives_by_push() -> None:
    async def body(mmsc: MmscSimulator, agent: Mm1Agent, hub: MemoryHub) -> None:
        pushes: list[bytes] = []
        mmsc.mm1.push_sink = lambda push: pushes.append(push.user_data)
        result = await agent.send(_message(delivery_report=True))
        assert result.operator_ref == mmsc.mm1.mm1_ids[0]
        async with asyncio.timeout(30):  # the simulator pushes the m-delivery-ind dr_delay_s later
            while not pushes:
                await asyncio.sleep(0.01)
        assert await agent.handle_push("dev", "+3165", pushes[0]) == "report"
        assert [(r.operator_ref, r.status) for r in hub.reports] == [(result.operator_ref, "delivered")]

    _run(body)


def test_an_mmsc_that_cannot_be_reached_or_answers_5xx_is_retried_and_4xx_fails() -> None:
    async def main() -> None:
        hub = MemoryHub()
        agent = Mm1Agent("phone", hub, OWN, _config("http://127.0.0.1:9/mms", mms_timeout_s=5))
        try:
            with pytest.raises(TemporaryFailure) as failure:
                await agent.send(_message())
            assert failure.value.code == "mm1_connect"
        finally:
            await agent.aclose()

    asyncio.run(main())

    async def body(mmsc: MmscSimulator, agent: Mm1Agent, hub: MemoryHub) -> None:
        agent.client.url = mmsc.url  # the MM7 endpoint: a SOAP fault with HTTP 500
        with pytest.raises(TemporaryFailure) as failure:
            await agent.send(_message())
        assert failure.value.code == "mm1_http" and "HTTP 500" in failure.value.reason
        agent.client.url = mmsc.mm1_url + "/m/1"  # a retrieval URL: GET only, 405
        with pytest.raises(PermanentFailure, match="HTTP 405"):
            await agent.send(_message())

    _run(body)


def test_a_notification_is_fetched_stored_and_answered_retrieved() -> None:
    async def body(mmsc: MmscSimulator, agent: Mm1Agent, hub: MemoryHub) -> None:
        parts = [Part(ContentType("text/plain", {"Charset": "utf-8"}), "hé".encode(), "<t>", "t.txt")]
        push = mmsc.notify_phone(OWN, "+3169/TYPE=PLMN", "subj", parts)
        assert await agent.handle_push("dev", "+3165", push.user_data) == "message"
        (message,) = hub.delivered
        assert (message.channel, message.sender, message.recipients, message.text) == ("mms", "+3169", (OWN,), "hé")
        assert message.meta["mm1"]["content_location"] == push.location
        assert [(type(a), a.status) for a in mmsc.mm1.mm1_acks] == [(NotifyRespInd, "retrieved")]

    _run(body)


def test_a_notification_for_a_missing_or_too_large_mms_is_rejected() -> None:
    async def body(mmsc: MmscSimulator, agent: Mm1Agent, hub: MemoryHub) -> None:
        gone = NotificationInd(transaction_id="n9", message_class="personal", message_size=10,
                               expiry=timedelta(days=1), content_location=mmsc.mm1_url + "/m/999")  # fmt: skip
        assert await agent.handle_push("dev", "+3165", mms_push(encode_pdu(gone))) == "notice"
        big = mmsc.notify_phone(OWN, "+3169", "big", [Part(ContentType("image/jpeg"), b"\xff\xd8\xff" + b"0" * 5000)])
        agent.client.max_bytes = 1000
        assert await agent.handle_push("dev", "+3165", big.user_data) == "notice"
        assert hub.delivered == []
        assert [a.status for a in mmsc.mm1.mm1_acks if isinstance(a, NotifyRespInd)] == ["rejected", "rejected"]

    _run(body)


def test_pushes_that_are_not_for_the_mms_client_and_unreadable_ones() -> None:
    async def body(mmsc: MmscSimulator, agent: Mm1Agent, hub: MemoryHub) -> None:
        si = encode_push(WapPush(1, ContentType("application/vnd.wap.sic"), b"\x02\x05"))
        assert await agent.handle_push("dev", "+3165", si) is None
        with pytest.raises(PushError, match="unreadable WAP push"):
            await agent.handle_push("dev", "+3165", b"\x01\x44")
        with pytest.raises(PushError, match="unreadable MMS PDU"):
            await agent.handle_push("dev", "+3165", mms_push(b"\x8c\x99"))
        report = DeliveryInd(message_id="", to=("+1",), date=datetime.now(UTC), status="retrieved")
        with pytest.raises(PushError, match="without a Message-ID"):
            await agent.handle_push("dev", "+3165", mms_push(encode_pdu(report)))
        assert hub.reports == [] and hub.delivered == []

    _run(body)


def test_the_modem_inbound_routes_port_2948_to_the_mms_client_and_the_rest_to_sms() -> None:
    async def main() -> None:
        hub = MemoryHub()
        seen: list[bytes] = []

        async def on_push(device: str, sender: str, data: bytes) -> str | None:
            seen.append(data)
            if data == b"bad":
                raise PushError("bad push")
            return None if data.startswith(b"not-mms") else "message"

        inbound = Inbound("phone", hub, OWN, 30.0, on_wap_push=on_push)
        when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
        long = bytes(range(256)) + bytes(range(100))
        for n, data in enumerate((b"short push", long), start=1):
            for pdu in wap_push_pdus("+3165", data, scts=when, smsc="+316540", ref=n):
                await inbound.handle_pdu("dev", pdu.hex)
        assert seen == [b"short push", long] and hub.delivered == []
        (pdu,) = wap_push_pdus("+3165", b"not-mms push", scts=when, smsc="+316540", ref=3)
        assert await inbound.handle_pdu("dev", pdu.hex) == "message"
        assert hub.delivered[0].attachments[0].data == b"not-mms push"  # kept as a data SMS
        (pdu,) = wap_push_pdus("+3165", b"bad", scts=when, smsc="+316540", ref=4)
        with pytest.raises(InboundError, match="bad push"):
            await inbound.handle_pdu("dev", pdu.hex)

    asyncio.run(main())


def test_the_modem_probe_checks_that_the_mmsc_answers() -> None:
    from msghub.connectors.modem.connector import ModemConnector
    from msghub.devtools.modem import ModemSimulator

    with ModemSimulator("generic") as modem:
        async def main() -> None:
            mmsc = MmscSimulator(MmscConfig())
            await mmsc.start()
            url = mmsc.mm1_url
            try:
                good = await ModemConnector.probe(_config(url) | {"port": modem.path})
                bad = await ModemConnector.probe(_config("http://127.0.0.1:9/mms") | {"port": modem.path})
            finally:
                await mmsc.stop()
            assert good.ok and f"the MMSC answers HTTP 405 at {url}" in good.detail, good.detail
            assert not bad.ok and "cannot reach the MMSC (http://127.0.0.1:9/mms)" in bad.detail
            assert "IMEI" in bad.detail  # the device itself was fine

        asyncio.run(main())


def test_a_notification_naming_another_host_is_not_fetched() -> None:
    async def body(mmsc: MmscSimulator, agent: Mm1Agent, hub: MemoryHub) -> None:
        push = mmsc.notify_phone(OWN, "+3169", "s", [Part(ContentType("text/plain"), b"x")])
        # the same simulator under another name: it would answer, were it asked
        elsewhere = push.location.replace("127.0.0.1", "localhost")
        forged = NotificationInd(transaction_id="f1", message_class="personal", message_size=1,
                                 expiry=timedelta(days=1), content_location=elsewhere)  # fmt: skip
        with pytest.raises(PushError, match=re.escape("not on 127.0.0.1 (mms_fetch_hosts): not fetched")):
            await agent.handle_push("dev", "+3165", mms_push(encode_pdu(forged)))
        assert mmsc.mm1.fetches == 0 and hub.delivered == [] and mmsc.mm1.mm1_acks == []
        agent.fetch_hosts = ("localhost",)  # mms_fetch_hosts=localhost
        assert await agent.handle_push("dev", "+3165", mms_push(encode_pdu(forged))) == "message"

    _run(body)
