"""What the chosen channel can carry, checked before a message is queued, so
that the compose page refuses it with the reason instead of the outbox
failing it later. The outbox trigger stays the authority; these are the
limits a person can act on while the form is still open."""

from __future__ import annotations

import base64

from msghub.sms.split import MAX_PARTS, cost

# OMA MMS conformance's largest message class ("Megapixel", 600 KB): what an
# MMSC and a handset are required to accept
MMS_MAX_BYTES = 600 * 1024


def mms_size(files: list[dict[str, str]]) -> int:
    return sum(len(base64.b64decode(f["data"])) for f in files)


def channel_refusal(channel: str, text: str, files: list[dict[str, str]], transliterate: bool) -> tuple[str, str]:
    """(form field, reason) when the channel cannot carry the message, else ("", "")."""
    if channel == "sms":
        plan = cost(text, transliterate)
        if plan["segments"] > MAX_PARTS:
            return "text", (
                f"This text needs {plan['segments']} SMS; a message can be split into at most {MAX_PARTS}. "
                "Shorten it, or send it as an e-mail."
            )
        if not plan["sendable"]:
            return "text", "The text holds a character that cannot be sent (a broken emoji?). Remove it."
    if channel == "mms" and mms_size(files) > MMS_MAX_BYTES:
        return "files", (
            f"The files are {mms_size(files) // 1024} KB together; an MMS carries at most {MMS_MAX_BYTES // 1024} KB. "
            "Make the pictures smaller, or send an e-mail."
        )
    return "", ""
