"""`msghub simulate modem`: run the modem simulator until SIGINT/SIGTERM.

    msghub simulate modem [--profile huawei] [--tcp PORT] [--control-port PORT] \\
        [--pin 1234] [--link /tmp/ttyMODEM0] [--report-delay 1] [--send-delay 0]

Prints, flushed, one line per thing to connect to, so a script can read them:
    pty /dev/pts/N
    link /tmp/ttyMODEM0        (with --link)
    data /dev/pts/M            (one line per --extra-port, in order)
    tcp 127.0.0.1:PORT         (with --tcp)
    control http://127.0.0.1:PORT/   (with --control-port)
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any

from msghub.devtools.modem.profiles import PROFILES


def _prefix_code(value: str) -> tuple[str, int]:
    prefix, sep, code = value.rpartition("=")
    if not sep or not code.isdigit():
        raise argparse.ArgumentTypeError(f"{value!r} is not PREFIX=CODE")
    return prefix, int(code)


def _extra_port(value: str) -> tuple[str, str | None]:
    kind, _, link = value.partition("=")
    if kind not in ("data", "diag"):
        raise argparse.ArgumentTypeError(f"{value!r}: expected data or diag, optionally =LINK")
    return kind, link or None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", default="generic", choices=sorted(PROFILES), help="vendor dialect")
    parser.add_argument("--tcp", type=int, metavar="PORT", help="also serve the device on a TCP port (0 picks one)")
    parser.add_argument("--host", default="127.0.0.1", help="address for --tcp and --control-port")
    parser.add_argument("--control-port", type=int, metavar="PORT", help="HTTP control API port (0 picks one)")
    parser.add_argument("--pin", help="the SIM asks for this PIN")
    parser.add_argument("--link", metavar="PATH", help="keep a symlink to the current pty here (follows re-plugs)")
    parser.add_argument("--report-delay", type=float, default=1.0, metavar="SECONDS",
                        help="status reports this long after a send (default 1)")
    parser.add_argument("--send-delay", type=float, default=0.0, metavar="SECONDS",
                        help="the device's own time to answer AT+CMGS (default 0)")
    parser.add_argument("--cms-error", type=_prefix_code, action="append", default=[], metavar="PREFIX=CODE",
                        help="sends to numbers with this prefix answer +CMS ERROR: CODE (repeatable)")
    parser.add_argument("--own-number", help="the SIM's number, answered by AT+CNUM")
    parser.add_argument("--chatter", type=float, metavar="SECONDS",
                        help="the device prints a vendor line by itself this often (^RSSI, +ZDONR, ...)")
    parser.add_argument("--extra-port", type=_extra_port, action="append", default=[], metavar="KIND[=LINK]",
                        help="another port of the same device: data (AT without SMS) or diag (silent); repeatable")


def add_parsers(simulate: Any) -> None:
    """Adds `modem` to the `msghub simulate` subcommands."""
    parser = simulate.add_parser("modem", help="a GSM modem on a pseudo-terminal (AT commands, PDU mode)")
    add_arguments(parser)
    parser.set_defaults(handler=lambda args, config: run(args))


def run(args: argparse.Namespace, stop: threading.Event | None = None) -> int:
    from msghub.devtools.modem.simulator import ModemSimulator

    stop = stop or threading.Event()
    sim = ModemSimulator(args.profile, pin=args.pin, tcp_port=args.tcp, host=args.host, link=args.link,
                         report_delay_s=args.report_delay, send_delay_s=args.send_delay,
                         cms_error_for=dict(args.cms_error), control_port=args.control_port,
                         own_number=args.own_number, extra_ports=args.extra_port, chatter_s=args.chatter)
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, lambda *_: stop.set())
    try:
        sim.start()
        print(f"pty {sim.pty_path}", flush=True)
        if sim.link is not None:
            print(f"link {sim.link}", flush=True)
        for (kind, _), path in zip(args.extra_port, sim.extra_paths, strict=True):
            print(f"{kind} {path}", flush=True)
        if sim.tcp_port is not None:
            print(f"tcp {args.host}:{sim.tcp_port}", flush=True)
        if sim.control_port is not None:
            print(f"control http://{args.host}:{sim.control_port}/", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        sim.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="msghub simulate modem", description="GSM modem simulator")
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
