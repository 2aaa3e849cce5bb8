"""A wrong PIN is entered once, never twice.

Three wrong PINs lock a SIM (PUK needed). The supervisor reopens a failed
connection every few seconds, so a wrong PIN must not be sent again: the
refusal is remembered per port and PIN for the life of the process, and
only a different PIN (the connection's setting changed) is tried.
"""

from __future__ import annotations

_REFUSED: dict[str, tuple[str, str]] = {}


def refused(port: str, pin: str) -> str | None:
    """Why pin is not sent again to port, or None."""
    known = _REFUSED.get(port)
    if known is None or known[0] != pin:
        return None
    return (f"this PIN was refused before ({known[1]}); not sending it again so the SIM is not locked: "
            "correct the pin setting")


def remember_refusal(port: str, pin: str, reason: str) -> None:
    _REFUSED[port] = (pin, reason)


def forget(port: str) -> None:
    _REFUSED.pop(port, None)
