"""The sandbox benchmark runs and reports what it promises."""

from __future__ import annotations

import json

import pytest

from msghub.devtools import bench_sandbox


def test_bench_prints_its_figures(capsys: pytest.CaptureFixture[str]) -> None:
    bench_sandbox.main(["--evaluations", "200", "--workers", "2", "--concurrency", "4"])
    figures = json.loads(capsys.readouterr().out)
    assert set(figures) == {"evaluations", "per_s", "p50_ms", "p99_ms"}
    assert figures["evaluations"] == 200
    assert figures["per_s"] > 0
    assert 0 < figures["p50_ms"] <= figures["p99_ms"]
