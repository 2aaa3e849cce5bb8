"""End to end: a real hub process (`msghub run` with connectors, scheduler and
web) with an `mm7` connection to the MMSC simulator, which runs in the test
on a thread of its own and posts reports and deliveries to the hub's
/mm7/<connection> route."""

from __future__ import annotations

import base64
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from msghub.app.cli import main
from msghub.connectors.mm7 import mime, soap
from msghub.devtools.mmsc.simulator import MmscConfig
from msghub.devtools.mmsc.thread import MmscThread
from tests.hubproc import start_hub, stop_hub, wait_for
from tests.mm7.schema import validate_envelope

NAME = "operator"
JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4
HUB_USER, HUB_PASSWORD = "mmsc", "in-s3cret"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def world(db_url: str, db: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
          ) -> Iterator[tuple[MmscThread, str, Any]]:  # fmt: skip
    web_port = _free_port()
    inbound = f"http://127.0.0.1:{web_port}/mm7/{NAME}"
    config = MmscConfig(username="vasp", password="out-s3cret", auth="digest", hub_url=inbound,
                        hub_username=HUB_USER, hub_password=HUB_PASSWORD, dr_delay_s=0.2, rr_delay_s=0.4,
                        faults={"+1999": 2002, "+1888": 3000})  # fmt: skip
    with MmscThread(config) as sim:
        monkeypatch.setenv("MSGHUB_DATABASE_URL", db_url)
        code = main(["connection", "add", NAME, "--kind", "mm7", "--url", sim.url, "--username", "vasp",
                     "--password", "out-s3cret", "--auth", "digest", "--vasp-id", "msghub", "--read-reply", "true",
                     "--inbound-username", HUB_USER, "--inbound-password", HUB_PASSWORD,
                     "--inbound-allow", "127.0.0.1/32", "--timeout-s", "10"])  # fmt: skip
        out, err = capsys.readouterr()
        assert code == 0, err
        assert "out-s3cret" not in out and "in-s3cret" not in out
        db.execute("UPDATE hub.settings SET value = '1' WHERE key = 'retry_base_s'")
        db.execute("UPDATE hub.connections SET max_attempts = 2 WHERE name = %s", (NAME,))
        hub = start_hub(db_url, roles="connectors,scheduler,web", MSGHUB_HTTP_PORT=str(web_port))
        try:
            wait_for(lambda: db.execute("SELECT state FROM hub.connections WHERE name = %s", (NAME,)).fetchone()
                     ["state"] == "up", what="the mm7 connection to come up")  # fmt: skip
            wait_for(lambda: _reachable(inbound), what="the web role to listen")
            yield sim, inbound, db
        finally:
            assert stop_hub(hub) == 0


def _reachable(url: str) -> bool:
    try:
        return httpx.post(url, content=b"", timeout=2).status_code in (401, 403, 500)
    except httpx.HTTPError:
        return False


def _status(db: Any, correlation_id: str) -> dict[str, Any] | None:
    row = db.execute("SELECT * FROM hub.message_status WHERE correlation_id = %s", (correlation_id,)).fetchone()
    return dict(row) if row else None


def test_mms_out_through_mm7_delivered_and_read(world: tuple[MmscThread, str, Any]) -> None:
    sim, _, db = world
    picture = base64.b64encode(JPEG).decode()
    db.execute(
        "INSERT INTO hub.outbox (channel, recipient, sender, subject, text, attachments, delivery_report, "
        "correlation_id) VALUES ('mms', '+447700900123', '1234', 'Hello', 'a picture for you', "
        "jsonb_build_array(jsonb_build_object('filename', 'p.jpg', 'content_type', 'image/jpeg', 'data', %s::text)), "
        "true, 'mm7-e2e')", (picture,),
    )  # fmt: skip
    wait_for(lambda: (_status(db, "mm7-e2e") or {}).get("status") == "delivered", timeout=60,
             what="the MMS to be delivered")  # fmt: skip
    row = _status(db, "mm7-e2e")
    assert row is not None
    held = sim.call(lambda s: s.submits[0])
    assert row["operator_ref"] == held.message_id
    assert held.request.recipients.to == ("+447700900123",) and held.request.subject == "Hello"
    assert held.request.delivery_report is True and held.request.read_reply is True
    assert [p.data for p in held.parts if p.content_type.startswith("image/jpeg")] == [JPEG]
    assert validate_envelope(held.envelope, "REL-6-MM7-1-4") == "SubmitReq"
    reasons = lambda: [r["reason"] for r in db.execute(  # noqa: E731
        "SELECT reason FROM hub.delivery_reports WHERE operator_ref = %s ORDER BY id", (held.message_id,))]
    wait_for(lambda: "read reply: Read" in reasons(), what="the read reply")
    assert reasons() == [None, "read reply: Read"]
    assert sim.call(lambda s: s.sent_to_hub) == [("DeliveryReportReq", 200), ("ReadReplyReq", 200)]


def test_refusals_fail_for_good_and_server_errors_are_retried(world: tuple[MmscThread, str, Any]) -> None:
    _, _, db = world
    db.execute("INSERT INTO hub.outbox (channel, recipient, text, correlation_id) VALUES "
               "('mms', '+19990001', 'x', 'refused'), ('mms', '+18880001', 'y', 'busy')")  # fmt: skip
    wait_for(lambda: (_status(db, "refused") or {}).get("status") == "failed", what="the refused MMS to fail")
    assert "2002" in (_status(db, "refused") or {})["failure_reason"]
    wait_for(lambda: (_status(db, "busy") or {}).get("status") == "failed", timeout=60,
             what="the retried MMS to give up after max_attempts")  # fmt: skip
    busy = _status(db, "busy") or {}
    assert "3000" in busy["failure_reason"]
    attempts = db.execute("SELECT attempts FROM hub.messages WHERE id = %s", (busy["message_id"],)).fetchone()
    assert attempts["attempts"] == 2


def test_mms_from_a_phone_arrives_with_its_parts(world: tuple[MmscThread, str, Any]) -> None:
    sim, _, db = world
    picture = mime.MediaPart("image/jpeg", JPEG, "img1", "photo.jpg")
    answer = sim.run(lambda s: s.deliver("+15550123", "1234", "look at this", subject="Photo", media=[picture]))
    assert isinstance(answer, soap.Response) and (answer.kind, answer.status.code) == ("DeliverRsp", 1000)
    row = db.execute("SELECT * FROM hub.messages WHERE direction = 'in' AND channel = 'mms'").fetchone()
    assert (row["sender"], row["recipients"], row["subject"], row["body"]) == (
        "+15550123", ["1234"], "Photo", "look at this")
    assert row["meta"]["mm7"]["linked_id"].startswith("mo-link-")
    parts = db.execute("SELECT content_type, filename, content_id, data FROM hub.message_parts "
                       "WHERE message_id = %s ORDER BY seq", (row["id"],)).fetchall()  # fmt: skip
    assert [(p["content_type"], p["filename"]) for p in parts] == [("text/plain", "text0.txt"),
                                                                  ("image/jpeg", "photo.jpg")]  # fmt: skip
    assert bytes(parts[1]["data"]) == JPEG
    # the same DeliverReq again (its answer was lost, say): answered, not stored twice
    again = sim.run(lambda s: s._post_to_hub(_same_deliver(row), None))
    assert isinstance(again, soap.Response) and again.status.code == 1000
    assert db.execute("SELECT count(*) AS n FROM hub.messages WHERE direction = 'in'").fetchone()["n"] == 1


def _same_deliver(row: Any) -> soap.DeliverReq:
    mm7 = row["meta"]["mm7"]
    return soap.DeliverReq(transaction_id=mm7["transaction_id"], sender=row["sender"], linked_id=mm7["linked_id"])


def _post(url: str, body: bytes, auth: Any = (HUB_USER, HUB_PASSWORD), content_type: str = "text/xml") -> Any:
    return httpx.post(url, content=body, auth=auth, headers={"Content-Type": content_type}, timeout=10)


def test_inbound_route_refuses_bad_credentials_addresses_and_input(world: tuple[MmscThread, str, Any]) -> None:
    _, inbound, db = world
    report = soap.build_envelope(soap.CancelReq(transaction_id="t1", message_id="m"))
    assert _post(inbound, report, auth=(HUB_USER, "wrong")).status_code == 401
    assert _post(inbound, report, auth=None).headers["www-authenticate"].startswith("Basic")
    assert _post(inbound.replace(NAME, "nobody"), report).status_code == 404

    def fault_code(response: httpx.Response) -> int:
        assert response.status_code == 500
        assert validate_envelope(response.content, "REL-6-MM7-1-4") == "VASPErrorRsp"
        fault = soap.parse_envelope(response.content)
        assert isinstance(fault, soap.Fault) and fault.kind == "VASPErrorRsp"
        return fault.status.code

    assert fault_code(_post(inbound, report)) == 4003  # a CancelReq is for the MMSC, not the VASP
    assert fault_code(_post(inbound, b"<oops")) == 2007
    assert fault_code(_post(inbound, report.replace(b"REL-6-MM7-1-4", b"REL-7-MM7-9-9"))) == 4002
    assert fault_code(_post(inbound, report, content_type="image/png")) == 2007
    deliver = soap.build_envelope(soap.DeliverReq(transaction_id="t2", sender="+1555", content_href="cid:missing"))
    assert fault_code(_post(inbound, deliver)) == 4004
    db.execute("UPDATE hub.connections SET config = config || '{\"inbound_allow\": \"10.0.0.0/8\"}' WHERE name = %s",
               (NAME,))  # fmt: skip
    assert _post(inbound, report).status_code == 403
    assert db.execute("SELECT count(*) AS n FROM hub.messages WHERE direction = 'in'").fetchone()["n"] == 0


def test_a_phone_writes_over_mm1_and_the_hub_receives_it_over_mm7(world: tuple[MmscThread, str, Any]) -> None:
    from msghub.mms import ContentType, Part, SendConf, SendReq, decode_pdu, encode_pdu

    sim, _, db = world
    send = SendReq(transaction_id="ph1", sender="+15550177/TYPE=PLMN", to=("1234/TYPE=PLMN",), subject="from MM1",
                   content_type=ContentType("application/vnd.wap.multipart.mixed"),
                   parts=(Part(ContentType("text/plain", {"Charset": "utf-8"}), "über".encode()),
                          Part(ContentType("image/jpeg"), JPEG, content_location="cam.jpg")))  # fmt: skip
    mm1_url = sim.call(lambda s: s.mm1_url)
    answer = httpx.post(mm1_url, content=encode_pdu(send), headers={"Content-Type": "application/vnd.wap.mms-message"},
                        timeout=30)  # fmt: skip
    assert isinstance(decode_pdu(answer.content), SendConf)
    row = db.execute("SELECT * FROM hub.messages WHERE direction = 'in'").fetchone()
    got = (row["sender"], row["recipients"], row["subject"], row["body"])
    assert got == ("+15550177", ["1234"], "from MM1", "über")
    sizes = [r["size"] for r in db.execute(
        "SELECT length(data) AS size FROM hub.message_parts WHERE message_id = %s ORDER BY seq", (row["id"],))]
    assert sizes == [len("über".encode()), len(JPEG)]


def test_cc_and_bcc_copies_travel_in_one_submit(world: tuple[MmscThread, str, Any]) -> None:
    sim, _, db = world
    db.execute("INSERT INTO hub.outbox (channel, recipient, cc, bcc, text, delivery_report, correlation_id) "
               "VALUES ('mms', '+447700900123', '{\"+44 7700 900124\", ann@example.org}', '{+447700900125}', "
               "'to three people', true, 'mm7-copies')")  # fmt: skip
    wait_for(lambda: (_status(db, "mm7-copies") or {}).get("status") == "delivered", timeout=60,
             what="the MMS with copies to be delivered")  # fmt: skip
    (held,) = [s for s in sim.call(lambda s: list(s.submits)) if s.request.subject is None]
    recipients = held.request.recipients
    assert (recipients.to, recipients.cc, recipients.bcc) == (
        ("+447700900123",), ("+447700900124", "ann@example.org"), ("+447700900125",))
    assert validate_envelope(held.envelope, "REL-6-MM7-1-4") == "SubmitReq"
    meta = db.execute("SELECT meta FROM hub.messages WHERE correlation_id = 'mm7-copies'").fetchone()["meta"]
    assert meta == {"cc": ["+447700900124", "ann@example.org"], "bcc": ["+447700900125"]}
