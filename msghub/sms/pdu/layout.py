"""First-octet bits and what the message type indicator means each way
(3GPP TS 23.040 9.2.3.1-9.2.3.29)."""

# First octet bits (9.2.3.1-9.2.3.29).
MTI_MASK = 0x03
RD_OR_MMS = 0x04  # TP-RD in SUBMIT; TP-MMS ("no More Messages to Send" when set) in DELIVER, STATUS-REPORT
LP = 0x08  # TP-LP in DELIVER, STATUS-REPORT
VPF_SHIFT = 3
SRR_SRI_SRQ = 0x20
UDHI = 0x40
RP = 0x80
# TP-PI (9.2.3.27).
PI_PID, PI_DCS, PI_UDL = 0x01, 0x02, 0x04

DIRECTIONS = ("sc_to_ms", "ms_to_sc", "stored")
# What each MTI means per direction (9.2.3.1). "stored" is a message read from
# a device's storage (+CMGR, +CMGL): only DELIVER, SUBMIT and STATUS-REPORT are
# ever stored (TS 31.102 EF-SMS, EF-SMSR), whatever the <stat> column says.
MTI_TYPES = {
    "sc_to_ms": ("SMS-DELIVER", "SMS-SUBMIT-REPORT", "SMS-STATUS-REPORT", None),
    "ms_to_sc": ("SMS-DELIVER-REPORT", "SMS-SUBMIT", "SMS-COMMAND", None),
    "stored": ("SMS-DELIVER", "SMS-SUBMIT", "SMS-STATUS-REPORT", None),
}
