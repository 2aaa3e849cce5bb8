"""Kinds from entry points: a throw-away distribution on sys.path (a
*.dist-info directory with an entry_points.txt) adds a kind, without
installing anything into the environment."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from msghub.connectors import registry
from msghub.connectors.loopback import LoopbackConnector

ROOT = Path(__file__).resolve().parents[2]

KIND_MODULE = '''
from msghub.connectors.loopback import LoopbackConnector


class EchoConnector(LoopbackConnector):
    kind = "echo_test"
    description = "a third-party kind for the registry test"


class Misnamed(LoopbackConnector):
    kind = "something_else"


NOT_A_CONNECTOR = object()
'''


def make_distribution(where: Path, entry_points: str) -> Path:
    package = where / "third_party_kind"
    package.mkdir()
    (package / "__init__.py").write_text(KIND_MODULE)
    info = where / "third_party_kind-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: third-party-kind\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[{registry.ENTRY_POINT_GROUP}]\n{entry_points}")
    return where


@pytest.fixture
def on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    make_distribution(tmp_path, "echo_test = third_party_kind:EchoConnector\n"
                                "misnamed = third_party_kind:Misnamed\n"
                                "broken = third_party_kind:NOT_A_CONNECTOR\n"
                                "missing = no_such_module:Thing\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def test_a_distribution_adds_a_kind_and_bad_entries_are_left_out(
        on_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger=registry.__name__):
        found = registry.discover()
    assert found["echo_test"].__name__ == "EchoConnector"
    assert {"misnamed", "broken", "missing"}.isdisjoint(found)
    logged = caplog.text
    assert "the class says kind 'something_else'" in logged
    assert "not a Connector class" in logged and "cannot load" in logged


def test_built_in_kinds_win_over_installed_ones() -> None:
    class Other(LoopbackConnector):
        pass

    kinds = registry.merged({"loopback": LoopbackConnector}, {"loopback": Other, "x": Other})
    assert kinds == {"loopback": LoopbackConnector, "x": Other}


def test_the_hub_sees_an_installed_kind(tmp_path: Path) -> None:
    make_distribution(tmp_path, "echo_test = third_party_kind:EchoConnector\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    shown = subprocess.run([sys.executable, "-c", "from msghub.connectors.registry import kind_class\n"
                            "print(kind_class('echo_test').description)"],
                           env=env, capture_output=True, text=True, timeout=120, check=True)
    assert shown.stdout.strip() == "a third-party kind for the registry test"
