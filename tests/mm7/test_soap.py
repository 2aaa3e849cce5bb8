"""MM7 SOAP envelopes: every operation msghub builds validates against the MM7
schema for every schema version, parses back to what was built, and the
parser reads what real MMSCs send (shapes from vnesek/instantcom-mm7's test
resources) and refuses bad input with the right status code."""

from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from msghub.connectors.mm7 import mime, soap
from msghub.connectors.mm7.errors import Mm7Error
from msghub.connectors.mm7.status import SCHEMA_VERSIONS, outcome
from tests.mm7.schema import validate_envelope

VERSIONS = sorted(SCHEMA_VERSIONS)
PROP = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=20).map(str.strip).filter(bool)
ADDRESS = st.one_of(st.from_regex(r"\A\+?[0-9]{3,15}\Z"), st.from_regex(r"\A[a-z]{1,8}@[a-z]{1,8}\.org\Z"))
TIMES = st.integers(0, 4_000_000_000).map(lambda s: datetime.fromtimestamp(s, UTC))
OPT = st.none() | TEXT


def ops(schema: str) -> st.SearchStrategy[soap.Operation]:
    common = {"transaction_id": TEXT, "schema": st.just(schema), "mm7_version": st.just(SCHEMA_VERSIONS[schema])}
    recipients = st.builds(soap.Recipients, st.lists(ADDRESS, min_size=1, max_size=3).map(tuple),
                           st.lists(ADDRESS, max_size=2).map(tuple), st.lists(ADDRESS, max_size=2).map(tuple))
    status = st.builds(soap.Status, st.sampled_from([1000, 1100, 2002, 3000, 4004]), TEXT, OPT)
    href = st.none() | TEXT.map(lambda t: "cid:" + t.replace(" ", ""))
    return st.one_of(
        st.builds(soap.SubmitReq, **common, recipients=recipients, vasp_id=OPT, vas_id=OPT,
                  sender_address=st.none() | ADDRESS, service_code=OPT, linked_id=OPT,
                  message_class=st.none() | st.sampled_from(soap.MESSAGE_CLASSES), timestamp=st.none() | TIMES,
                  earliest_delivery=st.none() | TIMES, expiry=st.none() | TIMES,
                  delivery_report=st.none() | st.booleans(),
                  read_reply=st.none() | st.booleans(), priority=st.none() | st.sampled_from(soap.PRIORITIES),
                  subject=OPT, charged_party=st.none() | st.sampled_from(soap.CHARGED_PARTIES),
                  charged_party_id=OPT if schema.startswith("REL-6") else st.none(), content_href=href),
        st.builds(soap.DeliverReq, **common, sender=ADDRESS, recipients=recipients, relay_server_id=OPT,
                  vasp_id=OPT, vas_id=OPT, linked_id=OPT, timestamp=st.none() | TIMES,
                  priority=st.none() | st.sampled_from(soap.PRIORITIES), subject=OPT, content_href=href),
        st.builds(soap.DeliveryReportReq, **common, message_id=TEXT, recipient=ADDRESS, sender=ADDRESS, date=TIMES,
                  mm_status=st.sampled_from(soap.DELIVERY_STATUSES), relay_server_id=OPT, status_text=OPT),
        st.builds(soap.ReadReplyReq, **common, message_id=TEXT, recipient=ADDRESS, sender=ADDRESS, timestamp=TIMES,
                  mm_status=st.sampled_from(soap.READ_STATUSES), relay_server_id=OPT, status_text=OPT),
        st.builds(soap.CancelReq, **common, message_id=TEXT, vasp_id=OPT, vas_id=OPT),
        st.builds(soap.ReplaceReq, **common, message_id=TEXT, vasp_id=OPT, vas_id=OPT, service_code=OPT,
                  timestamp=st.none() | TIMES, read_reply=st.none() | st.booleans(),
                  earliest_delivery=st.none() | TIMES, content_href=href),
        st.builds(soap.Response, **common, kind=st.sampled_from(soap.RESPONSES), status=status,
                  message_id=st.none()),
        st.builds(soap.Fault, **common, kind=st.sampled_from(["RSErrorRsp", "VASPErrorRsp"]), status=status,
                  faultcode=st.sampled_from(["Client", "Server"]), faultstring=TEXT),
    )  # fmt: skip


@pytest.mark.parametrize("schema", VERSIONS)
def test_every_operation_validates_and_parses_back(schema: str) -> None:
    @PROP
    @given(ops(schema))
    def check(op: soap.Operation) -> None:
        data = soap.build_envelope(op)
        name = validate_envelope(data, schema)
        assert name in (type(op).__name__, getattr(op, "kind", None))
        assert soap.parse_envelope(data) == op

    check()


def test_submit_rsp_with_message_id_validates() -> None:
    rsp = soap.Response(transaction_id="t", kind="SubmitRsp", status=soap.Status(1000, "Success"), message_id="m1")
    assert validate_envelope(soap.build_envelope(rsp), "REL-6-MM7-1-4") == "SubmitRsp"


def test_schema_refuses_what_the_mm7_schema_forbids() -> None:
    import xmlschema

    good = soap.build_envelope(soap.CancelReq(transaction_id="t", message_id="m"))
    broken = good.replace(b"<MessageID>m</MessageID>", b"")  # MessageID is mandatory in CancelReq
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        validate_envelope(broken, "REL-6-MM7-1-4")
    swapped = soap.build_envelope(soap.SubmitReq(transaction_id="t", recipients=soap.Recipients(("1",)),
                                                 subject="s", priority="High"))  # fmt: skip
    out_of_order = swapped.replace(b"<Priority>High</Priority><Subject>s</Subject>",
                                   b"<Subject>s</Subject><Priority>High</Priority>")  # fmt: skip
    assert out_of_order != swapped
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        validate_envelope(out_of_order, "REL-6-MM7-1-4")


# Shapes of what MMSCs send, after vnesek/instantcom-mm7 src/test/resources (deliver-req1.txt, fault.xml).
DELIVER = b"""--B1
Content-Type:text/xml; charset="utf-8"
Content-ID: </cmvt256/mm7-deliver>

<?xml version="1.0"?>
<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/">
  <env:Header>
    <mm7:TransactionID xmlns:mm7="http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-6-MM7-1-4"
      env:mustUnderstand="1">
        vas00324-dlvr
    </mm7:TransactionID>
  </env:Header>
  <env:Body>
    <DeliverReq xmlns="http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-6-MM7-1-4">
      <MM7Version>6.7.0</MM7Version>
      <VASPID>TNN</VASPID>
      <MMSRelayServerID>240.110.75.34</MMSRelayServerID>
      <LinkedID>wthr8391</LinkedID>
      <Sender><RFC2822Address>97254265781@OMMS.com</RFC2822Address></Sender>
      <TimeStamp>2002-04-15T14:35:21-05:00</TimeStamp>
      <Priority>Normal</Priority>
      <Subject>Weather Forecast</Subject>
      <Content href="cid: forecast-1"/>
    </DeliverReq>
  </env:Body>
</env:Envelope>
--B1
Content-Type:text/plain;charset="utf-8"
Content-ID:forecast-1

Los Angeles, Calif, USA
--B1--
""".replace(b"\n", b"\r\n")

FAULT = b"""<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header>
<p:TransactionID xmlns:p="http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-5-MM7-1-3"
 soap:mustUnderstand="1">0_15</p:TransactionID></soap:Header><soap:Body><soap:Fault>
<faultcode>Client</faultcode><faultstring>Client error</faultstring><detail>
<p:RSErrorRsp xmlns:p="http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-5-MM7-1-3">
<p:MM7Version>5.3.0</p:MM7Version><p:Status><p:StatusCode>2002</p:StatusCode>
<p:StatusText>Address Error</p:StatusText></p:Status></p:RSErrorRsp></detail></soap:Fault></soap:Body>
</soap:Envelope>"""


def test_reads_a_real_shaped_deliver_req() -> None:
    received = mime.parse_request('multipart/related; boundary="B1"; type="text/xml"', DELIVER)
    op = soap.parse_envelope(received.envelope)
    assert isinstance(op, soap.DeliverReq)
    assert (op.transaction_id, op.schema, op.sender, op.linked_id) == (
        "vas00324-dlvr", "REL-6-MM7-1-4", "97254265781@OMMS.com", "wthr8391")
    assert op.timestamp is not None and op.timestamp.utcoffset() is not None
    (part,) = mime.media_parts(received.parts[mime.normalise_cid(op.content_href or "")])
    assert part.data.strip() == b"Los Angeles, Calif, USA"


def test_reads_an_rs_error_fault() -> None:
    fault = soap.parse_envelope(FAULT)
    assert isinstance(fault, soap.Fault)
    assert (fault.kind, fault.schema, fault.status.code, fault.faultcode) == ("RSErrorRsp", "REL-5-MM7-1-3", 2002,
                                                                            "Client")


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"<not-xml", 2007),
        (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>', 2007),
        (b"<Envelope/>", 2007),
        (DELIVER.split(b"\r\n\r\n", 1)[1].split(b"\r\n--B1")[0].replace(b"REL-6-MM7-1-4", b"REL-9-MM7-9-9"), 4002),
        (soap.build_envelope(soap.CancelReq(transaction_id="t", message_id="m")).replace(b"CancelReq", b"FooReq"),
         4003),
        (soap.build_envelope(soap.CancelReq(transaction_id="t", message_id="m")).replace(b"<MessageID>m</MessageID>",
                                                                                       b""), 4004),
    ],
)  # fmt: skip
def test_bad_input_has_the_status_code_of_its_fault(data: bytes, status: int) -> None:
    with pytest.raises(Mm7Error) as caught:
        soap.parse_envelope(data)
    assert caught.value.status == status
    fault = soap.fault_for(caught.value, "t", "VASPErrorRsp")
    assert validate_envelope(soap.build_envelope(fault), "REL-6-MM7-1-4") == "VASPErrorRsp"
    assert soap.parse_envelope(soap.build_envelope(fault)).status.code == status  # type: ignore[union-attr]


def test_status_codes_map_to_retry_or_permanent() -> None:
    assert [outcome(c) for c in (1000, 1100)] == ["success"] * 2
    assert [outcome(c) for c in (3000, 3001, 4000, 4005, 4006)] == ["retry"] * 5
    assert [outcome(c) for c in (2000, 2002, 2004, 3002, 4001, 4002, 4004, 4007, 4008)] == ["permanent"] * 9


def test_multipart_request_round_trip() -> None:
    parts = [mime.MediaPart("application/smil", b"<smil/>", "smil", "a.smil"),
             mime.MediaPart("image/jpeg", bytes(range(256)) * 4, "p1", "p.jpg")]  # fmt: skip
    envelope = soap.build_envelope(soap.SubmitReq(transaction_id="t", recipients=soap.Recipients(("+1555",)),
                                                  content_href="cid:mm7-content"))  # fmt: skip
    content_type, body = mime.build_request(envelope, mime.build_content(parts, "smil"))
    received = mime.parse_request(content_type, body)
    assert received.envelope == envelope
    assert mime.media_parts(received.parts["mm7-content"]) == [
        mime.MediaPart("application/smil", b"<smil/>", "smil", "a.smil"),
        mime.MediaPart("image/jpeg", bytes(range(256)) * 4, "p1", "p.jpg"),
    ]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400), st.sampled_from(["text/xml", 'multipart/related; boundary="B1"', "image/png", ""]))
def test_fuzz_only_mm7_errors_escape(data: bytes, content_type: str) -> None:
    try:
        received = mime.parse_request(content_type, data)
        soap.parse_envelope(received.envelope)
    except Mm7Error as exc:
        assert exc.status in (2007, 4002, 4003, 4004)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_fuzz_mutated_envelopes(data: st.DataObject) -> None:
    base = bytearray(DELIVER)
    for _ in range(data.draw(st.integers(1, 6))):
        at = data.draw(st.integers(0, len(base) - 1))
        base[at] = data.draw(st.integers(0, 255))
    try:
        received = mime.parse_request('multipart/related; boundary="B1"', bytes(base))
        op = soap.parse_envelope(received.envelope)
        if isinstance(op, soap.DeliverReq) and op.content_href:
            part = received.parts.get(mime.normalise_cid(op.content_href))
            if part is not None:
                mime.media_parts(part)
    except Mm7Error:
        pass
