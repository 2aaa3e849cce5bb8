"""Which found devices are new: pure decisions on what is configured
(msghub.services.modems reads the connections and adds the new ones)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from msghub.connectors.modem.scan import Found
from msghub.connectors.modem.settings import ports_of


def known_of(connections: Iterable[Mapping[str, Any]]) -> tuple[set[str], set[str], set[str]]:
    """(ports, IMEIs, names) of these modem connections (rows with name,
    config and meta)."""
    ports: set[str] = set()
    imeis: set[str] = set()
    names: set[str] = set()
    for row in connections:
        names.add(row["name"])
        ports.update(ports_of(str(row["config"].get("port", ""))))
        meta = row["meta"] or {}
        imeis.update(d.get("imei") for d in meta.get("devices", []) if d.get("imei"))
    return ports, imeis, names


def is_known(found: Found, ports: set[str], imeis: set[str]) -> bool:
    return bool({found.port, found.device, *found.other_ports} & ports) or (bool(found.imei) and found.imei in imeis)


def usable(found: Found, pin: str) -> bool:
    return found.sms and (found.sim == "READY" or (found.sim == "SIM PIN" and bool(pin)))


def free_name(base: str, names: set[str]) -> str:
    """base, or base-2, base-3, ... whichever no connection has."""
    name, counter = base, 2
    while name in names:
        name, counter = f"{base}-{counter}", counter + 1
    return name


def parse_globs(text: str) -> tuple[str, ...]:
    """The comma-separated globs of the hub setting modem_scan_globs."""
    return tuple(g.strip() for g in text.split(",") if g.strip())
