"""The simulated device's state: what a real modem remembers between
commands (settings, SIM, network, storage) and the faults it is put in.

Plain data; engine.py interprets commands against it. Not thread-safe: the
simulator holds its lock around every use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from msghub.devtools.modem.profiles import Profile
from msghub.devtools.modem.storage import Storage

T = TypeVar("T")

# +CREG <stat> values (TS 27.007 7.2)
NOT_REGISTERED, HOME, SEARCHING, DENIED, UNKNOWN, ROAMING = 0, 1, 2, 3, 4, 5


@dataclass
class Settings:
    """What ATZ / power-up resets: per-port settings of TS 27.007/27.005."""

    echo: bool = True
    verbose: bool = True  # V1
    quiet: bool = False  # Q1 suppresses result codes
    cmee: int = 0
    cmgf: int = 0
    cscs: str = "GSM"
    csms: int = 0
    cnmi: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0)
    creg: int = 0
    cgreg: int = 0
    csmp: tuple[int, int, int, int] = (17, 167, 0, 0)
    csdh: int = 0
    curc: int = 1  # Huawei: periodic ^RSSI/^BOOT on
    cops_format: int = 0


@dataclass
class SentSms:
    """One AT+CMGS (or +CMSS) the client made."""

    pdu: str  # hex as received (PDU mode), "" in text mode
    mr: int
    recipient: str
    text: str | bytes | None  # decoded user data
    message: Any  # the codec's SmsSubmit (None in text mode)
    at: datetime
    srr: bool
    error: int | None = None  # +CMS ERROR code answered instead of +CMGS


@dataclass
class Faults:
    mute_until: float = 0.0  # no_answer: monotonic deadline (inf: until cleared)
    mute_count: int = 0  # no_answer for this many command lines
    garbage_count: int = 0  # garbage before this many answers
    garbage_until: float = 0.0
    answer_delay_s: float = 0.0  # slow
    cms_next: list[int] = field(default_factory=list)  # +CMS ERROR for the next sends


@dataclass
class Network:
    """How the simulated network treats what the device sends."""

    report_delay_s: float = 1.0  # a status report this long after a send that asked for one
    # recipient prefix -> TP-ST, or several: one report each, report_delay_s apart
    report_status_for: dict[str, int | tuple[int, ...]] = field(default_factory=dict)
    cms_error_for: dict[str, int] = field(default_factory=dict)  # recipient prefix -> +CMS ERROR
    send_delay_s: float = 0.0  # the device's own time to answer +CMGS
    cnma_timeout_s: float = 10.0  # +CMT not acknowledged (+CSMS=1): stored and +CMTI'd instead

    @staticmethod
    def match(table: dict[str, T], number: str) -> T | None:
        """Longest prefix of table that number starts with ("" matches all)."""
        best: str | None = None
        for prefix in table:
            key = prefix.rstrip(".*")
            if number.startswith(key) and (best is None or len(key) > len(best.rstrip(".*"))):
                best = prefix
        return table[best] if best is not None else None


@dataclass
class DeviceState:
    profile: Profile
    settings: Settings
    storage: Storage
    pin: str | None
    puk: str
    sim_present: bool
    smsc: str
    own_number: str | None
    network_config: Network = field(default_factory=Network)
    pin_state: str = "READY"  # READY | SIM PIN | SIM PUK
    pin_attempts: int = 3
    puk_attempts: int = 10
    cfun: int = 1
    network: bool = True  # the network accepts us (set_registered)
    roaming: bool = False
    rssi: int = 20
    ber: int = 99
    operator: str = "msghub sim"
    operator_numeric: str = "00101"
    lac: str = "1A2B"
    ci: str = "00003C4D"
    mr: int = 0
    mem: list[str] = field(default_factory=lambda: ["SM", "SM", "SM"])
    sent: list[SentSms] = field(default_factory=list)
    refused: list[SentSms] = field(default_factory=list)  # sends answered with +CMS ERROR
    reports: list[str] = field(default_factory=list)  # status-report PDUs the network made
    waiting: list[Any] = field(default_factory=list)  # inbound PDUs held while storage is full
    commands: list[str] = field(default_factory=list)  # every command line received
    faults: Faults = field(default_factory=Faults)
    buffered_urcs: list[str] = field(default_factory=list)  # +CNMI mode 0 keeps them here
    unacked: list[tuple[str, int]] = field(default_factory=list)  # +CMT awaiting +CNMA (pdu, len)
    internal_errors: list[str] = field(default_factory=list)  # simulator bugs, answered with ERROR

    @property
    def sim_ready(self) -> bool:
        return self.sim_present and self.pin_state == "READY"

    @property
    def reg_stat(self) -> int:
        if not self.sim_ready or self.cfun != 1:
            return NOT_REGISTERED
        if not self.network:
            return SEARCHING
        return ROAMING if self.roaming else HOME

    @property
    def registered(self) -> bool:
        return self.reg_stat in (HOME, ROAMING)

    def next_mr(self) -> int:
        self.mr = (self.mr + 1) % 256
        return self.mr
