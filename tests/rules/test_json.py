"""JSON in and out, and how script errors are reported."""

from __future__ import annotations

import math

import pytest

from msghub.rules.engine import decode_result
from msghub.rules.sandbox import Limits, RuleMemoryError, RuleScriptError
from tests.rules.conftest import PRELUDE_LINES, PoolDriver, run, value

ECHO = "log(input)"

UNICODE = {
    "latin": "Grüße, ça va? ñ",
    "emoji": "👍🏽 🇩🇪 👨‍👩‍👧",
    "cjk": "投票 テスト 한국어",
    "rtl": "مرحبا שלום",
    "combining": "e\u0301 a\u0308",
    "control": "nul\u0000tab\tnew\nline\u2028sep",
    "lone surrogate": "a\ud800b",
}


def test_unicode_round_trips() -> None:
    assert run(ECHO, UNICODE)["actions"][0]["value"] == UNICODE


def test_unicode_reaches_js_as_the_same_characters() -> None:
    # Lengths in UTF-16 code units, as JS counts them.
    found = value("Object.values(input).map(s => s.length)", input={"a": "👍", "b": "é", "c": "ß"})
    assert found == [2, 1, 1]


def test_nested_structures_round_trip() -> None:
    data: dict[str, object] = {
        "list": [1, 2.5, -3, True, False, None, "x", [], {}],
        "deep": {"a": {"b": {"c": [{"d": [1, [2, [3]]]}]}}},
        "numbers": [0, 2**53, 1e-300, 1.5e300],
    }
    assert run(ECHO, data)["actions"][0]["value"] == data


def test_large_but_allowed_payload() -> None:
    body = "é" * 1_000_000  # ~2 MB in JS, well inside 16 MB
    rows = [{"id": i, "text": f"message {i}"} for i in range(20_000)]
    result = run("log(input.body.length); log(input.rows.length); reply(input.body)",
                 {"body": body, "rows": rows})  # fmt: skip
    assert [a.get("value") for a in result["actions"][:2]] == [1_000_000, 20_000]
    assert result["actions"][2]["text"] == body


def test_payload_over_the_memory_limit_is_a_memory_error() -> None:
    with pytest.raises(RuleMemoryError) as caught:
        run(ECHO, {"body": "x" * 3_000_000}, Limits(memory_bytes=2 * 1024 * 1024))
    assert caught.value.phase == "input"


@pytest.mark.parametrize(
    ("bad", "fragment"),
    [({"s": {1, 2}}, "not JSON serializable"), ({"f": math.nan}, "Out of range float")],
)
def test_input_that_is_not_json_is_refused(bad: dict[str, object], fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        run(ECHO, bad)


# --- results that are not JSON objects -----------------------------------------


@pytest.mark.parametrize(
    ("source", "finish", "fragment"),
    [
        ("log(10n)", None, "BigInt are forbidden in JSON.stringify"),
        ("var o = {}; o.self = o; log(o)", None, "circular reference"),
        ("", "undefined", "gave undefined, not a JSON string"),
        ("", "({a: 1})", "gave object, not a JSON string"),
        ("", "JSON.stringify([1, 2])", "must be a JSON object, not an array"),
        ("", "'null'", "must be a JSON object, not null"),
        ("", "'{oops'", "not valid JSON"),
        ("", "JSON.stringify({a: 1}) + ' trailing'", "not valid JSON"),
        ("JSON.stringify = () => 42", None, "gave number, not a JSON string"),
    ],
)
def test_result_that_is_not_a_json_object_is_a_clear_error(source: str, finish: str | None, fragment: str) -> None:
    kwargs = {"finish": finish} if finish else {}
    with pytest.raises(RuleScriptError, match=fragment) as caught:
        run(source, **kwargs)  # type: ignore[arg-type]
    assert caught.value.phase == "finish"
    assert str(caught.value).startswith("rule result")


def test_values_json_cannot_hold_are_dropped_as_json_stringify_does() -> None:
    found = run("log({f: function () {}, u: undefined, s: Symbol('x'), n: NaN, d: new Date(0)})")
    assert found["actions"][0]["value"] == {"n": None, "d": "1970-01-01T00:00:00.000Z"}


def test_result_nested_deeper_than_python_reads_is_an_error() -> None:
    source = "var a = []; for (var i = 0; i < 5000; i++) a = [a]; log(a)"
    with pytest.raises(RuleScriptError, match="nested too deeply"):
        run(source, limits=Limits(stack_bytes=4 * 1024 * 1024))


def test_decode_result_accepts_only_objects() -> None:
    assert decode_result('{"a": [1]}') == {"a": [1]}
    with pytest.raises(RuleScriptError):
        decode_result("[]")


def test_finish_sees_let_and_const_of_the_prelude_and_the_rule() -> None:
    found = run(
        "const total = 41; class Box { constructor(v) { this.v = v } }",
        prelude="let __state = {count: 1};",
        finish="JSON.stringify({n: total + __state.count, box: new Box(2)})",
    )
    assert found == {"n": 42, "box": {"v": 2}}


def test_async_rules_finish_before_the_result_is_taken() -> None:
    source = """
    async function later(text) { await null; await null; return text }
    later('from a promise').then(reply)
    queueMicrotask(() => reply('from a microtask'))"""
    texts = [a["text"] for a in run(source)["actions"]]
    assert sorted(texts) == ["from a microtask", "from a promise"]


# --- script errors: message, line, column, phase ----------------------------------


def test_thrown_error_reports_message_and_line() -> None:
    with pytest.raises(RuleScriptError) as caught:
        run("reply('one')\nvar x = input.missing.field")
    error = caught.value
    assert (error.phase, error.line, error.column) == ("rule", 2, 9)
    assert error.detail == "TypeError: cannot read property 'field' of undefined"
    assert str(error) == ("rule failed at line 2, column 9: TypeError: cannot read property 'field' of undefined")


def test_syntax_error_reports_line() -> None:
    with pytest.raises(RuleScriptError, match="SyntaxError") as caught:
        run("reply('ok')\n\nif (true {")
    assert caught.value.line == 3


def test_error_inside_an_api_function_points_at_the_rules_call() -> None:
    with pytest.raises(RuleScriptError) as caught:
        run("\n\n  reply(42)")
    assert caught.value.detail == "TypeError: reply() needs a string"
    assert (caught.value.phase, caught.value.line, caught.value.column) == ("rule", 3, 3)


def test_error_in_the_prelude_is_reported_as_the_preludes() -> None:
    with pytest.raises(RuleScriptError) as caught:
        run("reply('never')", prelude="var ok = 1;\nundefinedThing();")
    assert (caught.value.phase, caught.value.line) == ("prelude", 2)
    assert "in the prelude at line 2" in str(caught.value)


def test_syntax_error_in_the_finish_is_reported_as_the_finishs() -> None:
    with pytest.raises(RuleScriptError, match="SyntaxError") as caught:
        run("reply('x')", finish="JSON.stringify(")
    assert caught.value.phase == "finish"


def test_error_thrown_from_a_microtask_is_reported() -> None:
    with pytest.raises(RuleScriptError) as caught:
        run("queueMicrotask(() => {\n  throw new RangeError('late')\n})")
    assert (caught.value.detail, caught.value.line) == ("RangeError: late", 2)


@pytest.mark.parametrize(
    ("source", "detail"),
    [
        ("throw 'plain text'", "uncaught exception: plain text"),
        ("throw 42", "uncaught exception: 42"),
        ("throw {code: 7}", "uncaught exception: [object Object]"),
        ("throw Symbol('s')", "uncaught exception: Symbol(s)"),
        ("class E extends Error {}; throw new E('custom')", "Error: custom"),
        ("throw {toString() { throw 'again' }}", "uncaught exception: (unprintable)"),
        ("var e = new Error('x'); Object.defineProperty(e, 'message', {get() { throw 1 }});"
         " throw e", "uncaught exception (unprintable)"),
    ],
)  # fmt: skip
def test_any_thrown_value_is_described(source: str, detail: str) -> None:
    with pytest.raises(RuleScriptError) as caught:
        run(source)
    assert caught.value.detail == detail


def test_long_messages_are_cut() -> None:
    with pytest.raises(RuleScriptError) as caught:
        run("throw new Error('x'.repeat(100000))")
    assert 1000 < len(caught.value.detail) < 1100


def test_source_with_a_nul_character_is_refused() -> None:
    # The binding passes code as a C string: it would be silently cut short.
    with pytest.raises(RuleScriptError, match="NUL"):
        run("reply('a')\x00reply('b')")


def test_prelude_line_count_matches_the_helper() -> None:
    # The rule's line 1 is the line after the prelude, whatever its length.
    with pytest.raises(RuleScriptError) as caught:
        run("null.x")
    assert caught.value.line == 1
    assert PRELUDE_LINES > 1


def test_pool_returns_what_run_once_returns(pool: PoolDriver) -> None:
    source = "reply('hi ' + input.who); log(input)"
    data = {"who": "Zoë", **UNICODE}
    assert pool.run(source, data) == run(source, data)


def test_pool_reports_script_errors_like_run_once(pool: PoolDriver) -> None:
    with pytest.raises(RuleScriptError) as in_pool:
        pool.run("reply('one')\nvar x = input.missing.field")
    with pytest.raises(RuleScriptError) as here:
        run("reply('one')\nvar x = input.missing.field")
    for attr in ("args", "detail", "phase", "line", "column"):
        assert getattr(in_pool.value, attr) == getattr(here.value, attr)
