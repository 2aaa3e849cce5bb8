"""EMI error codes (the EC of a negative result) and whether a retry can help.

Descriptions follow the CMG EMI-UCP 4.x/5.x interface specification.
Temporary: the same submission may succeed later (a damaged line, an SMSC that
is busy or not ready for the operation). Everything else is a verdict on the
message or the account, so retrying it would only be refused again. A code
this table does not know is treated as temporary: the hub's attempt limit
still ends the retries, and a message is never dropped on a guess.
"""

EC_DESCRIPTIONS: dict[str, str] = {
    "01": "Checksum error",
    "02": "Syntax error",
    "03": "Operation not supported by system",
    "04": "Operation not allowed",
    "05": "Call barring active",
    "06": "AdC invalid",
    "07": "Authentication failure",
    "08": "Legitimisation code for all calls, failure",
    "09": "GA not valid",
    "10": "Repetition not allowed",
    "11": "Legitimisation code for repetition, failure",
    "12": "Priority call not allowed",
    "13": "Legitimisation code for priority call, failure",
    "14": "Urgent message not allowed",
    "15": "Legitimisation code for urgent message, failure",
    "16": "Reverse charging not allowed",
    "17": "Legitimisation code for reverse charging, failure",
    "18": "Deferred delivery not allowed",
    "19": "New AC not valid",
    "20": "New legitimisation code not valid",
    "21": "Standard text not valid",
    "22": "Time period not valid",
    "23": "Message type not supported by system",
    "24": "Message too long",
    "25": "Requested standard text not valid",
    "26": "Message type not valid for the pager type",
    "27": "Message not found in SMSC",
    "30": "Subscriber hang-up",
    "31": "Fax group not supported",
    "32": "Fax message type not supported",
    "33": "Address already in list",
    "34": "Address not in list",
    "35": "List full, cannot add address to list",
    "36": "RPID already in use",
    "37": "Delivery in progress",
    "38": "Message forwarded",
}

# 01: the frame was damaged on the way; 04: SMSCs answer it while a session
# is not ready or the account is over its rate; 30 and 37: the SMSC is busy
# with the recipient right now.
TEMPORARY_ECS = frozenset({"01", "04", "30", "37"})


def describe_ec(ec: str) -> str:
    """The specification's text for an error code, or 'unknown error code NN'."""
    return EC_DESCRIPTIONS.get(ec, f"unknown error code {ec}")


def is_permanent_error(ec: str) -> bool:
    """True when a negative result with this EC means: do not retry."""
    return ec in EC_DESCRIPTIONS and ec not in TEMPORARY_ECS
