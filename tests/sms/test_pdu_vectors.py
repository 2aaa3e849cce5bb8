"""Real AT+CMGR captures (../shared/vectors/at-sms, at-sms-failing; from
gammu's tests/at-sms*/): every good one decodes to the values below, which
agree with python-gammu's DecodePDU of the same PDU except where gammu is
wrong or reads a reserved DCS bit differently (listed in GAMMU_DIFFERS);
every bad one is refused with a PduError saying what is wrong and where.

Gammu's own expectations (tests/CMakeLists.txt) are "parses" for each good
capture, and for 40 the MMS notification's sender +33333493211/TYPE=PLMN,
location http://mts/?id=81460494 and size 96857 (checked in the WAP push
payload below). The vectors README counts 37 good captures; the folder and
gammu's tests/at-sms hold 36.
"""

import os
from datetime import datetime
from pathlib import Path
from typing import Any

import gammu
import pytest

from msghub.sms.pdu import PduError, SmsDeliver, SmsStatusReport, SmsSubmit, decode


def vectors_dir() -> Path:
    default = Path(__file__).resolve().parents[2] / ".." / "shared" / "vectors"
    return Path(os.environ.get("MSGHUB_VECTORS", default))


def captures(folder: str) -> dict[str, str]:
    """name -> the PDU line after +CMGR: (a trailing quote some devices add is dropped)."""
    out = {}
    path = vectors_dir() / folder
    for dump in sorted(path.glob("*.dump")) if path.is_dir() else []:
        lines = dump.read_text("latin-1").splitlines()
        at = next(i for i, line in enumerate(lines) if line.startswith("+CMGR:"))
        out[dump.stem] = lines[at + 1].strip().strip('"')
    return out


GOOD = captures("at-sms")
BAD = captures("at-sms-failing")
needs_vectors = pytest.mark.skipif(not GOOD, reason="../shared/vectors/at-sms is absent")

# name: (type, number, alphabet, class, scts, text (first 40 characters) or 8-bit length, extra fields)
EXPECTED: dict[str, tuple[str, str, str | None, int | None, str | None, str | int | None, dict[str, Any]]] = {
    "02": ("submit", "+639193770523", "gsm7", None, None, "May salary na ba?", {"mr": 122}),
    "03": ("deliver", "+919884280026", "gsm7", None, "2007-05-03T07:04:40+05:30", "Ok sir", {}),
    "04": ("deliver", "O2_", "gsm7", None, "2006-11-19T08:26:34+00:00", "O2: You now have your Text Anytime 300 U", {}),
    "05": ("submit", "3200", "gsm7", None, None, "Pontos", {"mr": 79}),
    "06": (
        "deliver", "5036710", "gsm7", None, "2007-07-09T10:54:00+00:00",
        "For your ease to browse content after ha", {},
    ),
    "07": ("deliver", "+358456709855", "gsm7", None, "2006-09-06T18:46:31+02:00", "Test", {}),
    "08": ("deliver", "+32478746863", "gsm7", None, "2002-01-07T21:08:33+01:00", "TEST -@@-", {}),
    "09": ("deliver", "27838890001", "gsm7", None, "1999-03-29T15:16:59+02:00", "hellohello", {}),
    "10": ("deliver", "+32478746863", "gsm7", None, "2002-01-30T20:54:05+01:00", "Tèätrc @ £.", {}),
    "11": (
        "deliver", "+32478746863", "gsm7", None, "2002-01-30T21:02:23+01:00",
        "T:Philipa@joshua.heron.net s:test mail.#", {},
    ),
    "12": ("deliver", "+622291320408", "gsm7", None, "2007-10-19T12:28:35+07:00", "aa cakep deh", {}),
    # DCS 0xF9: group 1111 with reserved bit 3 set; bit 2 clear says GSM 7-bit (the device meant UCS-2).
    "14": ("submit", "+79168024812", "gsm7", 1, None, "èDΔ(C Δ$B@@£¡\n¡2@f", {"mr": 0, "notes": 1}),
    "15": ("submit", "+79168024812", "gsm7", 1, None, "Test", {"mr": 0, "srr": True}),
    "16": ("submit", "1234", "ucs2", None, None, "123456", {"mr": 0}),
    "19": ("submit", "066460353302", "gsm7", 1, None, "Sample Gammu message", {"mr": 0, "udh": b"\x00"}),
    "20": ("submit", "366460353302", "gsm7", None, None, "", {"mr": 176, "notes": 1}),
    "21": ("deliver", "+380972566788", "gsm7", None, "2007-11-29T09:28:58+02:00", "3", {}),
    "22": (
        "deliver", "+420724797276", "gsm7", None, "2007-01-07T13:01:47+01:00",
        "Ahoj pavle, tak me vcera nikdo neokradl,", {"concat": (1, 2, 1)},
    ),
    "23": ("deliver", "+447970011182", "gsm7", None, "2008-01-01T01:14:42+00:00", "", {}),
    "24": ("submit", "3381449402", "gsm7", None, None, "inserisci qui il messaggio....", {"mr": 0, "smsc": ""}),
    "26": ("deliver", "+351916165705", "8bit", 1, "2004-02-13T10:46:54+00:00", 0, {"iei": [0x12]}),
    "27": (
        "deliver", "+351965853713", "gsm7", None, "2008-12-26T16:40:27+00:00",
        "Espero que tenhas tido um Natal em grand", {},
    ),
    "28": ("submit", "+14168777438", "gsm7", 1, None, "nu-i nimic. Numai incerc sa vad de prime", {"mr": 0}),
    "29": ("submit", "0630561651", "gsm7", 1, None, "mon texte d'essai", {"mr": 0}),
    "30": ("report", "+666666666666", None, None, "2009-09-07T16:48:22+02:00", None, {"status": 0, "mr": 232}),
    "31": ("submit", "", "gsm7", None, None, "15:41 22/08/08       szczesliwy. ", {"mr": 0}),
    "32": ("report", "604865888", None, None, "2009-07-08T15:37:57+02:00", None, {"status": 0, "mr": 171, "notes": 1}),
    "33": ("deliver", "33707520030", "8bit", None, "2010-07-01T09:40:21+02:00", 99, {"ports": (2948, 9200)}),
    "34": ("report", "+61439012244", "gsm7", None, "2010-09-17T10:01:00+10:00", "", {"status": 0, "mr": 6}),
    "36": ("report", "+6285717373455", None, None, "2010-10-10T16:07:35+07:00", None, {"status": 0, "mr": 1}),
    "37": (
        "deliver", "+447732482432", "gsm7", None, "2010-10-08T20:19:28+01:00",
        "Helen's parents are down tomorrow. Not s", {},
    ),
    "38": ("report", "602396602", None, None, "2012-02-14T10:55:45+01:00", None, {"status": 0, "mr": 180}),
    # The UDL says 53 septets; 88 follow (the device stored a wrong length). Like gammu, the UDL wins.
    "39": (
        "deliver", "9494", "gsm7", None, "2012-08-07T10:52:03+01:00",
        "llamada perdida de: +34617653167 on 07/0", {"notes": 1},
    ),
    "40": ("deliver", "+11476124010", "8bit", 1, "2017-03-29T09:43:26+02:00", 127, {"ports": (2948, 9200)}),
    # UDL 93 septets, two octets missing: decoded as far as it goes, as gammu does.
    "41": (
        "submit", "77777777777", "gsm7", None, None,
        "MBOXUPDATE?m=15;server=natashenka.party;", {"mr": 0, "ports": (5496, 0), "notes": 1},
    ),
    # DCS 0xFB: group 1111, reserved bit 3 set, GSM 7-bit class 3: the text reads right.
    "42": ("deliver", "+94774705017", "gsm7", 3, "2019-08-05T08:09:35+05:30", "1917812300     22:30   RATTHI", {}),
}

# Captures where python-gammu's DecodePDU disagrees, and why we do not follow it.
GAMMU_DIFFERS = {
    "04": "gammu leaves the septet 0x11 of the alphanumeric sender unmapped; GSM 03.38 says '_'",
    "09": "gammu maps year 99 to 2089 (1990 + 99); TS 23.040 two-digit years: 1999",
    "14": "gammu reads the reserved bit 3 of DCS 0xF9 as 8-bit; TS 23.038: bit 2 clear is GSM 7-bit",
    "20": "gammu's DecodePDU refuses a UDHI with no user data; its AT engine (tests/at-sms/20) accepts it",
    "42": "gammu reads the reserved bit 3 of DCS 0xFB as 8-bit; TS 23.038: bit 2 clear is GSM 7-bit",
}

# name: what the error must say (gammu's tests only require that parsing fails).
REJECTED = {
    "01": "destination address at octet 10: length 129 exceeds 20 semi-octets",
    "13": "PDU hex has '=' at character 14",
    "17": "PDU hex has 'p' at character 4",
    "18": "SMSC address at octet 0: length 12 exceeds 11 octets",
    "25": "first octet 0xFF at octet 12: message type indicator 3 is reserved",
    "33": "first octet 0xFF at octet 1: message type indicator 3 is reserved",
    "35": "DCS 0x39 at octet 18: compressed user data",
    "38": "SMSC address at octet 0: length 196 exceeds 11 octets",
    "39": "SMSC address at octet 0: length 145 exceeds 11 octets",
    "40": "SMSC address at octet 1: type-of-address 0x06 lacks its always-set bit 7",
}

TYPES = {"submit": SmsSubmit, "deliver": SmsDeliver, "report": SmsStatusReport}


@needs_vectors
def test_every_capture_is_listed():
    assert sorted(GOOD) == sorted(EXPECTED)
    assert sorted(BAD) == sorted(REJECTED)


@needs_vectors
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_capture_decodes_to_the_expected_values(name: str):
    kind, number, alphabet, klass, scts, text, extra = EXPECTED[name]
    msg = decode(GOOD[name], direction="stored")
    assert isinstance(msg, TYPES[kind])
    if isinstance(msg, SmsDeliver):
        assert msg.sender.number == number
        assert msg.scts == datetime.fromisoformat(scts or "")
        assert msg.scts.utcoffset() == datetime.fromisoformat(scts or "").utcoffset()
    else:
        assert msg.recipient.number == number
    if isinstance(msg, SmsStatusReport):
        assert msg.scts == datetime.fromisoformat(scts or "")
        assert (msg.status, msg.outcome) == (extra["status"], "delivered")
        assert msg.alphabet == alphabet
    else:
        assert (msg.alphabet, msg.message_class) == (alphabet, klass)
    data = msg.user_data
    if isinstance(text, int):
        assert isinstance(data, bytes) and len(data) == text
    else:
        assert data is None if text is None else isinstance(data, str) and data[:40] == text
    if "mr" in extra:
        assert isinstance(msg, SmsSubmit | SmsStatusReport) and msg.mr == extra["mr"]
    if "srr" in extra:
        assert isinstance(msg, SmsSubmit) and msg.srr is extra["srr"]
    if "smsc" in extra:
        assert msg.smsc is not None and msg.smsc.number == extra["smsc"]
    udh = getattr(msg, "udh", None)
    if "concat" in extra or "ports" in extra or "iei" in extra or "udh" in extra:
        assert udh is not None
        assert udh.concat == extra.get("concat")
        assert udh.ports == extra.get("ports")
        if "iei" in extra:
            assert [iei for iei, _ in udh.elements] == extra["iei"]
        if "udh" in extra:
            assert udh.to_bytes() == extra["udh"]
    else:
        assert udh is None
    assert len(msg.notes) == extra.get("notes", 0)


@needs_vectors
def test_the_mms_notification_gammu_checks():
    msg = decode(GOOD["40"], direction="stored")
    assert isinstance(msg, SmsDeliver) and isinstance(msg.user_data, bytes)
    wsp = msg.user_data
    assert b"application/vnd.wap.mms-message" in wsp
    assert b"\x89\x18\x80+33333493211/TYPE=PLMN\x00" in wsp  # X-Mms-From (address-present token)
    assert b"\x83http://mts/?id=81460494\x00" in wsp  # X-Mms-Content-Location
    assert b"\x8e\x03\x01\x7a\x59" in wsp  # X-Mms-Message-Size: 0x017A59 = 96857


def _gammu_view(msg: Any) -> dict[str, Any]:
    if isinstance(msg, SmsStatusReport):
        return {"Type": "Status_Report", "Number": msg.recipient.number, "MessageReference": msg.mr,
                "DateTime": msg.scts, "SMSCDateTime": msg.discharge, "DeliveryStatus": msg.status}
    codings = {"gsm7": "Default_No_Compression", "ucs2": "Unicode_No_Compression", "8bit": "8bit"}
    view = {
        "Number": (msg.sender if isinstance(msg, SmsDeliver) else msg.recipient).number,
        "Coding": codings[msg.alphabet],
        "Class": -1 if msg.message_class is None else msg.message_class,
        "Text": msg.user_data,
        "UDH": msg.udh.to_bytes() if msg.udh else b"",
    }
    if isinstance(msg, SmsDeliver):
        view |= {"Type": "Deliver", "DateTime": msg.scts}
    else:
        view |= {"Type": "Submit", "MessageReference": msg.mr, "RejectDuplicates": int(msg.reject_duplicates)}
    return view


@needs_vectors
@pytest.mark.parametrize("name", sorted(set(EXPECTED) - set(GAMMU_DIFFERS)))
def test_capture_agrees_with_python_gammu(name: str):
    msg = decode(GOOD[name], direction="stored")
    theirs = gammu.DecodePDU(bytes.fromhex(GOOD[name]), True)
    mine = _gammu_view(msg)
    if "UDH" in mine:
        theirs["UDH"] = theirs["UDH"]["Text"]
    assert {k: theirs[k] for k in mine} == mine
    assert (msg.smsc.number if msg.smsc else "") == theirs["SMSC"]["Number"]


@needs_vectors
@pytest.mark.parametrize("name", sorted(GAMMU_DIFFERS))
def test_gammu_differs_as_documented(name: str):
    msg = decode(GOOD[name], direction="stored")
    try:
        theirs = gammu.DecodePDU(bytes.fromhex(GOOD[name]), True)
    except gammu.GSMError:
        assert name == "20"
        return
    mine = _gammu_view(msg)
    theirs["UDH"] = theirs["UDH"]["Text"]
    assert {k: theirs[k] for k in mine} != mine


@needs_vectors
@pytest.mark.parametrize("name", sorted(REJECTED))
def test_bad_capture_is_rejected_clearly(name: str):
    with pytest.raises(PduError) as caught:
        decode(BAD[name], direction="stored")
    assert REJECTED[name] in str(caught.value)
    for direction in ("sc_to_ms", "ms_to_sc"):
        with pytest.raises(PduError):
            decode(BAD[name], direction=direction)
