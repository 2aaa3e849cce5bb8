"""Vendor dialects of the simulated modem.

Facts from public captures: faucamp/python-gsmmodem test/fakemodems.py
(Huawei K3715/E1752, ZTE K3565-Z, Wavecom Multiband 900E 1800: answers to
+CGMI/+CGMM/+CGMR, "COMMAND NOT SUPPORT", +CPIN? without OK, +CPMS=? forms),
Kannel's modems.conf (init strings such as AT+CNMI=2,2,0,1,0 for Wavecom and
Huawei) and gammu's AT driver (which +CNMI and +CPMS forms it tries).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from msghub.errors import ConfigError


@dataclass(frozen=True)
class Profile:
    name: str
    manufacturer: str
    model: str
    revision: str
    imei: str = "350000000000006"
    imsi: str = "001010123456789"
    # What an unknown or refused command answers: "ERROR" or a vendor word.
    unsupported_word: str = "ERROR"
    # Commands (upper case, with their prefix: "+WIND", "^SYSINFO") this
    # device does not know although the simulator could answer them.
    unsupported: frozenset[str] = frozenset()
    # Some Wavecom firmware ends +CPIN? without a final OK.
    cpin_ok: bool = True
    # +CGMI and friends: a bare line, or with a "+CGMI: " prefix.
    identity_prefix: bool = False
    # Storage: names the device offers for mem1, mem2, mem3, and how many
    # of the three +CPMS accepts (Wavecom's old firmware takes two).
    memories: tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]] = (
        ("SM", "ME", "MT", "SR"),
        ("SM", "ME", "MT", "SR"),
        ("SM", "ME", "MT", "SR"),
    )
    cpms_max_args: int = 3
    capacity: dict[str, int] = field(default_factory=lambda: {"SM": 30, "ME": 100, "SR": 20, "BM": 10})
    first_index: int = 1
    # +CNMI ranges, as its test command prints them; values outside fail.
    cnmi_modes: tuple[tuple[int, ...], ...] = ((0, 1, 2), (0, 1, 2, 3), (0, 2), (0, 1, 2), (0, 1))
    csms_services: tuple[int, ...] = (0, 1)
    # Lines the device prints on power-up (after a re-plug), before any command.
    boot_lines: tuple[str, ...] = ()
    # A vendor line put between an answer's information text and its final
    # result code every n-th command (0: never), as Huawei's ^RSSI does.
    interleave_every: int = 0
    # Vendor unsolicited codes: signal changes, registration changes.
    rssi_line: str | None = None  # "^RSSI:{rssi}"
    registered_line: str | None = None  # printed when the device registers
    # What the device prints now and then by itself (ModemSimulator(chatter_s=...)).
    chatter: tuple[str, ...] = ()
    extra_commands: frozenset[str] = frozenset()  # vendor commands answered OK

    def interleave_line(self, rssi: int) -> str | None:
        return self.rssi_line.format(rssi=rssi, ber=99) if self.rssi_line else None


GENERIC = Profile(
    name="generic",
    manufacturer="msghub",
    model="SIM-1",
    revision="1.0.0",
    chatter=("+CREG: 1",),
)

HUAWEI = Profile(
    name="huawei",
    manufacturer="huawei",
    model="E1752",
    revision="11.126.13.00.00",
    imei="353000000000004",
    unsupported_word="COMMAND NOT SUPPORT",
    unsupported=frozenset({"+ZSNT", "+ZOPRT"}),
    first_index=0,
    boot_lines=("^BOOT:20952796,0,0,0,72",),
    interleave_every=5,
    rssi_line="^RSSI:{rssi}",
    registered_line="^SRVST:2",
    chatter=("^RSSI:{rssi}", "^BOOT:20952796,0,0,0,72", "^DSFLOWRPT:00000013,00000000,00000000,"
             "0000000000000000,0000000000000000,00000000,00000000"),
    extra_commands=frozenset({"^CURC", "^SYSINFO", "^PORTSEL", "^U2DIAG", "^SYSCFG"}),
)

ZTE = Profile(
    name="zte",
    manufacturer="ZTE INCORPORATED",
    model="K3565-Z",
    revision="BD_P673A2V1.0.0B09",
    imei="356000000000002",
    boot_lines=("+ZUSIMR:2",),
    # +ZRSSI is a query on these devices, not an unsolicited code.
    registered_line='+ZDONR: "msghub sim",001,01,"CS_PS","ROAM_OFF"',
    chatter=('+ZDONR: "msghub sim",001,01,"CS_PS","ROAM_OFF"', '+ZPASR: "UMTS"'),
    extra_commands=frozenset({"+ZPAS", "+ZOPRT", "+ZSNT", "+ZCDRUN"}),
)

WAVECOM = Profile(
    name="wavecom",
    manufacturer=" WAVECOM MODEM",
    model=" MULTIBAND  900E  1800",
    revision="641b09gg.Q2403A 1320676 061804 14:38",
    imei="351000000000008",
    unsupported=frozenset({"+CLAC"}),
    cpin_ok=False,
    memories=(("SM", "BM", "SR"), ("SM",), ("SM",)),
    cpms_max_args=2,
    capacity={"SM": 50, "BM": 10, "SR": 20},
    cnmi_modes=((0, 1, 2, 3), (0, 1, 2, 3), (0, 2), (0, 1, 2), (0, 1)),
    csms_services=(0, 1),
    boot_lines=("+WIND: 4",),
    registered_line="+WIND: 7",
    chatter=("+WIND: 7",),
    extra_commands=frozenset({"+WIND", "+WOPEN", "+WIPC"}),
)

PROFILES: dict[str, Profile] = {p.name: p for p in (GENERIC, HUAWEI, ZTE, WAVECOM)}


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ConfigError(f"unknown modem profile {name!r}; known: {', '.join(sorted(PROFILES))}") from None
