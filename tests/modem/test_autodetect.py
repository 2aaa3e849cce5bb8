"""modem_autodetect: new devices become connections; known, busy and
silent ports are left alone; a device is probed once while present."""

from __future__ import annotations

import asyncio
import os
import tempfile

from msghub.app.modem_autodetect import Watcher
from msghub.devtools.modem import ModemSimulator


def test_watcher_adds_new_devices_only_when_switched_on(db_url, db):
    with tempfile.TemporaryDirectory() as tmp:
        db.execute("UPDATE hub.settings SET value = %s WHERE key = 'modem_scan_globs'", (f"{tmp}/*",))
        watcher = Watcher(db_url)
        with ModemSimulator("zte", link=os.path.join(tmp, "usb-ZTE-if02"), imei="861234567890123"), \
                ModemSimulator("generic", link=os.path.join(tmp, "usb-locked"), pin="1234"):
            assert asyncio.run(watcher.once()) == []  # off by default
            db.execute("UPDATE hub.settings SET value = '1' WHERE key = 'modem_autodetect'")
            assert asyncio.run(watcher.once()) == ["modem-890123"]
            row = db.execute("SELECT config, enabled FROM hub.connections WHERE name = 'modem-890123'").fetchone()
            assert row["enabled"] and row["config"]["port"] == os.path.join(tmp, "usb-ZTE-if02")
            # the one with a PIN is not added (nobody gave the PIN), and nothing twice
            assert asyncio.run(watcher.once()) == []
            assert db.execute("SELECT count(*) AS n FROM hub.connections").fetchone()["n"] == 1
