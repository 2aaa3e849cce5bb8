"""`msghub codec ucp decode` / `encode`: JSON out, JSON in, same frame back."""

import json

import pytest

from msghub.connectors.emi import (
    DeliverSM,
    FieldError,
    FrameSyntaxError,
    SubmitSM,
    UcpError,
    UnknownOperationError,
    decode_message,
    encode_message,
)
from msghub.connectors.emi.cli import decode_command, encode_command
from tests.emi.test_codec_vectors import FRAMES, needs_vectors

SUBMIT_ALPHA = (
    "00/00120/O/51/09191234567/08F4F29C0E//1//1/////////////3/88/68656C6C6F20776F726C64"
    "////1////5039//020100060101070101///B7"
)


@needs_vectors
@pytest.mark.parametrize("text", FRAMES)
def test_decode_then_encode_reproduces_every_vector(text: str) -> None:
    described = json.loads(decode_command(text))
    assert (described["trn"], described["type"], described["ot"]) == (
        int(text[:2]),
        text[9],
        text[11:13],
    )
    assert encode_command(json.dumps(described)) == text


def test_decode_shows_fields_and_decoded_values() -> None:
    out = json.loads(decode_command("\x02" + SUBMIT_ALPHA + "\x03\n"))
    assert out["operation"] == "submit short message"
    assert out["fields"]["OAdC"] == "08F4F29C0E"
    assert out["fields"]["AMsg"] == "68656C6C6F20776F726C64"
    assert "Msg" not in out["fields"]
    assert out["decoded"]["text"] == "hello world"
    assert out["decoded"]["sender"] == "test"
    assert out["decoded"]["dcs"] == 0
    assert out["decoded"]["xser"][1] == {"type": "06", "data": "01"}
    assert "problems" not in out


def test_decode_udh_and_results() -> None:
    op = SubmitSM(
        adc="123", nrq="1", nt="3", mt="4", nb="32", msg="F5AA34DE", xser="0106050003070201020104"
    )
    text = encode_message(op).decode()
    out = json.loads(decode_command(text))
    assert out["fields"]["TMsg"] == "F5AA34DE"
    assert out["decoded"]["udh"] == "050003070201"
    assert out["decoded"]["udh_info"]["concat"] == {"ref": 7, "total": 2, "seq": 1}
    assert out["decoded"]["notify"] == ["delivered", "non_delivered"]
    nack = json.loads(decode_command("11/00022/R/30/N/24//08"))
    assert nack["fields"] == {"NACK": "N", "EC": "24", "SM": ""}
    assert nack["decoded"] == {"ec_description": "Message too long", "permanent": True}


def test_undecodable_values_are_listed_as_problems() -> None:
    text = encode_message(DeliverSM(adc="123", scts="310299000000", mt="3", msg="41")).decode()
    out = json.loads(decode_command(text))
    assert out["decoded"]["text"] == "A"
    assert any(problem.startswith("SCTS:") for problem in out["problems"])
    assert encode_command(json.dumps(out)) == text


def test_encode_from_hand_written_json() -> None:
    frame = encode_command(
        json.dumps(
            {"trn": 7, "type": "O", "ot": "51", "fields": {"AdC": "123", "MT": "3", "AMsg": "4869"}}
        )
    )
    op = decode_message(frame)
    assert op.trn == 7 and op.values()["AdC"] == "123" and op.values()["Msg"] == "4869"
    ack = encode_command(json.dumps({"trn": "07", "type": "R", "ot": 51, "fields": {"SM": "x"}}))
    assert ack == "07/00021/R/51/A//x/" + ack[-2:] and decode_message(ack).trn == 7
    nack = encode_command(
        json.dumps({"trn": 1, "type": "R", "ot": "31", "fields": {"NACK": "N", "EC": "06"}})
    )
    assert nack.startswith("01/00022/R/31/N/06//")


@pytest.mark.parametrize(
    ("document", "error"),
    [
        ("not json", FrameSyntaxError),
        ("[]", FrameSyntaxError),
        ('{"trn": 1, "type": "X", "ot": "51"}', FieldError),
        ('{"trn": true, "type": "O", "ot": "51"}', FieldError),
        ('{"trn": 1, "type": "O", "ot": "02"}', UnknownOperationError),
        ('{"trn": 1, "type": "O", "ot": "31", "fields": {"Nope": "1"}}', FieldError),
        ('{"trn": 1, "type": "O", "ot": "31", "fields": {"PID": 539}}', FieldError),
        ('{"trn": 1, "type": "O", "ot": "51", "fields": {"AMsg": "41", "TMsg": "41"}}', FieldError),
        ('{"trn": 1, "type": "O", "ot": "51", "fields": {"MT": "3", "AMsg": "4"}}', FieldError),
        ('{"trn": 1, "type": "R", "ot": "51", "fields": {"ACK": "N"}}', FieldError),
        ('{"trn": 100, "type": "O", "ot": "31"}', FieldError),
        ('{"trn": 1, "type": "O", "ot": "31", "extra_fields": [1]}', FieldError),
    ],
)
def test_encode_errors(document: str, error: type[UcpError]) -> None:
    with pytest.raises(error):
        encode_command(document)


def test_decode_errors_are_ucp_errors() -> None:
    with pytest.raises(UcpError):
        decode_command("00/00019/R/60/A//6E")
