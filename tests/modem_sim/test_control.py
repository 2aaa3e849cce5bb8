"""Driving the simulator from outside: the HTTP control API and the
`msghub simulate modem` command."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from msghub.devtools.modem import ModemSimulator
from tests.modem_sim.client import PtyClient

REPO = Path(__file__).resolve().parents[2]
CLI = "msghub.app.cli"


@pytest.fixture
def sim() -> Iterator[ModemSimulator]:
    with ModemSimulator("zte", control_port=0) as s:
        yield s
        assert s.internal_errors == []


def url(sim: ModemSimulator, path: str) -> str:
    return f"http://127.0.0.1:{sim.control_port}{path}"


def test_status_and_inject(sim: ModemSimulator) -> None:
    with PtyClient(sim.path) as c:
        c.read_until(b"+ZUSIMR:2")
        c.command("ATE0;+CNMI=2,1,0,0,0")
        status = httpx.get(url(sim, "/status"), timeout=10).json()
        assert status["profile"] == "zte" and status["connected"] is True and status["settings"]["cnmi"][1] == 1
        r = httpx.post(url(sim, "/inject"), json={"sender": "+447700900123", "text": "via http"}, timeout=10)
        assert r.status_code == 200 and r.json() == {"indices": [1]}
        c.read_until(b'+CMTI: "SM",1\r\n')
    stored = httpx.get(url(sim, "/storage?memory=SM"), timeout=10).json()
    assert list(stored) == ["1"] and stored["1"]["kind"] == "deliver"
    assert "ATE0;+CNMI=2,1,0,0,0" in httpx.get(url(sim, "/commands"), timeout=10).json()


def test_signal_registration_and_faults(sim: ModemSimulator) -> None:
    with PtyClient(sim.path) as c:
        c.command("ATE0;+CREG=1")
        assert httpx.post(url(sim, "/signal"), json={"rssi": 5}, timeout=10).status_code == 200
        assert c.command("AT+CSQ") == ["+CSQ: 5,99", "OK"]
        httpx.post(url(sim, "/registration"), json={"registered": False}, timeout=10)
        c.read_until(b"+CREG: 2\r\n")
        httpx.post(url(sim, "/fault"), json={"kind": "no_answer"}, timeout=10)
        c.send(b"AT\r")
        assert c.drain(0.3) == b""
        httpx.post(url(sim, "/clear"), timeout=10)
        assert c.command("AT") == ["OK"]
        httpx.post(url(sim, "/cms_error"), json={"prefix": "+44", "code": 38}, timeout=10)
        assert sim.state.network_config.cms_error_for == {"+44": 38}


def test_unplug_and_replug_over_http(sim: ModemSimulator) -> None:
    httpx.post(url(sim, "/fault"), json={"kind": "unplug"}, timeout=10)
    assert httpx.get(url(sim, "/status"), timeout=10).json()["path"] is None
    path = httpx.post(url(sim, "/replug"), timeout=10).json()["path"]
    with PtyClient(path) as c:
        c.read_until(b"+ZUSIMR:2\r\n")  # powered up again: the boot line first
        assert c.command("AT") == ["OK"]


@pytest.mark.parametrize(("method", "path", "body", "status"), [
    ("GET", "/nowhere", None, 404),
    ("POST", "/inject", {"sender": "+1"}, 400),
    ("POST", "/inject", {"sender": 5, "text": "x"}, 400),
    ("POST", "/fault", {"kind": "meltdown"}, 400),
    ("POST", "/signal", {"rssi": True}, 400),
    ("GET", "/storage?memory=XX", None, 400),
    ("GET", "/sent?limit=abc", None, 400),
])
def test_bad_requests_are_clear(sim: ModemSimulator, method: str, path: str, body: dict[str, object] | None,
                                status: int) -> None:
    r = httpx.request(method, url(sim, path), json=body, timeout=10)
    assert r.status_code == status and r.json()["error"]


def test_a_body_that_is_not_json(sim: ModemSimulator) -> None:
    r = httpx.post(url(sim, "/inject"), content=b"{nope", timeout=10)
    assert r.status_code == 400


def read_lines(fd: int, count: int, timeout_s: float = 30.0) -> list[str]:
    """The first count lines a child prints, waiting at most timeout_s in all."""
    deadline = time.monotonic() + timeout_s
    data = b""
    while data.count(b"\n") < count:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        assert ready, f"msghub simulate modem printed only {data!r}"
        chunk = os.read(fd, 4096)
        assert chunk, f"msghub simulate modem ended after {data!r}"
        data += chunk
    return data.decode().splitlines()[:count]


def test_the_cli_prints_the_pty_and_serves_control(tmp_path: Path) -> None:
    link = tmp_path / "ttyMODEM"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", CLI, "simulate", "modem", "--profile", "wavecom", "--control-port", "0",
         "--tcp", "0", "--link", str(link), "--extra-port", "diag"],
        stdout=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    try:
        assert proc.stdout is not None
        lines = dict(line.split(" ", 1) for line in read_lines(proc.stdout.fileno(), 5))
        assert lines["diag"].startswith("/dev/pts/")
        pty = lines["pty"].strip()
        assert os.path.realpath(link) == pty and lines["tcp"].startswith("127.0.0.1:")
        control = lines["control"].strip()
        with PtyClient(str(link)) as c:
            c.read_until(b"+WIND: 4\r\n")
            assert c.command("AT+CGMM") == [" MULTIBAND  900E  1800", "OK"]
        assert httpx.get(control + "status", timeout=10).json()["profile"] == "wavecom"
    finally:
        proc.terminate()
        code = proc.wait(timeout=30)
        if proc.stdout is not None:
            proc.stdout.close()
    assert code == 0
    assert not link.exists()


def test_report_statuses_and_a_stray_report(sim: ModemSimulator) -> None:
    with PtyClient(sim.path) as c:
        c.read_until(b"+ZUSIMR:2")
        c.command("ATE0;+CNMI=2,1,0,1,0")
        r = httpx.post(url(sim, "/report_status"), json={"prefix": "+4477", "status": [32, 0]}, timeout=10)
        assert r.status_code == 200 and sim.state.network_config.report_status_for == {"+4477": (32, 0)}
        bad = httpx.post(url(sim, "/report_status"), json={"prefix": "+4477", "status": ["x"]}, timeout=10)
        assert bad.status_code == 400
        httpx.post(url(sim, "/status_report"), json={"mr": 200, "recipient": "+447700900999"}, timeout=10)
        c.read_until(b"+CDS: ")
    assert len(sim.reports) == 1
