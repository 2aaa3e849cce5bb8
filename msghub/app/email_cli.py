"""`msghub email check NAME` (fetch a pop3 mailbox now) and `msghub bench email`."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from msghub.errors import ConfigError
from msghub.hub.config import Config


def add_parsers(sub: Any) -> None:
    email = sub.add_parser("email", help="e-mail connections: fetch a mailbox now").add_subparsers(
        dest="action", required=True)
    check = email.add_parser("check", help="fetch a pop3 connection's mailbox now and say what was stored")
    check.add_argument("name", help="the pop3 connection")
    check.set_defaults(handler=cmd_email_check)
    bench = _subparsers(sub.choices.get("bench"))
    if bench is not None:
        b_email = bench.add_parser("email", help="e-mail through a real Postfix and back through Dovecot "
                                                 "(root; Debian's postfix, dovecot-pop3d)")
        b_email.add_argument("--messages", type=int, default=500)
        b_email.add_argument("--sessions", type=int, default=4, help="SMTP sessions at once")
        b_email.add_argument("--rate", type=float, help="mails per second offered (default: a backlog, flat out)")
        b_email.set_defaults(handler=cmd_bench_email)


def _subparsers(parser: argparse.ArgumentParser | None) -> Any:
    if parser is None:
        return None
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    return None


def cmd_email_check(args: argparse.Namespace, config: Config) -> int:
    from msghub.connectors.pop3.connector import Pop3Connector
    from msghub.connectors.settings import validate_config
    from msghub.hub.db import connect
    from msghub.hub.hublink import HubLink
    from msghub.hub.queries import QUERIES
    from msghub.hub.runtime import make_pool, open_database

    with open_database(config) as db:
        with connect(db.url) as conn:
            row = conn.execute(QUERIES["connection_by_name"], {"name": args.name}).fetchone()
        if row is None or row["kind"] != "pop3":
            raise ConfigError(f"no pop3 connection named {args.name!r}")
        settings = validate_config(Pop3Connector.settings, row["config"])

        async def fetch() -> Any:
            pool = make_pool(db.url, max_size=2)
            await pool.open()
            try:
                return await Pop3Connector(args.name, settings, HubLink(pool, row["id"], "cli")).fetch_all()
            finally:
                await pool.close()

        summary = asyncio.run(fetch())
    print(json.dumps(vars(summary)))
    return 0


def cmd_bench_email(args: argparse.Namespace, config: Config) -> int:
    from msghub.devtools.bench_email import bench_email
    from msghub.hub.runtime import open_database, prepare

    with open_database(config) as db:
        prepare(config, db.url)
        result = bench_email(db.url, args.messages, args.sessions, args.rate)
    print(json.dumps(result, indent=2))
    return 0
