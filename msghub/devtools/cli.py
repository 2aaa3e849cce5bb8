"""`msghub bench ...` and `msghub simulate ...`: the development tools'
commands. Each benchmark is a function (url, **options) -> dict that this
module runs against the configured database (migrated first) and prints as
JSON; the tools are imported only when their command runs."""

from __future__ import annotations

import argparse
import importlib
import json
from typing import Any

from msghub.hub.config import Config

# command -> (module:function, the options it takes by name)
BENCHMARKS: dict[str, tuple[str, tuple[str, ...]]] = {
    "outbox": ("msghub.devtools.bench:bench_outbox", ("messages", "rate", "concurrency", "batch", "fill")),
    "stats": ("msghub.devtools.bench:bench_stats", ("messages", "days")),
    "emi": ("msghub.devtools.bench_emi:bench_emi", ("messages", "window", "rate")),
    "rls": ("msghub.devtools.bench:bench_rls", ("messages",)),
    "web": ("msghub.devtools.bench_web:main", ("messages",)),
    "rules": ("msghub.devtools.bench_rules:bench_rules", ("messages", "rate")),
    "mms": ("msghub.devtools.bench_mms:bench_mms", ("messages", "size", "window", "via")),
    "modem": ("msghub.devtools.bench_modem:bench_modem", ("messages", "devices", "send_delay_s")),
    "email": ("msghub.devtools.bench_email:bench_email", ("messages", "sessions", "rate")),
    "chaos": ("msghub.devtools.chaos:run_chaos", ("kills", "rate", "mo_rate", "seed")),
    "api": ("msghub.devtools.bench_api:bench_api", ("requests", "concurrency")),
    "kannel": ("msghub.devtools.bench_kannel:bench_kannel", ("messages", "window")),
    "memory": ("msghub.devtools.bench_memory:bench_memory", ("queued", "seconds")),
}


def add_parsers(sub: Any) -> None:
    bench = sub.add_parser("bench", help="benchmarks that print JSON").add_subparsers(dest="what", required=True)
    b_out = bench.add_parser("outbox", help="hub.outbox insert to sent through a loopback connection")
    b_out.add_argument("--messages", type=int, default=5000)
    b_out.add_argument("--rate", type=float, help="messages per second offered (default: as fast as possible)")
    b_out.add_argument("--concurrency", type=int, default=4, help="inserting connections when no --rate")
    b_out.add_argument("--batch", type=lambda v: max(1, int(v)), default=1,
                       help="rows per INSERT statement (one transaction each)")
    b_out.add_argument("--fill", type=int, default=0,
                       help="first add this many finished messages (tables as after a long run)")
    b_stats = bench.add_parser("stats", help="statistics views at volume (day-by-connection query time)")
    b_stats.add_argument("--messages", type=int, default=10_000_000)
    b_stats.add_argument("--days", type=int, default=100)
    b_emi = bench.add_parser("emi", help="hub.outbox insert to sent over EMI to the in-process SMSC simulator")
    b_emi.add_argument("--messages", type=int, default=5000)
    b_emi.add_argument("--window", type=int, default=100)
    b_emi.add_argument("--rate", type=float, help="messages per second offered (default: as fast as possible)")
    b_rls = bench.add_parser("rls", help="a user's inbox query with row-level security against without")
    b_rls.add_argument("--messages", type=int, default=1_000_000)
    b_web = bench.add_parser("web", help="web folder pages and searches with many messages in the database")
    b_web.add_argument("--messages", type=int, default=1_000_000)
    b_rules = bench.add_parser("rules", help="SMS votes through a poll rule to queued replies")
    b_rules.add_argument("--messages", type=int, default=5000)
    b_rules.add_argument("--rate", type=float, help="votes per second offered (default: a backlog, flat out)")
    b_mms = bench.add_parser("mms", help="hub.outbox insert to sent over MM7 to the MMSC simulator")
    b_mms.add_argument("--messages", type=int, default=500)
    b_mms.add_argument("--size", type=int, default=20_000, help="bytes of picture content per message")
    b_mms.add_argument("--window", type=int, default=8, help="submits in flight at once (MM7)")
    b_mms.add_argument("--via", choices=("mm7", "mm1"), default="mm7",
                       help="mm7: an mm7 connection; mm1: a modem connection's MM1 (m-send-req over HTTP)")
    b_modem = bench.add_parser("modem", help="hub.outbox to sent through simulated modems (pseudo-terminals)")
    b_modem.add_argument("--messages", type=int, default=200)
    b_modem.add_argument("--devices", type=int, default=2)
    b_modem.add_argument("--send-delay-ms", dest="send_delay_s", metavar="MS", type=lambda v: float(v) / 1000,
                         default=0.0,
                         help="the simulated device's own time to answer AT+CMGS")
    b_email = bench.add_parser("email", help="e-mail through a real Postfix and back through Dovecot "
                                             "(root; Debian's postfix, dovecot-pop3d)")
    b_email.add_argument("--messages", type=int, default=500)
    b_email.add_argument("--sessions", type=int, default=4, help="SMTP sessions at once")
    b_email.add_argument("--rate", type=float, help="mails per second offered (default: a backlog, flat out)")
    b_chaos = bench.add_parser("chaos", help="the hub SIGKILLed under outbox and inbound load: nothing lost?")
    b_chaos.add_argument("--kills", type=int, default=20, help="how many times the hub is killed")
    b_chaos.add_argument("--rate", type=float, default=20.0, help="outbox rows per second")
    b_chaos.add_argument("--mo-rate", type=float, default=4.0, help="inbound messages per second from the SMSC")
    b_chaos.add_argument("--seed", type=int, help="seed of the random kill moments")
    b_api = bench.add_parser("api", help="the JSON API's send and Kannel's sendsms over HTTP (requests/s, p50, p99)")
    b_api.add_argument("--requests", type=lambda v: max(1, int(v)), default=2000, help="requests of each kind")
    b_api.add_argument("--concurrency", type=lambda v: max(1, int(v)), default=8, help="requests in flight")
    b_kannel = bench.add_parser("kannel", help="Kannel and msghub side by side against the same SMSC simulator")
    b_kannel.add_argument("--messages", type=int, default=20000)
    b_kannel.add_argument("--window", type=int, default=100)
    b_memory = bench.add_parser("memory", help="the hub's resident memory with many messages queued")
    b_memory.add_argument("--queued", type=int, default=1_000_000)
    b_memory.add_argument("--seconds", type=float, default=30.0, help="how long the hub runs, sampled every second")
    for parser in (b_out, b_stats, b_emi, b_rls, b_web, b_rules, b_mms, b_modem, b_email, b_chaos, b_api, b_kannel,
                   b_memory):
        parser.set_defaults(handler=cmd_bench)

    simulate = sub.add_parser("simulate", help="simulators of the far side").add_subparsers(dest="what", required=True)
    smsc = simulate.add_parser("smsc", help="an operator's SMSC speaking EMI/UCP, for tests and demos")
    from msghub.devtools.emi.simulator_cli import add_arguments as smsc_arguments

    smsc_arguments(smsc)
    smsc.set_defaults(handler=cmd_simulate_smsc)
    mmsc = simulate.add_parser("mmsc", help="an operator's MMSC speaking MM7 (SOAP over HTTP), for tests and demos")
    from msghub.devtools.mmsc.cli import add_arguments as mmsc_arguments

    mmsc_arguments(mmsc)
    mmsc.set_defaults(handler=cmd_simulate_mmsc)
    from msghub.devtools.modem.cli import add_parsers as add_modem_sim_parsers

    add_modem_sim_parsers(simulate)


def cmd_bench(args: argparse.Namespace, config: Config) -> int:
    from msghub.app.runtime import open_database, prepare

    target, options = BENCHMARKS[args.what]
    module, _, function = target.partition(":")
    bench = getattr(importlib.import_module(module), function)
    with open_database(config) as db:
        prepare(config, db.url)
        result = bench(db.url, **{name: getattr(args, name) for name in options})
    print(json.dumps(result, indent=2))
    return 0


def cmd_simulate_smsc(args: argparse.Namespace, config: Config) -> int:
    from msghub.devtools.emi.simulator_cli import run

    return run(args)


def cmd_simulate_mmsc(args: argparse.Namespace, config: Config) -> int:
    from msghub.devtools.mmsc.cli import run

    return run(args)
