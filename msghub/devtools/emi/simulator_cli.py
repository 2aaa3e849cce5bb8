"""`msghub simulate smsc`: run the EMI/UCP SMSC simulator until SIGINT/SIGTERM.

    msghub simulate smsc --port 2775 --account user:secret [--account ...] \\
        --dr-delay 1 --dr-outcomes delivered=0.9,failed=0.1 --http-port 8081 [--ack-delay 0]

The lead wires it into the msghub CLI either as `main(argv)` or by calling
add_arguments(subparser) and run(namespace). It prints one line per
listening socket ("listening on HOST:PORT ..."), flushed, so a script can
read the port when --port 0 picked one.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from msghub.devtools.emi.simulator import OUTCOMES, SimulatorConfig, SmscSimulator
from msghub.errors import ConfigError, HubError


def _account(value: str) -> tuple[str, str]:
    username, sep, password = value.partition(":")
    if not sep or not username:
        raise argparse.ArgumentTypeError(f"{value!r} is not USER:PASSWORD")
    return username, password


def _outcomes(value: str) -> dict[str, float]:
    weights: dict[str, float] = {}
    for item in value.split(","):
        name, sep, weight = item.strip().partition("=")
        if not sep or name not in OUTCOMES:
            raise argparse.ArgumentTypeError(f"{item!r}: expected OUTCOME=WEIGHT with OUTCOME in {', '.join(OUTCOMES)}")
        try:
            weights[name] = float(weight)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{item!r}: the weight is not a number") from None
    return weights


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=2775, help="EMI/UCP port; 0 picks a free one (default 2775)")
    parser.add_argument(
        "--account",
        type=_account,
        action="append",
        default=[],
        metavar="USER:PASSWORD",
        help="an account that may log in (repeatable); none: accept any login",
    )
    parser.add_argument("--no-login", action="store_true", help="accept submits without a prior login (60)")
    parser.add_argument(
        "--dr-delay",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="delay of delivery reports after the ACK (default 1)",
    )
    parser.add_argument(
        "--dr-outcomes",
        type=_outcomes,
        default={"delivered": 1.0},
        metavar="delivered=W,buffered=W,failed=W",
        help="weights of report outcomes",
    )
    parser.add_argument("--ack-delay", type=float, default=0.0, metavar="SECONDS", help="delay of each submit's answer")
    parser.add_argument("--window", type=int, default=100, help="operations outstanding per session (1-100)")
    parser.add_argument("--http-port", type=int, help="port of the HTTP control API (0 picks one); default: none")
    parser.add_argument("--max-frame", type=int, default=4096, help="largest frame accepted, in bytes")
    parser.add_argument("--seed", type=int, help="random seed for report outcomes and concatenation references")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every connection and fault")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="msghub simulate smsc", description="EMI/UCP SMSC simulator")
    add_arguments(parser)
    return parser


def config_from_args(args: argparse.Namespace) -> SimulatorConfig:
    return SimulatorConfig(
        host=args.host,
        port=args.port,
        accounts=dict(args.account),
        require_login=not args.no_login,
        dr_delay_s=args.dr_delay,
        dr_outcomes=args.dr_outcomes,
        ack_delay_s=args.ack_delay,
        window=args.window,
        http_port=args.http_port,
        max_frame=args.max_frame,
        seed=args.seed,
    )


async def serve(config: SimulatorConfig) -> None:
    """Run until SIGINT or SIGTERM."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    simulator = SmscSimulator(config)
    try:
        await simulator.start()
        print(f"SMSC simulator (EMI/UCP) listening on {config.host}:{simulator.port}", flush=True)
        if simulator.http_port is not None:
            print(f"control API listening on http://{config.host}:{simulator.http_port}", flush=True)
        await stop.wait()
    finally:
        await simulator.stop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


def run(args: argparse.Namespace) -> int:
    config = config_from_args(args)  # ConfigError propagates: the CLI prints it
    if args.verbose or not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO if args.verbose else logging.WARNING, format="%(asctime)s %(levelname)s %(message)s"
        )
    try:
        asyncio.run(serve(config))
    except OSError as exc:
        raise ConfigError(f"cannot listen on {config.host}:{config.port}: {exc.strerror or exc}") from None
    return 0


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    try:
        return run(args)
    except HubError as exc:
        print(f"msghub simulate smsc: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
