"""`msghub rules ...` and `msghub poll ...`: rules, rule tests and polls
from the command line."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg

from msghub.app.clidb import with_db
from msghub.errors import HubError
from msghub.hub.config import Config
from msghub.rules.events import EVENT_TYPES
from msghub.rules.queries import STORE_QUERIES

Conn = psycopg.Connection[Any]
EXIT_TESTS_FAILED = 1


def add_parsers(sub: Any) -> None:
    rules = sub.add_parser("rules", help="rules: list, add, enable, test, log").add_subparsers(
        dest="action", required=True
    )
    r_list = rules.add_parser("list", help="list rules in the order they run")
    r_list.set_defaults(handler=cmd_rules_list)
    r_add = rules.add_parser("add", help="add or replace a rule from a JavaScript file (or an editor model)")
    r_add.add_argument("name")
    src = r_add.add_mutually_exclusive_group(required=True)
    src.add_argument("--file", type=Path, help="the rule's JavaScript ('-' reads standard input)")
    src.add_argument("--model", type=Path, help="a rule editor model (JSON), compiled to JavaScript")
    r_add.add_argument(
        "--events",
        default="message_received",
        help=f"comma-separated event types it runs for: {', '.join(EVENT_TYPES)}",
    )
    r_add.add_argument("--position", type=int, help="rules run in ascending position (default: last)")
    r_add.add_argument("--stop", action="store_true", help="no later rule runs after this one")
    r_add.add_argument("--disabled", action="store_true")
    r_add.set_defaults(handler=cmd_rules_add)
    for action in ("enable", "disable", "remove"):
        p = rules.add_parser(action, help=f"{action} a rule")
        p.add_argument("name")
        p.set_defaults(handler=cmd_rules_simple)
    r_load = rules.add_parser("load", help="load NAME.js, NAME.rule.json and NAME.tests.json files from a directory")
    r_load.add_argument("directory", type=Path)
    r_load.set_defaults(handler=cmd_rules_load)
    r_test = rules.add_parser("test", help="run the rule tests (of one rule, or all); exit 1 if any fails")
    r_test.add_argument("rule", nargs="?")
    r_test.add_argument("--json", action="store_true", help="print the results as JSON")
    r_test.set_defaults(handler=cmd_rules_test)
    r_log = rules.add_parser("log", help="what rules logged, and how they failed (newest last)")
    r_log.add_argument("rule", nargs="?")
    r_log.add_argument("--limit", type=int, default=50)
    r_log.set_defaults(handler=cmd_rules_log)

    poll = sub.add_parser("poll", help="SMS voting polls").add_subparsers(dest="action", required=True)
    p_add = poll.add_parser("create", help="create a poll and the rule that counts every received SMS as a vote")
    p_add.add_argument("name")
    p_add.add_argument("--question", required=True)
    p_add.add_argument(
        "--option",
        action="append",
        required=True,
        metavar="LABEL[:KW1,KW2]",
        help="an option and its keywords (default: the label); repeat for each option",
    )
    p_add.add_argument("--opens", type=datetime.fromisoformat, help="ISO time voting opens (default: now)")
    p_add.add_argument("--closes", type=datetime.fromisoformat, help="ISO time voting closes (default: never)")
    p_add.add_argument("--every-vote", action="store_true", help="count every vote (default: one per sender)")
    p_add.add_argument("--reply-vote", help="reply to a vote; {option} is the option's label")
    p_add.add_argument("--reply-revote", help="reply when a sender changes their vote")
    p_add.add_argument("--reply-closed", default="Sorry, voting is closed.", help="reply outside the voting time")
    p_add.add_argument("--reply-unknown", help="reply when no option matches")
    p_add.set_defaults(handler=cmd_poll_create)
    p_res = poll.add_parser("results", help="counts per option")
    p_res.add_argument("name")
    p_res.add_argument("--json", action="store_true")
    p_res.set_defaults(handler=cmd_poll_results)
    p_close = poll.add_parser("close", help="close voting now")
    p_close.add_argument("name")
    p_close.set_defaults(handler=cmd_poll_close)


def cmd_rules_list(args: argparse.Namespace, config: Config) -> int:
    def act(conn: Conn) -> None:
        rows = conn.execute(STORE_QUERIES["rules_overview"]).fetchall()
        if not rows:
            print("no rules yet: msghub rules add NAME --file rule.js")
        for r in rows:
            flags = ("" if r["enabled"] else " disabled") + (" stop" if r["stop_processing"] else "")
            print(
                f"{r['position']:>5} {r['name']:<28} {r['kind']:<10} {','.join(r['events']):<28}"
                f" tests {r['passed']}/{r['tests']}{flags}"
            )

    with_db(config, act)
    return 0


def cmd_rules_add(args: argparse.Namespace, config: Config) -> int:
    from msghub.rules.store import save_rule

    source = model = None
    if args.file is not None:
        source = sys.stdin.read() if str(args.file) == "-" else _read(args.file)
    else:
        try:
            model = json.loads(_read(args.model))
        except ValueError as exc:
            raise HubError(f"{args.model}: not valid JSON: {exc}") from None
    events = [e.strip() for e in args.events.split(",") if e.strip()]

    def act(conn: Conn) -> None:
        save_rule(
            conn,
            args.name,
            source=source,
            model=model,
            events=events,
            position=args.position,
            enabled=not args.disabled,
            stop_processing=args.stop,
        )
        print(f"rule {args.name} saved")

    with_db(config, act)
    return 0


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise HubError(f"cannot read {path}: {exc.strerror}") from None


def cmd_rules_simple(args: argparse.Namespace, config: Config) -> int:
    from msghub.rules.store import rule_id

    def act(conn: Conn) -> None:
        rid = rule_id(conn, args.name)
        if args.action == "remove":
            conn.execute(STORE_QUERIES["rule_remove"], {"id": rid})
        else:
            conn.execute(STORE_QUERIES["rule_enable"], {"enabled": args.action == "enable", "id": rid})
        print(f"rule {args.name}: {args.action}d")

    with_db(config, act)
    return 0


def cmd_rules_load(args: argparse.Namespace, config: Config) -> int:
    from msghub.rules.store import load_directory

    def act(conn: Conn) -> None:
        names = load_directory(conn, args.directory)
        print(f"loaded {len(names)} rule(s): {', '.join(names) or '-'}")

    with_db(config, act)
    return 0


def cmd_rules_test(args: argparse.Namespace, config: Config) -> int:
    from msghub.rules.store import run_stored_tests

    def act(conn: Conn) -> int:
        results = run_stored_tests(conn, args.rule)
        failed = [r for _, r in results if not r.passed]
        if args.json:
            print(json.dumps([{"rule": rule, **r.as_json()} for rule, r in results], indent=2))
        else:
            for rule, r in results:
                print(f"{'PASS' if r.passed else 'FAIL'} {rule}: {r.name}")
                for failure in r.failures:
                    print(f"     {failure}")
            print(f"{len(results) - len(failed)} passed, {len(failed)} failed" if results else "no rule tests found")
        return EXIT_TESTS_FAILED if failed else 0

    return int(with_db(config, act) or 0)


def cmd_rules_log(args: argparse.Namespace, config: Config) -> int:
    def act(conn: Conn) -> None:
        rows = conn.execute(STORE_QUERIES["rule_log_tail"], {"rule": args.rule, "limit": args.limit}).fetchall()
        for r in rows:
            print(
                f"{r['at']:%Y-%m-%d %H:%M:%S} {r['level']:<5} {r['name'] or '-'} event {r['event_id']}: {r['message']}"
            )

    with_db(config, act)
    return 0


def cmd_poll_create(args: argparse.Namespace, config: Config) -> int:
    from msghub.rules.polls import Option, create_poll

    options = [Option.parse(o) for o in args.option]

    def act(conn: Conn) -> None:
        create_poll(
            conn,
            args.name,
            args.question,
            options,
            opens_at=args.opens,
            closes_at=args.closes,
            one_vote_per_sender=not args.every_vote,
            reply_vote=args.reply_vote,
            reply_revote=args.reply_revote,
            reply_closed=args.reply_closed,
            reply_unknown=args.reply_unknown,
        )
        print(f"poll {args.name} created with {len(options)} options; its rule is 'poll: {args.name}'")

    with_db(config, act)
    return 0


def cmd_poll_results(args: argparse.Namespace, config: Config) -> int:
    from msghub.rules.polls import results

    def act(conn: Conn) -> None:
        rows = results(conn, args.name)
        if not rows:
            raise HubError(f"no poll named {args.name!r}")
        if args.json:
            print(json.dumps([{**r, "percent": float(r["percent"] or 0)} for r in rows]))
            return
        for r in rows:
            print(f"{r['label']:<24} {r['votes']:>8} {float(r['percent'] or 0):6.1f}%")

    with_db(config, act)
    return 0


def cmd_poll_close(args: argparse.Namespace, config: Config) -> int:
    def act(conn: Conn) -> None:
        row = conn.execute(STORE_QUERIES["poll_close"], {"name": args.name}).fetchone()
        if row is None:
            raise HubError(f"no poll named {args.name!r}")
        print(f"poll {args.name} closed")

    with_db(config, act)
    return 0
