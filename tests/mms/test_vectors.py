# ruff: noqa: E501  (the expected SMIL and text are long literals, copied as they are)
"""The 16 MMS PDUs of ../shared/vectors/mms decode, and the eleven that
python-messaging's messaging/test/test_mms.py lists decode to the headers and
parts it gives for them.

Dates: test_mms.py states them in the local time of the machine its author ran
it on (CET/CEST); the PDUs carry seconds since the epoch, so this table gives
the same instants in UTC (one or two hours earlier). BTMMS, SIMPLE and TOMSLOT
carry no X-Mms-Transaction-Id (optional in m-retrieve-conf): the '1234' that
test_mms.py expects for them is python-messaging's default header, so None here. Part data that the Python 2
test wrote as byte strings ('Jonatan \\xc3\\xa4r') are the bytes here.
"""

from datetime import UTC, datetime
from typing import Any

import pytest

from msghub.mms import INSERT_ADDRESS, Pdu, RetrieveConf, SendReq, decode_pdu, encode_pdu
from tests.mms.vectors import mms_vectors, vectors_dir

REL = "application/vnd.wap.multipart.related"
MIXED = "application/vnd.wap.multipart.mixed"
SMIL = {"Type": "application/smil"}


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# file -> (class, headers, content type params, [(part content type, params or None, data or None)])
EXPECTED: dict[str, tuple[type[Pdu], dict[str, Any], str, dict[str, str], list[tuple[str, Any, Any]]]] = {
    "pm-iPhone.mms": (
        SendReq,
        {"sender": INSERT_ADDRESS, "transaction_id": "1262957356-3", "mms_version": "1.2", "to": ("1337/TYPE=PLMN",)},
        REL, {"Start": "0.smil", **SMIL},
        [("application/smil", None, b'<smil>\n<head>\n<layout>\n <root-layout/>\n<region id="Text" top="70%" left="0%" height="30%" width="100%" fit="scroll"/>\n<region id="Image" top="0%" left="0%" height="70%" width="100%" fit="meet"/>\n</layout>\n</head>\n<body>\n<par dur="10s">\n<img src="IMG_6807.jpg" region="Image"/>\n</par>\n</body>\n</smil>\n'),
         ("image/jpeg", {"Name": "IMG_6807.jpg"}, None)],
    ),
    "pm-SIMPLE.MMS": (
        RetrieveConf,
        {"mms_version": "1.0", "date": utc(2002, 12, 20, 21, 26, 56), "subject": "Simple message"},
        REL, {},
        [("text/plain", None, b"This is a simple MMS message with a single text body part.")],
    ),
    "pm-BTMMS.MMS": (
        RetrieveConf,
        {"mms_version": "1.0", "date": utc(2003, 1, 21, 1, 57, 4), "subject": "BT Ignite MMS"},
        REL, {"Start": "<btmms.smil>", **SMIL},
        [("application/smil", None, b'<smil><head><layout><root-layout/>\r\n<region id="Image" top="0" left="0" height="50%" width="100%" fit="hidden"/>\r\n<region id="Text" top="50%" left="0" height="50%" width="100%" fit="hidden"/>\r\n</layout>\r\n</head>\r\n<body><par dur="6825ms"><img src="btlogo.gif" region="Image"></img>\r\n<audio src="catchy_g.amr" begin="350ms" end="6350ms"></audio>\r\n</par>\r\n<par dur="3000ms"><text src="btmms.txt" region="Text"><param name="foreground-color" value="#000000"/>\r\n</text>\r\n</par>\r\n</body>\r\n</smil>\r\n\r\n'),
         ("image/gif", None, None), ("audio/amr", None, None), ("text/plain", None, b"BT Ignite\r\n\r\nMMS Services")],
    ),
    "pm-TOMSLOT.MMS": (
        RetrieveConf,
        {"sender": "allan@tomslot.com", "mms_version": "1.0",
         "date": utc(2003, 2, 16, 3, 48, 33), "subject": "Tom Slot Band"},
        REL, {"Start": "<tomslot.smil>", **SMIL},
        [("application/smil", None, None), *[("image/jpeg", None, None)] * 5,
         ("text/plain", None, b"Presented by NowMMS\r\n"), ("audio/amr", None, None)],
    ),
    "pm-images_are_cut_off_debug.mms": (
        SendReq,
        {"sender": INSERT_ADDRESS, "read_report": False, "transaction_id": "2112410527", "mms_version": "1.0",
         "to": ("tdpt@ajajg.cdm",), "delivery_report": False, "subject": "Picture3"},
        REL, {"Start": "<SMIL.TXT>", **SMIL},
        [("image/jpeg", {"Name": "Picture3.jpg"}, None),
         ("application/smil", None, b'<smil><head><layout><root-layout height="160px" width="128px"/><region id="Top" top="0"  left="0" height="50%" width="100%" /><region id="Bottom" top="50%" left="0" height="50%" width="100%" /></layout></head><body><par dur="5s"><img src="cid:Picture3.jpg" region="Top" begin="0s" end="5s"></img></par></body></smil>')],
    ),
    "pm-openwave.mms": (
        SendReq,
        {"sender": "+16505550000/TYPE=PLMN", "message_class": "personal", "transaction_id": "1067263672",
         "mms_version": "1.0", "priority": "normal", "to": ("112/TYPE=PLMN",), "delivery_report": False,
         "subject": "rubrik"},
        REL, {"Start": "<smil_0>", **SMIL},
        [("application/smil", None, b'<smil>\n  <head>\n    <layout>\n      <root-layout width="100%" height="100%" />\n      <region id="Text" left="0%" top="0%" width="100%" height="50%" />\n      <region id="Image" left="0%" top="50%" width="100%" height="50%" />\n    </layout>\n  </head>\n  <body>\n    <par dur="30000ms">\n      <text src="cid:text_0" region="Text" />\n    </par>\n  </body>\n</smil>\n'),
         (None, None, b"rubrik")],
    ),
    "pm-SonyEricssonT310-R201.mms": (
        SendReq,
        {"sender_visibility": "show", "sender": INSERT_ADDRESS, "read_report": False, "message_class": "personal",
         "transaction_id": "1-8db", "mms_version": "1.0", "priority": "normal", "to": ("55225/TYPE=PLMN",),
         "delivery_report": False, "date": utc(2004, 3, 18, 7, 30, 34)},
        REL, {"Start": "<AAAA>", **SMIL},
        [("image/gif", {"Name": "Tony.gif"}, None), ("text/plain", None, b"Hej hopp"),
         ("audio/midi", {"Name": "OldhPhone.mid"}, None),
         ("application/smil", None, b'<smil><head><layout><root-layout height="240px" width="160px"/>\r\n<region id="Image" top="0" left="0" height="50%" width="100%" fit="hidden"/>\r\n<region id="Text" top="50%" left="0" height="50%" width="100%" fit="hidden"/>\r\n</layout>\r\n</head>\r\n<body><par dur="2000ms"><img src="Tony.gif" region="Image"></img>\r\n<text src="mms.txt" region="Text"></text>\r\n<audio src="OldhPhone.mid"></audio>\r\n</par>\r\n</body>\r\n</smil>\r\n')],
    ),
    "pm-gallery2test.mms": (
        SendReq,
        {"sender": "+16505550000/TYPE=PLMN", "message_class": "personal", "transaction_id": "1118775337",
         "mms_version": "1.0", "priority": "normal", "to": ("Jg",), "delivery_report": False, "subject": "Jgj"},
        REL, {"Start": "<smil_0>", **SMIL},
        [("application/smil", None, b'<smil>\n  <head>\n    <layout>\n      <root-layout width="100%" height="100%" />\n      <region id="Text" left="0%" top="0%" width="100%" height="50%" />\n      <region id="Image" left="0%" top="50%" width="100%" height="50%" />\n    </layout>\n  </head>\n  <body>\n    <par dur="30000ms">\n      <img src="cid:image_0" region="Image" alt="gnu-head" />\n      <text src="cid:text_0" region="Text" />\n    </par>\n  </body>\n</smil>\n'),
         ("text/plain", None, b"Jgj"), ("image/jpeg", {"name": "gnu-head.jpg"}, None)],
    ),
    "pm-projekt_exempel.mms": (
        SendReq,
        {"sender_visibility": "show", "sender": INSERT_ADDRESS, "read_report": False, "message_class": "personal",
         "transaction_id": "4-fc60", "mms_version": "1.0", "priority": "normal", "to": ("12345/TYPE=PLMN",),
         "delivery_report": False, "date": utc(2004, 5, 23, 15, 13, 40), "subject": "Hej"},
        REL, {"Start": "<AAAA>", **SMIL},
        [("text/plain", None, b"Jonatan \xc3\xa4r en GNU"), ("image/gif", None, None),
         ("application/smil", {"Charset": "utf-8", "Name": "mms.smil"}, b'<smil><head><layout><root-layout height="240px" width="160px"/>\r\n<region id="Image" top="0" left="0" height="50%" width="100%" fit="hidden"/>\r\n<region id="Text" top="50%" left="0" height="50%" width="100%" fit="hidden"/>\r\n</layout>\r\n</head>\r\n<body><par dur="2000ms"><text src="mms.txt" region="Text"></text>\r\n<img src="SonyhEr.gif" region="Image"></img>\r\n</par>\r\n</body>\r\n</smil>\r\n')],
    ),
    "pm-m.mms": (
        RetrieveConf,
        {"sender": "goldpost@hotmail.com", "transaction_id": "0000000001", "mms_version": "1.0",
         "date": utc(2002, 8, 9, 13, 8, 2), "subject": "GOLD"},
        REL, {"Start": "<A0>", **SMIL},
        [("text/plain", {"Charset": "us-ascii"}, b"Audio"), ("application/smil", {"Charset": "us-ascii"}, None),
         ("text/plain", {"Charset": "us-ascii"}, b"Text +"),
         ("text/plain", {"Charset": "us-ascii"}, b"tagtag.com/gold\r\n"), ("audio/amr", None, None),
         ("text/plain", {"Charset": "us-ascii"}, b"globalisierunglobalisierunglobalisierunglobalisierunglobalisierunglobalisierunglobalisierungnureisilabolg"),
         ("text/plain", {"Charset": "us-ascii"}, b"KLONE\r\nKLONE\r\n"),
         ("text/plain", {"Charset": "us-ascii"}, b"pr\xe4sentiert.."),
         ("text/plain", {"Charset": "us-ascii"}, b"GOLD")],
    ),
    "pm-27d0a048cd79555de05283a22372b0eb.mms": (
        SendReq,
        {"sender_visibility": "show", "sender": INSERT_ADDRESS, "read_report": False, "message_class": "personal",
         "transaction_id": "3-31cb", "mms_version": "1.0", "priority": "normal", "to": ("123/TYPE=PLMN",),
         "delivery_report": False, "date": utc(2004, 5, 23, 14, 14, 58), "subject": "Angående art-tillhörighet"},
        REL, {"Start": "<AAAA>", **SMIL},
        [("image/vnd.wap.wbmp", {"Name": "Rain.wbmp"}, None),
         ("text/plain", {"Charset": "utf-8", "Name": "mms.txt"}, b"Jonatan \xc3\xa4r en gnu."),
         ("application/smil", {"Charset": "utf-8", "Name": "mms.smil"}, b'<smil><head><layout><root-layout height="240px" width="160px"/>\r\n<region id="Image" top="0" left="0" height="50%" width="100%" fit="hidden"/>\r\n<region id="Text" top="50%" left="0" height="50%" width="100%" fit="hidden"/>\r\n</layout>\r\n</head>\r\n<body><par dur="2000ms"><img src="Rain.wbmp" region="Image"></img>\r\n<text src="mms.txt" region="Text"></text>\r\n</par>\r\n</body>\r\n</smil>\r\n')],
    ),
    "pm-SEC-SGHS300M.mms": (
        SendReq,
        {"sender_visibility": "show", "sender": INSERT_ADDRESS, "read_report": False, "message_class": "personal",
         "transaction_id": "31887", "mms_version": "1.0", "to": ("0738345664/TYPE=PLMN",), "delivery_report": False,
         "subject": "IL"},
        MIXED, {},
        [("text/plain", {"Charset": "utf-8"}, b"HV")],
    ),
}  # fmt: skip
# Headers a class has that test_mms.py's dictionaries would show if present.
SHOWN = ("sender", "transaction_id", "mms_version", "to", "message_class", "priority", "delivery_report",
         "read_report", "sender_visibility", "date", "subject")  # fmt: skip

VECTORS = mms_vectors()
needs_vectors = pytest.mark.skipif(not VECTORS, reason=f"no MMS vectors in {vectors_dir()}")


@needs_vectors
def test_all_sixteen_vectors_are_there() -> None:
    assert len(VECTORS) == 16
    assert set(EXPECTED) <= {path.name for path in VECTORS}


@needs_vectors
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_vector_decodes_to_what_python_messaging_lists(name: str) -> None:
    cls, headers, media_type, params, parts = EXPECTED[name]
    pdu = decode_pdu((vectors_dir() / "mms" / name).read_bytes())
    assert type(pdu) is cls
    for attr in SHOWN:
        if hasattr(pdu, attr):
            empty = () if attr == "to" else None
            assert getattr(pdu, attr) == headers.get(attr, empty), attr
    assert pdu.unknown_headers == () and pdu.application_headers == ()
    ct = pdu.content_type  # type: ignore[attr-defined]
    assert (ct.media_type, ct.params) == (media_type, params)
    decoded = pdu.parts  # type: ignore[attr-defined]
    assert len(decoded) == len(parts)
    for part, (part_type, part_params, data) in zip(decoded, parts, strict=True):
        if part_type is not None:
            assert part.content_type.media_type == part_type
        if part_params is not None:
            assert part.content_type.params == part_params
        if data is not None:
            assert part.data == data


@needs_vectors
@pytest.mark.parametrize("path", VECTORS, ids=lambda p: p.name)
def test_every_vector_decodes_and_survives_reencoding(path: Any) -> None:
    pdu = decode_pdu(path.read_bytes())
    assert pdu.parts  # type: ignore[attr-defined]
    again = decode_pdu(encode_pdu(pdu))
    assert type(again) is type(pdu)
    assert again.parts == pdu.parts or [p.data for p in again.parts] == [p.data for p in pdu.parts]  # type: ignore[attr-defined]
    assert {k.lower(): v for k, v in again.content_type.params.items()} == {  # type: ignore[attr-defined]
        k.lower(): v for k, v in pdu.content_type.params.items()  # type: ignore[attr-defined]
    }


@needs_vectors
def test_gammu_samples_details() -> None:
    hello = decode_pdu((vectors_dir() / "mms" / "gammu-HelloWorld.mms").read_bytes())
    assert isinstance(hello, SendReq)
    assert hello.sender == "+34660785634/TYPE=PLMN"
    assert hello.to == ("John Doe <john.doe@foo.com>",)
    texts = [p for p in hello.parts if p.content_type.media_type == "text/plain"]
    assert [p.content_type.param("charset") for p in texts] == ["iso-10646-ucs-2"] * 2
    assert texts[0].data.decode("utf-16") == "Hello World!"
    assert [p.content_location for p in hello.parts][:2] == ["SmileyFace.gif", "HelloWorld.txt"]
    cup = decode_pdu((vectors_dir() / "mms" / "gammu-worldcupupdate_withsmil.mms").read_bytes())
    assert isinstance(cup, RetrieveConf)
    assert (cup.message_class, cup.priority, cup.to) == ("personal", "low", ("+15555551212",))
    smil = cup.parts[0]
    assert (smil.content_id, smil.content_location) == ("<presentation-part>", "default4.smil")
    assert ("X-Wap-Content-URI", "http://orig.host/default4.smil") in smil.headers
    # a stray application header (name " ", empty value) in the sample is kept, not fatal
    assert cup.application_headers == ((" ", ""),)


def _push_pdu(name: str) -> bytes | None:
    """The m-notification-ind inside a WAP push SMS of ../shared/vectors/at-sms."""
    path = vectors_dir() / "at-sms" / name
    if not path.is_file():
        return None
    line = next(word for word in path.read_text().split() if "8C82" in word.upper())
    data = bytes.fromhex(line)
    return data[data.index(b"\x8c\x82") :]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("33.dump", {"transaction_id": "1277970059", "mms_version": "1.2", "sender": "33707520030/TYPE=PLMN",
                     "subject": "yBO", "message_class": "personal", "message_size": 34,
                     "content_location": "http://mmsc.labmctel.fr:9090/m33"}),
        ("40.dump", {"transaction_id": "81460494@mms1", "mms_version": "1.2", "sender": "+33333493211/TYPE=PLMN",
                     "subject": "", "delivery_report": False, "message_class": "personal", "priority": "normal",
                     "message_size": 96857, "content_location": "http://mts/?id=81460494"}),
    ],
)  # fmt: skip
def test_notifications_from_wap_push_sms(name: str, expected: dict[str, Any]) -> None:
    """Real m-notification-ind PDUs (gammu's tests/at-sms); 33.dump writes its
    From charset as a bare 0x04 (ISO-8859-1) and omits a NUL, which the
    decoder tolerates. python-messaging cannot decode either."""
    from datetime import timedelta

    from msghub.mms import NotificationInd

    data = _push_pdu(name)
    if data is None:
        pytest.skip(f"no {name} in {vectors_dir()}")
    pdu = decode_pdu(data)
    assert isinstance(pdu, NotificationInd)
    assert {key: getattr(pdu, key) for key in expected} == expected
    assert pdu.expiry == (timedelta(seconds=3000) if name == "33.dump" else timedelta(days=3))
    assert decode_pdu(encode_pdu(pdu)) == pdu


@pytest.mark.parametrize("name", ["33.dump", "40.dump"])
def test_the_wap_push_around_a_notification(name: str) -> None:
    from msghub.mms.push import decode_push, encode_push

    path = vectors_dir() / "at-sms" / name
    if not path.is_file():
        pytest.skip(f"no {name} in {vectors_dir()}")
    pdu = bytes.fromhex(next(word for word in path.read_text().split() if "8C82" in word.upper()))
    udh = pdu.index(bytes.fromhex("0605040B8423F0"))  # the UDH: application port 2948 from 9200
    push = decode_push(pdu[udh + 7 :])
    assert push.is_mms and push.application_id == 4  # x-wap-application:mms.ua
    assert push.body == _push_pdu(name)
    assert decode_push(encode_push(push)) == push
