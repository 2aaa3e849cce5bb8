"""General commands of the simulated device: V.250 basics, identification,
SIM PIN, functionality, network registration, signal, vendor extras
(3GPP TS 27.007). SMS commands are in smscmds.py."""

from __future__ import annotations

from datetime import UTC, datetime

from msghub.devtools.modem.atparse import Command, Kind
from msghub.devtools.modem.device import Settings
from msghub.devtools.modem.engine import AtError, Engine, Handler, Prompt

Reply = list[str] | Prompt

# Commands that need a ready SIM (others work before the PIN is given).
SIM_COMMANDS = frozenset({
    "+CIMI", "+CNUM", "+CPMS", "+CMGS", "+CMGW", "+CMSS", "+CMGR", "+CMGL", "+CMGD", "+CNMA", "+CSCA",
    "+CPBS", "+CPBR", "+CLCK", "+COPS",
})
SMS_COMMANDS = frozenset({"+CPMS", "+CMGS", "+CMGW", "+CMSS", "+CMGR", "+CMGL", "+CMGD", "+CNMA", "+CSCA"})


def int_arg(e: Engine, cmd: Command, index: int, default: int | None = None,
            allowed: tuple[int, ...] | None = None, sms: bool = False) -> int:
    """The index-th argument as an int; a bad or missing one is the command's error."""
    bad = e.cms(304 if e.state.settings.cmgf == 0 else 305) if sms else e.cme(3)
    value = cmd.args[index] if index < len(cmd.args) else None
    if value is None:
        if default is None:
            raise bad
        return default
    try:
        number = int(value)
    except ValueError:
        raise bad from None
    if allowed is not None and number not in allowed:
        raise bad
    return number


# Vendor commands the simulator answers only in the profile that lists them
# in extra_commands (elsewhere they are unknown, as on real devices).
VENDOR_COMMANDS = frozenset({"^CURC", "^SYSINFO", "+ZPAS", "+WIND"})


def check_sim(e: Engine, cmd: Command) -> None:
    """Before every command: vendor commands of other dialects are unknown;
    SIM commands need a SIM that is ready."""
    s = e.state
    if cmd.name in VENDOR_COMMANDS and cmd.name not in s.profile.extra_commands:
        raise e.unsupported()
    if cmd.name not in SIM_COMMANDS or cmd.kind == Kind.TEST or s.sim_ready:
        return
    sms = cmd.name in SMS_COMMANDS
    if not s.sim_present:
        raise e.cms(310) if sms else e.cme(10)
    if s.pin_state == "SIM PUK":
        raise e.cms(316) if sms else e.cme(12)
    raise e.cms(311) if sms else e.cme(11)


def ranges(values: tuple[int, ...]) -> str:
    """(0, 1, 2, 4) -> "(0-2,4)", as test commands print supported values."""
    parts: list[str] = []
    run: list[int] = []
    for v in sorted(values):
        if run and v == run[-1] + 1:
            run.append(v)
            continue
        if run:
            parts.append(f"{run[0]}-{run[-1]}" if len(run) > 2 else ",".join(map(str, run)))
        run = [v]
    if run:
        parts.append(f"{run[0]}-{run[-1]}" if len(run) > 2 else ",".join(map(str, run)))
    return "(" + ",".join(parts) + ")"


# -- V.250 basics -------------------------------------------------------------

def _flag(attr: str, invert: bool = False) -> Handler:
    def handler(e: Engine, cmd: Command) -> Reply:
        if cmd.number not in ("", "0", "1"):
            raise AtError("ERROR")
        on = cmd.number == "1"
        setattr(e.state.settings, attr, (not on) if invert else on)
        return []
    return handler


def reset(e: Engine, cmd: Command) -> Reply:
    e.state.settings = Settings()
    return []


def accept(e: Engine, cmd: Command) -> Reply:
    return []


_sregs: dict[str, int] = {"S0": 0, "S3": 13, "S4": 10, "S5": 8, "S7": 50}


def sreg(e: Engine, cmd: Command) -> Reply:
    if cmd.kind == Kind.READ:
        return [f"{_sregs.get(cmd.name, 0):03d}"]
    return []


def ati(e: Engine, cmd: Command) -> Reply:
    p = e.state.profile
    return [f"Manufacturer: {p.manufacturer.strip()}", f"Model: {p.model.strip()}",
            f"Revision: {p.revision}", f"IMEI: {p.imei}", "+GCAP: +CGSM,+DS,+ES"]


def _identity(value: str, prefix: str) -> Handler:
    def handler(e: Engine, cmd: Command) -> Reply:
        if cmd.kind == Kind.TEST:
            return []
        if cmd.kind != Kind.ACTION:
            raise e.cme(4)
        text = getattr(e.state.profile, value) if value != "imsi" else e.state.profile.imsi
        return [f"{prefix}: {text}" if e.state.profile.identity_prefix and prefix else text]
    return handler


def cgsn(e: Engine, cmd: Command) -> Reply:
    if cmd.kind == Kind.TEST:
        return []
    return [e.state.profile.imei]


def cimi(e: Engine, cmd: Command) -> Reply:
    if cmd.kind == Kind.TEST:
        return []
    return [e.state.profile.imsi]


def cmee(e: Engine, cmd: Command) -> Reply:
    if cmd.kind == Kind.TEST:
        return ["+CMEE: (0-2)"]
    if cmd.kind == Kind.READ:
        return [f"+CMEE: {e.state.settings.cmee}"]
    e.state.settings.cmee = int_arg(e, cmd, 0, 0, (0, 1, 2))
    return []


def cpin(e: Engine, cmd: Command) -> Reply:
    s = e.state
    if cmd.kind == Kind.TEST:
        return []
    if not s.sim_present:
        raise e.cme(10)
    if cmd.kind == Kind.READ:
        lines = [f"+CPIN: {s.pin_state}"]
        if not s.profile.cpin_ok:
            # The device ends the answer without OK (a Wavecom quirk).
            raise AtError(lines[0])
        return lines
    if cmd.kind != Kind.SET or not cmd.args or cmd.args[0] is None:
        raise e.cme(3)
    given = cmd.args[0]
    if s.pin_state == "READY":
        return []  # most devices answer OK to a PIN when none is needed
    if s.pin_state == "SIM PIN":
        if given == s.pin:
            s.pin_state, s.pin_attempts = "READY", 3
            e.schedule(0.0, lambda: sim_ready(e))
            return []
        s.pin_attempts -= 1
        if s.pin_attempts <= 0:
            s.pin_state = "SIM PUK"
            raise e.cme(12)
        raise e.cme(16)
    # SIM PUK: AT+CPIN="<puk>","<new pin>"
    new_pin = cmd.args[1] if len(cmd.args) > 1 else None
    if given == s.puk and new_pin:
        s.pin, s.pin_state, s.pin_attempts, s.puk_attempts = new_pin, "READY", 3, 10
        e.schedule(0.0, lambda: sim_ready(e))
        return []
    s.puk_attempts -= 1
    raise e.cme(16)


def sim_ready(e: Engine) -> None:
    """After the PIN: the device registers and says so where asked to."""
    registration_changed(e)


def registration_changed(e: Engine) -> None:
    s = e.state
    stat = s.reg_stat
    if s.settings.creg == 1:
        e.urc(f"+CREG: {stat}")
    elif s.settings.creg == 2:
        e.urc(f'+CREG: {stat},"{s.lac}","{s.ci}"' if s.registered else f"+CREG: {stat}")
    if s.settings.cgreg:
        e.urc(f"+CGREG: {stat}")
    if s.registered and s.profile.registered_line:
        e.urc(s.profile.registered_line)


def signal_changed(e: Engine) -> None:
    s = e.state
    if s.profile.rssi_line and s.settings.curc:
        e.urc(s.profile.rssi_line.format(rssi=s.rssi, ber=s.ber))


def cfun(e: Engine, cmd: Command) -> Reply:
    if cmd.kind == Kind.TEST:
        return ["+CFUN: (0,1,4),(0,1)"]
    if cmd.kind == Kind.READ:
        return [f"+CFUN: {e.state.cfun}"]
    value = int_arg(e, cmd, 0, None, (0, 1, 4))
    if value != e.state.cfun:  # the radio goes on or off: registration follows
        e.state.cfun = value
        e.schedule(0.0, lambda: registration_changed(e))
    return []


def csq(e: Engine, cmd: Command) -> Reply:
    if cmd.kind == Kind.TEST:
        return ["+CSQ: (0-31,99),(0-7,99)"]
    s = e.state
    return [f"+CSQ: {s.rssi if s.cfun == 1 else 99},{s.ber}"]


def _reg(attr: str, name: str) -> Handler:
    def handler(e: Engine, cmd: Command) -> Reply:
        s = e.state
        if cmd.kind == Kind.TEST:
            return [f"{name}: (0-2)"]
        if cmd.kind == Kind.READ:
            n = getattr(s.settings, attr)
            if n == 2 and s.registered:
                return [f'{name}: {n},{s.reg_stat},"{s.lac}","{s.ci}"']
            return [f"{name}: {n},{s.reg_stat}"]
        setattr(s.settings, attr, int_arg(e, cmd, 0, 0, (0, 1, 2)))
        return []
    return handler


def cops(e: Engine, cmd: Command) -> Reply:
    s = e.state
    if cmd.kind == Kind.TEST:
        return [f'+COPS: (2,"{s.operator}","{s.operator[:8]}","{s.operator_numeric}",2),,(0-4),(0-2)']
    if cmd.kind == Kind.READ:
        if not s.registered:
            return ["+COPS: 0"]
        fmt = s.settings.cops_format
        name = s.operator_numeric if fmt == 2 else (s.operator[:8] if fmt == 1 else s.operator)
        return [f'+COPS: 0,{fmt},"{name}",2']
    mode = int_arg(e, cmd, 0, 0, (0, 1, 2, 3, 4))
    if mode == 3:
        s.settings.cops_format = int_arg(e, cmd, 1, 0, (0, 1, 2))
    # Modes 0, 1, 2 and 4 are accepted; the network stays as set_registered() has it.
    return []


def cscs(e: Engine, cmd: Command) -> Reply:
    if cmd.kind == Kind.TEST:
        return ['+CSCS: ("GSM","IRA","UCS2","8859-1")']
    if cmd.kind == Kind.READ:
        return [f'+CSCS: "{e.state.settings.cscs}"']
    value = (cmd.args[0] or "") if cmd.args else ""
    if value.upper() not in ("GSM", "IRA", "UCS2", "8859-1", "PCCP437"):
        raise e.cme(4)
    e.state.settings.cscs = value.upper()
    return []


def cbc(e: Engine, cmd: Command) -> Reply:
    if cmd.kind == Kind.TEST:
        return ["+CBC: (0-3),(0-100)"]
    return ["+CBC: 0,80"]


def cpas(e: Engine, cmd: Command) -> Reply:
    if cmd.kind == Kind.TEST:
        return ["+CPAS: (0-5)"]
    return ["+CPAS: 0"]


def cnum(e: Engine, cmd: Command) -> Reply:
    number = e.state.own_number
    if cmd.kind == Kind.TEST or number is None:
        return []
    return [f'+CNUM: "","{number}",{145 if number.startswith("+") else 129}']


def cclk(e: Engine, cmd: Command) -> Reply:
    if cmd.kind == Kind.READ:
        return [datetime.now(UTC).strftime('+CCLK: "%y/%m/%d,%H:%M:%S+00"')]
    return []


def cind(e: Engine, cmd: Command) -> Reply:
    s = e.state
    if cmd.kind == Kind.TEST:
        return ['+CIND: ("battchg",(0-5)),("signal",(0-5)),("service",(0,1)),("message",(0,1)),'
                '("call",(0,1)),("roam",(0,1)),("smsfull",(0,1))']
    if cmd.kind == Kind.READ:
        bars = 0 if s.rssi == 99 else min(5, (s.rssi + 5) // 6)
        return [f"+CIND: 4,{bars},{int(s.registered)},0,0,{int(s.roaming)},0"]
    return []


def cgatt(e: Engine, cmd: Command) -> Reply:
    if cmd.kind == Kind.TEST:
        return ["+CGATT: (0,1)"]
    if cmd.kind == Kind.READ:
        return [f"+CGATT: {int(e.state.registered)}"]
    return []


def clac(e: Engine, cmd: Command) -> Reply:
    names = sorted(set(e.handlers) | e.state.profile.extra_commands)
    return [n for n in names if n not in e.state.profile.unsupported and len(n) > 1]


def gcap(e: Engine, cmd: Command) -> Reply:
    return ["+GCAP: +CGSM,+DS,+ES"]


def clck(e: Engine, cmd: Command) -> Reply:
    if cmd.kind == Kind.TEST:
        return ['+CLCK: ("SC","AO","OI","AI","IR","AB","AG","AC","PN","FD")']
    if cmd.kind == Kind.SET and len(cmd.args) >= 2 and cmd.args[1] == "2":
        return [f"+CLCK: {int(e.state.pin is not None)}"]
    return []


# -- vendor extras ------------------------------------------------------------

def curc(e: Engine, cmd: Command) -> Reply:
    if cmd.kind == Kind.READ:
        return [f"^CURC: {e.state.settings.curc}"]
    if cmd.kind == Kind.SET:
        e.state.settings.curc = int_arg(e, cmd, 0, 0, (0, 1))
    return []


def sysinfo(e: Engine, cmd: Command) -> Reply:
    s = e.state
    return [f"^SYSINFO:{2 if s.registered else 0},3,{int(s.roaming)},3,{1 if s.sim_ready else 255}"]


def zpas(e: Engine, cmd: Command) -> Reply:
    return ['+ZPAS: "UMTS","CS_PS"' if e.state.registered else '+ZPAS: "NO SERVICE","CS_ONLY"']


def wind(e: Engine, cmd: Command) -> Reply:
    if cmd.kind == Kind.READ:
        return ["+WIND: 0"]
    return []


def general_handlers() -> dict[str, Handler]:
    return {
        "E": _flag("echo"),
        "V": _flag("verbose"),
        "Q": _flag("quiet"),
        "Z": reset,
        "&F": reset,
        "&C": accept, "&D": accept, "&K": accept, "&W": accept, "&V": accept, "&S": accept,
        "X": accept, "L": accept, "M": accept, "H": accept,
        "S0": sreg, "S3": sreg, "S4": sreg, "S5": sreg, "S7": sreg,
        "I": ati,
        "+CGMI": _identity("manufacturer", "+CGMI"), "+GMI": _identity("manufacturer", ""),
        "+CGMM": _identity("model", "+CGMM"), "+GMM": _identity("model", ""),
        "+CGMR": _identity("revision", "+CGMR"), "+GMR": _identity("revision", ""),
        "+CGSN": cgsn, "+GSN": cgsn,
        "+CIMI": cimi,
        "+CMEE": cmee,
        "+CPIN": cpin,
        "+CFUN": cfun,
        "+CSQ": csq,
        "+CREG": _reg("creg", "+CREG"),
        "+CGREG": _reg("cgreg", "+CGREG"),
        "+COPS": cops,
        "+CSCS": cscs,
        "+CBC": cbc,
        "+CPAS": cpas,
        "+CNUM": cnum,
        "+CCLK": cclk,
        "+CIND": cind,
        "+CGATT": cgatt,
        "+CLAC": clac,
        "+GCAP": gcap,
        "+CLCK": clck,
        "+CLIP": accept, "+CUSD": accept, "+CRC": accept, "+CVHU": accept, "+CLCC": accept,
        "+CSSN": accept, "+CMER": accept, "+CLIR": accept, "+COLP": accept,
        "^CURC": curc,
        "^SYSINFO": sysinfo,
        "+ZPAS": zpas,
        "+WIND": wind,
    }
