"""The documentation cannot fall behind the code."""

from __future__ import annotations

import argparse
from pathlib import Path

from msghub.app.cli import build_parser
from msghub.connectors.registry import KINDS
from msghub.hub.config import ENV_SETTINGS

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _commands(parser: argparse.ArgumentParser, prefix: str = "msghub") -> list[str]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += _commands(sub, f"{prefix} {name}") or [f"{prefix} {name}"]
    return found


def test_every_environment_setting_is_documented():
    text = (DOCS / "OPERATIONS.md").read_text()
    missing = [s.name for s in ENV_SETTINGS if f"`{s.name}`" not in text]
    assert missing == []


def test_every_command_is_documented():
    text = (DOCS / "OPERATIONS.md").read_text()
    commands = _commands(build_parser())
    assert len(commands) > 15
    assert [c for c in commands if f"`{c}" not in text] == []


def test_every_setting_of_every_kind_is_documented():
    # a kind's page is docs/protocols/<KIND>.md unless the class names another (docs_page)
    for kind, cls in KINDS.items():
        page = DOCS / (cls.docs_page or f"protocols/{kind.upper()}.md")
        text = page.read_text()
        missing = [s.name for s in cls.settings if f"`{s.name}`" not in text]
        assert missing == [], f"{kind} settings missing from {page.name}"


def test_every_hub_setting_row_is_documented(db):
    text = (DOCS / "OPERATIONS.md").read_text()
    keys = [r["key"] for r in db.execute("SELECT key FROM hub.settings")]
    assert keys and [k for k in keys if f"`{k}`" not in text] == []
