"""`msghub bench mms`: hub.outbox MMS rows sent over MM7 to the MMSC simulator
(or, with --via mm1, as m-send-req over HTTP by a `modem` connection to the
modem simulator, the MM1 half of the same simulator answering m-send-conf).

The simulator runs in this process (on a thread of its own, loopback only) and
answers every SubmitReq at once with a SubmitRsp. An `mm7` connection
(bench-mm7) points at it, a real hub process (`msghub run --only
connectors,scheduler`) sends, and N MMS rows, each with a picture of --size
bytes, are inserted into hub.outbox. Latency is from each insert's commit to
the message's "sent" status, recorded once the SubmitRsp came back. Content
bytes per second counts the pictures that reached the simulator. The figures
are for this machine as it is: a busy machine gives slower ones.
"""

from __future__ import annotations

import base64
import contextlib
import os
import random
import time
import uuid
from typing import Any

from msghub.devtools.benchkit import latency_figures, machine, start_hub, wait_sent
from msghub.devtools.mmsc.simulator import MmscConfig
from msghub.devtools.mmsc.thread import MmscThread
from msghub.devtools.queries import BENCH_QUERIES
from msghub.hub.db import connect
from msghub.services.blocking import call
from msghub.services.connections import ensure_connection, get_connection, set_enabled
from msghub.services.tx import SYSTEM

BENCH_CONNECTION = "bench-mm7"
BENCH_MM1_CONNECTION = "bench-mm1"
ROWS_PER_INSERT = 50


def _ensure_connection(url: str, name: str, kind: str, settings: dict[str, Any]) -> None:
    with connect(url) as conn:
        call(conn, ensure_connection, SYSTEM, name, kind, settings)
        conn.commit()


def _disable_connection(url: str, name: str) -> None:
    # the simulator is gone after the run: a later hub should not post to it
    with connect(url) as conn:
        call(conn, set_enabled, SYSTEM, call(conn, get_connection, name), False)
        conn.commit()


def _insert(url: str, tag: str, messages: int, picture: str, commits: dict[int, float], connection: str) -> None:
    with connect(url, autocommit=True) as conn:
        for start in range(0, messages, ROWS_PER_INSERT):
            chunk = range(start, min(messages, start + ROWS_PER_INSERT))
            conn.execute(BENCH_QUERIES["insert_mms"], {
                "recipients": [f"+1555{i % 10_000_000:07d}" for i in chunk], "picture": picture,
                "connection": connection, "correlation_ids": [f"{tag}-{i}" for i in chunk],
            })  # fmt: skip
            committed = time.time()
            for i in chunk:
                commits[i] = committed


def bench_mms(db_url: str, messages: int, size: int, window: int, via: str = "mm7") -> dict[str, Any]:
    """Runs the benchmark (see the module docstring) and returns its figures."""
    picture = base64.b64encode(b"\xff\xd8\xff\xe0" + random.randbytes(max(0, size - 4))).decode()
    tag = f"bench-{via}-{uuid.uuid4().hex[:8]}"
    commits: dict[int, float] = {}
    with contextlib.ExitStack() as stack:
        mmsc = stack.enter_context(MmscThread(MmscConfig()))
        if via == "mm1":
            from msghub.devtools.modem import ModemSimulator

            modem = stack.enter_context(ModemSimulator("generic"))
            name, kind = BENCH_MM1_CONNECTION, "modem"
            settings: dict[str, Any] = {"port": modem.path, "mms_url": mmsc.call(lambda sim: sim.mm1_url)}
        else:
            name, kind = BENCH_CONNECTION, "mm7"
            settings = {"url": mmsc.url, "window": window, "vasp_id": "bench"}
        _ensure_connection(db_url, name, kind, settings)
        try:
            hub = start_hub(db_url, name)
            try:
                wall0 = time.time()
                _insert(db_url, tag, messages, picture, commits, name)
                sent = wait_sent(db_url, tag, messages)
            finally:
                hub.terminate()
                hub.wait(timeout=30)
        finally:
            _disable_connection(db_url, name)
        if via == "mm1":
            submits = mmsc.call(lambda sim: len(sim.mm1.mm1_sent))
            content_bytes = mmsc.call(lambda sim: sum(len(p.data) for s in sim.mm1.mm1_sent for p in s.parts))
        else:
            submits = mmsc.call(lambda sim: len(sim.submits))
            content_bytes = mmsc.call(lambda sim: sum(len(p.data) for s in sim.submits for p in s.parts))
    latencies = [(sent[f"{tag}-{i}"] - commits[i]) * 1000 for i in range(messages) if f"{tag}-{i}" in sent]
    last_sent = max(sent.values()) if sent else wall0
    elapsed = last_sent - wall0
    return {
        "benchmark": "mms",
        "via": via,
        "messages": messages,
        "sent": len(sent),
        "submits_received": submits,
        "picture_bytes": size,
        # a modem connection has two MMS in flight per device
        "window": window if via == "mm7" else 2,
        "throughput_per_s": round(len(sent) / elapsed, 1) if elapsed > 0 else 0.0,
        "content_bytes_per_s": round(content_bytes / elapsed) if elapsed > 0 else 0,
        **latency_figures(latencies),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "machine": machine(),
    }
