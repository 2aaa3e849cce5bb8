"""The network side of the simulated device: inbound messages and status
reports reach it and are stored or shown as +CNMI says (+CMTI, +CMT, +CDSI,
+CDS; TS 27.005 3.4.1)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from msghub.devtools.modem import sms as pdus
from msghub.devtools.modem.engine import Engine
from msghub.devtools.modem.storage import REC_UNREAD, MemoryFull, Stored
from msghub.devtools.modem.textmode import text_header
from msghub.sms.pdu import PduError

log = logging.getLogger(__name__)


def _indicate(e: Engine, *lines: str) -> None:
    s = e.state
    if s.settings.cnmi[0] == 0:
        s.buffered_urcs.append("\n".join(lines))
        return
    e.urc(*lines)


def store_inbound(e: Engine, pdu: pdus.Pdu, notify: bool) -> int | None:
    s = e.state
    name = s.mem[2]
    memory = s.storage.get(name)
    if memory is None:
        return None
    try:
        index = memory.store(Stored(REC_UNREAD, pdu.hex, pdu.tpdu_len, pdu.kind))
    except MemoryFull:
        log.info("memory %s full: message waits in the network", name)
        s.waiting.append(pdu)
        return None
    if notify:
        _indicate(e, f'+CMTI: "{name}",{index}')
    return index


def retry_waiting(e: Engine) -> None:
    waiting, e.state.waiting = e.state.waiting, []
    for pdu in waiting:
        deliver(e, pdu, None)


def deliver(e: Engine, pdu: pdus.Pdu, message_class: int | None) -> int | None:
    """An SMS-DELIVER reaches the device: stored and indicated, or shown
    directly, as +CNMI's <mt> says (TS 27.005 3.4.1). The storage index, or
    None when it went directly to the client."""
    s = e.state
    mt = s.settings.cnmi[1]
    direct = (mt == 2 and message_class != 2) or (mt == 3 and message_class == 3)
    if not direct:
        return store_inbound(e, pdu, notify=mt in (1, 2, 3))
    if s.settings.cmgf == 0:
        _indicate(e, f"+CMT: ,{pdu.tpdu_len}", pdu.hex)
    else:
        fields, body = text_header(e, Stored(REC_UNREAD, pdu.hex, pdu.tpdu_len, pdu.kind), "")
        _indicate(e, "+CMT: " + fields.split(",", 1)[1], body)
    if s.settings.csms == 1:
        entry = (pdu.hex, pdu.tpdu_len)
        s.unacked.append(entry)

        def unacknowledged() -> None:
            # No +CNMA in time: the network keeps it; here it lands in storage.
            if entry in s.unacked:
                s.unacked.remove(entry)
                store_inbound(e, pdu, notify=True)

        e.schedule(s.network_config.cnma_timeout_s, unacknowledged)
    return None


def status_report(e: Engine, mr: int, recipient: str, submitted: datetime, status: int = 0) -> None:
    s = e.state
    try:
        pdu = pdus.status_report_pdu(mr, recipient, scts=submitted.replace(microsecond=0),
                                     discharge=datetime.now(UTC).replace(microsecond=0), status=status,
                                     smsc=s.smsc)
    except PduError:
        log.warning("no status report for %r: the codec refused it", recipient)
        return
    ds = s.settings.cnmi[3]
    if ds == 1:
        if s.settings.cmgf == 0:
            _indicate(e, f"+CDS: {pdu.tpdu_len}", pdu.hex)
        else:
            fields, _ = text_header(e, Stored(REC_UNREAD, pdu.hex, pdu.tpdu_len, pdu.kind), "")
            _indicate(e, "+CDS: " + fields.split(",", 1)[1])
    elif ds == 2:
        name = "SR" if s.storage.get("SR") is not None else s.mem[2]
        memory = s.storage.get(name)
        if memory is None:
            return
        try:
            index = memory.store(Stored(REC_UNREAD, pdu.hex, pdu.tpdu_len, pdu.kind))
        except MemoryFull:
            return
        _indicate(e, f'+CDSI: "{name}",{index}')
    s.reports.append(pdu.hex)
