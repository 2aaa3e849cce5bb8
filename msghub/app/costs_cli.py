"""`msghub tariff` and `msghub quota`: what connections charge, and what
users and groups may send (docs/COSTS.md)."""

from __future__ import annotations

import argparse
import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg

from msghub.app.clidb import iso_time, with_db
from msghub.hub.config import Config
from msghub.services import costs
from msghub.services.blocking import call
from msghub.services.tariff_csv import parse_price
from msghub.services.tx import Actor


def _price(text: str) -> Decimal:
    try:
        return parse_price(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _amount(text: str) -> Decimal:
    value = _price(text)
    if value == 0:
        raise argparse.ArgumentTypeError("a limit of 0 would refuse everything: give more than 0")
    return value


def add_parsers(sub: Any) -> None:
    tariff = sub.add_parser("tariff", help="tariffs: what each connection charges").add_subparsers(
        dest="action", required=True)
    t_list = tariff.add_parser("list", help="tariffs, with their validity (current ones marked)")
    t_list.add_argument("--connection")
    t_list.add_argument("--json", action="store_true")
    t_list.set_defaults(handler=cmd_tariff_list)
    t_add = tariff.add_parser("add", help="add a price (a later one ends the open price before it)")
    t_add.add_argument("connection")
    t_add.add_argument("price", type=_price, help="per SMS part, per MMS, per e-mail")
    t_add.add_argument("--currency", required=True, help="ISO 4217 code (one per connection)")
    t_add.add_argument("--channel", default="sms", choices=("sms", "mms", "email"))
    t_add.add_argument("--direction", default="out", choices=("out", "in"))
    t_add.add_argument("--prefix", default="", help="destination prefix such as +49 (default: every number)")
    t_add.add_argument("--max-bytes", type=int, help="MMS size class: for MMS of at most this many bytes")
    t_add.add_argument("--valid-from", type=iso_time, help="ISO time the price starts (default: now)")
    t_add.add_argument("--valid-until", type=iso_time, help="ISO time it ends (default: until a later price)")
    t_add.set_defaults(handler=cmd_tariff_add)
    t_remove = tariff.add_parser("remove", help="remove a tariff by id (see tariff list)")
    t_remove.add_argument("id", type=int)
    t_remove.set_defaults(handler=cmd_tariff_remove)
    t_import = tariff.add_parser("import", help="add the tariffs of a CSV price list, all or none")
    t_import.add_argument("csv", help="the CSV file ('-' reads standard input)")
    t_import.set_defaults(handler=cmd_tariff_import)
    t_retries = tariff.add_parser("retries", help="whether a connection's operator bills every attempt")
    t_retries.add_argument("connection")
    t_retries.add_argument("billed", choices=("yes", "no"))
    t_retries.set_defaults(handler=cmd_tariff_retries)

    quota = sub.add_parser("quota", help="quotas: what users and groups may send").add_subparsers(
        dest="action", required=True)
    q_list = quota.add_parser("list", help="quotas with what they used in their current period")
    q_list.add_argument("--json", action="store_true")
    q_list.set_defaults(handler=cmd_quota_list)
    q_add = quota.add_parser("add", help="add a quota for a user or a group")
    q_add.add_argument("name")
    q_add.add_argument("limit", type=_amount, help="messages, or money with --currency")
    q_add.add_argument("--per", dest="period", required=True, choices=costs.PERIODS)
    holder = q_add.add_mutually_exclusive_group(required=True)
    holder.add_argument("--user")
    holder.add_argument("--group")
    q_add.add_argument("--currency", help="a money quota in this currency (default: a count of messages)")
    q_add.add_argument("--connection", help="count only messages through this connection")
    q_add.add_argument("--warn-at", type=int, metavar="PERCENT", help="raise a quota_warning event at this share")
    q_add.add_argument("--hold-admins", action="store_true", help="hold admins to it too (default: exempt)")
    q_add.set_defaults(handler=cmd_quota_add)
    q_remove = quota.add_parser("remove", help="remove a quota")
    q_remove.add_argument("name")
    q_remove.set_defaults(handler=cmd_quota_remove)


def _json(rows: list[dict[str, Any]]) -> str:
    return json.dumps(rows, default=str, indent=2)


def cmd_tariff_list(args: argparse.Namespace, config: Config) -> int:
    rows: list[dict[str, Any]] = with_db(config, lambda conn: call(conn, costs.list_tariffs, args.connection))
    if args.json:
        print(_json(rows))
        return 0
    for r in rows:
        size = f" up to {r['max_bytes']} bytes" if r["max_bytes"] else ""
        until = r["valid_until"].isoformat() if r["valid_until"] else "further notice"
        print(f"{r['id']:>5} {'*' if r['current'] else ' '} {r['connection']:<16} {r['channel']:<5} "
              f"{r['direction']:<3} {r['prefix'] or '(default)':<12} {r['price']:>12} {r['currency']}{size}  "
              f"from {r['valid_from'].isoformat()} until {until}")
    if not rows:
        print("no tariffs")
    return 0


def cmd_tariff_add(args: argparse.Namespace, config: Config) -> int:
    spec = costs.TariffSpec(connection=args.connection, price=args.price, currency=args.currency.upper(),
                            channel=args.channel, direction=args.direction, prefix=args.prefix,
                            max_bytes=args.max_bytes, valid_from=args.valid_from, valid_until=args.valid_until)
    tariff_id = with_db(config, lambda conn: call(conn, costs.add_tariff, Actor.cli(), spec))
    print(f"tariff {tariff_id}: {spec.channel} {spec.direction} {spec.prefix or '(default)'} on {spec.connection} "
          f"at {spec.price} {spec.currency}")
    return 0


def cmd_tariff_remove(args: argparse.Namespace, config: Config) -> int:
    with_db(config, lambda conn: call(conn, costs.remove_tariff, Actor.cli(), args.id))
    print(f"tariff {args.id} removed")
    return 0


def cmd_tariff_import(args: argparse.Namespace, config: Config) -> int:
    text = sys.stdin.read() if args.csv == "-" else Path(args.csv).read_text(encoding="utf-8-sig")

    def load(conn: psycopg.Connection[Any]) -> int:
        return call(conn, costs.import_tariffs, Actor.cli(), text)

    count = with_db(config, load)
    print(f"{count} tariffs imported")
    return 0


def cmd_tariff_retries(args: argparse.Namespace, config: Config) -> int:
    billed = args.billed == "yes"
    with_db(config, lambda conn: call(conn, costs.set_bill_retries, Actor.cli(), args.connection, billed))
    print(f"connection {args.connection}: retries {'are' if billed else 'are not'} billed")
    return 0


def cmd_quota_list(args: argparse.Namespace, config: Config) -> int:
    rows: list[dict[str, Any]] = with_db(config, lambda conn: call(conn, costs.list_quotas))
    if args.json:
        print(_json(rows))
        return 0
    for r in rows:
        unit = r["currency"] if r["unit"] == "money" else "messages"
        where = f" via {r['connection']}" if r["connection"] else ""
        print(f"{r['name']:<24} {r['holder_kind']} {r['holder']:<16} {r['used']:.2f} of {r['amount']} {unit} "
              f"per {r['period']}{where}")
    if not rows:
        print("no quotas")
    return 0


def cmd_quota_add(args: argparse.Namespace, config: Config) -> int:
    spec = costs.QuotaSpec(name=args.name, amount=args.limit, period=args.period, user=args.user, group=args.group,
                           connection=args.connection, currency=args.currency.upper() if args.currency else None,
                           warn_percent=args.warn_at, admins_exempt=not args.hold_admins)
    with_db(config, lambda conn: call(conn, costs.add_quota, Actor.cli(), spec))
    print(f"quota {args.name!r}: {args.limit} {spec.currency or 'messages'} per {args.period}")
    return 0


def cmd_quota_remove(args: argparse.Namespace, config: Config) -> int:
    with_db(config, lambda conn: call(conn, costs.remove_quota, Actor.cli(), args.name))
    print(f"quota {args.name!r} removed")
    return 0
