"""`msghub codec pdu decode HEX` / `msghub codec pdu encode` and their JSON."""

import io
import json

import pytest
from hypothesis import given

from msghub.app.cli import main
from msghub.sms.pdu import Message, PduError, decode, encode
from msghub.sms.pdu.jsonform import from_json, to_json

from . import pdu_strategies as ps
from .helpers import PROPERTY

# python-messaging's documentation example, an SMS-DELIVER.
DELIVER = "07911326040000F0040B911346610089F60000208062917314000CC8F71D14969741F977FD07"
REPORT = "07912658050000F006010D91265817373754F501010161705382010101617083820000"
SUBMIT = '{"type": "SMS-SUBMIT", "recipient": "+1", "user_data": "x"'


def run(capsys: pytest.CaptureFixture[str], *argv: str, stdin: str = "") -> tuple[int, str, str]:
    import sys

    old = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        code = main(list(argv))
    finally:
        sys.stdin = old
    out = capsys.readouterr()
    return code, out.out, out.err


def test_decode_prints_json(capsys: pytest.CaptureFixture[str]):
    code, out, _ = run(capsys, "codec", "pdu", "decode", DELIVER)
    assert code == 0
    data = json.loads(out)
    assert data["type"] == "SMS-DELIVER"
    assert data["sender"] == {"number": "+31641600986", "ton": 1, "npi": 1}
    assert data["user_data"] == "How are you?"
    assert data["scts"] == "2002-08-26T19:37:41+00:00"
    assert data["smsc"]["number"] == "+31624000000"


def test_decode_then_encode_gives_the_pdu_back(capsys: pytest.CaptureFixture[str]):
    _, decoded, _ = run(capsys, "codec", "pdu", "decode", DELIVER)
    code, out, _ = run(capsys, "codec", "pdu", "encode", stdin=decoded)
    assert code == 0
    assert json.loads(out) == {"pdu": DELIVER, "length": 30}


def test_status_report_shows_its_outcome(capsys: pytest.CaptureFixture[str]):
    _, out, _ = run(capsys, "codec", "pdu", "decode", REPORT, "--direction", "sc_to_ms")
    data = json.loads(out)
    assert (data["type"], data["mr"], data["status"], data["outcome"], data["reason"]) == (
        "SMS-STATUS-REPORT", 1, 0, "delivered", "received",
    )


def test_direction_and_smsc_options(capsys: pytest.CaptureFixture[str]):
    hex_pdu, _ = encode(from_json({"type": "SMS-SUBMIT-REPORT", "scts": "2026-12-01T09:00:00+01:00"}), with_smsc=False)
    _, out, _ = run(capsys, "codec", "pdu", "decode", hex_pdu, "--direction", "sc_to_ms", "--no-smsc")
    assert json.loads(out)["type"] == "SMS-SUBMIT-REPORT"
    for direction in ("stored", "ms_to_sc"):  # MTI 1 is a SUBMIT there, and this is none
        code, _, err = run(capsys, "codec", "pdu", "decode", hex_pdu, "--no-smsc", "--direction", direction)
        assert code != 0 and "destination address at octet 2" in err
    code, _, err = run(capsys, "codec", "pdu", "decode", hex_pdu)
    assert code != 0 and "SMSC address at octet 1" in err


def test_encode_takes_a_short_hand_message(capsys: pytest.CaptureFixture[str]):
    message = {
        "type": "SMS-SUBMIT", "recipient": "+447911123456", "user_data": "hi", "srr": True, "mr": 3,
        "validity": {"relative_s": 86400}, "udh": [{"iei": 0, "data": "2A0201"}],
    }
    code, out, _ = run(capsys, "codec", "pdu", "encode", stdin=json.dumps(message))
    assert code == 0
    result = json.loads(out)
    msg = decode(result["pdu"], direction="ms_to_sc")
    assert to_json(msg)["concat"] == {"ref": 0x2A, "total": 2, "seq": 1}
    assert result["length"] == len(result["pdu"]) // 2 - 1
    _, no_smsc, _ = run(capsys, "codec", "pdu", "encode", "--no-smsc", stdin=json.dumps(message))
    assert json.loads(no_smsc)["pdu"] == result["pdu"][2:]


@pytest.mark.parametrize(
    ("argv", "stdin", "message"),
    [
        (["decode", "00FF"], "", "message type indicator 3 is reserved"),
        (["decode", "zz"], "", "'z' at character 0"),
        (["encode"], "not json", "standard input is not JSON"),
        (["encode"], "[]", "JSON object with a 'type'"),
        (["encode"], '{"type": "SMS-FOO"}', "'type' must be one of"),
        (["encode"], SUBMIT + ', "colour": 1}', "unknown keys"),
        (["encode"], SUBMIT + ', "mr": "7"}', "'mr' must be an integer"),
        (["encode"], SUBMIT + ', "srr": 1}', "'srr' must be true or false"),
        (["encode"], '{"type": "SMS-SUBMIT", "user_data": "x"}', "SMS-SUBMIT: "),
        (["encode"], '{"type": "SMS-DELIVER", "sender": "+1", "user_data": "", "scts": "2026-01-01"}', "no time zone"),
        (["encode"], SUBMIT + ', "mr": 300}', "message reference 300"),
        (["encode"], SUBMIT + ', "validity": 5}', "'validity' must be"),
    ],
)
def test_errors_are_one_line(capsys: pytest.CaptureFixture[str], argv: list[str], stdin: str, message: str):
    code, out, err = run(capsys, "codec", "pdu", *argv, stdin=stdin)
    assert code != 0 and out == ""
    assert err.startswith("msghub: ") and message in err and err.count("\n") == 1


def test_from_json_errors_are_pdu_errors():
    with pytest.raises(PduError, match="'udh' element"):
        from_json({"type": "SMS-SUBMIT", "recipient": "+1", "user_data": "x", "udh": [1]})
    with pytest.raises(PduError, match="'user_data' must be hex"):
        from_json({"type": "SMS-SUBMIT", "recipient": "+1", "user_data": "zz", "alphabet": "8bit"})


@PROPERTY
@given(ps.submits | ps.delivers | ps.status_reports | ps.submit_reports | ps.deliver_reports | ps.commands)
def test_json_round_trip(msg: Message):
    assert from_json(json.loads(json.dumps(to_json(msg)))) == msg
