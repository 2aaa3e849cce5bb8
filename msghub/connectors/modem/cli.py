"""`msghub modem scan` and `msghub bench modem`."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

import psycopg

from msghub.connectors.modem.known import add_found, configured, is_known, usable
from msghub.connectors.modem.scan import Found, scan
from msghub.hub.config import Config


def add_parsers(sub: Any) -> None:
    modem = sub.add_parser("modem", help="GSM modems: find devices").add_subparsers(dest="action", required=True)
    s_scan = modem.add_parser("scan", help="probe serial ports for modems and offer to add them")
    s_scan.add_argument("--glob", action="append", default=[], help="more ports to probe (repeat), e.g. '/dev/ttyS*'")
    s_scan.add_argument("--add", action="store_true", help="add every new usable device as a connection")
    s_scan.add_argument("--pin", default="", help="PIN for devices whose SIM asks for one (with --add)")
    s_scan.add_argument("--baud", type=int, default=115200)
    s_scan.add_argument("--json", action="store_true", help="print JSON")
    s_scan.set_defaults(handler=cmd_modem_scan)
    bench = _subparsers_of(sub, "bench")
    if bench is not None:
        b_modem = bench.add_parser("modem", help="hub.outbox to sent through simulated modems (pseudo-terminals)")
        b_modem.add_argument("--messages", type=int, default=200)
        b_modem.add_argument("--devices", type=int, default=2)
        b_modem.add_argument("--send-delay-ms", type=float, default=0.0,
                             help="the simulated device's own time to answer AT+CMGS")
        b_modem.set_defaults(handler=cmd_bench_modem)


def _subparsers_of(sub: Any, name: str) -> Any:
    parser = sub.choices.get(name)
    if parser is None:
        return None
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    return None


def _line(found: Found, state: str) -> str:
    what = " ".join(x for x in (found.manufacturer, found.model) if x) or "unknown device"
    extra = f", also {', '.join(found.other_ports)}" if found.other_ports else ""
    return (f"{found.port}: {what}, IMEI {found.imei or '?'}, SIM {found.sim or '?'}, "
            f"operator {found.operator or 'none'}{'' if found.sms else ', no SMS commands'}{extra} [{state}]")


def cmd_modem_scan(args: argparse.Namespace, config: Config) -> int:
    devices, others = asyncio.run(scan(tuple(args.glob), baud=args.baud))
    report: list[dict[str, Any]] = []

    def act(conn: psycopg.Connection[Any]) -> None:
        ports, imeis, _ = configured(conn)
        for found in devices:
            entry = found.as_dict()
            if is_known(found, ports, imeis):
                entry["state"] = "configured"
            elif not usable(found, args.pin):
                entry["state"] = "needs a PIN (--pin)" if found.sim == "SIM PIN" else "not usable"
            elif args.add:
                entry["state"] = "added"
                entry["connection"] = add_found(conn, found, pin=args.pin)
            else:
                entry["state"] = "new (msghub modem scan --add)"
            report.append(entry)

    from msghub.hub.clidb import with_db

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


def cmd_bench_modem(args: argparse.Namespace, config: Config) -> int:
    from msghub.devtools.bench_modem import bench_modem
    from msghub.hub.runtime import open_database, prepare

    with open_database(config) as db:
        prepare(config, db.url)
        result = bench_modem(db.url, messages=args.messages, devices=args.devices,
                             send_delay_s=args.send_delay_ms / 1000)
    print(json.dumps(result, indent=2))
    return 0
