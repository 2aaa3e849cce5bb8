"""Splitting an AT command line into commands (ITU-T V.250 5.2, 5.4).

`ATE0V1+CMGF=0;+CNMI=2,1,0,2` is four commands: the basic commands E0 and
V1 (a letter or &letter with an optional number, S-registers `S0=2`/`S3?`)
and the extended commands +CMGF=0 and +CNMI=2,1,0,2, separated by `;`.
Extended names start with + or a vendor prefix (^ $ % *).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

EXTENDED_PREFIXES = "+^$%*#"


class Kind(StrEnum):
    ACTION = "action"  # AT+CGMI, ATE0
    READ = "read"  # AT+CMGF?
    TEST = "test"  # AT+CMGF=?
    SET = "set"  # AT+CMGF=0


@dataclass(frozen=True)
class Command:
    name: str  # upper case: "E", "&F", "S3", "+CMGF", "^CURC"
    kind: Kind
    args: tuple[str | None, ...] = ()  # SET arguments, quotes removed; None for an empty one
    raw: str = ""  # the argument text as sent (quotes kept)
    number: str = ""  # basic commands: the digits after the letter ("0" in E0)


class AtSyntaxError(ValueError):
    pass


def split_args(text: str) -> tuple[str | None, ...]:
    """`"SM","SM",,1` -> ("SM", "SM", None, "1"). Quoted strings keep commas;
    an empty unquoted argument is None, an empty quoted one ""."""
    if text == "":
        return ()
    args: list[str | None] = []
    cur: list[str] = []
    quoted = False
    was_quoted = False

    def finish() -> None:
        value = "".join(cur) if was_quoted else "".join(cur).strip()
        args.append(value if value or was_quoted else None)

    for ch in text:
        if quoted:
            if ch == '"':
                quoted = False
            else:
                cur.append(ch)
        elif ch == '"':
            quoted = True
            was_quoted = True
        elif ch == ",":
            finish()
            cur, was_quoted = [], False
        else:
            cur.append(ch)
    if quoted:
        raise AtSyntaxError("unterminated string")
    finish()
    return tuple(args)


def _extended(body: str, pos: int) -> tuple[Command, int]:
    start = pos
    pos += 1
    while pos < len(body) and (body[pos].isalnum() or body[pos] in "_"):
        pos += 1
    name = body[start:pos].upper()
    if len(name) < 2:
        raise AtSyntaxError(f"empty command name at {start}")
    # The rest of the command runs to the next ';' outside quotes.
    end = pos
    quoted = False
    while end < len(body) and (quoted or body[end] != ";"):
        if body[end] == '"':
            quoted = not quoted
        end += 1
    rest = body[pos:end]
    if rest == "":
        return Command(name, Kind.ACTION), end
    if rest == "?":
        return Command(name, Kind.READ), end
    if rest == "=?":
        return Command(name, Kind.TEST), end
    if rest.startswith("="):
        raw = rest[1:]
        return Command(name, Kind.SET, split_args(raw), raw), end
    raise AtSyntaxError(f"unexpected {rest!r} after {name}")


def _basic(body: str, pos: int) -> tuple[Command, int]:
    start = pos
    if body[pos] == "&":
        pos += 1
    if pos >= len(body) or not body[pos].isalpha():
        raise AtSyntaxError(f"bad basic command at {start}")
    letter = body[pos].upper()
    pos += 1
    if letter == "S":
        digits_start = pos
        while pos < len(body) and body[pos].isdigit():
            pos += 1
        name = "S" + body[digits_start:pos]
        if body[pos:pos + 2] == "=?":
            return Command(name, Kind.TEST), pos + 2
        if body[pos:pos + 1] == "?":
            return Command(name, Kind.READ), pos + 1
        if body[pos:pos + 1] == "=":
            pos += 1
            vstart = pos
            while pos < len(body) and body[pos].isdigit():
                pos += 1
            return Command(name, Kind.SET, (body[vstart:pos],), body[vstart:pos]), pos
        return Command(name, Kind.ACTION), pos
    if letter == "D":  # dial string runs to the end of the command
        end = body.find(";", pos)
        end = len(body) if end < 0 else end + 1
        return Command("D", Kind.ACTION, (body[pos:end],), body[pos:end]), end
    digits_start = pos
    while pos < len(body) and body[pos].isdigit():
        pos += 1
    name = ("&" if body[start] == "&" else "") + letter
    return Command(name, Kind.ACTION, number=body[digits_start:pos]), pos


def parse_line(line: str) -> list[Command]:
    """Commands of one line that starts with AT (the caller checked that)."""
    body = line[2:]
    commands: list[Command] = []
    pos = 0
    while pos < len(body):
        ch = body[pos]
        if ch in " ;":
            pos += 1
            continue
        if ch in EXTENDED_PREFIXES:
            command, pos = _extended(body, pos)
        else:
            command, pos = _basic(body, pos)
        commands.append(command)
    return commands
