"""A simulated GSM modem for tests, benchmarks and demos (issue 12 item 6).

    from msghub.devtools.modem import ModemSimulator
    with ModemSimulator("huawei", pin="1234") as sim:   # start() .. stop()
        port = sim.path            # /dev/pts/N: open it with pyserial, gammu, ...
        ...
        sim.inject_sms("+447700900123", "hello")        # +CMTI or +CMT, per +CNMI
        sent = sim.wait_sent(1)    # [SentSms(pdu, mr, recipient, text, message, at, srr)]

The device runs on a background thread of its own; every method below is
thread-safe and returns at once (the wait_* ones block, bounded), so tests
use it from plain code or, through asyncio.to_thread for the waits, from an
event loop. It prints nothing and binds only the loopback address.

Constructor, ModemSimulator(profile="generic", *, ...):
  profile            "generic", "huawei", "zte", "wavecom" (profiles.PROFILES)
  pin, puk           pin=None: no PIN asked; else +CPIN? says SIM PIN until
                     AT+CPIN="<pin>"; three wrong PINs -> SIM PUK (AT+CPIN="<puk>","<new>")
  sim_present        False: +CPIN? and SIM commands answer +CME ERROR: 10
  imei, imsi         override the profile's
  smsc               +CSCA? and the SMSC field of injected PDUs ("+447785016005")
  own_number         answered by +CNUM (None: empty answer)
  tcp_port           None: pty only; 0: also a TCP port (ephemeral) on host; see .tcp_port
  host               "127.0.0.1"
  link               a path made a symlink to the current pty; it follows re-plugs,
                     as /dev/serial/by-id does, so a client can reopen the same name
  report_delay_s     a status report this long after a send with TP-SRR (1.0)
  report_status_for  {"+4479": 70, "+4477": (32, 0), ...}: TP-ST of the reports for these
                     prefixes (else 0, delivered); a tuple sends one report per status,
                     report_delay_s apart (32 then 0: pending, then delivered)
  cms_error_for      {"+4479": 38, ...}: AT+CMGS to these prefixes -> +CMS ERROR: code
                     (longest prefix wins; "" matches every number; trailing "." or "*" ignored)
  send_delay_s       the device's own time to answer +CMGS (0.0; a real modem takes 2-10 s)
  cnma_timeout_s     +CMT not acknowledged by +CNMA (after +CSMS=1) within this is
                     stored and indicated with +CMTI instead (10.0)
  chatter_s          None: URCs only when something changes; else every chatter_s seconds
                     the device prints one of its profile's vendor lines by itself
                     (Huawei ^RSSI/^BOOT/^DSFLOWRPT, ZTE +ZDONR/+ZPASR, Wavecom +WIND: 7)
  signal             +CSQ rssi at start (20); registered: on the network at start (True)
  capacity           {"SM": 30, ...} slots per memory (default: the profile's)
  control_port       None: no HTTP control; 0 or a port: see control.py (.control_port)
  extra_ports        [("data", link | None), ("diag", link | None)]: more ptys of the same
                     device, as a data card shows several: "data" answers AT and identity
                     (same IMEI, same SIM) but no SMS commands and prints no URCs; "diag"
                     never answers. .extra_paths lists them; they unplug and re-plug together

Life cycle: start() -> the path a client opens (the link if given, else the
pty), stop(), or use it as a context manager. .pty_path is the current pty,
.tcp_port the TCP port, .connected whether a client has the port open.

What the client did:
  .sent       accepted AT+CMGS/+CMSS as SentSms (pdu hex as typed, mr the +CMGS
              reference, recipient, text (str; bytes for 8-bit), message: the
              codec's SmsSubmit (None in text mode), at, srr, error=None)
  .refused    sends answered with +CMS ERROR (error holds the code)
  .commands   every command line received, e.g. "AT+CNMI=2,1,0,2,0"
  .reports    status-report PDUs the network produced
  .settings   a copy of the device's settings (echo, cmee, cmgf, cnmi, csms, ...)
  .storage(memory="SM") -> {index: {"stat", "pdu", "kind", "length"}}
  .internal_errors  simulator bugs met (each answered ERROR); should stay []
  wait_for(predicate, timeout_s=10.0) -> bool; wait_sent(count=1, timeout_s=10.0);
  wait_connected(timeout_s=10.0)

A client that does not have the port open misses what the device says
meanwhile, as on a real serial port: stored messages stay stored, but a
direct +CMT is gone unless +CSMS=1 made it wait for +CNMA.

What the network does:
  inject_sms(sender, text, *, scts=None, message_class=None, encoding=None, pid=0)
      -> storage index per part (None where shown directly by +CMT). Long texts
      are split (concatenation UDH). +CNMI <mt>: 0 stored silently, 1 stored +
      +CMTI: "<mem3>",<index>, 2 +CMT: ,<len> + PDU (class 2 stored), 3 class 3
      direct; <mode> 0 buffers the indications until +CNMI mode 1/2 (bfr 0 flushes).
      A full memory holds the message back until a +CMGD frees a slot.
  inject_pdu(hex, *, message_class=None): a ready-made PDU (with SMSC field), e.g. a capture
  inject_wap_push(sender, push): a WAP push SMS to port 2948 (8-bit, concatenated when
      long) carrying a WSP push: what an MMSC sends a phone (the MMSC simulator's pushes)
  inject_status_report(mr, recipient, status=0): a status report now (also a stray one)
  Status reports: after a send with TP-SRR, report_delay_s later, as +CNMI <ds>
      says: 1 +CDS: <len> + PDU, 2 stored in "SR" + +CDSI: "SR",<index>, 0 none.
  set_signal(rssi, ber=99)      +CSQ; Huawei prints ^RSSI:<rssi>
  set_registered(True|False, roaming=False)
                                +CREG/+CGREG stat 1/5 or 2, and URCs where +CREG=1/2;
                                sends while unregistered: +CMS ERROR: 331
  set_cms_error(prefix, code|None), set_report_status(prefix, status|None)

Faults, fault(kind, *, duration_s=None, count=None, code=38, delay_s=5.0):
  "no_answer"  reads and ignores everything (no echo either): for count command
               lines, for duration_s, or until clear_faults(); a send whose
               prompt was open reaches the network but its +CMGS never comes
  "garbage"    noise bytes before the next count answers (default 1), or every
               answer for duration_s
  "unplug"     the pty disappears (the client reads EIO/HUP), TCP clients are
               dropped; back after duration_s or at replug(), on a NEW pty path
               (the link follows) in power-up state (echo on, +CNMI off, PIN asked)
  "cms_error"  the next count sends answer +CMS ERROR: code
  "slow"       every answer waits delay_s (for duration_s, or until cleared)
  "reboot"     power-up state now, as a watchdog reset
  clear_faults() ends all of them; replug() ends an unplug.

The device: echo (ATE0/1, on at power-up), V0/V1, Q, Z, &F, I, S-registers,
one or several commands per line (ATE0+CMEE=1;+CMGF=0), A/ repeats, +CMEE
0/1/2 (ERROR, numeric, verbose), +CGMI/+CGMM/+CGMR/+CGSN/+CIMI (and +GMI...),
+CPIN, +CLCK, +CFUN, +CSQ, +CREG, +CGREG, +COPS, +CSCS, +CBC, +CPAS, +CNUM,
+CCLK, +CIND, +CGATT, +CLAC, +GCAP; SMS: +CMGF (PDU and text), +CSMS, +CPMS
(SM, ME, MT, SR per profile), +CNMI, +CSCA, +CSMP, +CSDH, +CMGS, +CMGW, +CMSS,
+CMGR, +CMGL, +CMGD (with delflag), +CNMA. `> ` prompts end with Ctrl-Z
(send) or ESC (cancel, OK). URCs wait while a command runs or a prompt is open.

Vendor dialects (profiles.py): huawei (E1752: "COMMAND NOT SUPPORT" for
unknown commands, ^BOOT at start, ^RSSI between a command and its answer
every fifth command and on signal changes unless AT^CURC=0, ^SRVST on
registration, storage indices from 0), zte (K3565-Z: +ZUSIMR at start,
+ZDONR on registration, +ZPAS), wavecom (Multiband 900E 1800:
identity answers with a leading space, +CPIN? without OK, +CPMS with two
memories at most, +WIND lines), generic.

Control from outside: `msghub simulate modem [--profile P] [--tcp PORT]
[--control-port PORT] [--pin PIN] [--link PATH] [--extra-port KIND[=LINK]]`
prints the pty path and serves the HTTP control API of control.py
(docs/MODEM_SIMULATOR.md).
"""

from msghub.devtools.modem.device import SentSms
from msghub.devtools.modem.profiles import PROFILES, Profile
from msghub.devtools.modem.simulator import FAULTS, ModemSimulator

__all__ = ["FAULTS", "PROFILES", "ModemSimulator", "Profile", "SentSms"]
