"""The msghub command line. A user error is one line and exit status 2;
nothing a person types should end in a traceback."""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import getpass
import json
import logging
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from msghub.app.clidb import audit, iso_time, with_db
from msghub.app.email_cli import add_parsers as add_email_parsers
from msghub.app.runtime import ROLES, open_database, prepare, serve
from msghub.errors import ConfigError, HubError
from msghub.hub.config import Config
from msghub.hub.db import connect, redact
from msghub.hub.logformat import configure_logging
from msghub.hub.queries import QUERIES
from msghub.services import access
from msghub.services import connections as connection_service
from msghub.services.accounts import change_password, create_user, find_user
from msghub.services.blocking import call
from msghub.services.connections import (
    ConnectionRow,
    add_connection,
    edit_connection,
    get_connection,
    remove_connection,
    set_enabled,
)
from msghub.services.groups import set_membership_by_name
from msghub.services.tx import Actor
from msghub.services.users import ROLES as USER_ROLES
from msghub.services.users import random_password

EXIT_USER_ERROR = 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and not getattr(args, "accepts_settings", False):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.settings = parse_settings(extra) if extra else {}
    try:
        config = Config.from_env()
        configure_logging(config.log_level, config.log_format)
        for noisy in ("pgserver", "apscheduler", "alembic", "httpx"):
            logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))
        handler: Callable[[argparse.Namespace, Config], int | None] = args.handler
        return handler(args, config) or 0
    except HubError as exc:
        print(f"msghub: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except psycopg.Error as exc:
        print(f"msghub: database error: {str(exc).strip().splitlines()[0]}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        return 130


def parse_settings(extra: list[str]) -> dict[str, str]:
    """Turns `--host h --port 1 --tls` into {"host": "h", "port": "1", "tls": "true"}."""
    settings: dict[str, str] = {}
    i = 0
    while i < len(extra):
        item = extra[i]
        if not item.startswith("--") or len(item) == 2:
            raise SystemExit(f"msghub: unexpected argument {item!r}: settings are given as --name value")
        name, eq, value = item[2:].partition("=")
        if not eq:
            if i + 1 < len(extra) and not extra[i + 1].startswith("--"):
                value = extra[i + 1]
                i += 1
            else:
                value = "true"
        settings[name.replace("-", "_")] = value
        i += 1
    return settings


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="msghub", description="Unified SMS, MMS and e-mail server on PostgreSQL.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run the hub (embedded PostgreSQL unless MSGHUB_DATABASE_URL is set)")
    run.add_argument("--only", default=",".join(ROLES), help=f"comma-separated roles: {', '.join(ROLES)}")
    run.add_argument("--demo", action="store_true", help="add a loopback demo connection and send a message round")
    run.set_defaults(handler=cmd_run)

    mig = sub.add_parser("migrate", help="create or upgrade the database schema (idempotent)")
    mig.set_defaults(handler=cmd_migrate)

    status = sub.add_parser("status", help="connections, queue depth and last errors")
    status.add_argument("--json", action="store_true", help="print JSON")
    status.set_defaults(handler=cmd_status)

    user = sub.add_parser("user", help="manage local accounts").add_subparsers(dest="action", required=True)
    u_add = user.add_parser("add", help="add a user; prints a random password unless --password-stdin")
    u_add.add_argument("username")
    u_add.add_argument("--role", default="user", choices=USER_ROLES)
    u_add.add_argument("--display-name", default="")
    u_add.add_argument("--email")
    u_add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    u_add.set_defaults(handler=cmd_user_add)
    u_pw = user.add_parser("passwd", help="set a user's password (prompted, or --password-stdin)")
    u_pw.add_argument("username")
    u_pw.add_argument("--password-stdin", action="store_true")
    u_pw.set_defaults(handler=cmd_user_passwd)
    u_list = user.add_parser("list", help="list users")
    u_list.set_defaults(handler=cmd_user_list)

    group = sub.add_parser("group", help="manage groups").add_subparsers(dest="action", required=True)
    g_add = group.add_parser("add", help="add a group")
    g_add.add_argument("name")
    g_add.add_argument("--description", default="")
    g_add.set_defaults(handler=cmd_group)
    g_rm = group.add_parser("remove", help="remove a group (its rows become unassigned)")
    g_rm.add_argument("name")
    g_rm.set_defaults(handler=cmd_group)
    g_list = group.add_parser("list", help="list groups with their members")
    g_list.set_defaults(handler=cmd_group)
    for action in ("join", "leave"):
        g_m = group.add_parser(action, help=f"{action} a group: msghub group {action} GROUP USER")
        g_m.add_argument("name")
        g_m.add_argument("username")
        g_m.set_defaults(handler=cmd_group)

    integ = sub.add_parser("integrator", help="database logins for SQL integrators").add_subparsers(
        dest="action", required=True)
    i_add = integ.add_parser("add", help="create a login that sees what a hub user or group sees")
    i_add.add_argument("login")
    i_add.add_argument("--user", help="the hub user it acts as")
    i_add.add_argument("--group", help="the hub group it acts for")
    i_add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    i_add.set_defaults(handler=cmd_integrator)
    i_rm = integ.add_parser("remove", help="drop an integrator login")
    i_rm.add_argument("login")
    i_rm.set_defaults(handler=cmd_integrator)
    i_list = integ.add_parser("list", help="list integrator logins")
    i_list.set_defaults(handler=cmd_integrator)

    message = sub.add_parser("message", help="act on messages").add_subparsers(dest="action", required=True)
    m_assign = message.add_parser("assign", help="assign a message to a user or group (neither: to nobody)")
    m_assign.add_argument("message_id", type=int)
    m_assign.add_argument("--user")
    m_assign.add_argument("--group")
    m_assign.set_defaults(handler=cmd_message_assign)

    conn = sub.add_parser("connection", help="manage connections").add_subparsers(dest="action", required=True)
    c_add = conn.add_parser("add", help="add a connection: NAME --kind KIND [--SETTING VALUE ...]")
    c_add.add_argument("name")
    c_add.add_argument("--kind", required=True, help=f"one of: {', '.join(connection_service.kinds())}")
    c_add.add_argument("--disabled", action="store_true", help="add it disabled")
    c_add.add_argument("--default", action="store_true", help="route its channels here when nothing else matches")
    c_add.add_argument("--max-attempts", type=int, default=5, help="send attempts before a message fails")
    c_add.set_defaults(handler=cmd_connection_add, accepts_settings=True)
    c_edit = conn.add_parser("edit", help="change settings: msghub connection edit NAME --SETTING VALUE ...")
    c_edit.add_argument("name")
    c_edit.add_argument("--max-attempts", type=int)
    c_edit.add_argument("--default", choices=("yes", "no"), help="make it (or stop it being) the default")
    c_edit.set_defaults(handler=cmd_connection_edit, accepts_settings=True)
    for action, helptext in (("show", "show one connection"), ("enable", "enable a connection"),
                             ("disable", "disable a connection (queued messages wait)")):
        p = conn.add_parser(action, help=helptext)
        p.add_argument("name")
        p.set_defaults(handler=cmd_connection_simple)
    c_rm = conn.add_parser("remove", help="remove a connection")
    c_rm.add_argument("name")
    c_rm.add_argument("--force", action="store_true", help="even with queued messages (they fail)")
    c_rm.set_defaults(handler=cmd_connection_remove)
    for action, helptext in (("allow", "let a user or group send through a connection (then only those may)"),
                             ("disallow", "take a user's or group's permission away")):
        c_perm = conn.add_parser(action, help=helptext)
        c_perm.add_argument("name")
        c_perm.add_argument("--user")
        c_perm.add_argument("--group")
        c_perm.set_defaults(handler=cmd_connection_permission)
    c_list = conn.add_parser("list", help="list connections")
    c_list.set_defaults(handler=cmd_connection_list)
    c_test = conn.add_parser("test", help="test a connection: reach its far side with its settings, then close")
    c_test.add_argument("name")
    c_test.set_defaults(handler=cmd_connection_test)
    c_kinds = conn.add_parser("kinds", help="list connection kinds and their settings")
    c_kinds.set_defaults(handler=cmd_connection_kinds)

    from msghub.rules.cli import add_parsers as add_rule_parsers

    add_rule_parsers(sub)
    from msghub.rules.dispatch_cli import add_parsers as add_dispatch_parsers

    add_dispatch_parsers(sub)
    from msghub.app.gateway_cli import add_parsers as add_gateway_parsers

    add_gateway_parsers(sub)

    send = sub.add_parser("send", help="queue a message through hub.outbox")
    send.add_argument("text", help="the message text ('-' reads standard input)")
    send.add_argument("--to", action="append", required=True, help="recipient (repeat for several)")
    send.add_argument("--channel", default="sms", choices=("sms", "mms", "email"))
    send.add_argument("--connection", help="connection name (default: routing decides)")
    send.add_argument("--from", dest="sender", help="sender number, name or address")
    send.add_argument("--subject")
    send.add_argument("--attach", action="append", default=[], type=Path, help="file to attach (mms, email)")
    send.add_argument("--send-at", type=iso_time, help="ISO time to send at (deferred sending)")
    send.add_argument("--valid-for", type=int, metavar="MINUTES", help="give up after this many minutes")
    send.add_argument("--delivery-report", action="store_true", help="ask for a delivery report")
    send.add_argument("--priority", type=int, default=1, choices=(0, 1, 2, 3))
    send.add_argument("--transliterate", action="store_true", help="replace non-GSM characters to stay 7-bit")
    send.add_argument("--correlation-id")
    send.add_argument("--idempotency-key")
    send.set_defaults(handler=cmd_send)

    from msghub.app.sites_cli import add_parsers as add_site_parsers

    add_site_parsers(sub)
    from msghub.app.costs_cli import add_parsers as add_costs_parsers

    add_costs_parsers(sub)
    from msghub.devtools.cli import add_parsers as add_devtools_parsers

    add_devtools_parsers(sub)
    from msghub.app.modem import add_parsers as add_modem_parsers

    add_modem_parsers(sub)
    add_email_parsers(sub)

    codec = sub.add_parser("codec", help="encode and decode protocol data").add_subparsers(dest="codec", required=True)
    sms = codec.add_parser("sms", help="SMS encoding").add_subparsers(dest="op", required=True)
    split = sms.add_parser("split", help="show encoding, parts and segment count of a text")
    split.add_argument("text")
    split.add_argument("--transliterate", action="store_true")
    split.add_argument("--json", action="store_true")
    split.set_defaults(handler=cmd_codec_sms_split)
    ucp = codec.add_parser("ucp", help="EMI/UCP frames").add_subparsers(dest="op", required=True)
    decode = ucp.add_parser("decode", help="decode a frame (with or without STX/ETX) to JSON")
    decode.add_argument("frame")
    decode.set_defaults(handler=cmd_codec_ucp_decode)
    encode = ucp.add_parser("encode", help="encode the JSON of `decode` (on standard input) to a frame")
    encode.set_defaults(handler=cmd_codec_ucp_encode)
    from msghub.mms.cli import add_parsers as add_mms_parsers

    add_mms_parsers(codec)
    from msghub.sms.cli import add_parsers as add_pdu_parsers

    add_pdu_parsers(codec)
    return parser


def _with_db(config: Config, fn: Callable[[psycopg.Connection[Any]], int | None]) -> int | None:
    result: int | None = with_db(config, fn)
    return result


def _with_db_value(config: Config, fn: Callable[[psycopg.Connection[Any]], Any]) -> Any:
    return with_db(config, fn)


def cmd_run(args: argparse.Namespace, config: Config) -> int:
    roles = tuple(r.strip() for r in args.only.split(",") if r.strip())
    unknown = [r for r in roles if r not in ROLES]
    if unknown or not roles:
        raise ConfigError(f"unknown role {unknown[0] if unknown else '(none)'!r}: use {', '.join(ROLES)}")
    with open_database(config) as db, contextlib.ExitStack() as stack:
        first_admin = prepare(config, db.url)
        on_ready = None
        if args.demo:
            from msghub.app.demo import demo_smsc, ensure_demo_connection, make_round_trip

            simulator, password = demo_smsc()
            smsc = stack.enter_context(simulator)
            with connect(db.url) as conn:
                ensure_demo_connection(conn, smsc.port, password)
                conn.commit()
            on_ready = make_round_trip(smsc)
            print(f"msghub: demo SMSC simulator (EMI) on 127.0.0.1:{smsc.port}", flush=True)
        print(f"msghub: database {redact(db.url)}{' (embedded)' if db.embedded else ''}", flush=True)
        if "web" in roles:
            print(f"msghub: web app on http://{config.http_host}:{config.http_port}/", flush=True)
        if first_admin.generated_password:
            print("msghub: created the first admin account. Shown once, keep it safe:", flush=True)
            print(f"msghub:   user name: admin    password: {first_admin.generated_password}", flush=True)
        elif first_admin.created:  # the operator's own choice: never echoed into logs
            print("msghub: created the first admin account (user name: admin) with the password in"
                  " MSGHUB_ADMIN_PASSWORD", flush=True)
        asyncio.run(serve(config, db.url, roles, on_ready))
    return 0


def cmd_migrate(args: argparse.Namespace, config: Config) -> int:
    from msghub.hub.migrate import migrate

    with open_database(config) as db:
        before, after = migrate(db.url)
    print(f"schema at {after}" + (" (already)" if before == after else f" (was {before or 'empty'})"))
    return 0


def cmd_status(args: argparse.Namespace, config: Config) -> int:
    def show(conn: psycopg.Connection[Any]) -> None:
        connections = conn.execute(QUERIES["connection_status"]).fetchall()
        depth = {r["status"]: r["messages"] for r in conn.execute(QUERIES["queue_depth"]).fetchall()}
        if args.json:
            print(json.dumps({"connections": connections, "queue": depth}, default=str, indent=2))
            return
        print(f"queue: {depth.get('queued', 0)} queued, {depth.get('sending', 0)} sending")
        for c in connections:
            state = c["state"] + ("" if c["enabled"] else " (disabled)")
            print(f"{c['name']:<20} {c['kind']:<10} {state:<18} queued {c['queued']:<6} "
                  f"node {c['node'] or '-'}" + (f" (no node: {c['no_node_reason']})" if c["no_node_reason"] else ""))
            if c["last_error"]:
                print(f"{'':<20} last error at {c['last_error_at']:%Y-%m-%d %H:%M:%S}: {c['last_error']}")
    _with_db(config, show)
    return 0


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("New password: ")
    if first != getpass.getpass("Again: "):
        raise HubError("the two passwords differ")
    return first


def cmd_user_add(args: argparse.Namespace, config: Config) -> int:
    password = _read_password(True) if args.password_stdin else random_password()

    def add(conn: psycopg.Connection[Any]) -> None:
        call(conn, create_user, Actor.cli(), args.username, password, role=args.role,
             display_name=args.display_name, email=args.email)
    _with_db(config, add)
    print(f"added {args.role} {args.username}")
    if not args.password_stdin:
        print(f"password (shown once): {password}")
    return 0


def cmd_user_passwd(args: argparse.Namespace, config: Config) -> int:
    password = _read_password(args.password_stdin)

    def change(conn: psycopg.Connection[Any]) -> None:
        call(conn, change_password, Actor.cli(), call(conn, find_user, args.username), password)
    _with_db(config, change)
    print(f"password of {args.username} changed")
    return 0


def cmd_user_list(args: argparse.Namespace, config: Config) -> int:
    def show(conn: psycopg.Connection[Any]) -> None:
        for u in conn.execute(QUERIES["list_users"]).fetchall():
            flags = "" if u["enabled"] else " (disabled)"
            print(f"{u['username']:<24} {u['role']:<11} {u['auth_source']:<6} "
                  f"groups: {', '.join(u['groups']) or '-'}{flags}")
    _with_db(config, show)
    return 0


def _describe(row: ConnectionRow) -> str:
    kind = connection_service.kind(row["kind"])
    lines = [f"{row['name']} ({row['kind']}, carries {', '.join(row['channels'])})",
             f"  enabled: {'yes' if row['enabled'] else 'no'}   default: {'yes' if row['is_default'] else 'no'}"
             f"   max attempts: {row['max_attempts']}",
             f"  state: {row['state']} since {row['state_since']:%Y-%m-%d %H:%M:%S}"
             + (f" on {row['node']}" if row["node"] else "")]
    if row["last_error"]:
        lines.append(f"  last error: {row['last_error']}")
    for key, value in sorted(connection_service.masked(kind.settings, row["config"], "***").items()):
        lines.append(f"  {key}: {value}")
    return "\n".join(lines)


def cmd_group(args: argparse.Namespace, config: Config) -> int:
    def act(conn: psycopg.Connection[Any]) -> None:
        if args.action == "list":
            for g in conn.execute(QUERIES["list_groups"]).fetchall():
                print(f"{g['name']:<24} members: {', '.join(g['members']) or '-'}")
            return
        if args.action in ("join", "leave"):
            call(conn, set_membership_by_name, Actor.cli(), args.username, args.name, member=args.action == "join")
        else:
            if args.action == "add":
                access.add_group(conn, args.name, args.description)
            else:
                access.remove_group(conn, args.name)
            audit(conn, getpass.getuser(), f"group.{args.action}", args.name, {"user": None})
        print(f"group {args.name}: {args.action} done")
    _with_db(config, act)
    return 0


def cmd_integrator(args: argparse.Namespace, config: Config) -> int:
    password = None
    if args.action == "add":
        password = _read_password(True) if args.password_stdin else random_password()

    def act(conn: psycopg.Connection[Any]) -> None:
        if args.action == "list":
            for i in call(conn, access.integrator_logins):
                acts_as = f"user {i['username']}" if i["username"] else f"group {i['group_name']}"
                print(f"{i['role_name']:<24} acts as {acts_as}")
            return
        if args.action == "add":
            assert password is not None
            access.add_integrator(conn, args.login, password, username=args.user, group=args.group)
        else:
            access.remove_integrator(conn, args.login)
        audit(conn, getpass.getuser(), f"integrator.{args.action}", args.login,
              {"user": getattr(args, "user", None), "group": getattr(args, "group", None)})
    _with_db(config, act)
    if args.action == "add":
        print(f"integrator login {args.login} created")
        if not args.password_stdin:
            print(f"password (shown once): {password}")
    elif args.action == "remove":
        print(f"integrator login {args.login} removed")
    return 0


def cmd_message_assign(args: argparse.Namespace, config: Config) -> int:
    def act(conn: psycopg.Connection[Any]) -> None:
        access.assign(conn, args.message_id, username=args.user, group=args.group, actor=getpass.getuser())
        print(f"message {args.message_id} assigned to {args.user or args.group or 'nobody'}")
    _with_db(config, act)
    return 0


def cmd_connection_permission(args: argparse.Namespace, config: Config) -> int:
    def act(conn: psycopg.Connection[Any]) -> None:
        row = call(conn, get_connection, args.name)
        access.grant_connection(conn, row["id"], username=args.user, group=args.group, allow=args.action == "allow")
        audit(conn, getpass.getuser(), f"connection.{args.action}", args.name, {"user": args.user, "group": args.group})
        print(f"connection {args.name}: {args.action} {args.user or args.group}")
    _with_db(config, act)
    return 0


def cmd_connection_add(args: argparse.Namespace, config: Config) -> int:
    def add(conn: psycopg.Connection[Any]) -> None:
        call(conn, add_connection, Actor.cli(), args.name, args.kind, args.settings, enabled=not args.disabled,
             is_default=args.default, max_attempts=args.max_attempts)
        print(_describe(call(conn, get_connection, args.name)))
    _with_db(config, add)
    return 0


def cmd_connection_edit(args: argparse.Namespace, config: Config) -> int:
    def edit(conn: psycopg.Connection[Any]) -> None:
        default = None if args.default is None else args.default == "yes"
        row = call(conn, get_connection, args.name)
        print(_describe(call(conn, edit_connection, Actor.cli(), row, args.settings, is_default=default,
                             max_attempts=args.max_attempts)))
    _with_db(config, edit)
    return 0


def cmd_connection_simple(args: argparse.Namespace, config: Config) -> int:
    def act(conn: psycopg.Connection[Any]) -> None:
        row = call(conn, get_connection, args.name)
        if args.action == "show":
            print(_describe(row))
            return
        call(conn, set_enabled, Actor.cli(), row, args.action == "enable")
        print(f"connection {args.name} {args.action}d")
    _with_db(config, act)
    return 0


def cmd_connection_remove(args: argparse.Namespace, config: Config) -> int:
    def rm(conn: psycopg.Connection[Any]) -> None:
        call(conn, remove_connection, Actor.cli(), call(conn, get_connection, args.name), force=args.force)
        print(f"connection {args.name} removed")
    _with_db(config, rm)
    return 0


def cmd_connection_test(args: argparse.Namespace, config: Config) -> int:
    """Probes outside the transaction (it waits on the far side), then records it."""
    row: ConnectionRow = _with_db_value(config, lambda conn: call(conn, get_connection, args.name))
    result = asyncio.run(connection_service.probe(row["kind"], row["config"]))
    _with_db(config, lambda conn: audit(conn, getpass.getuser(), "connection.test", args.name,
                                        {"worked": result.ok, "detail": result.detail}))
    print(f"{'worked' if result.ok else 'failed'}: {result.detail}")
    return 0 if result.ok else 1


def cmd_connection_list(args: argparse.Namespace, config: Config) -> int:
    def show(conn: psycopg.Connection[Any]) -> None:
        rows = conn.execute(QUERIES["list_connections"]).fetchall()
        if not rows:
            print("no connections (add one: msghub connection add NAME --kind loopback)")
        for r in rows:
            flags = ("" if r["enabled"] else " disabled") + (" default" if r["is_default"] else "")
            print(f"{r['name']:<20} {r['kind']:<10} {r['state']:<10}{flags}")
    _with_db(config, show)
    return 0


def cmd_connection_kinds(args: argparse.Namespace, config: Config) -> int:
    for name, kind in connection_service.kinds().items():
        print(f"{name}: {kind.description} (carries {', '.join(kind.channels)})")
        for s in kind.settings:
            extra = " (required)" if s.required else f" (default {s.default!r})"
            print(f"  --{s.name.replace('_', '-')} {s.type.__name__}: {s.help}{extra}")
    return 0


def cmd_send(args: argparse.Namespace, config: Config) -> int:
    text = sys.stdin.read() if args.text == "-" else args.text
    attachments = []
    for path in args.attach:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise HubError(f"cannot read attachment {path}: {exc.strerror}") from None
        import mimetypes

        attachments.append({"filename": path.name, "content_type": mimetypes.guess_type(path.name)[0]
                            or "application/octet-stream", "data": base64.b64encode(data).decode()})
    valid_until = (datetime.now(UTC) + timedelta(minutes=args.valid_for)) if args.valid_for else None

    def queue(conn: psycopg.Connection[Any]) -> None:
        try:
            row = conn.execute(QUERIES["queue_message_full"], {
                "channel": args.channel, "recipients": args.to, "sender": args.sender, "subject": args.subject,
                "text": text, "attachments": Jsonb(attachments) if attachments else None,
                "connection": args.connection, "send_at": args.send_at, "valid_until": valid_until,
                "delivery_report": args.delivery_report, "priority": args.priority,
                "transliterate": args.transliterate, "correlation_id": args.correlation_id,
                "idempotency_key": args.idempotency_key}).fetchone()
        except psycopg.errors.InvalidParameterValue as exc:
            raise HubError(str(exc.diag.message_primary)) from None
        if row is None:
            print(f"already queued with idempotency key {args.idempotency_key!r}: nothing new queued")
            return
        ids = [r["id"] for r in conn.execute(QUERIES["outbox_messages"], {"id": row["id"]}).fetchall()]
        print(f"queued {len(ids)} message(s): {', '.join(map(str, ids))}")
    _with_db(config, queue)
    return 0


def cmd_codec_sms_split(args: argparse.Namespace, config: Config) -> int:
    from msghub.sms.cli import split_command

    print(split_command(args.text, args.transliterate, args.json))
    return 0


def cmd_codec_ucp_decode(args: argparse.Namespace, config: Config) -> int:
    from msghub.connectors.emi.cli import decode_command

    print(decode_command(args.frame))
    return 0


def cmd_codec_ucp_encode(args: argparse.Namespace, config: Config) -> int:
    from msghub.connectors.emi.cli import encode_command

    print(encode_command(sys.stdin.read()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
