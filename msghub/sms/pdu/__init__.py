"""SMS PDU codec (3GPP TS 23.040 9.2, TS 23.038 section 4, TS 27.005 3.1):
pure functions from hex or octets to frozen dataclasses and back.

    from msghub.sms.pdu import Address, SmsSubmit, decode, encode
    hex_pdu, length = encode(SmsSubmit(Address("+447911123456"), "hello", mr=7, srr=True))
    # AT+CMGS=<length>, then hex_pdu and Ctrl-Z
    msg = decode("0791...", direction="sc_to_ms")   # +CMT / +CDS
    msg = decode("0791...", direction="stored")     # +CMGR / +CMGL

API, as agreed for issue 12, with these refinements (the agreed shape works
unchanged; every added field has a default):
- PduError derives from msghub.sms.errors.SmsDecodeError and SmsEncodingError
  (the core has no SmsError base; both are CodecErrors). decode() raises
  nothing else, for any input; encode() raises it for a message that does not
  fit a PDU.
- decode(direction=...) also takes "stored": a message read from a device's
  storage, where MTI 0/1/2 are DELIVER/SUBMIT/STATUS-REPORT whatever the
  <stat> column of +CMGR says (devices list sent SUBMITs as "read").
- Udh.concat / Udh.ports return msghub.sms.udh.Concat / Ports, named tuples
  (ref, total, seq) / (dst, src). Udh.concatenated(ref, total, seq) builds one.
- Address.of(text) picks the type of number: '+..' international, digits
  unknown (0), anything else alphanumeric (5).
- validity: timedelta (relative, rounded up to the next code of 9.2.3.12.1),
  datetime (absolute), EnhancedValidity (enhanced), or None.
- Added: waiting (MessageWaiting, the DCS message-waiting groups) and
  auto_delete on SUBMIT and DELIVER; loop_prevention on DELIVER and
  STATUS-REPORT; more_messages, srq, pid, alphabet, user_data, udh and
  .reason on SmsStatusReport; SubmitReport, DeliverReport and SmsCommand
  (MTI 2 from the MS), so every TPDU type of 9.2.2 is covered.

Modules: model (the dataclasses, PduError), reading (decode), writing
(encode), reader (the offset-keeping cursor), layout (first-octet bits, MTI
per direction), address, times (time stamps, validity), dcs, userdata (UDL,
UDH, text through the SMS core), jsonform (the CLI's JSON).

docs/SMS_ENCODING.md ("PDU mode") documents the tolerance rules.
"""

from msghub.sms.pdu.layout import DIRECTIONS
from msghub.sms.pdu.model import (
    ALPHABETS,
    COMMAND_TYPES,
    STATUS_NAMES,
    TON_ALPHANUMERIC,
    TON_INTERNATIONAL,
    TON_NATIONAL,
    TON_UNKNOWN,
    Address,
    Alphabet,
    DeliverReport,
    Direction,
    EnhancedValidity,
    Message,
    MessageWaiting,
    PduError,
    SmsCommand,
    SmsDeliver,
    SmsStatusReport,
    SmsSubmit,
    SubmitReport,
    Udh,
    Validity,
)
from msghub.sms.pdu.reading import decode
from msghub.sms.pdu.writing import encode

__all__ = [
    "ALPHABETS",
    "COMMAND_TYPES",
    "DIRECTIONS",
    "STATUS_NAMES",
    "TON_ALPHANUMERIC",
    "TON_INTERNATIONAL",
    "TON_NATIONAL",
    "TON_UNKNOWN",
    "Address",
    "Alphabet",
    "DeliverReport",
    "Direction",
    "EnhancedValidity",
    "Message",
    "MessageWaiting",
    "PduError",
    "SmsCommand",
    "SmsDeliver",
    "SmsStatusReport",
    "SmsSubmit",
    "SubmitReport",
    "Udh",
    "Validity",
    "decode",
    "encode",
]
