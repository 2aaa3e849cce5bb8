"""The hub SIGKILLed 20 times at random moments while messages are queued
through SQL at a steady rate and inbound messages arrive from the SMSC
simulator (msghub/devtools/chaos.py, also `msghub bench chaos`): every
queued message final exactly once or flagged possible_duplicate, every
acknowledged inbound message stored once. Bounded: each round waits for
conditions with timeouts, and the final drain has its own."""

from __future__ import annotations

import json

from msghub.devtools.chaos import run_chaos


def test_twenty_kills_lose_nothing(db_url, capsys):
    summary = run_chaos(db_url, kills=20, rate=20.0, mo_rate=4.0, seed=17)
    with capsys.disabled():
        print("\nchaos:", json.dumps(summary))
    assert summary["kills"] == 20
    assert summary["queued"] > 0 and summary["inbound_acknowledged"] > 0
    assert summary["lost"] == 0
    assert summary["failed"] == 0  # max_attempts 100: no kill costs a message
    assert summary["sent"] == summary["queued"]
    assert summary["unflagged_duplicates"] == 0
    assert summary["flagged_possible_duplicate"] == summary["duplicates"]
    assert summary["inbound_lost"] == 0
    assert summary["inbound_stored"] == summary["inbound_acknowledged"]
    assert summary["inbound_duplicates"] == 0  # a 52 sent again after a lost ACK is ACKed, not stored twice
