"""Rule tests: the example rules' tests pass through `msghub rules test`,
a wrong expectation fails with a precise report, and nothing is written."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest

from msghub.app.cli import main
from msghub.rules.pool import SandboxPool
from msghub.rules.testing import RuleTestFormatError, check_test, run_test

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "rules"


@pytest.fixture
def cli(db_url, monkeypatch, capsys):
    monkeypatch.setenv("MSGHUB_DATABASE_URL", db_url)

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err
    return run


def _run(source: str, test: dict) -> object:
    async def go():
        async with SandboxPool(1) as sandbox:
            return await run_test(sandbox, {"id": 1, "name": "t", "source": source}, test)
    return asyncio.run(go())


def test_example_rules_pass_their_tests_from_the_cli(cli, db):
    code, out, err = cli("rules", "load", str(EXAMPLES))
    assert code == 0, err
    assert "loaded 3 rule(s)" in out
    code, out, err = cli("rules", "test")
    assert code == 0, out
    assert out.strip().endswith("9 passed, 0 failed")
    stored = db.execute("SELECT count(*) AS n FROM hub.rule_tests WHERE (last_result ->> 'passed')::boolean").fetchone()
    assert stored["n"] == 9
    # a rule test writes nothing and sends nothing
    for table in ("messages", "outbox", "contacts", "http_requests", "rule_state", "folders"):
        assert db.execute(f"SELECT count(*) AS n FROM hub.{table}").fetchone()["n"] == 0, table


def test_a_wrong_expectation_fails_with_exit_1_and_says_what_differs(cli, tmp_path):
    (tmp_path / "greet.js").write_text("reply('Hello ' + message.sender)")
    (tmp_path / "greet.tests.json").write_text(json.dumps([{
        "name": "greets", "event": {"type": "message_received", "message": {"sender": "+447700900001"}},
        "expected": {"replies": [{"text": "Hi +447700900001"}], "folder": "Greeted"}}]))
    assert cli("rules", "load", str(tmp_path))[0] == 0
    code, out, _ = cli("rules", "test", "greet")
    assert code == 1
    assert "FAIL greet: greets" in out
    assert "replies[0].text: expected 'Hi +447700900001', got 'Hello +447700900001'" in out
    assert "folder: expected 'Greeted', got None" in out


def test_unknown_rule_is_a_clear_error(cli):
    code, _, err = cli("rules", "test", "nope")
    assert code == 2 and "no rule named 'nope'" in err


def test_an_http_call_without_a_mock_fails():
    result = _run("http.request({url: 'https://x.example/'})",
                  {"name": "t", "event": {"type": "schedule"}, "expected": {}})
    assert not result.passed and result.failures == ["no mock answers GET https://x.example/"]


def test_a_rule_error_is_reported_and_can_be_expected():
    test = {"name": "t", "event": {"type": "message_received", "message": {}}, "expected": {"error": "boom"}}
    assert _run("throw new Error('boom')", test).passed
    test["expected"] = {"error": None}
    result = _run("throw new Error('boom')", test)
    assert not result.passed and "the rule failed: rule failed" in result.failures[0] and "boom" in result.failures[0]


def test_polls_in_rule_tests_match_keywords_from_fixtures():
    test = {"name": "vote", "event": {"type": "message_received", "message": {"text": "I vote B!"}},
            "fixtures": {"polls": {"song": [{"label": "A", "keywords": ["a"]}, {"label": "B", "keywords": ["b"]}]}},
            "expected": {"votes": [{"poll": "song", "option": "B"}]}}
    assert _run("poll.vote('song')", test).passed


@pytest.mark.parametrize(("test", "message"), [
    ({"event": {"type": "x"}, "expected": {}}, "every rule test needs a name"),
    ({"name": "t", "event": {}, "expected": {}}, "event must be an object with a type"),
    ({"name": "t", "event": {"type": "schedule"}, "expected": {"reply": []}}, "expected has unknown key reply"),
])
def test_malformed_tests_are_refused(test, message):
    with pytest.raises(RuleTestFormatError, match=message):
        check_test(test)


def test_cli_module_is_importable_without_side_effects():
    assert "msghub.rules.cli" in sys.modules or __import__("msghub.rules.cli")


def test_a_malformed_stored_test_fails_alone_and_the_others_still_run(cli, db, tmp_path):
    (tmp_path / "greet.js").write_text("reply('Hello')")
    (tmp_path / "greet.tests.json").write_text(json.dumps([{
        "name": "greets", "event": {"type": "message_received", "message": {}},
        "expected": {"replies": [{"text": "Hello"}]}}]))
    assert cli("rules", "load", str(tmp_path))[0] == 0
    # written by SQL, past the checks of `rules load`
    db.execute("INSERT INTO hub.rule_tests (rule_id, name, event, expected)"
               " SELECT id, 'broken', '{\"type\": \"schedule\"}', '{\"reply\": []}' FROM hub.rules")
    code, out, _ = cli("rules", "test")
    assert code == 1
    assert "PASS greet: greets" in out
    assert "FAIL greet: broken" in out and "the test is malformed" in out and "unknown key reply" in out
