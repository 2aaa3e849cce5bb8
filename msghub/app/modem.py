"""`msghub modem scan`: find GSM modems on serial ports and, with --add,
add the new ones as connections (msghub.services.modems)."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

import psycopg

from msghub.app.clidb import with_db
from msghub.hub.config import Config
from msghub.services import modems
from msghub.services.blocking import call
from msghub.services.modems import Found
from msghub.services.tx import Actor


def add_parsers(sub: Any) -> None:
    modem = sub.add_parser("modem", help="GSM modems: find devices").add_subparsers(dest="action", required=True)
    s_scan = modem.add_parser("scan", help="probe serial ports for modems and offer to add them")
    s_scan.add_argument("--glob", action="append", default=[], help="more ports to probe (repeat), e.g. '/dev/ttyS*'")
    s_scan.add_argument("--add", action="store_true", help="add every new usable device as a connection")
    s_scan.add_argument("--pin", default="", help="PIN for devices whose SIM asks for one (with --add)")
    s_scan.add_argument("--baud", type=int, default=115200)
    s_scan.add_argument("--json", action="store_true", help="print JSON")
    s_scan.set_defaults(handler=cmd_modem_scan)


def _line(found: Found, state: str) -> str:
    what = " ".join(x for x in (found.manufacturer, found.model) if x) or "unknown device"
    extra = f", also {', '.join(found.other_ports)}" if found.other_ports else ""
    return (f"{found.port}: {what}, IMEI {found.imei or '?'}, SIM {found.sim or '?'}, "
            f"operator {found.operator or 'none'}{'' if found.sms else ', no SMS commands'}{extra} [{state}]")


def cmd_modem_scan(args: argparse.Namespace, config: Config) -> int:
    devices, others = asyncio.run(modems.scan(tuple(args.glob), baud=args.baud))
    report: list[dict[str, Any]] = []

    def act(conn: psycopg.Connection[Any]) -> None:
        configured = call(conn, modems.known)
        for found in devices:
            entry = found.as_dict()
            if configured.has(found):
                entry["state"] = "configured"
            elif not modems.usable(found, args.pin):
                entry["state"] = "needs a PIN (--pin)" if found.sim == "SIM PIN" else "not usable"
            elif args.add:
                entry["state"] = "added"
                entry["connection"] = call(conn, modems.add_found, Actor.cli(), found, pin=args.pin)
            else:
                entry["state"] = "new (msghub modem scan --add)"
            report.append(entry)

    with_db(config, act)
    if args.json:
        print(json.dumps({"devices": report, "skipped": [o.as_dict() for o in others]}, indent=2))
        return 0
    if not report:
        print("no modem found" + (f" ({len(others)} port(s) busy or silent)" if others else ""))
    for entry, found in zip(report, devices, strict=True):
        state = entry["state"] + (f": connection {entry['connection']}" if "connection" in entry else "")
        print(_line(found, state))
    for other in others:
        print(f"{other.port}: {'busy' if other.busy else 'skipped'} ({other.error})")
    return 0
