"""SMS encoding core: pure functions shared by every SMS connector.

No I/O and no clock: callers pass bytes, text and time in.

- gsm7: GSM 7-bit default alphabet and extension table (3GPP TS 23.038 6.2.1)
- ucs2: UCS-2 / UTF-16-BE user data (3GPP TS 23.038 6.2.3)
- udh: user data header, concatenation and port IEs (3GPP TS 23.040 9.2.3.24)
- split: encoding choice, segmentation and cost (3GPP TS 23.040 9.2.3.16)
- reassembly: inbound concatenated parts back into one message
- transliterate: optional mapping of non-GSM characters to GSM look-alikes
- cli: the `msghub codec sms split` command's output

See docs/SMS_ENCODING.md for limits, policies and timeout semantics.
"""
