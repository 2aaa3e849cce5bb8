"""`msghub gammu enable|disable`: Gammu SMSD's tables over msghub (docs/GAMMU.md)."""

from __future__ import annotations

import argparse
from typing import Any

from msghub.app.clidb import audit, with_db
from msghub.gateway import gammu
from msghub.hub.config import Config


def add_parsers(sub: Any) -> None:
    cmd = sub.add_parser("gammu", help="Gammu SMSD's SQL tables over msghub").add_subparsers(
        dest="action", required=True)
    on = cmd.add_parser("enable", help="create schema gammu: outbox, outbox_multipart, inbox, sentitems, phones")
    on.add_argument("--db-version", type=int, default=gammu.CURRENT_VERSION,
                    help=f"the version the gammu table says (Gammu checks it): {gammu.CURRENT_VERSION} for current"
                         f" Gammu, {gammu.OLDEST_VERSION} for Gammu 1.42 (Debian 12)")
    on.set_defaults(handler=cmd_enable)
    off = cmd.add_parser("disable", help="drop schema gammu and everything in it")
    off.set_defaults(handler=cmd_disable)


def cmd_enable(args: argparse.Namespace, config: Config) -> int:
    def act(conn: Any) -> None:
        gammu.enable(conn, args.db_version)
        audit(conn, "cli", "gammu.enable", None, {"version": args.db_version})

    try:
        with_db(config, act)
    except ValueError as exc:
        print(f"error: {exc}")
        return 2
    print(f"Gammu tables ready in schema gammu (version {args.db_version}); see docs/GAMMU.md")
    return 0


def cmd_disable(args: argparse.Namespace, config: Config) -> int:
    def act(conn: Any) -> None:
        gammu.disable(conn)
        audit(conn, "cli", "gammu.disable")

    with_db(config, act)
    print("schema gammu dropped")
    return 0
