"""The inbound MM7 route in process (the web app on a real database): Digest
login, every MMStatus mapped, and mutated requests that never crash the route
nor store half a message."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from typing import Any

import httpx

from msghub.connectors.mm7 import mime, soap
from msghub.connectors.mm7.inbound import DELIVERY_STATUS
from tests.web.webkit import run_app

URL = "/mm7/op"
AUTH = httpx.DigestAuth("mmsc", "pw")


def _connection(db: Any, **config: str) -> None:
    settings = {"url": "http://127.0.0.1:9/mm7", "inbound_username": "mmsc", "inbound_password": "pw",
                "inbound_auth": "digest", **config}  # fmt: skip
    db.execute("INSERT INTO hub.connections (name, kind, channels, config) VALUES ('op', 'mm7', '{mms}', %s)",
               (json.dumps(settings),))  # fmt: skip


def _post(client: httpx.AsyncClient, op: soap.Operation, content: tuple[str, bytes] | None = None,
          auth: httpx.Auth | None = AUTH) -> Any:  # fmt: skip
    content_type, body = mime.build_request(soap.build_envelope(op), content)
    return client.post(URL, content=body, headers={"Content-Type": content_type}, auth=auth)


def test_digest_login_and_every_delivery_status(db_url: str, db: Any) -> None:
    _connection(db)
    now = datetime.now(UTC).replace(microsecond=0)

    async def scenario(client: httpx.AsyncClient) -> list[int]:
        codes = [(await _post(client, soap.CancelReq(transaction_id="x", message_id="m"), auth=None)).status_code]
        for n, status in enumerate(DELIVERY_STATUS):
            report = soap.DeliveryReportReq(transaction_id=f"dr{n}", message_id=f"m{n}", recipient="+1555",
                                            sender="1234", date=now, mm_status=status, status_text="t")  # fmt: skip
            codes.append((await _post(client, report)).status_code)
        read = soap.ReadReplyReq(transaction_id="rr", schema="REL-5-MM7-1-2", message_id="m0", recipient="+1555",
                                 sender="1234", timestamp=now, mm_status="Deleted")  # fmt: skip
        answer = await _post(client, read)
        assert soap.parse_envelope(answer.content) == soap.Response(
            transaction_id="rr", schema="REL-5-MM7-1-2", mm7_version="5.5.0", kind="ReadReplyRsp",
            status=soap.Status(1000, "Success"))  # fmt: skip
        return codes

    codes = run_app(db_url, scenario)
    assert codes[0] == 401 and set(codes[1:]) == {200}
    rows = db.execute("SELECT operator_ref, status, reason FROM hub.delivery_reports ORDER BY id").fetchall()
    expected = [(f"m{n}", status, f"{reason}: t" if reason else "t")
                for n, (status, reason) in enumerate(DELIVERY_STATUS.values())]  # fmt: skip
    assert [(r["operator_ref"], r["status"], r["reason"]) for r in rows[:-1]] == expected
    assert (rows[-1]["status"], rows[-1]["reason"]) == ("delivered", "read reply: Deleted")


def test_mutated_requests_never_crash_nor_half_store(db_url: str, db: Any) -> None:
    _connection(db, inbound_username="")  # no login: every request reaches the parser
    media = [mime.MediaPart("image/jpeg", b"\xff\xd8\xff" + bytes(200), "i1", "a.jpg"),
             mime.MediaPart('text/plain; charset="utf-8"', "grüß".encode(), "t1", "t.txt")]  # fmt: skip
    op = soap.DeliverReq(transaction_id="t", sender="+1555", recipients=soap.Recipients(("1234",)),
                         linked_id="L", content_href="cid:mm7-content")  # fmt: skip
    content_type, body = mime.build_request(soap.build_envelope(op), mime.build_content(media, None))
    rng = random.Random(2948)

    async def scenario(client: httpx.AsyncClient) -> list[tuple[int, int]]:
        seen = []
        for n in range(150):
            sample = bytearray(body.replace(b">t<", f">t{n}<".encode(), 1))
            for _ in range(rng.randint(1, 4)):
                sample[rng.randrange(len(sample))] = rng.randrange(256)
            response = await client.post(URL, content=bytes(sample), headers={"Content-Type": content_type})
            if response.status_code == 500:
                fault = soap.parse_envelope(response.content)
                assert isinstance(fault, soap.Fault) and fault.kind == "VASPErrorRsp"
                seen.append((500, fault.status.code))
            else:
                assert response.status_code == 200, response.text
                seen.append((200, 1000))
        return seen

    seen = run_app(db_url, scenario)
    assert {status for status, _ in seen} == {200, 500}  # the mutations reach both outcomes
    stored = db.execute("SELECT id FROM hub.messages WHERE direction = 'in'").fetchall()
    assert len(stored) == sum(1 for status, _ in seen if status == 200)
    assert {code for _, code in seen} <= {1000, 2007, 4002, 4003, 4004}
    orphans = db.execute("SELECT count(*) AS n FROM hub.message_parts p LEFT JOIN hub.messages m "
                         "ON m.id = p.message_id WHERE m.id IS NULL").fetchone()  # fmt: skip
    assert orphans["n"] == 0


def test_the_route_is_mounted_for_kinds_that_receive_over_http_and_only_for_enabled_mm7_connections(
        db_url: str, db: Any) -> None:  # fmt: skip
    from msghub.app.inbound import inbound_routes

    assert [getattr(route, "path", None) for route in inbound_routes()] == ["/mm7/{connection}"]
    _connection(db, inbound_username="")
    db.execute("INSERT INTO hub.connections (name, kind, channels, config) VALUES ('lo', 'loopback', '{sms}', '{}')")
    op = soap.DeliveryReportReq(transaction_id="d", message_id="m", recipient="+1555", sender="1234",
                                date=datetime.now(UTC).replace(microsecond=0), mm_status="Retrieved")  # fmt: skip
    content_type, body = mime.build_request(soap.build_envelope(op), None)

    async def scenario(client: httpx.AsyncClient) -> list[int]:
        codes = []
        for url in ("/mm7/op", "/mm7/lo", "/mm7/nobody", "/loopback/lo"):
            codes.append((await client.post(url, content=body, headers={"Content-Type": content_type})).status_code)
        db.execute("UPDATE hub.connections SET enabled = false WHERE name = 'op'")
        codes.append((await client.post(URL, content=body, headers={"Content-Type": content_type})).status_code)
        return codes

    assert run_app(db_url, scenario) == [200, 404, 404, 404, 404]
