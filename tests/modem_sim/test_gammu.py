"""Debian's gammu, a real AT client, pointed at the simulator's pty: what it
prints is what it parsed from the simulated device (identify, sendsms,
getallsms, monitor), for every vendor profile."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from msghub.devtools.modem import PROFILES, ModemSimulator

pytestmark = [
    pytest.mark.peer,
    pytest.mark.skipif(shutil.which("gammu") is None, reason="gammu is not installed (scripts/install-test-deps)"),
]
GAMMU_TIMEOUT_S = 120  # one command; gammu itself gives up on a silent device after ~40 s
PROFILE_NAMES = sorted(PROFILES)


def gammu(sim: ModemSimulator, tmp_path: Path, *args: str) -> str:
    """Runs `gammu -c <throw-away rc> ARGS` against the simulator; its stdout."""
    rc = tmp_path / "gammurc"
    rc.write_text(f"[gammu]\ndevice = {sim.path}\nconnection = at\n", encoding="utf-8")
    done = subprocess.run(["gammu", "-c", str(rc), *args], capture_output=True, text=True,
                          timeout=GAMMU_TIMEOUT_S, cwd=tmp_path, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
                                                                       "LANG": "C.UTF-8"})
    assert done.returncode == 0, f"gammu {' '.join(args)} failed ({done.returncode}): {done.stdout}{done.stderr}"
    return done.stdout


def field(output: str, name: str) -> str:
    match = re.search(rf"^{re.escape(name)}\s*:\s*(.*)$", output, re.MULTILINE)
    assert match, f"{name!r} not in gammu's output:\n{output}"
    return match.group(1).strip()


@pytest.fixture(params=PROFILE_NAMES)
def sim(request: pytest.FixtureRequest) -> Iterator[ModemSimulator]:
    with ModemSimulator(request.param, report_delay_s=0.2) as s:
        yield s
        assert s.internal_errors == []


def test_identify(sim: ModemSimulator, tmp_path: Path) -> None:
    out = gammu(sim, tmp_path, "identify")
    profile = sim.profile
    assert field(out, "Manufacturer").lower() == profile.manufacturer.split()[0].lower()
    assert profile.model.strip() in field(out, "Model")
    assert field(out, "Firmware") == profile.revision
    assert field(out, "IMEI") == profile.imei
    assert field(out, "SIM IMSI") == profile.imsi


def test_sendsms_reaches_the_simulator_decoded(sim: ModemSimulator, tmp_path: Path) -> None:
    out = gammu(sim, tmp_path, "sendsms", "TEXT", "+447700900999", "-text", "Hello from gammu")
    assert "OK, message reference=1" in out
    (sent,) = sim.sent
    assert (sent.recipient, sent.text, sent.mr) == ("+447700900999", "Hello from gammu", 1)


def test_getallsms_lists_the_injected_messages(sim: ModemSimulator, tmp_path: Path) -> None:
    sim.inject_sms("+447700900123", "first inbound")
    sim.inject_sms("+447700900124", "Grüße, ÄÖ and €")  # UCS-2 (ü is not GSM 7-bit)
    sim.inject_sms("Shop", "from an alphanumeric sender")
    out = gammu(sim, tmp_path, "getallsms")
    for text in ("first inbound", "Grüße, ÄÖ and €", "from an alphanumeric sender"):
        assert f"\n{text}\n" in out
    assert '"+447700900123"' in out and '"Shop"' in out
    assert "3 SMS parts in 3 SMS sequences" in out


def test_monitor_shows_signal_network_and_storage(sim: ModemSimulator, tmp_path: Path) -> None:
    sim.set_signal(10)  # -113 + 2 * 10 dBm
    sim.inject_sms("+447700900123", "in storage")
    out = gammu(sim, tmp_path, "monitor", "1")
    assert field(out, "Signal strength") == "-93 dBm"
    assert field(out, "Network state") == "home network"
    assert field(out, "Network").startswith("001 01")
    assert field(out, "Battery level") == "80 percent"
    assert field(out, "SIM SMS status").startswith("1 used")


def test_long_unicode_send_with_report_request(tmp_path: Path) -> None:
    text = ("Grüße aus dem Simulator " * 8)[:200]
    with ModemSimulator(report_delay_s=0.2) as sim:
        out = gammu(sim, tmp_path, "sendsms", "TEXT", "+447700900999", "-unicode", "-report", "-len", "200",
                    "-text", text)
        assert "Sending SMS 3/3" in out
        sent = sim.sent
    assert [s.mr for s in sent] == [1, 2, 3] and all(s.srr for s in sent)
    concat = [s.message.udh.concat if s.message and s.message.udh else None for s in sent]
    assert [(c.total, c.seq) for c in concat if c] == [(3, 1), (3, 2), (3, 3)]
    assert "".join(str(s.text) for s in sent) == text


def test_pin_is_asked_and_entered(tmp_path: Path) -> None:
    with ModemSimulator("generic", pin="1234") as sim:
        assert "Waiting for PIN." in gammu(sim, tmp_path, "getsecuritystatus")
        gammu(sim, tmp_path, "entersecuritycode", "PIN", "1234")
        assert "Nothing to enter." in gammu(sim, tmp_path, "getsecuritystatus")
        assert 'AT+CPIN="1234"' in sim.commands
