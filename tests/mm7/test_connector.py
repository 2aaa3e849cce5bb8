"""The mm7 connector against the MMSC simulator, both in one event loop:
submits with their content, status codes mapped to retry or permanent
failure, cancel and replace, probe, and the digest login."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
import pytest

from msghub.connectors.base import (
    Attachment,
    DeliveryReport,
    InboundMessage,
    OutboundMessage,
    PermanentFailure,
    TemporaryFailure,
    UncertainFailure,
)
from msghub.connectors.mm7.connector import Mm7Connector
from msghub.connectors.settings import validate_config
from msghub.devtools.mmsc.simulator import MmscConfig, MmscSimulator
from tests.mm7.schema import validate_envelope

T = TypeVar("T")
TIMEOUT_S = 60.0
JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8
AMR = b"#!AMR\n" + bytes(100)


class NoHub:
    async def deliver(self, message: InboundMessage) -> int:
        raise AssertionError("not used")

    async def report_delivery(self, report: DeliveryReport) -> int | None:
        raise AssertionError("not used")

    async def set_state(self, state: str, error: str | None = None) -> None:
        pass


def run(coro: Awaitable[T]) -> T:
    return asyncio.run(asyncio.wait_for(coro, TIMEOUT_S))  # type: ignore[arg-type]


def message(recipient: str = "+447700900123", **extra: Any) -> OutboundMessage:
    values: dict[str, Any] = {
        "id": 7, "attempt": 1, "channel": "mms", "recipient": recipient, "sender": "1234",
        "subject": "Holiday", "text": "Greetings from the beach", "delivery_report": True, "priority": 2,
        "valid_until": datetime(2030, 1, 1, tzinfo=UTC),
        "attachments": (Attachment("image/jpeg", JPEG, "beach.jpg"), Attachment("audio/amr", AMR, "waves.amr")),
    }  # fmt: skip
    values.update(extra)
    return OutboundMessage(**values)


def with_pair(sim_config: MmscConfig, settings: dict[str, Any],
              body: Callable[[MmscSimulator, Mm7Connector], Awaitable[T]]) -> T:  # fmt: skip
    async def main() -> T:
        sim = MmscSimulator(sim_config)
        await sim.start()
        config = validate_config(Mm7Connector.settings, {"url": sim.url, **settings})
        connector = Mm7Connector("operator", config, NoHub())
        await connector.open()
        try:
            return await body(sim, connector)
        finally:
            await connector.close()
            await sim.stop()

    return run(main())


def test_submit_carries_recipients_sender_content_and_options() -> None:
    async def body(sim: MmscSimulator, connector: Mm7Connector) -> None:
        result = await connector.send(message())
        assert result.operator_ref == "mmsc-1"
        (held,) = sim.submits
        req = held.request
        assert req.recipients.to == ("+447700900123",)
        assert (req.sender_address, req.vasp_id, req.vas_id, req.service_code) == ("1234", "acme", "news", "S1")
        assert (req.subject, req.priority, req.delivery_report, req.read_reply) == ("Holiday", "High", True, True)
        assert (req.charged_party, req.message_class) == ("Recipient", "Informational")
        assert req.expiry == datetime(2030, 1, 1, tzinfo=UTC)
        assert req.transaction_id == "operator-7-1"
        kinds = [p.content_type.split(";")[0] for p in held.parts]
        assert kinds == ["application/smil", "text/plain", "image/jpeg", "audio/amr"]
        assert held.parts[1].data == b"Greetings from the beach" and held.parts[2].data == JPEG
        smil = held.parts[0].data.decode()
        assert 'src="cid:part1"' in smil and 'src="cid:part2"' in smil and 'src="cid:text0"' in smil
        assert validate_envelope(held.envelope, "REL-6-MM7-1-4") == "SubmitReq"

    with_pair(MmscConfig(), {"vasp_id": "acme", "vas_id": "news", "service_code": "S1", "read_reply": "true",
                             "charged_party": "Recipient", "message_class": "Informational"}, body)  # fmt: skip


@pytest.mark.parametrize("schema", ["REL-5-MM7-1-0", "REL-5-MM7-1-3", "REL-6-MM7-1-0", "REL-6-MM7-1-4"])
def test_the_schema_version_is_chosen_per_connection(schema: str) -> None:
    async def body(sim: MmscSimulator, connector: Mm7Connector) -> None:
        await connector.send(message())
        held = sim.submits[0]
        assert held.request.schema == schema
        assert validate_envelope(held.envelope, schema) == "SubmitReq"

    with_pair(MmscConfig(), {"schema_version": schema, "charged_party_id": "payer"}, body)


def test_status_codes_become_retry_or_permanent_failures() -> None:
    faults = {"+1000": 2002, "+2000": 3000, "+3000": 4006, "+4000": 4007}

    async def body(sim: MmscSimulator, connector: Mm7Connector) -> None:
        with pytest.raises(PermanentFailure, match="2002 Address Error") as permanent:
            await connector.send(message("+10001"))
        assert permanent.value.code == "mm7_2002"
        for prefix, code in (("+2000", 3000), ("+3000", 4006)):
            with pytest.raises(TemporaryFailure) as temporary:
                await connector.send(message(prefix + "1"))
            assert temporary.value.code == f"mm7_{code}"
        with pytest.raises(PermanentFailure, match="4007"):
            await connector.send(message("+40001"))
        assert sim.submits == []

    with_pair(MmscConfig(faults=faults), {}, body)


def test_cancel_and_replace_a_held_message() -> None:
    async def body(sim: MmscSimulator, connector: Mm7Connector) -> None:
        ref = (await connector.send(message(delivery_report=False))).operator_ref
        assert (await connector.replace(ref, message(text="new text", attachments=()))).code == 1000
        assert sim.by_id[ref].replaced == 1
        assert (await connector.cancel(ref)).code == 1000
        assert sim.cancels == [ref] and sim.by_id[ref].state == "cancelled"
        assert (await connector.cancel(ref)).code == 2005  # gone: Message ID Not found

    with_pair(MmscConfig(), {}, body)


def test_digest_login_and_probe() -> None:
    sim_config = MmscConfig(username="vasp", password="s3cret", auth="digest")

    async def body(sim: MmscSimulator, connector: Mm7Connector) -> None:
        assert (await connector.send(message())).operator_ref == "mmsc-1"
        base = dict(connector.config)
        ok = await Mm7Connector.probe(base)
        assert ok.ok and "2005" in ok.detail, ok
        wrong = await Mm7Connector.probe({**base, "password": "nope"})
        assert not wrong.ok and "credentials" in wrong.detail
        down = await Mm7Connector.probe({**base, "url": "http://127.0.0.1:9/mm7"})
        assert not down.ok and "cannot reach" in down.detail
        with pytest.raises(TemporaryFailure, match="credentials"):
            bad = Mm7Connector("x", {**base, "password": "nope"}, NoHub())
            await bad.open()
            try:
                await bad.send(message())
            finally:
                await bad.close()

    with_pair(sim_config, {"username": "vasp", "password": "s3cret", "auth": "digest"}, body)


def test_an_mmsc_that_is_not_there_or_answers_nonsense() -> None:
    async def main() -> None:
        config = validate_config(Mm7Connector.settings, {"url": "http://127.0.0.1:9/mm7", "timeout_s": "5"})
        connector = Mm7Connector("x", config, NoHub())
        await connector.open()
        try:
            with pytest.raises(TemporaryFailure, match="cannot reach"):
                await connector.send(message())
        finally:
            await connector.close()

    run(main())

    async def nonsense(sim: MmscSimulator, connector: Mm7Connector) -> None:
        sim.config.path = "/elsewhere"  # the route stays /mm7: a 404 page, nothing was taken
        connector.config = {**connector.config, "url": sim.url}
        with pytest.raises(TemporaryFailure, match="HTTP 404, not MM7"):
            await connector.send(message())
        assert sim.submits == []

    with_pair(MmscConfig(), {}, nonsense)


def test_settings_are_checked() -> None:
    from msghub.errors import ConfigError

    with pytest.raises(ConfigError, match="url"):
        validate_config(Mm7Connector.settings, {"url": "ftp://x"})
    with pytest.raises(ConfigError, match="inbound_allow"):
        validate_config(Mm7Connector.settings, {"url": "http://x", "inbound_allow": "not-a-net"})
    with pytest.raises(ConfigError, match="schema_version"):
        validate_config(Mm7Connector.settings, {"url": "http://x", "schema_version": "REL-9"})
    assert validate_config(Mm7Connector.settings, {"url": "http://x"})["schema_version"] == "REL-6-MM7-1-4"


def test_expiry_in_the_past_and_deferred_sending() -> None:
    async def body(sim: MmscSimulator, connector: Mm7Connector) -> None:
        later = datetime.now(UTC) + timedelta(hours=1)
        await connector.send(message(send_at=later, valid_until=None, text="", attachments=(
            Attachment("image/jpeg", JPEG, None),)))  # fmt: skip
        req = sim.submits[0].request
        assert req.earliest_delivery is not None and abs((req.earliest_delivery - later).total_seconds()) < 1
        assert req.expiry is None
        assert [p.content_type.split(";")[0] for p in sim.submits[0].parts] == ["application/smil", "image/jpeg"]

    with_pair(MmscConfig(), {}, body)


@pytest.mark.parametrize(
    ("answer", "failure", "match"),
    [
        (httpx.Response(200, text="<html>hello</html>", headers={"content-type": "text/html"}), UncertainFailure,
         "is not MM7"),
        (httpx.Response(503, text="busy"), TemporaryFailure, "HTTP 503"),
        (httpx.ReadTimeout("slow"), UncertainFailure, "did not answer in time"),
        (httpx.RemoteProtocolError("cut"), UncertainFailure, "broke"),
        (httpx.ConnectError("refused"), TemporaryFailure, "cannot reach"),
        (httpx.Response(401), TemporaryFailure, "credentials"),
    ],
)  # fmt: skip
def test_http_outcomes(answer: Any, failure: type[Exception], match: str) -> None:
    from msghub.connectors.mm7.connector import post

    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def main() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            with pytest.raises(failure, match=match):
                await post(client, "http://mmsc/mm7", "text/xml", b"<x/>")

    run(main())
