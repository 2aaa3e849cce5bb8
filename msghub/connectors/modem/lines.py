"""Splitting what a device sends into lines, and telling their kinds apart.

Pure: bytes in, lines out, so it is fuzzed without a device. Devices end
lines with CR LF (V1), a bare CR or a bare LF, and the `> ` prompt of
AT+CMGS comes with no line end at all: it stays in `pending` until the
channel takes it. Text is decoded as latin-1, so any byte (line noise, a
device's binary garbage) gives some text and never an exception; an overlong
run without a line end is cut, so noise cannot grow the buffer.
"""

from __future__ import annotations

MAX_LINE = 4096  # a +CMGR PDU line is at most ~360 characters

# Final result codes: the end of a command's answer.
OK = "OK"
ERROR_FINALS = ("ERROR", "+CME ERROR:", "+CMS ERROR:", "COMMAND NOT SUPPORT", "TOO MANY PARAMETERS",
                "NO CARRIER", "NO DIALTONE", "BUSY", "NO ANSWER")

# Unsolicited result codes. Two-line ones carry a PDU on the next line.
URC_TWO_LINE = ("+CMT:", "+CDS:", "+CBM:")
URC_PREFIXES = (*URC_TWO_LINE, "+CMTI:", "+CDSI:", "+CBMI:", "+CREG:", "+CGREG:", "+CEREG:", "RING", "+CRING:",
                "+CLIP:", "^RSSI:", "^HCSQ:", "^BOOT:", "^MODE:", "^SRVST:", "^SIMST:", "^SYSSTART", "^CEND:",
                "^ORIG:", "^CONF:", "^CONN:", "^DSFLOWRPT:", "^STIN:", "+ZDONR:", "+ZPASR:", "+ZUSIMR:",
                "+ZEND", "+ZSTR:", "+PBREADY", "+CUSD:", "+WIND:", "+CIEV:", "+STIN:", "+QIND:", "+CPIN: READY")


def is_final(line: str) -> bool:
    upper = line.strip().upper()
    return upper == OK or any(upper == f or (f.endswith(":") and upper.startswith(f)) for f in ERROR_FINALS)


def is_urc(line: str) -> bool:
    upper = line.strip().upper()
    return any(upper.startswith(p) for p in URC_PREFIXES)


def is_two_line_urc(line: str) -> bool:
    upper = line.strip().upper()
    return any(upper.startswith(p) for p in URC_TWO_LINE)


class LineSplitter:
    """Accumulates bytes and hands back complete, non-empty lines."""

    def __init__(self) -> None:
        self._buf = ""

    def feed(self, data: bytes) -> list[str]:
        text = self._buf + data.decode("latin-1")
        lines: list[str] = []
        start = 0
        for pos, ch in enumerate(text):
            if ch in "\r\n":
                line = text[start:pos].strip(" \t\x00")
                if line:
                    lines.append(line)
                start = pos + 1
        rest = text[start:]
        if len(rest) > MAX_LINE:
            lines.append(rest[:MAX_LINE])  # noise without an end: cut, never grow
            rest = ""
        self._buf = rest
        return lines

    @property
    def pending(self) -> str:
        """Text after the last line end (a prompt, or half a line)."""
        return self._buf

    def take_prompt(self) -> bool:
        """True (and the prompt consumed) if the unfinished text is `> `."""
        if self._buf.lstrip().startswith(">"):
            self._buf = self._buf.lstrip()[1:].lstrip(" ")
            return True
        return False

    def clear(self) -> None:
        self._buf = ""
