"""`msghub gammu enable|disable`: Gammu SMSD's tables over msghub (docs/GAMMU.md);
`msghub webhook add|list|remove|retry`: webhooks (docs/API.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from msghub.app.clidb import audit, with_db
from msghub.gateway import forms, gammu
from msghub.gateway.queries import GATEWAY_QUERIES
from msghub.gateway.webhooks import EVENTS, new_secret
from msghub.hub.config import Config
from msghub.hub.queries import QUERIES
from msghub.rules.http_fetch import url_problem


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

    form = sub.add_parser("form", help="branded public send forms at /g/SLUG").add_subparsers(
        dest="action", required=True)
    f_set = form.add_parser("set", help="create or change a send form")
    f_set.add_argument("slug")
    f_set.add_argument("--title", required=True)
    f_set.add_argument("--owner", required=True, help="the user its messages are sent as")
    f_set.add_argument("--intro", default="", help="the text above the form")
    f_set.add_argument("--footer", default="", help="the text under the form")
    f_set.add_argument("--sent-text", default="", help="the text shown after a send")
    f_set.add_argument("--channel", action="append", choices=forms.CHANNELS,
                       help="a channel the form may send (repeat; default sms)")
    f_set.add_argument("--colour", default="#1f6feb")
    f_set.add_argument("--background", default="#ffffff")
    f_set.add_argument("--logo", type=Path, help="a PNG, JPEG or GIF file (checked by its content)")
    f_set.add_argument("--login", choices=forms.LOGINS, default="code")
    f_set.add_argument("--code-stdin", action="store_true", help="read the access code from standard input")
    f_set.add_argument("--prefix", action="append", default=[], help="allowed recipient prefix (repeat)")
    f_set.add_argument("--connection")
    f_set.add_argument("--sender")
    f_set.add_argument("--rate", type=int, default=10, help="sends per client address and hour")
    f_set.set_defaults(handler=cmd_form_set)

    hook = sub.add_parser("webhook", help="webhooks: signed HTTP calls for events").add_subparsers(
        dest="action", required=True)
    add = hook.add_parser("add", help="register a URL; prints the signing secret once")
    add.add_argument("url")
    add.add_argument("--events", default=",".join(EVENTS), help=f"comma-separated: {', '.join(EVENTS)}")
    add.add_argument("--user", help="only this user's messages (default: every message and connection)")
    add.add_argument("--allow-private", action="store_true",
                     help="may call private, local or reserved addresses (the hub's own network)")
    add.set_defaults(handler=cmd_webhook_add)
    hook.add_parser("list", help="webhooks with pending and parked deliveries and the last error").set_defaults(
        handler=cmd_webhook_list)
    remove = hook.add_parser("remove", help="remove a webhook and its deliveries")
    remove.add_argument("id", type=int)
    remove.set_defaults(handler=cmd_webhook_remove)
    retry = hook.add_parser("retry", help="deliver a webhook's parked deliveries again")
    retry.add_argument("id", type=int)
    retry.set_defaults(handler=cmd_webhook_retry)


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


def cmd_webhook_add(args: argparse.Namespace, config: Config) -> int:
    events = sorted({e.strip() for e in args.events.split(",") if e.strip()})
    unknown = [e for e in events if e not in EVENTS]
    problem = url_problem(args.url)
    if unknown or not events or problem:
        print(f"error: {problem or 'unknown events: ' + ', '.join(unknown or ['none given'])}")
        return 2
    secret = new_secret()

    def act(conn: Any) -> int | None:
        owner = None
        if args.user:
            row = conn.execute(QUERIES["user_by_name"], {"username": args.user}).fetchone()
            if row is None:
                return None
            owner = row["id"]
        row = conn.execute(GATEWAY_QUERIES["webhook_insert"], {
            "url": args.url, "events": events, "secret": secret, "owner_user_id": owner,
            "allow_private": args.allow_private}).fetchone()
        audit(conn, "cli", "webhook.add", args.url, {"events": events, "user": args.user})
        return int(row["id"])

    webhook_id = with_db(config, act)
    if webhook_id is None:
        print(f"error: no user {args.user!r}")
        return 2
    print(f"webhook {webhook_id}: {args.url} ({', '.join(events)})")
    print(f"signing secret (shown once): {secret}")
    return 0


def cmd_webhook_list(args: argparse.Namespace, config: Config) -> int:
    rows = with_db(config, lambda conn: conn.execute(GATEWAY_QUERIES["webhooks_of"], {"owner_user_id": None})
                   .fetchall())
    if not rows:
        print("no webhooks: msghub webhook add URL")
    for r in rows:
        flags = ("" if r["enabled"] else " disabled") + (" private-ok" if r["allow_private"] else "")
        print(f"{r['id']:>5} {r['url']} [{','.join(r['events'])}] pending {r['pending']} parked {r['parked']}{flags}")
        if r["last_error"]:
            print(f"      last error: {r['last_error']}")
    return 0


def cmd_webhook_remove(args: argparse.Namespace, config: Config) -> int:
    found = with_db(config, lambda conn: conn.execute(GATEWAY_QUERIES["webhook_delete"], {
        "id": args.id, "owner_user_id": None}).fetchone())
    print(f"webhook {args.id} removed" if found else f"error: no webhook {args.id}")
    return 0 if found else 2


def cmd_webhook_retry(args: argparse.Namespace, config: Config) -> int:
    count = with_db(config, lambda conn: conn.execute(GATEWAY_QUERIES["webhook_retry_parked"], {"id": args.id})
                    .rowcount)
    print(f"{count} parked deliveries of webhook {args.id} queued again")
    return 0


def cmd_form_set(args: argparse.Namespace, config: Config) -> int:
    try:
        logo = args.logo.read_bytes() if args.logo else None
        params = {
            "slug": forms.slug(args.slug), "title": args.title, "intro": forms.text(args.intro, "--intro"),
            "footer": forms.text(args.footer, "--footer"), "sent_text": forms.text(args.sent_text, "--sent-text"),
            "channels": forms.channels(args.channel or ["sms"]),
            "colour": forms.colour(args.colour), "background": forms.colour(args.background),
            "logo": logo, "logo_type": forms.logo_type(logo) if logo is not None else None,
            "connection": args.connection, "sender": args.sender, "allowed_prefixes": args.prefix,
            "login": args.login, "rate_per_hour": args.rate,
            "code_sha256": forms.code_digest(sys.stdin.readline().strip()) if args.code_stdin else None,
        }
    except (forms.FormError, OSError) as exc:
        print(f"error: {exc}")
        return 2
    if args.login == "code" and params["code_sha256"] is None:
        print("error: --login code needs --code-stdin")
        return 2

    def act(conn: Any) -> bool:
        row = conn.execute(QUERIES["user_by_name"], {"username": args.owner}).fetchone()
        if row is None:
            return False
        conn.execute(GATEWAY_QUERIES["form_upsert"], {**params, "owner_user_id": row["id"]})
        audit(conn, "cli", "form.set", args.slug, {"login": args.login})
        return True

    if not with_db(config, act):
        print(f"error: no user {args.owner!r}")
        return 2
    print(f"send form /g/{args.slug} ready ({args.login})")
    return 0
