"""A real hub with a `modem` connection doing MMS (mms_url set) to the modem
simulator, and the MMSC simulator on loopback as the operator's MMSC and MMS
proxy; the MMSC's WAP pushes reach the hub as WAP push SMS through the
simulated modem. Shared by the MM1 end-to-end and browser tests."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import dict_row

from msghub.devtools.mmsc.mm1 import Push
from msghub.devtools.mmsc.simulator import MmscConfig
from msghub.devtools.mmsc.thread import MmscThread
from msghub.devtools.modem import ModemSimulator
from msghub.services.blocking import call
from msghub.services.connections import add_connection
from msghub.services.tx import SYSTEM
from tests.hubproc import start_hub, stop_hub, wait_for

NAME = "phone"
OWN = "+31600000001"
PUSH_SENDER = "+31653000000"  # the operator's WAP push originator
# the MMSC's name resolves nowhere: only the configured proxy reaches it
MMSC_URL = "http://mmsc.operator.invalid/mms"


@dataclass
class World:
    mmsc: MmscThread
    modem: ModemSimulator
    db: Any
    web_url: str = ""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@contextlib.contextmanager
def mm1_world(db_url: str, db: Any, web: bool = False) -> Iterator[World]:
    modem = ModemSimulator("huawei")
    path = modem.start()
    try:
        with MmscThread(MmscConfig(dr_delay_s=0.3)) as mmsc:
            def to_phone(push: Push) -> None:
                modem.inject_wap_push(PUSH_SENDER, push.user_data)

            mmsc.call(lambda s: setattr(s.mm1, "push_sink", to_phone))
            base = mmsc.call(lambda s: s.base_url)
            with psycopg.connect(db_url, row_factory=dict_row) as conn:
                call(conn, add_connection, SYSTEM, NAME, "modem",
                     {"port": path, "own_number": OWN, "mms_url": MMSC_URL, "mms_proxy": base,
                      "mms_local_address": "127.0.0.1", "mms_fetch_hosts": "127.0.0.1",
                      "mms_timeout_s": 20}, is_default=True)  # fmt: skip
                conn.commit()
            port = _free_port()
            env = {"MSGHUB_HTTP_PORT": str(port), "MSGHUB_HTTP_HOST": "127.0.0.1"} if web else {}
            hub = start_hub(db_url, roles="connectors,scheduler,web" if web else "connectors,scheduler", **env)
            try:
                wait_for(lambda: db.execute("SELECT state FROM hub.connections WHERE name = %s", (NAME,))
                         .fetchone()["state"] == "up", what="the modem connection")  # fmt: skip
                if web:
                    wait_for(lambda: _answers(port), what="the web server")
                yield World(mmsc, modem, db, f"http://127.0.0.1:{port}" if web else "")
            finally:
                assert stop_hub(hub) == 0
    finally:
        modem.stop()
