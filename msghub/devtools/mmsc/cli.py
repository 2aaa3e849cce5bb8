"""`msghub simulate mmsc`: the MM7 MMSC simulator until SIGINT/SIGTERM.

    msghub simulate mmsc --port 8090 --hub-url http://127.0.0.1:8080/mm7/operator \\
        [--account vasp:secret] [--hub-account mmsc:secret] [--dr-delay 1] [--rr-delay 3] \\
        [--fault +99=2002] [--deliver-every 10 --deliver-from +15550123 --deliver-to 1234] \
        [--modem-control http://127.0.0.1:8091 [--push-from +31653000000]] [--mm1-fetch-failures 1]

It prints "listening on URL", flushed, so a script can read the port of --port 0.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import signal
import sys
from datetime import UTC, datetime

import httpx

from msghub.connectors.mm7.status import DEFAULT_SCHEMA, SCHEMA_VERSIONS
from msghub.devtools.mmsc.mm1 import Push
from msghub.devtools.mmsc.simulator import MmscConfig, MmscSimulator
from msghub.devtools.modem.sms import wap_push_pdus


def _account(value: str) -> tuple[str, str]:
    user, sep, password = value.partition(":")
    if not sep or not user:
        raise argparse.ArgumentTypeError(f"{value!r} is not USER:PASSWORD")
    return user, password


def _fault(value: str) -> tuple[str, int]:
    prefix, sep, code = value.partition("=")
    if not sep or not code.isdigit():
        raise argparse.ArgumentTypeError(f"{value!r} is not PREFIX=STATUS (e.g. +999=2002)")
    return prefix, int(code)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090, help="0: any free port")
    parser.add_argument("--path", default="/mm7", help="the URL path SubmitReq is posted to")
    parser.add_argument("--account", type=_account, help="USER:PASSWORD the hub must log in with")
    parser.add_argument("--auth", choices=("basic", "digest"), default="basic")
    parser.add_argument("--hub-url", default="", help="the hub's /mm7/<connection> URL (reports, deliveries)")
    parser.add_argument("--hub-account", type=_account, help="USER:PASSWORD to log in to the hub with")
    parser.add_argument("--hub-auth", choices=("basic", "digest"), default="basic")
    parser.add_argument("--dr-delay", type=float, default=0.5, help="seconds before a delivery report")
    parser.add_argument("--dr-status", default="Retrieved", help="MMStatus of delivery reports")
    parser.add_argument("--rr-delay", type=float, help="seconds before a read reply (when asked for)")
    parser.add_argument("--fault", type=_fault, action="append", default=[],
                        help="recipients starting with PREFIX are refused with STATUS (repeatable)")
    parser.add_argument("--schema", choices=tuple(SCHEMA_VERSIONS), default=DEFAULT_SCHEMA)
    parser.add_argument("--mm1-path", default="/mms", help="the phones' MMSC URL path (MM1: m-send-req, retrieval)")
    parser.add_argument("--mm1-notify", action="store_true",
                        help="an MMS submitted over MM7 also waits for its phone behind a WAP push notification")
    parser.add_argument("--mm1-fetch-failures", type=int, default=0,
                        help="the first N retrievals of an MMS answer HTTP 503 (the phone must try again)")
    parser.add_argument("--modem-control", default="",
                        help="a modem simulator's control URL: WAP pushes (notifications, delivery reports) go "
                             "to the phone as WAP push SMS through it")
    parser.add_argument("--push-from", default="+31653000000", help="the originator of those WAP push SMS")
    parser.add_argument("--deliver-every", type=float, help="send a DeliverReq to the hub every N seconds")
    parser.add_argument("--deliver-from", default="+15550100")
    parser.add_argument("--deliver-to", default="1234")


def config_from(args: argparse.Namespace) -> MmscConfig:
    user, password = args.account or ("", "")
    hub_user, hub_password = args.hub_account or ("", "")
    return MmscConfig(host=args.host, port=args.port, path=args.path, username=user, password=password,
                      auth=args.auth, hub_url=args.hub_url, hub_username=hub_user, hub_password=hub_password,
                      hub_auth=args.hub_auth, dr_delay_s=args.dr_delay, dr_status=args.dr_status,
                      rr_delay_s=args.rr_delay, faults=dict(args.fault), schema=args.schema,
                      mm1_path=args.mm1_path, mm1_notify=args.mm1_notify,
                      mm1_fetch_failures=args.mm1_fetch_failures)  # fmt: skip


def push_to_modem(sim: MmscSimulator, control_url: str, sender: str) -> set[asyncio.Task[None]]:
    """Hands every WAP push of the simulator to a modem simulator's control
    API (POST /inject_pdu, one SMS-DELIVER per part); returns the running posts."""
    tasks: set[asyncio.Task[None]] = set()
    ref = itertools.count(1)

    async def post(user_data: bytes) -> None:
        when = datetime.now(UTC).replace(microsecond=0)
        pdus = wap_push_pdus(sender, user_data, scts=when, smsc="+31653131313", ref=next(ref) % 256)
        async with httpx.AsyncClient(timeout=10) as client:
            for pdu in pdus:
                answer = await client.post(control_url.rstrip("/") + "/inject_pdu", json={"pdu": pdu.hex})
                if answer.status_code != 200:
                    print(f"the modem simulator refused a push: HTTP {answer.status_code}", flush=True)

    def sink(push: Push) -> None:
        task = asyncio.get_running_loop().create_task(post(push.user_data))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    sim.mm1.push_sink = sink
    return tasks


async def serve(args: argparse.Namespace) -> None:
    sim = MmscSimulator(config_from(args))
    await sim.start()
    if args.modem_control:
        push_to_modem(sim, args.modem_control, args.push_from)
    print(f"listening on {sim.url} (MM7) and {sim.mm1_url} (MM1)", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=args.deliver_every or 3600)
            if args.deliver_every and args.hub_url and not stop.is_set():
                answer = await sim.deliver(args.deliver_from, args.deliver_to, "hello from the MMSC simulator")
                print(f"DeliverReq answered: {type(answer).__name__}", flush=True)
    finally:
        await sim.stop()


def run(args: argparse.Namespace) -> int:
    asyncio.run(serve(args))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="msghub simulate mmsc")
    add_arguments(parser)
    return run(parser.parse_args(argv if argv is not None else sys.argv[1:]))
