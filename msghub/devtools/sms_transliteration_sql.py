"""Prints the rows of hub.sms_transliterations (schema/52_sms_transliteration.sql):
every character outside GSM 03.38 that msghub.sms.transliterate turns into
GSM text, with that text. The outbox counts a transliterated SMS's parts with
it; tests/test_outbox_bounds.py checks the table against the Python one.

    python -m msghub.devtools.sms_transliteration_sql
"""

from __future__ import annotations

from msghub.sms.gsm7 import is_gsm7
from msghub.sms.transliterate import transliterate_char

ROWS_PER_STATEMENT = 500


def mapping() -> dict[str, str]:
    """Character -> GSM replacement, for every character transliteration changes."""
    out: dict[str, str] = {}
    for code in range(0x110000):
        if 0xD800 <= code <= 0xDFFF:
            continue
        ch = chr(code)
        if is_gsm7(ch):
            continue
        replacement = transliterate_char(ch)
        if replacement != ch and is_gsm7(replacement):
            out[ch] = replacement
    return out


def literal(text: str) -> str:
    """A PostgreSQL U& literal that spells every character by its code point."""
    return "U&'" + "".join(f"\\{ord(c):04X}" if ord(c) <= 0xFFFF else f"\\+{ord(c):06X}" for c in text) + "'"


def statements(table: dict[str, str]) -> list[str]:
    items = sorted(table.items())
    out = []
    for start in range(0, len(items), ROWS_PER_STATEMENT):
        chunk = items[start : start + ROWS_PER_STATEMENT]
        values = ",\n".join(f"    ({literal(ch)}, {literal(gsm)})" for ch, gsm in chunk)
        out.append(f"INSERT INTO hub.sms_transliterations (ch, gsm) VALUES\n{values};\n")
    return out


def main() -> None:
    print("\n".join(statements(mapping())), end="")


if __name__ == "__main__":
    main()
