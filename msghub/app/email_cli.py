"""`msghub email check NAME`: fetch a pop3 connection's mailbox now
(services.mailbox, as the connections page's Check now button does)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from msghub.app.clidb import with_db
from msghub.app.runtime import make_pool, open_database
from msghub.errors import ConfigError
from msghub.hub.config import Config
from msghub.services.blocking import call
from msghub.services.connections import ConnectionRow, get_connection
from msghub.services.mailbox import MailboxCheck, can_check, check_mailbox
from msghub.services.tx import Actor


def add_parsers(sub: Any) -> None:
    email = sub.add_parser("email", help="e-mail connections: fetch a mailbox now").add_subparsers(
        dest="action", required=True)
    check = email.add_parser("check", help="fetch a pop3 connection's mailbox now and say what was stored")
    check.add_argument("name", help="the pop3 connection")
    check.set_defaults(handler=cmd_email_check)


def cmd_email_check(args: argparse.Namespace, config: Config) -> int:
    row: ConnectionRow = with_db(config, lambda conn: call(conn, get_connection, args.name))
    if not can_check(row):
        raise ConfigError(f"no pop3 connection named {args.name!r}")

    async def check(url: str) -> MailboxCheck:
        pool = make_pool(url, max_size=2)  # one for the audit's transaction, one for the fetch
        await pool.open()
        try:
            async with pool.connection() as conn:
                return await check_mailbox(conn, Actor.cli(), row, pool)
        finally:
            await pool.close()

    with open_database(config) as db:
        result = asyncio.run(check(db.url))
    if result.summary is None:
        print(f"failed: {result.detail}", file=sys.stderr)
        return 1
    print(json.dumps(vars(result.summary)))
    return 0
