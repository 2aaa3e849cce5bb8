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
from typing import Any

from msghub.connectors.modem.known import QUERIES, add_found, configured, is_known, usable
from msghub.connectors.modem.scan import candidates, identify

log = logging.getLogger(__name__)

WATCH_INTERVAL_S = 10.0


def _settings(url: str) -> tuple[bool, tuple[str, ...], set[str], set[str]]:
    from msghub.hub.db import connect

    with connect(url) as conn:
        row = conn.execute(QUERIES["modem_autodetect_setting"]).fetchone()
        enabled = row is not None and str(row["value"]).strip().lower() in ("1", "true", "yes", "on")
        globs_row = conn.execute(QUERIES["modem_scan_globs_setting"]).fetchone()
        text = str(globs_row["value"]) if globs_row else ""
        globs = tuple(g.strip() for g in text.split(",") if g.strip())
        ports, imeis, _ = configured(conn)
    return enabled, globs, ports, imeis


def _add(url: str, found: Any) -> str:
    from msghub.hub.db import connect

    with connect(url) as conn:
        ports, imeis, _ = configured(conn)
        if is_known(found, ports, imeis):
            return ""
        name = add_found(conn, found)
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
        enabled, globs, ports, imeis = await asyncio.to_thread(_settings, self.url)
        if not enabled:
            return []
        present = candidates(globs)
        self.seen &= {real for _, real in present}  # gone devices may come back
        used = ports | {os.path.realpath(p) for p in ports if p.startswith("/")}
        added: list[str] = []
        for name, real in present:
            if real in self.seen or name in used or real in used:
                continue
            self.seen.add(real)
            found = await identify(name, real)
            if not found.answers or is_known(found, ports, imeis) or not usable(found, ""):
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
