"""A small scripted modem on a pseudo-terminal for the connector's unit
tests (the full simulator, msghub.devtools.modem, is used by the end-to-end
tests). It keeps just enough state: echo, PIN, storage, TP-MR, and answers
the commands the connector sends; knobs make it refuse things."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from msghub.sms.pdu import Address, SmsDeliver, SmsStatusReport, SmsSubmit, decode, encode
from tests.modem.peer import PtyPeer, final, ok


@dataclass
class FakeModem:
    pin: str = ""
    refuse: set[str] = field(default_factory=set)  # command prefixes answered with ERROR
    cms_error_for: dict[str, int] = field(default_factory=dict)
    silent_for: set[str] = field(default_factory=set)  # command prefixes never answered
    manufacturer: str = "huawei"
    imei: str = "351234567890123"
    mr: int = 0
    report: bool = False  # send +CDS for each submit with SRR
    storage: dict[int, str] = field(default_factory=dict)
    sent: list[SmsSubmit] = field(default_factory=list)
    pin_tries: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.peer = PtyPeer(self.answer)
        self.peer.on_pdu = self.submitted
        self.unlocked = not self.pin

    @property
    def path(self) -> str:
        return self.peer.path

    def start(self) -> None:
        self.peer.start()

    def close(self) -> None:
        self.peer.close()

    def answer(self, line: str) -> bytes | None:
        upper = line.upper()
        if any(upper.startswith(p) for p in self.silent_for):
            return None
        if any(upper.startswith(p) for p in self.refuse):
            return final("ERROR")
        if upper.startswith("AT+CPIN="):
            self.pin_tries.append(line.split("=", 1)[1].strip('"'))
            if self.pin_tries[-1] == self.pin:
                self.unlocked = True
                return ok()
            return final("+CME ERROR: 16")
        if upper == "AT+CPIN?":
            return ok("+CPIN: READY" if self.unlocked else "+CPIN: SIM PIN")
        if not self.unlocked and upper not in ("AT", "ATZ", "ATE0", "AT+CMEE=1"):
            return final("+CME ERROR: 11")
        table = {
            "AT+CGMI": ok(self.manufacturer), "AT+CGMM": ok("E1752"), "AT+CGMR": ok("11.126"),
            "AT+CGSN": ok(self.imei), "AT+CIMI": ok("204080123456789"),
            "AT+CSQ": ok("+CSQ: 20,99"), "AT+CREG?": ok("+CREG: 1,1"), "AT+COPS?": ok('+COPS: 0,0,"Test Net",2'),
            "AT+CSMS=1": ok("+CSMS: 1,1,1"),
        }
        if upper in table:
            return table[upper]
        if upper.startswith("AT+CMGS="):
            return b"\r\n> "
        if upper.startswith("AT+CMGR="):
            index = int(upper.split("=")[1])
            pdu = self.storage.get(index)
            return ok("+CMGR: 0,,0", pdu) if pdu else final("+CMS ERROR: 321")
        if upper.startswith("AT+CMGD="):
            self.storage.pop(int(upper.split("=")[1]), None)
            return ok()
        if upper == "AT+CMGL=4":
            lines: list[str] = []
            for index, pdu in sorted(self.storage.items()):
                lines += [f"+CMGL: {index},1,,{len(pdu) // 2}", pdu]
            return ok(*lines)
        return ok()

    def submitted(self, pdu: str) -> bytes:
        message = decode(pdu, direction="ms_to_sc")
        assert isinstance(message, SmsSubmit)
        number = message.recipient.number
        if number in self.cms_error_for:
            return final(f"+CMS ERROR: {self.cms_error_for[number]}")
        self.mr = (self.mr + 1) % 256
        self.sent.append(message)
        answer = ok(f"+CMGS: {self.mr}")
        if self.report and message.srr:
            now = datetime.now(UTC).replace(microsecond=0)
            report, _ = encode(SmsStatusReport(mr=self.mr, recipient=message.recipient, scts=now, discharge=now,
                                               status=0))
            answer += f"\r\n+CDS: {len(report) // 2 - 1}\r\n{report}\r\n".encode()
        return answer

    def inject(self, sender: str, text: str, index: int | None = None) -> int:
        """Stores a message and says +CMTI."""
        now = datetime.now(UTC).replace(microsecond=0)
        pdu, _ = encode(SmsDeliver(sender=Address.of(sender), scts=now, user_data=text))
        index = index if index is not None else max(self.storage, default=0) + 1
        self.storage[index] = pdu
        self.peer.send(f'\r\n+CMTI: "SM",{index}\r\n'.encode())
        return index
