"""GSM modem detection as a use case: which devices found on serial ports
are new, and adding them as modem connections. `msghub modem scan`, the
connections page's "Detect devices" and the modem_autodetect watcher share
it; the probing itself is read-only (msghub.connectors.modem.scan).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypedDict

from msghub.connectors.modem.known import free_name, is_known, known_of, parse_globs, usable
from msghub.connectors.modem.scan import Found, connection_name
from msghub.connectors.modem.scan import scan as scan_ports
from msghub.hub.queries import QUERIES
from msghub.services.connections import add_connection
from msghub.services.tx import Actor, Tx

__all__ = ["Detected", "Found", "Known", "add_found", "autodetect_enabled", "detected", "is_known", "known", "scan",
           "state_of", "usable"]

ON = ("1", "true", "yes", "on")


class ModemConnectionRow(TypedDict):
    name: str
    config: dict[str, Any]
    meta: dict[str, Any] | None


class SettingRow(TypedDict):
    value: str


@dataclass(frozen=True)
class Known:
    """What is configured: the modem connections' ports, IMEIs and names, and
    the extra globs to scan (hub setting modem_scan_globs)."""

    ports: set[str]
    imeis: set[str]
    names: set[str]
    globs: tuple[str, ...]

    def has(self, found: Found) -> bool:
        return is_known(found, self.ports, self.imeis)


@dataclass(frozen=True)
class Detected:
    """One device a scan found, with what it means here."""

    found: Found
    state: str  # configured, new, needs a PIN, not usable
    name: str  # the connection name it would be added under

    def as_dict(self) -> dict[str, Any]:
        return {**self.found.as_dict(), "state": self.state, "name": self.name}


async def known(tx: Tx) -> Known:
    rows = await QUERIES.all(tx, "modem_connections", ModemConnectionRow)
    ports, imeis, names = known_of(rows)
    globs = await QUERIES.one(tx, "modem_scan_globs_setting", SettingRow)
    return Known(ports, imeis, names, parse_globs(globs["value"] if globs else ""))


async def autodetect_enabled(tx: Tx) -> bool:
    row = await QUERIES.one(tx, "modem_autodetect_setting", SettingRow)
    return row is not None and str(row["value"]).strip().lower() in ON


def state_of(found: Found, configured: Known, pin: str = "") -> str:
    if configured.has(found):
        return "configured"
    if usable(found, pin):
        return "new"
    return "needs a PIN" if found.sim == "SIM PIN" else "not usable"


async def scan(globs: tuple[str, ...] = (), *, baud: int = 115200) -> tuple[list[Found], list[Found]]:
    """Probes the default serial ports and these globs, read-only (waits on the
    devices: run it with asyncio, outside a transaction); (modems, ports busy
    or silent)."""
    return await scan_ports(globs, baud=baud)


def detected(devices: list[Found], configured: Known, pin: str = "") -> list[Detected]:
    return [Detected(d, state_of(d, configured, pin), connection_name(d)) for d in devices]


async def add_found(tx: Tx, actor: Actor, found: Found, *, pin: str = "") -> str:
    """Adds found as a new modem connection (named after its IMEI, keyed by
    its stable port name); returns its name."""
    configured = await known(tx)
    name = free_name(connection_name(found), configured.names)
    settings: dict[str, Any] = {"port": found.port}
    if pin:
        settings["pin"] = pin
    await add_connection(tx, actor, name, "modem", settings)
    return name
