"""The compose page's counter (static/sms.js) against msghub.sms, run in
QuickJS with the same inputs."""

from __future__ import annotations

import json
from pathlib import Path

import quickjs
from hypothesis import given, settings
from hypothesis import strategies as st

from msghub.sms.split import cost
from msghub.sms.transliterate import _TABLE, transliterate

SMS_JS = Path(__file__).resolve().parents[2] / "msghub" / "web" / "static" / "sms.js"

_ctx = quickjs.Context()
_ctx.eval(SMS_JS.read_text(encoding="utf-8"))


def js_cost(text: str, translit: bool) -> dict[str, object]:
    result = _ctx.eval(f"JSON.stringify(msghubSms.cost({json.dumps(text)}, {json.dumps(translit)}))")
    return dict(json.loads(result))


def js_transliterate(text: str) -> str:
    return str(json.loads(_ctx.eval(f"JSON.stringify(msghubSms.transliterate({json.dumps(text)}))")))


# characters whose transliteration both sides agree on by construction:
# GSM, the explicit table, accented Latin and Greek
_TRANSLIT_ALPHABET = st.sampled_from(
    "@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0129:;<=>?¡AZÄÖÑÜ§¿azäöñüà\n^{}\\[~]|€"
    "áâãçêëíîïóôõúûýÿāăąćčďēęěğīįľńňōőœřśşšťūůűźżžÁÂÃÊËÍÎÓÔÚÛÝĀĄĆČĎĘĚŁŃŇŐŘŚŠŤŮŰŹŻŽ"
    "αβγδεζηθικλμνξοπρστυφχψωάέήίόύώ"
    "\u2018\u2019\u201c\u201d\u2013\u2014\u2026\u00a0\u200b\u00bd\ufb01\uff21\U0001f600\u4e2d" + "".join(_TABLE)
)


def test_cost_examples_match():
    for text, translit in [
        ("", False),
        ("hello", False),
        ("a" * 160, False),
        ("a" * 161, False),
        ("€" * 80, False),
        ("€" * 81, False),
        ("é" * 70, False),
        ("ą" * 71, False),
        ("😀" * 35, False),
        ("😀" * 36, False),
        ("Zażółć gęślą jaźń", True),
        ("“quoted” …", True),
        ("\ud83d", False),
    ]:
        assert js_cost(text, translit) == cost(text, translit), (text, translit)
    assert js_cost("a" * 161, False)["segments"] == 2


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_cost_matches_python_for_any_text(text):
    assert js_cost(text, False) == cost(text, False)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=_TRANSLIT_ALPHABET, max_size=300))
def test_transliteration_matches_python(text):
    assert js_transliterate(text) == transliterate(text)
    assert js_cost(text, True) == cost(text, True)


def test_table_is_the_same_table():
    table = json.loads(_ctx.eval("JSON.stringify(msghubSms.TABLE)"))
    assert table == _TABLE
