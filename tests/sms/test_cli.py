"""`msghub codec sms split` output (human and JSON)."""

import json

import pytest

from msghub.sms.cli import split_command
from msghub.sms.errors import SmsEncodingError
from msghub.sms.gsm7 import decode_gsm7


def test_human_output_lists_parts_with_udh() -> None:
    out = split_command("a" * 161, transliterate=False, as_json=False).splitlines()
    assert out[0] == "encoding: gsm7"
    assert out[1] == "segments: 2"
    assert out[2] == "units: 161 septets (145 left in the last part)"
    assert out[3] == "transliterated: no"
    assert out[4] == "part 1/2  udh 050003000201  153 septets"
    assert out[5] == '  "' + "a" * 153 + '"'
    assert out[6] == "part 2/2  udh 050003000202  8 septets"
    assert len(out) == 8


def test_human_output_single_part_and_escaped_text() -> None:
    out = split_command("line1\nline2 😀", transliterate=False, as_json=False)
    assert "encoding: ucs2" in out
    assert "part 1/1  udh -  14 UCS-2 units" in out
    assert '"line1\\nline2 😀"' in out


def test_human_output_shows_transliterated_text() -> None:
    out = split_command("Zażółć", transliterate=True, as_json=False)
    assert "transliterated: yes" in out
    assert 'text sent: "Zazolc"' in out


def test_json_output() -> None:
    data = json.loads(split_command("x" * 150 + "{}" * 5, transliterate=False, as_json=True))
    assert data["encoding"] == "gsm7"
    assert data["segments"] == 2
    assert data["units"] == 170  # braces cost two septets each
    assert [p["units"] for p in data["parts"]] == [152, 18]  # no cut escape
    assert data["per_part"] == 153
    assert data["remaining"] == 153 - data["parts"][1]["units"]
    assert [p["udh"] for p in data["parts"]] == ["050003000201", "050003000202"]
    assert "".join(p["text"] for p in data["parts"]) == data["text"]
    septets = bytes.fromhex(data["parts"][0]["user_data"])
    assert decode_gsm7(septets) == data["parts"][0]["text"]


def test_json_with_transliteration() -> None:
    data = json.loads(split_command("\u201cok\u201d", transliterate=True, as_json=True))
    assert data["transliterated"] is True
    assert data["text"] == '"ok"'


def test_too_long_raises_a_codec_error() -> None:
    with pytest.raises(SmsEncodingError, match="256 parts"):
        split_command("a" * (153 * 255 + 1), transliterate=False, as_json=False)
