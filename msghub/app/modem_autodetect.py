"""modem_autodetect: the connectors role watches for new devices and brings
them up itself.

Every WATCH_INTERVAL_S the hub.settings row `modem_autodetect` is read; when
it is 1, serial ports (the defaults of scan.py and the comma-separated globs
of `modem_scan_globs`) that no modem connection uses yet are probed, and each
usable modem found (SMS commands, SIM ready) becomes an enabled connection
named after its IMEI with its stable port name; the supervisor then opens
it like any other. A device seen once is not probed again until it goes away
and comes back (unplugged and plugged in), so a port that is no modem is not
asked every time.
"""

from __future__ import annotations

import asyncio
import logging
import os

from msghub.connectors.modem.scan import Found, candidates, identify
from msghub.hub.db import connect
from msghub.services import modems
from msghub.services.blocking import call
from msghub.services.tx import SYSTEM

log = logging.getLogger(__name__)

WATCH_INTERVAL_S = 10.0


def _settings(url: str) -> tuple[bool, modems.Known]:
    with connect(url) as conn:
        return call(conn, modems.autodetect_enabled), call(conn, modems.known)


def _add(url: str, found: Found) -> str:
    with connect(url) as conn:
        if call(conn, modems.known).has(found):
            return ""
        name = call(conn, modems.add_found, SYSTEM, found)
        conn.commit()
    return name


class Watcher:
    def __init__(self, url: str, interval_s: float = WATCH_INTERVAL_S) -> None:
        self.url = url
        self.interval_s = interval_s
        self.seen: set[str] = set()  # device files probed while present

    async def run(self) -> None:
        """Runs until cancelled; never ends on an error."""
        while True:
            try:
                await self.once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("modem autodetect failed; trying again in %g s", self.interval_s)
            await asyncio.sleep(self.interval_s)

    async def once(self) -> list[str]:
        """One look; returns the names of the connections added."""
        enabled, configured = await asyncio.to_thread(_settings, self.url)
        if not enabled:
            return []
        ports, imeis = configured.ports, configured.imeis
        present = candidates(configured.globs)
        self.seen &= {real for _, real in present}  # gone devices may come back
        used = ports | {os.path.realpath(p) for p in ports if p.startswith("/")}
        added: list[str] = []
        for name, real in present:
            if real in self.seen or name in used or real in used:
                continue
            self.seen.add(real)
            found = await identify(name, real)
            if not found.answers or modems.is_known(found, ports, imeis) or not modems.usable(found, ""):
                continue
            connection = await asyncio.to_thread(_add, self.url, found)
            if connection:
                log.info("modem autodetect: added %s for %s (%s %s, IMEI %s)", connection, found.port,
                         found.manufacturer, found.model, found.imei)
                added.append(connection)
                ports.add(found.port)
                if found.imei:
                    imeis.add(found.imei)
        return added
