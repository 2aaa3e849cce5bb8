"""Which found devices are new, and adding them as connections."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

from msghub.connectors.modem.scan import Found, connection_name
from msghub.connectors.modem.settings import ports_of
from msghub.hub.queries import load_queries

QUERIES = load_queries(Path(__file__).with_name("queries.sql"))


def configured(conn: psycopg.Connection[Any]) -> tuple[set[str], set[str], set[str]]:
    """(ports, IMEIs, names) of the modem connections there are."""
    ports: set[str] = set()
    imeis: set[str] = set()
    names: set[str] = set()
    for row in conn.execute(QUERIES["modem_connections"]).fetchall():
        names.add(row["name"])
        ports.update(ports_of(str(row["config"].get("port", ""))))
        meta = row["meta"] or {}
        imeis.update(d.get("imei") for d in meta.get("devices", []) if d.get("imei"))
    return ports, imeis, names


def is_known(found: Found, ports: set[str], imeis: set[str]) -> bool:
    return bool({found.port, found.device, *found.other_ports} & ports) or (bool(found.imei) and found.imei in imeis)


def usable(found: Found, pin: str) -> bool:
    return found.sms and (found.sim == "READY" or (found.sim == "SIM PIN" and bool(pin)))


def add_found(conn: psycopg.Connection[Any], found: Found, *, pin: str = "") -> str:
    """Adds found as a new modem connection; returns its name."""
    from msghub.hub.connections import add_connection

    _, _, names = configured(conn)
    name = base = connection_name(found)
    counter = 2
    while name in names:
        name, counter = f"{base}-{counter}", counter + 1
    settings: dict[str, Any] = {"port": found.port}
    if pin:
        settings["pin"] = pin
    add_connection(conn, name, "modem", settings)
    return name
