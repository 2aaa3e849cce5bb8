"""Storage against a model: any sequence of inbound messages, reads, lists
and deletes leaves the device's listing equal to what a plain dict says."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from msghub.devtools.modem import sms as pdus
from msghub.devtools.modem.network import deliver
from msghub.sms.pdu import SmsDeliver, decode
from tests.modem_sim.harness import Bench

CAPACITY = 5
WHEN = datetime(2026, 12, 2, 1, 0, 0, tzinfo=UTC)


class StorageModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.b = Bench("huawei", capacity={"SM": CAPACITY, "ME": CAPACITY, "SR": 2})
        self.b.state.settings.curc = 0  # no ^RSSI lines in the listings
        self.b.at("AT+CMEE=1;+CNMI=2,1,0,0,0")
        self.model: dict[int, tuple[str, bool]] = {}  # index -> (text, read)
        self.waiting: list[str] = []
        self.n = 0

    @rule()
    def inbound(self) -> None:
        self.n += 1
        text = f"message {self.n}"
        (pdu,) = pdus.deliver_pdus("+447700900123", text, scts=WHEN, smsc="+447785016005", ref=1)
        index = deliver(self.b.engine, pdu, None)
        out = self.b.take()
        if index is None:
            assert len(self.model) == CAPACITY and out == ""
            self.waiting.append(text)
            return
        assert index not in self.model and 0 <= index < CAPACITY  # Huawei counts from 0
        assert out == f'\r\n+CMTI: "SM",{index}\r\n'
        self.model[index] = (text, False)

    @rule(index=st.integers(-1, CAPACITY))
    def read(self, index: int) -> None:
        lines = self.b.lines(f"AT+CMGR={index}")
        if index not in self.model:
            assert lines == ["+CMS ERROR: 321"]
            return
        text, was_read = self.model[index]
        assert lines[0].startswith(f"+CMGR: {int(was_read)},,")
        msg = decode(lines[1], direction="sc_to_ms")
        assert isinstance(msg, SmsDeliver) and msg.user_data == text
        self.model[index] = (text, True)

    def _absorb(self, out: str) -> None:
        """Messages the network held back take the slots a delete freed."""
        for line in out.split("\r\n"):
            if line.startswith('+CMTI: "SM",'):
                self.model[int(line.rsplit(",", 1)[1])] = (self.waiting.pop(0), False)

    @rule(index=st.integers(-1, CAPACITY))
    def delete(self, index: int) -> None:
        out = self.b.at(f"AT+CMGD={index}")
        if not 0 <= index < CAPACITY:
            assert out == "\r\n+CMS ERROR: 321\r\n"
            return
        assert out.startswith("\r\nOK\r\n")
        self.model.pop(index, None)
        self._absorb(out)

    @rule(flag=st.sampled_from([1, 4]))
    def delete_flagged(self, flag: int) -> None:
        out = self.b.at(f"AT+CMGD=0,{flag}")
        assert out.startswith("\r\nOK\r\n")
        self.model = {i: v for i, v in self.model.items() if flag == 1 and not v[1]}
        self._absorb(out)

    @invariant()
    def listing_matches(self) -> None:
        lines = self.b.lines("AT+CMGL=4")
        assert lines[-1] == "OK"
        listed = {int(h.split(":")[1].split(",")[0]): h for h in lines[:-1:2]}
        assert sorted(listed) == sorted(self.model)
        for index, header in listed.items():
            assert header.split(",")[1] == str(int(self.model[index][1]))
        # listing marks everything read, as the device does
        self.model = {i: (t, True) for i, (t, _) in self.model.items()}


StorageModel.TestCase.settings = settings(max_examples=60, stateful_step_count=25, deadline=None)
TestStorageModel = StorageModel.TestCase
