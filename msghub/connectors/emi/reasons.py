"""Reason codes (Rsn) of EMI delivery notifications (53), as the CMG EMI-UCP
specification lists them; they say why a message is buffered or failed."""

RSN_DESCRIPTIONS: dict[int, str] = {
    0: "unknown subscriber",
    **dict.fromkeys(range(1, 9), "service temporarily not available"),
    9: "illegal error code",
    10: "network time-out",
    100: "facility not supported",
    101: "unknown subscriber",
    102: "facility not provided",
    103: "call barred",
    104: "operation barred",
    105: "SC congestion",
    106: "facility not supported",
    107: "absent subscriber",
    108: "delivery fail",
    109: "SC congestion",
    110: "protocol error",
    111: "MS not equipped",
    112: "unknown SC",
    113: "SC congestion",
    114: "illegal MS",
    115: "MS not a subscriber",
    116: "error in MS",
    117: "SMS lower layer not provisioned",
    118: "system fail",
    119: "PLMN system failure",
    120: "HLR system failure",
    121: "VLR system failure",
    122: "previous VLR system failure",
    123: "controlling MSC system failure",
    124: "VMSC system failure",
    125: "EIR system failure",
    126: "system failure",
    127: "unexpected data value",
    200: "error in address service centre",
    201: "invalid absolute validity period",
    202: "short message exceeds maximum",
    203: "unable to unpack GSM message",
    204: "unable to convert to IRA alphabet",
    205: "invalid validity period format",
    206: "invalid destination address",
    207: "duplicate message submit",
    208: "invalid message type indicator",
}


def describe_rsn(rsn: int) -> str:
    """'107 absent subscriber'; an unlisted code is named as such."""
    return f"{rsn:03d} {RSN_DESCRIPTIONS.get(rsn, 'unknown reason code')}"
