"""The demo of `msghub run --demo`: an SMSC simulator on loopback, an `emi`
connection to it, and one message that visibly goes out over EMI, is
reported delivered, and gets a reply from the "handset" within seconds of
the server starting."""

from __future__ import annotations

import asyncio
import atexit
import secrets
import time
from typing import Any

import psycopg

from msghub.devtools.emi.simulator import SimulatorConfig
from msghub.devtools.emi.simulator_thread import SimulatorThread
from msghub.hub.db import Pool
from msghub.hub.queries import QUERIES
from msghub.services.blocking import call
from msghub.services.connections import ensure_connection
from msghub.services.tx import SYSTEM

DEMO_CONNECTION = "demo-smsc"
DEMO_MODEM = "demo-modem"
DEMO_ACCOUNT = "demo"
DEMO_NUMBER = "+15550100"
HUB_NUMBER = "4000"
DEMO_PUSH_SENDER = "+15550199"  # the demo MMSC's WAP push originator
WATCH_S = 20.0


def demo_smsc() -> tuple[SimulatorThread, str]:
    """An SMSC for a free loopback port that reports every message delivered
    after a second, and the password of its one account. The simulator is a
    context manager: entering it starts it."""
    password = secrets.token_urlsafe(12)
    return SimulatorThread(SimulatorConfig(accounts={DEMO_ACCOUNT: password}, dr_delay_s=1.0)), password


def ensure_demo_connection(conn: psycopg.Connection[Any], port: int, password: str) -> None:
    """The demo connection, pointed at this run's simulator (its port and
    password change with every run); the default route for SMS."""
    settings = {"host": "127.0.0.1", "port": port, "username": DEMO_ACCOUNT, "password": password,
                "source_address": HUB_NUMBER}
    call(conn, ensure_connection, SYSTEM, DEMO_CONNECTION, "emi", settings, is_default=True)
    ensure_demo_modem(conn)


def ensure_demo_modem(conn: psycopg.Connection[Any]) -> str:
    """A simulated GSM modem (a pseudo-terminal, msghub.devtools.modem) next
    to the SMSC, as connection demo-modem: pick it on the compose page. It
    sends MMS too (MM1), to an MMSC simulator on loopback whose WAP pushes
    reach the modem as WAP push SMS. Both live as long as this process."""
    from msghub.devtools.mmsc.mm1 import Push
    from msghub.devtools.mmsc.simulator import MmscConfig
    from msghub.devtools.mmsc.thread import MmscThread
    from msghub.devtools.modem import ModemSimulator

    modem = ModemSimulator("huawei", report_delay_s=1.0)
    path = modem.start()
    atexit.register(modem.stop)
    mmsc = MmscThread(MmscConfig(dr_delay_s=1.0)).__enter__()
    atexit.register(mmsc.__exit__, None, None, None)

    def to_modem(push: Push) -> None:
        modem.inject_wap_push(DEMO_PUSH_SENDER, push.user_data)

    mmsc.call(lambda sim: setattr(sim.mm1, "push_sink", to_modem))
    settings = {"port": path, "own_number": HUB_NUMBER, "mms_url": mmsc.call(lambda sim: sim.mm1_url)}
    call(conn, ensure_connection, SYSTEM, DEMO_MODEM, "modem", settings)
    print(f"msghub: demo GSM modem simulator on {path} (connection '{DEMO_MODEM}', SMS and MMS)", flush=True)
    return path


def make_round_trip(smsc: SimulatorThread, say: Any = print) -> Any:
    async def show_round_trip(pool: Pool) -> None:
        await _round_trip(pool, smsc, say)
    return show_round_trip


async def _round_trip(pool: Pool, smsc: SimulatorThread, say: Any) -> None:
    """Queues a message through hub.outbox and prints each step of its trip."""
    start = time.monotonic()
    async with pool.connection() as conn:
        row = await (await conn.execute(QUERIES["queue_message_full"], {
            "channel": "sms", "recipients": [DEMO_NUMBER], "sender": HUB_NUMBER, "subject": None,
            "text": "Hello from msghub! Reply to this message.", "attachments": None,
            "connection": DEMO_CONNECTION, "send_at": None, "valid_until": None, "delivery_report": True,
            "priority": 1, "transliterate": False, "correlation_id": "demo", "idempotency_key": None})).fetchone()
        assert row is not None
        message = await (await conn.execute(QUERIES["outbox_messages"], {"id": row["id"]})).fetchone()
    assert message is not None
    message_id = message["id"]
    say(f"demo: queued message {message_id} to {DEMO_NUMBER} through '{DEMO_CONNECTION}' (EMI to the SMSC simulator)")
    seen: set[str] = {"queued"}
    replied = False
    reply_seen = False
    while time.monotonic() - start < WATCH_S and not (reply_seen and "delivered" in seen):
        await asyncio.sleep(0.1)
        async with pool.connection() as conn:
            for step in await (await conn.execute(QUERIES["message_history"], {"id": message_id})).fetchall():
                if step["status"] not in seen:
                    seen.add(step["status"])
                    say(f"demo: message {message_id} {step['status']} after {time.monotonic() - start:.2f} s")
            if "sent" in seen and not replied:
                # the handset answers: the simulator sends a mobile-originated message
                replied = True
                await asyncio.to_thread(smsc.run, lambda sim: sim.inject_mo(DEMO_NUMBER, HUB_NUMBER, "Got it, thanks!"))
            if replied and not reply_seen:
                reply = await (await conn.execute(
                    QUERIES["demo_reply"], {"sender": DEMO_NUMBER, "after": message_id})).fetchone()
                if reply:
                    reply_seen = True
                    say(f"demo: reply from {reply['sender']} received after "
                        f"{time.monotonic() - start:.2f} s: {reply['text']!r}")
    if not reply_seen:
        say("demo: no reply yet; see `msghub status` and the status page")
