"""SMS commands of the simulated device (3GPP TS 27.005): +CMGF, +CSMS,
+CPMS, +CNMI, +CSCA, +CSMP, +CMGS/+CMGW/+CMSS in PDU and text mode,
+CMGR/+CMGL/+CMGD, +CNMA; and the network side: inbound messages and status
reports routed by +CNMI as +CMTI/+CMT/+CDSI/+CDS."""

from __future__ import annotations

import logging
import string
from datetime import UTC, datetime
from functools import partial

from msghub.devtools.modem import sms as pdus
from msghub.devtools.modem.atparse import Command, Kind
from msghub.devtools.modem.commands import int_arg, ranges
from msghub.devtools.modem.device import Network, SentSms
from msghub.devtools.modem.engine import Engine, Handler, Prompt
from msghub.devtools.modem.network import retry_waiting, status_report
from msghub.devtools.modem.storage import (
    ALL,
    REC_READ,
    REC_UNREAD,
    STAT_TEXT,
    STO_SENT,
    STO_UNSENT,
    TEXT_STAT,
    Memory,
    MemoryFull,
    Stored,
)
from msghub.devtools.modem.textmode import from_te, text_header
from msghub.sms.errors import SmsEncodingError
from msghub.sms.pdu import PduError, SmsSubmit

log = logging.getLogger(__name__)
Reply = list[str] | Prompt
HEX = frozenset(string.hexdigits)


def _memory(e: Engine, slot: int) -> Memory:
    memory = e.state.storage.get(e.state.mem[slot])
    if memory is None:  # cannot happen: +CPMS only selects existing memories
        raise e.cms(320)
    return memory


# -- settings -------------------------------------------------------------------

def cmgf(e: Engine, cmd: Command) -> Reply:
    if cmd.kind == Kind.TEST:
        return ["+CMGF: (0,1)"]
    if cmd.kind == Kind.READ:
        return [f"+CMGF: {e.state.settings.cmgf}"]
    e.state.settings.cmgf = int_arg(e, cmd, 0, 0, (0, 1), sms=True)
    return []


def csms(e: Engine, cmd: Command) -> Reply:
    services = e.state.profile.csms_services
    if cmd.kind == Kind.TEST:
        return [f"+CSMS: {ranges(services)}"]
    if cmd.kind == Kind.READ:
        return [f"+CSMS: {e.state.settings.csms},1,1,1"]
    e.state.settings.csms = int_arg(e, cmd, 0, None, services, sms=True)
    return ["+CSMS: 1,1,1"]


def cpms(e: Engine, cmd: Command) -> Reply:
    s = e.state
    names = s.profile.memories
    if cmd.kind == Kind.TEST:
        return ["+CPMS: " + ",".join("(" + ",".join(f'"{n}"' for n in group) + ")" for group in names)]
    if cmd.kind == Kind.READ:
        fields = []
        for slot in range(3):
            memory = _memory(e, slot)
            fields.append(f'"{s.mem[slot]}",{memory.used},{memory.capacity}')
        return ["+CPMS: " + ",".join(fields)]
    if not cmd.args or len(cmd.args) > s.profile.cpms_max_args:
        raise e.cms(302)
    chosen = list(s.mem)
    for slot, name in enumerate(cmd.args):
        if name is None:
            continue
        name = name.upper()
        if name not in names[slot] or s.storage.get(name) is None:
            raise e.cms(302)
        chosen[slot] = name
    s.mem = chosen
    out = []
    for slot in range(3):
        memory = _memory(e, slot)
        out.append(f"{memory.used},{memory.capacity}")
    return ["+CPMS: " + ",".join(out)]


def cnmi(e: Engine, cmd: Command) -> Reply:
    s = e.state
    allowed = s.profile.cnmi_modes
    if cmd.kind == Kind.TEST:
        return ["+CNMI: " + ",".join(ranges(a) for a in allowed)]
    if cmd.kind == Kind.READ:
        return ["+CNMI: " + ",".join(str(v) for v in s.settings.cnmi)]
    if len(cmd.args) > len(allowed):
        raise e.cms(303)
    values = list(s.settings.cnmi)
    for i, arg in enumerate(cmd.args):
        if arg is None:
            continue
        try:
            value = int(arg)
        except ValueError:
            raise e.cms(303) from None
        if value not in allowed[i]:
            raise e.cms(303)
        values[i] = value
    s.settings.cnmi = (values[0], values[1], values[2], values[3], values[4])
    if values[0] in (1, 2) and s.buffered_urcs:
        held, s.buffered_urcs = s.buffered_urcs, []
        if values[4] == 0:  # bfr 0: flush the buffered indications now

            def flush() -> None:
                for urc in held:
                    e.urc(*urc.split("\n"))

            e.schedule(0.0, flush)
    return []


def csca(e: Engine, cmd: Command) -> Reply:
    s = e.state
    if cmd.kind == Kind.TEST:
        return []
    if cmd.kind == Kind.READ:
        return [f'+CSCA: "{s.smsc}",{145 if s.smsc.startswith("+") else 129}']
    if not cmd.args or not cmd.args[0]:
        raise e.cms(304)
    s.smsc = cmd.args[0]
    return []


def csmp(e: Engine, cmd: Command) -> Reply:
    s = e.state
    if cmd.kind == Kind.READ:
        return ["+CSMP: " + ",".join(str(v) for v in s.settings.csmp)]
    if cmd.kind == Kind.SET:
        values = list(s.settings.csmp)
        for i, arg in enumerate(cmd.args[:4]):
            if arg is not None and arg.isdigit():
                values[i] = int(arg)
        s.settings.csmp = (values[0], values[1], values[2], values[3])
    return []


def csdh(e: Engine, cmd: Command) -> Reply:
    if cmd.kind == Kind.TEST:
        return ["+CSDH: (0,1)"]
    if cmd.kind == Kind.READ:
        return [f"+CSDH: {e.state.settings.csdh}"]
    e.state.settings.csdh = int_arg(e, cmd, 0, 0, (0, 1))
    return []


# -- sending ----------------------------------------------------------------------

def _parse_pdu(e: Engine, body: str, length: int) -> tuple[str, SmsSubmit]:
    text = "".join(body.split()).upper()
    if not text or len(text) % 2 or not set(text) <= HEX:
        raise e.cms(304)
    if len(text) // 2 - pdus.smsc_octets(text) != length:
        raise e.cms(304)
    try:
        return text, pdus.decode_submit(text)
    except PduError as exc:
        log.info("refused PDU %s: %s", text, exc)
        raise e.cms(304) from None


def _submit(e: Engine, pdu: str, recipient: str, text: str | bytes | None, message: SmsSubmit | None,
            srr: bool) -> int:
    """The network's answer to a submit: TP-MR, or the +CMS ERROR it raises."""
    s = e.state
    net = s.network_config
    code: int | None = None
    if not s.registered:
        code = 331
    elif s.faults.cms_next:
        code = s.faults.cms_next.pop(0)
    else:
        code = Network.match(net.cms_error_for, recipient)
    now = datetime.now(UTC)
    if code is not None:
        s.refused.append(SentSms(pdu, -1, recipient, text, message, now, srr, code))
        raise e.cms(code)
    mr = s.next_mr()
    s.sent.append(SentSms(pdu, mr, recipient, text, message, now, srr))
    if srr:
        statuses = Network.match(net.report_status_for, recipient)
        if statuses is None:
            statuses = (0,)
        elif isinstance(statuses, int):
            statuses = (statuses,)
        for n, status in enumerate(statuses, start=1):
            e.schedule(net.report_delay_s * n, partial(status_report, e, mr, recipient, now, status))
    return mr


def cmgs(e: Engine, cmd: Command) -> Reply:
    s = e.state
    if cmd.kind == Kind.TEST:
        return []
    if cmd.kind != Kind.SET:
        raise e.cms(304 if s.settings.cmgf == 0 else 305)
    delay = s.network_config.send_delay_s
    if s.settings.cmgf == 0:
        length = int_arg(e, cmd, 0, None, sms=True)
        if not 1 <= length <= 164:
            raise e.cms(304)

        def on_pdu(body: str) -> list[str]:
            pdu, msg = _parse_pdu(e, body, length)
            return [f"+CMGS: {_submit(e, pdu, msg.recipient.number, msg.user_data, msg, msg.srr)}"]

        return Prompt(on_pdu, delay_s=delay)
    recipient = from_te(e, cmd.args[0]) if cmd.args and cmd.args[0] else None
    if not recipient:
        raise e.cms(305)

    def on_text(body: str) -> list[str]:
        srr = bool(s.settings.csmp[0] & 0x20)
        text = from_te(e, body.replace("\n", "")) if s.settings.cscs == "UCS2" else body
        return [f"+CMGS: {_submit(e, '', recipient, text, None, srr)}"]

    return Prompt(on_text, text_mode=True, delay_s=delay)


def cmgw(e: Engine, cmd: Command) -> Reply:
    s = e.state
    if cmd.kind == Kind.TEST:
        return []
    memory = _memory(e, 1)
    if s.settings.cmgf == 0:
        length = int_arg(e, cmd, 0, None, sms=True)
        stat = int_arg(e, cmd, 1, STO_UNSENT, (REC_UNREAD, REC_READ, STO_UNSENT, STO_SENT), sms=True)

        def on_pdu(body: str) -> list[str]:
            pdu, _msg = _parse_pdu(e, body, length)
            return [f"+CMGW: {_store(e, memory, Stored(stat, pdu, length, 'submit'))}"]

        return Prompt(on_pdu)
    recipient = from_te(e, (cmd.args[0] if cmd.args else None) or "")

    def on_text(body: str) -> list[str]:
        text = from_te(e, body.replace("\n", "")) if s.settings.cscs == "UCS2" else body
        try:
            pdu = pdus.submit_pdu(recipient or "0", text)
        except (SmsEncodingError, PduError):
            raise e.cms(305) from None
        return [f"+CMGW: {_store(e, memory, Stored(STO_UNSENT, pdu.hex, pdu.tpdu_len, 'submit'))}"]

    return Prompt(on_text, text_mode=True)


def _store(e: Engine, memory: Memory, item: Stored) -> int:
    try:
        return memory.store(item)
    except MemoryFull:
        raise e.cms(322) from None


def cmss(e: Engine, cmd: Command) -> Reply:
    if cmd.kind == Kind.TEST:
        return []
    memory = _memory(e, 1)
    index = int_arg(e, cmd, 0, None, sms=True)
    item = memory.slots.get(index)
    if item is None or item.kind != "submit":
        raise e.cms(321)
    try:
        msg = pdus.decode_submit(item.pdu)
    except PduError:
        raise e.cms(304) from None
    recipient = (cmd.args[1] if len(cmd.args) > 1 else None) or msg.recipient.number
    mr = _submit(e, item.pdu, recipient, msg.user_data, msg, msg.srr)
    item.stat = STO_SENT
    return [f"+CMSS: {mr}"]


# -- reading ----------------------------------------------------------------------

def _listed(e: Engine, prefix: str, index: int | None, item: Stored) -> list[str]:
    head = f"{prefix}: " + (f"{index}," if index is not None else "")
    if e.state.settings.cmgf == 0:
        return [f"{head}{item.stat},,{item.tpdu_len}", item.pdu]
    try:
        fields, body = text_header(e, item, STAT_TEXT[item.stat])
    except PduError:
        return [f'{head}"{STAT_TEXT[item.stat]}"', ""]
    if item.kind == "status_report":
        return [head + fields]
    return [head + fields, body]


def cmgr(e: Engine, cmd: Command) -> Reply:
    if cmd.kind == Kind.TEST:
        return []
    memory = _memory(e, 0)
    index = int_arg(e, cmd, 0, None, sms=True)
    if not memory.valid_index(index):
        raise e.cms(321)
    item = memory.slots.get(index)
    if item is None:
        raise e.cms(321)
    lines = _listed(e, "+CMGR", None, item)
    if item.stat == REC_UNREAD:
        item.stat = REC_READ
    return lines


def cmgl(e: Engine, cmd: Command) -> Reply:
    s = e.state
    text = s.settings.cmgf == 1
    if cmd.kind == Kind.TEST:
        return ['+CMGL: ("REC UNREAD","REC READ","STO UNSENT","STO SENT","ALL")' if text else "+CMGL: (0-4)"]
    memory = _memory(e, 0)
    stat = REC_UNREAD
    if cmd.args and cmd.args[0] is not None:
        if text:
            if cmd.args[0].upper() not in TEXT_STAT:
                raise e.cms(305)
            stat = TEXT_STAT[cmd.args[0].upper()]
        else:
            stat = int_arg(e, cmd, 0, None, (0, 1, 2, 3, ALL), sms=True)
    lines: list[str] = []
    for index, item in memory.listing(stat):
        lines += _listed(e, "+CMGL", index, item)
        if item.stat == REC_UNREAD:
            item.stat = REC_READ
    return lines


def cmgd(e: Engine, cmd: Command) -> Reply:
    if cmd.kind == Kind.TEST:
        memory = _memory(e, 0)
        indices = ",".join(str(i) for i in sorted(memory.slots))
        return [f"+CMGD: ({indices}),(0-4)"]
    memory = _memory(e, 0)
    index = int_arg(e, cmd, 0, None, sms=True)
    flag = int_arg(e, cmd, 1, 0, (0, 1, 2, 3, 4), sms=True)
    if flag:
        memory.delete_flagged(flag)
    else:
        if not memory.valid_index(index):
            raise e.cms(321)
        memory.slots.pop(index, None)
    e.schedule(0.0, lambda: retry_waiting(e))
    return []


def cnma(e: Engine, cmd: Command) -> Reply:
    s = e.state
    if cmd.kind == Kind.TEST:
        return ["+CNMA: (0-2)"] if s.settings.cmgf == 0 else []
    if s.settings.csms != 1 or not s.unacked:
        raise e.cms(340)
    s.unacked.pop(0)
    return []


def sms_handlers() -> dict[str, Handler]:
    return {
        "+CMGF": cmgf, "+CSMS": csms, "+CPMS": cpms, "+CNMI": cnmi, "+CSCA": csca, "+CSMP": csmp,
        "+CSDH": csdh, "+CMGS": cmgs, "+CMGW": cmgw, "+CMSS": cmss, "+CMGR": cmgr, "+CMGL": cmgl,
        "+CMGD": cmgd, "+CNMA": cnma,
    }
