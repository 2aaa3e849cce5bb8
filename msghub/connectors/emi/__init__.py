"""EMI/UCP (CMG "EMI - UCP Interface" 4.x/5.x) for the SMSC connector and simulator.

The codec is pure (bytes in, dataclasses out, and back; no I/O). Import it
from here or from msghub.connectors.emi.codec. Details: docs/protocols/EMI.md.

Frames (frame.py)
  Frame(trn: int, kind: "O"|"R", ot: "51", fields: tuple[str, ...])
      raw field strings, so decode -> encode is byte exact.
  decode_frame(data: bytes | str) -> Frame      with or without STX/ETX; checks
      header, LEN, checksum, supported OT, field count (extra fields kept)
  encode_frame(frame) -> bytes                  without STX/ETX; LEN, CK computed
  wrap(data) / unwrap(data)                     add / strip STX 0x02 and ETX 0x03
  to_wire(message_or_frame) -> bytes            STX + encoded + ETX
  checksum(data) -> "A0"
  FrameReader(max_size=4096).feed(chunk) -> list[bytes | FrameTooLargeError]
      stream framer: complete frames (without STX/ETX) in order; drops bytes
      outside STX..ETX (count in .discarded); an STX inside a frame restarts
      it; a frame over max_size becomes one error and is skipped to the next STX.

Typed messages (operations.py, short_message.py, results.py, messages.py):
frozen dataclasses; attributes are the spec's field names in lower case
holding raw strings (AdC -> adc, DCs -> dcs, the NMsg/AMsg/TMsg slot -> msg),
plus trn and extra (unknown trailing fields).
  decode_message(data) -> Message               decode_frame + typed view + field checks
  from_frame(frame) -> Message;  msg.to_frame() -> Frame;  msg.values() -> {name: raw}
  encode_message(message_or_frame) -> bytes     without STX/ETX
  CallInput (01), SmsMessageTransfer (30), Alert (31),
  ShortMessageOperation (50 series, 33 fields): SubmitSM (51), DeliverSM (52),
      DeliveryNotification (53), ModifyMessage (54), InquiryMessage (55),
      DeleteMessage (56), ResponseInquiryMessage (57), ResponseDeleteMessage (58),
  SessionLogin (60, any STYP), ListManagement (61),
  Ack(ot, trn, mvp, sm) and Nack(ot, trn, ec, sm) for every OT.
  Decoded views (raise FieldError when a value cannot be decoded):
      50 series: .text (str | None for binary), .user_data, .udh (incl. UDHL),
      .xser_items, .xser_dcs, .data_coding (effective DCS), .sender (alphanumeric
      or "+" international decoded), .scts_time, .dscts_time, .validity_time,
      .deferred_time, .notification_requested, .notification_types (Notify)
      DeliveryNotification: .status (DeliveryStatus), .reason, .submit_reference
      Ack: .submit_reference -> (AdC, SCTS) | None (from SM "AdC:SCTS"), .mvp_time
      Nack: .description, .permanent
      SessionLogin / ListManagement: .password, .new_password
  A 53 matches its submission when DeliveryNotification.submit_reference ==
  Ack.submit_reference of the 51 (raw strings: recipient, SCTS).

Builders (builders.py)
  make_submit(recipient, *, sender=None, text=None | user_data=None, dcs=None,
      udh=None, validity=None, deferred=None, notify=False, notify_address="",
      notify_pid="", priority=False, trn=0, now=None, tz=None,
      international_prefix="00") -> SubmitSM
      GSM text -> MT 3; other text -> UCS-2, MT 4; user_data -> MT 4 (8-bit
      unless dcs says UCS-2); UDH in XSer 01, DCS in XSer 02; sender digits ->
      numeric, "+digits" -> OTOA 1139, else alphanumeric OTOA 5039 (<= 11
      septets); validity/deferred: datetime, timedelta or minutes from now;
      notify: True (delivered + non-delivered) or a Notify mask.
  make_deliver(recipient, sender, scts, *, text | user_data, dcs, udh) -> DeliverSM
  make_notification(recipient, original_recipient, submit_scts, status, *,
      delivered_at, reason, text) -> DeliveryNotification
  login_frame(username, password, *, trn=0) -> Frame   (60, OTON 6, ONPI 5, STYP 1)
  alert_frame(adc, *, pid="0539", trn=0) -> Frame      (31 keep-alive)
  ack_frame(request, *, sm="", mvp="") / nack_frame(request, ec, *, sm="") -> Frame
  nack_for_error(error) -> Frame | None                the NACK an SMSC owes
  submit_ack_sm(adc, scts) -> "AdC:DDMMYYhhmmss"

Values (values.py, xser.py)
  parse_scts / parse_ddt / parse_time -> datetime (naive, SMSC local time;
  years 1969-2068), format_scts / format_ddt; encode/decode_alphanumeric_address;
  encode/decode_amsg (GSM 03.38 codes as hex); encode/decode_ira (PWD);
  parse_xser / build_xser / XSerItem; dcs_alphabet(dcs) -> Alphabet;
  split_adc_scts(sm).

Errors (errors.py, ec.py): UcpError(CodecError) with .trn, .kind, .ot (what
was readable) and .ec (EC to answer with): FrameSyntaxError, FieldError
(.field names the field), LengthError, FrameTooLargeError, ChecksumError,
UnknownOperationError. is_permanent_error(ec) -> bool, describe_ec(ec).
"""

from msghub.connectors.emi.codec import *  # noqa: F403
from msghub.connectors.emi.codec import __all__ as __all__
