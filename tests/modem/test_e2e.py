"""End to end: a real hub process (`msghub run`) with a `modem` connection
to the modem simulator (a pseudo-terminal served by a thread of this test
process). `msghub modem scan --add` finds and adds the device; an SMS sent
from the web UI in a real browser (Debian's chromium) is reported delivered;
an SMS the handset sends appears live in the inbox; the connections page
shows the device's signal. Every wait is bounded."""

from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row
from pytest_postgresql.janitor import DatabaseJanitor

from msghub.app.cli import main
from msghub.devtools.modem import ModemSimulator
from msghub.services.blocking import call
from msghub.services.connections import add_connection
from msghub.services.tx import SYSTEM
from tests.hubproc import start_hub, stop_hub, wait_for
from tests.web.webkit import PASSWORD, make_user

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
WAIT_MS = 20_000
NAME = "gsm"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def test_scan_finds_a_simulated_device_and_adds_it(db_url, db, monkeypatch, capsys):
    monkeypatch.setenv("MSGHUB_DATABASE_URL", db_url)
    with tempfile.TemporaryDirectory() as tmp:
        link = os.path.join(tmp, "usb-HUAWEI_Mobile-if00-port0")
        with ModemSimulator("huawei", link=link, imei="356789012345678"):
            silent = os.path.join(tmp, "not-a-modem")
            Path(silent).write_text("")  # a plain file is not a tty: skipped, not an error
            assert main(["modem", "scan", "--glob", f"{tmp}/*", "--json"]) == 0
            found = json.loads(capsys.readouterr().out)
            [device] = found["devices"]
            assert (device["port"], device["imei"], device["manufacturer"], device["sim"], device["sms"]) == (
                link, "356789012345678", "huawei", "READY", True)
            assert device["state"].startswith("new")
            assert main(["modem", "scan", "--glob", f"{tmp}/*", "--add"]) == 0
            out = capsys.readouterr().out
            assert "added: connection modem-345678" in out
            row = db.execute("SELECT kind, config FROM hub.connections WHERE name = 'modem-345678'").fetchone()
            assert row["kind"] == "modem" and row["config"]["port"] == link  # the stable name, not /dev/pts/N
            assert main(["modem", "scan", "--glob", f"{tmp}/*"]) == 0
            assert "[configured]" in capsys.readouterr().out


def test_connection_add_checks_the_modem_settings(db_url, monkeypatch, capsys):
    monkeypatch.setenv("MSGHUB_DATABASE_URL", db_url)
    assert main(["connection", "add", NAME, "--kind", "modem", "--port", "/dev/ttyUSB0", "--pin", "1234",
                 "--smsc", "+31653131313", "--init", "AT^CURC=0"]) == 0
    assert "pin: ***" in capsys.readouterr().out
    assert main(["connection", "add", "bad", "--kind", "modem", "--port", "ttyUSB0"]) == 2
    assert "neither a device path" in capsys.readouterr().err




def test_unplugged_mid_send_nothing_is_lost_and_the_retry_is_flagged(db_url, db):
    """A real hub: the device vanishes while AT+CMGS waits for its answer; the
    message is retried once the device is back (same by-id name), flagged
    possible_duplicate; the other messages go out once each."""
    db.execute("UPDATE hub.settings SET value = '1' WHERE key = 'retry_base_s'")
    with tempfile.TemporaryDirectory() as tmp:
        link = os.path.join(tmp, "usb-modem-if00")
        # the device holds its answer back 5 s: it is unplugged in that time
        with ModemSimulator("huawei", link=link, send_delay_s=5.0) as sim:
            call(db, add_connection, SYSTEM, NAME, "modem", {"port": link, "send_timeout_s": 30}, is_default=True)
            proc = start_hub(db_url)
            try:
                wait_for(lambda: db.execute("SELECT state FROM hub.connections WHERE name = %s",
                                            (NAME,)).fetchone()["state"] == "up", timeout=60, what="the modem")
                db.execute("INSERT INTO hub.outbox (channel, recipient, text) VALUES ('sms', '+31611111111', 'first')")
                assert sim.wait_for(lambda: any(s.text == "first" for s in sim.sent), 30)  # the PDU is in
                sim.fault("unplug", duration_s=2.0)
                for i in range(3):
                    db.execute("INSERT INTO hub.outbox (channel, recipient, text) VALUES ('sms', %s, %s)",
                               (f"+3161111112{i}", f"after {i}"))
                def all_sent() -> list[dict[str, Any]] | None:
                    rows = db.execute("SELECT body, status, possible_duplicate FROM hub.messages "
                                      "WHERE direction = 'out' ORDER BY id").fetchall()
                    return rows if len(rows) == 4 and all(r["status"] == "sent" for r in rows) else None

                rows = wait_for(all_sent, timeout=120, what="all four sent")
                flags = {r["body"]: r["possible_duplicate"] for r in rows}
                assert flags["first"] is True
                assert [flags[f"after {i}"] for i in range(3)] == [False] * 3
                texts = [s.text for s in sim.sent]
                assert all(texts.count(f"after {i}") == 1 for i in range(3)) and "first" in texts
            finally:
                assert stop_hub(proc) == 0


@pytest.fixture(scope="module")
def hub(pg_server, template_db) -> Iterator[dict[str, Any]]:
    name = f"msghub_modem_e2e_{os.getpid()}"
    janitor = DatabaseJanitor(user=pg_server.user, host=pg_server.host, port=pg_server.port,
                              password=pg_server.password, dbname=name, template_dbname=template_db)
    janitor.init()
    url = pg_server.url(name)
    db = psycopg.connect(url, autocommit=True, row_factory=dict_row, options="-c msghub.system=on")
    make_user(url, "boss", role="admin")
    sim = ModemSimulator("zte", report_delay_s=0.3)
    path = sim.start()
    with psycopg.connect(url, row_factory=dict_row) as conn:
        call(conn, add_connection, SYSTEM, NAME, "modem", {"port": path, "own_number": "+31600000000"},
             is_default=True)
        conn.commit()
    port = _free_port()
    proc = start_hub(url, roles="connectors,scheduler,web", MSGHUB_HTTP_PORT=str(port),
                     MSGHUB_HTTP_HOST="127.0.0.1", MSGHUB_ADMIN_PASSWORD="admin password 1")
    try:
        wait_for(lambda: db.execute("SELECT state FROM hub.connections WHERE name = %s", (NAME,)).fetchone()["state"]
                 == "up", timeout=60, what="the modem connection")
        wait_for(lambda: _answers(port), what="the web server")
        yield {"url": f"http://127.0.0.1:{port}", "db": db, "sim": sim}
    finally:
        assert stop_hub(proc) == 0
        sim.stop()
        db.close()
        janitor.drop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        pytest.skip("chromium is not installed (scripts/install-test-deps installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _page(browser: Any, hub: dict[str, Any]) -> Any:
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    ctx.set_default_timeout(WAIT_MS)
    page = ctx.new_page()
    page.goto(hub["url"] + "/login")
    page.fill("input[name=username]", "boss")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(hub["url"] + "/")
    return page


def test_the_device_state_is_on_the_connection_and_its_page(browser, hub):
    from playwright.sync_api import expect

    meta = wait_for(lambda: hub["db"].execute("SELECT meta FROM hub.connections WHERE name = %s",
                                              (NAME,)).fetchone()["meta"], what="the device state")
    assert meta["manufacturer"] and meta["imei"] and meta["registration"] == "home"
    page = _page(browser, hub)
    try:
        page.goto(hub["url"] + "/connections")
        expect(page.locator(f'tr[data-connection="{NAME}"]')).to_contain_text("dBm")
    finally:
        page.context.close()


def test_an_sms_sent_from_the_web_ui_is_reported_delivered(browser, hub):
    from playwright.sync_api import expect

    page = _page(browser, hub)
    try:
        page.goto(hub["url"] + "/compose")
        page.fill("#to", "+31612345678")
        page.fill("#text", "Hello through a modem")
        page.locator("details summary").click()
        page.check("input[name=delivery_report]")
        page.click("#send")
        page.wait_for_url(f"{hub['url']}/messages/*")
        expect(page.locator("#message-view [data-status-of]")).to_have_text("delivered")
        sent = [s for s in hub["sim"].sent if s.text == "Hello through a modem"]
        assert len(sent) == 1 and sent[0].srr
        row = hub["db"].execute("SELECT s.operator_ref, s.status FROM hub.sms_segments s JOIN hub.messages m "
                                "ON m.id = s.message_id WHERE m.body = 'Hello through a modem'").fetchone()
        assert row["status"] == "delivered" and row["operator_ref"].endswith(f"/{sent[0].mr}")
    finally:
        page.context.close()


def test_an_inbound_sms_appears_live_in_the_inbox(browser, hub):
    from playwright.sync_api import expect

    page = _page(browser, hub)
    try:
        page.goto(hub["url"] + "/folders/inbox")
        expect(page.locator("html[data-live=open]")).to_have_count(1)
        page.evaluate("window.__sameDocument = true")
        hub["sim"].inject_sms("+31698765432", "Reply from a handset")
        expect(page.locator("#rows tr", has_text="Reply from a handset")).to_have_count(1)
        assert page.evaluate("window.__sameDocument") is True
        message = hub["db"].execute("SELECT sender, recipients FROM hub.messages WHERE body = 'Reply from a handset'"
                                    ).fetchone()
        assert (message["sender"], message["recipients"]) == ("+31698765432", ["+31600000000"])
    finally:
        page.context.close()


def test_detect_devices_on_the_connections_page_adds_a_modem(browser, hub):
    from playwright.sync_api import expect

    with tempfile.TemporaryDirectory() as tmp:
        link = os.path.join(tmp, "usb-Sierra_Wireless-if03")
        hub["db"].execute("UPDATE hub.settings SET value = %s WHERE key = 'modem_scan_globs'", (f"{tmp}/*",))
        with ModemSimulator("wavecom", link=link, imei="354321098765432"):
            page = _page(browser, hub)
            try:
                page.goto(hub["url"] + "/connections")
                page.click("#detect-devices")
                row = page.locator(f'#detected tr[data-port="{link}"]')
                expect(row).to_have_attribute("data-state", "new")
                expect(row).to_contain_text("354321098765432")
                row.locator("button").click()
                page.wait_for_url(hub["url"] + "/connections")
                expect(page.locator('tr[data-connection="modem-765432"]')).to_have_count(1)
                config = hub["db"].execute("SELECT config FROM hub.connections WHERE name = 'modem-765432'"
                                           ).fetchone()["config"]
                assert config["port"] == link and config["sweep"] is True and config["baud"] == 115200
                wait_for(lambda: hub["db"].execute("SELECT state FROM hub.connections WHERE name = 'modem-765432'"
                                                   ).fetchone()["state"] == "up", timeout=60,
                         what="the detected modem to come up")
            finally:
                page.context.close()
                hub["db"].execute("UPDATE hub.connections SET enabled = false WHERE name = 'modem-765432'")


def test_the_statistics_page_shows_each_modem_device(browser, hub):
    from playwright.sync_api import expect

    imei = hub["db"].execute("SELECT meta ->> 'imei' AS imei FROM hub.connections WHERE name = %s",
                             (NAME,)).fetchone()["imei"]
    wait_for(lambda: hub["db"].execute("SELECT count(*) AS n FROM hub.sms_segments WHERE operator_ref LIKE %s",
                                       (f"{imei}/%",)).fetchone()["n"], what="a segment sent by the device")
    page = _page(browser, hub)
    try:
        page.goto(hub["url"] + "/stats")
        row = page.locator("#by-modem-device tr", has_text=imei)
        expect(row).to_have_count(1)
        expect(row).to_contain_text(NAME)
    finally:
        page.context.close()
