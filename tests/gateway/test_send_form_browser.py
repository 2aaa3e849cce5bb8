"""Two differently branded send forms in a real browser (Debian's chromium
through playwright) against a real hub process with a loopback connection:
the logo and colours shown, the live segment count, a send, and its state
updating to delivered. Screenshots go to $MSGHUB_SCREENSHOTS when set
(docs/screenshots for docs/WEB.md)."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.gateway.test_sendsms_e2e import _free_port
from tests.hubproc import start_hub, stop_hub, wait_for
from tests.web.test_browser import CHROMIUM, CHROMIUM_ARGS, WAIT_MS, _answers
from tests.web_admin.helpers import user

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed")


def _png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A small chequered PNG logo, made here (no image library needed)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ink, paper = bytes(rgb), b"\x33\x33\x33"
    rows = b"".join(b"\x00" + b"".join(ink if ((x // 10) + (y // 10)) % 2 else paper for x in range(width))
                    for y in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def _form(db_url: str, tmp: Path, slug: str, *args: str, logo_rgb: tuple[int, int, int], stdin: str = "") -> None:
    logo = tmp / f"{slug}.png"
    logo.write_bytes(_png(120, 40, logo_rgb))
    done = subprocess.run([sys.executable, "-m", "msghub.app.cli", "form", "set", slug, "--logo", str(logo), *args],
                          input=stdin, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "MSGHUB_DATABASE_URL": db_url})
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture
def hub(db_url, db, tmp_path) -> Iterator[str]:
    settings = {"delay_ms": 300, "echo": False, "delivery_reports": True, "reply_prefix": "", "own_number": "hub",
                "fail_prefix": "", "window": 10}
    db.execute("INSERT INTO hub.connections (name, kind, channels, config) VALUES ('loop', 'loopback', '{sms}', %s)",
               (json.dumps(settings),))
    user(db_url, "acme")
    _form(db_url, tmp_path, "acme", "--title", "ACME Field Service", "--owner", "acme", "--colour", "#cc3300",
          "--intro", "Send a text to one of our engineers.", "--login", "kiosk", "--prefix", "+49",
          logo_rgb=(204, 51, 0))
    _form(db_url, tmp_path, "harbour", "--title", "Harbour Clinic reminders", "--owner", "acme",
          "--colour", "#0b7a75", "--background", "#eef7f6", "--intro", "Remind a patient of an appointment.",
          "--code-stdin", logo_rgb=(11, 122, 117), stdin="clinic code 7\n")
    port = _free_port()
    proc = start_hub(db_url, roles="connectors,scheduler,web", MSGHUB_HTTP_PORT=str(port))
    try:
        wait_for(lambda: db.execute("SELECT state FROM hub.connections").fetchone()["state"] == "up",
                 what="the connection")
        wait_for(lambda: _answers(port), what="the web server")
        yield f"http://127.0.0.1:{port}"
    finally:
        assert stop_hub(proc) == 0


@pytest.fixture
def shots(tmp_path) -> Path:
    target = os.environ.get("MSGHUB_SCREENSHOTS")
    path = Path(target) if target else tmp_path / "shots"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _page(browser: Any) -> Any:
    page = browser.new_context(viewport={"width": 900, "height": 700}).new_page()
    page.set_default_timeout(WAIT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.js_errors = errors
    return page


def test_two_branded_forms_send_and_show_the_state(hub, db, shots):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = _page(browser)
            page.goto(f"{hub}/g/acme")
            assert page.title() == "ACME Field Service"
            assert page.eval_on_selector("img.logo", "i => i.complete && i.naturalWidth") == 120
            assert page.eval_on_selector(".brand", "e => getComputedStyle(e).backgroundColor") == "rgb(204, 51, 0)"
            page.fill("#to", "+4917012345")
            page.fill("#text", "Engineer needed at gate 4, please call back.")
            expect(page.locator("#cost")).to_contain_text("1 part, GSM 7-bit")
            page.screenshot(path=str(shots / "send-form-acme.png"))
            page.fill("#text", "Привет")
            expect(page.locator("#cost")).to_contain_text("Unicode")
            page.fill("#text", "Engineer needed at gate 4, please call back.")
            page.click("button[type=submit]")
            page.wait_for_selector("#sent")
            expect(page.locator("#status")).to_have_text("delivered", timeout=30_000)
            assert page.js_errors == []

            clinic = _page(browser)
            clinic.goto(f"{hub}/g/harbour")
            assert clinic.eval_on_selector(".brand", "e => getComputedStyle(e).backgroundColor") == "rgb(11, 122, 117)"
            assert clinic.eval_on_selector("body", "e => getComputedStyle(e).backgroundColor") == "rgb(238, 247, 246)"
            clinic.fill("#to", "+4930123456")
            clinic.fill("#text", "Reminder: your appointment is tomorrow at 10:30. Reply to move it.")
            clinic.fill("input[name=code]", "clinic code 7")
            clinic.screenshot(path=str(shots / "send-form-harbour.png"))
            clinic.click("button[type=submit]")
            expect(clinic.locator("#status")).to_have_text("delivered", timeout=30_000)
            assert clinic.js_errors == []
        finally:
            browser.close()
    assert db.execute("SELECT count(*) AS n FROM hub.messages WHERE status = 'delivered'").fetchone()["n"] == 2
