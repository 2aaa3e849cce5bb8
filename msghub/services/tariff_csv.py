"""Tariffs from a CSV price list (operators publish theirs as spreadsheets):
a header row naming the columns, one tariff a line. Pure parsing, no
database; every malformed line is reported with its number at once."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from msghub.errors import HubError

REQUIRED = ("connection", "price", "currency")
OPTIONAL = ("channel", "direction", "prefix", "max_bytes", "valid_from", "valid_until")
CHANNELS = ("sms", "mms", "email")
DIRECTIONS = ("out", "in")
PREFIX = re.compile(r"^\+?[0-9]{0,20}$")
CURRENCY = re.compile(r"^[A-Z]{3}$")


class TariffCsvError(HubError):
    """Every problem of a price list, one line each ("line 3: ...")."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class TariffSpec:
    connection: str
    price: Decimal
    currency: str
    channel: str = "sms"
    direction: str = "out"
    prefix: str = ""
    max_bytes: int | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    line: int | None = None  # where a price list had it


def parse_price(text: str) -> Decimal:
    """'0.045' or '0,045' (spreadsheets in many locales write a comma)."""
    try:
        value = Decimal(text.strip().replace(",", "."))
    except InvalidOperation:
        raise ValueError(f"price {text!r} is not a number") from None
    if not value.is_finite():
        raise ValueError(f"price {text!r} is not a number")
    if value < 0:
        raise ValueError(f"price {text} is negative: prices are 0 or more")
    return value


def _time(text: str, column: str) -> datetime | None:
    if not text.strip():
        return None
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{column} {text!r} is not an ISO date or time (e.g. 2026-01-01)") from None
    return value if value.tzinfo else value.astimezone()


def _spec(row: dict[str, str], line: int) -> TariffSpec:
    get = {k: (row.get(k) or "").strip() for k in (*REQUIRED, *OPTIONAL)}
    if not get["connection"]:
        raise ValueError("connection is empty")
    channel = get["channel"] or "sms"
    if channel not in CHANNELS:
        raise ValueError(f"channel {channel!r}: use sms, mms or email")
    direction = get["direction"] or "out"
    if direction not in DIRECTIONS:
        raise ValueError(f"direction {direction!r}: use out or in")
    prefix = get["prefix"].replace(" ", "")
    if not PREFIX.match(prefix):
        raise ValueError(f"prefix {get['prefix']!r}: digits with an optional leading +, or empty for the default")
    currency = get["currency"].upper()
    if not CURRENCY.match(currency):
        raise ValueError(f"currency {get['currency']!r}: an ISO 4217 code such as EUR")
    max_bytes = None
    if get["max_bytes"]:
        if not get["max_bytes"].isdigit() or int(get["max_bytes"]) == 0:
            raise ValueError(f"max_bytes {get['max_bytes']!r}: a positive number of bytes")
        max_bytes = int(get["max_bytes"])
    return TariffSpec(connection=get["connection"], price=parse_price(get["price"]), currency=currency,
                      channel=channel, direction=direction, prefix=prefix, max_bytes=max_bytes,
                      valid_from=_time(get["valid_from"], "valid_from"),
                      valid_until=_time(get["valid_until"], "valid_until"), line=line)


def parse_tariffs(text: str) -> list[TariffSpec]:
    """The tariffs of a CSV text (comma or semicolon separated); raises
    TariffCsvError listing every bad line."""
    if not text.strip():
        raise TariffCsvError(["line 1: the file is empty: give a header row and one tariff a line"])
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text.split("\n", 1)[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    header = [h.strip() for h in reader.fieldnames or []]
    reader.fieldnames = header
    missing = [c for c in REQUIRED if c not in header]
    unknown = [c for c in header if c not in (*REQUIRED, *OPTIONAL)]
    if missing or unknown:
        raise TariffCsvError([f"line 1: missing column {c}" for c in missing] + [
            f"line 1: unknown column {c!r} (columns: {', '.join((*REQUIRED, *OPTIONAL))})" for c in unknown])
    specs: list[TariffSpec] = []
    problems: list[str] = []
    for row in reader:
        line = reader.line_num
        if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue  # a blank line
        if None in row:
            problems.append(f"line {line}: more fields than the header has columns")
            continue
        try:
            specs.append(_spec(row, line))
        except ValueError as exc:
            problems.append(f"line {line}: {exc}")
    if problems:
        raise TariffCsvError(problems)
    if not specs:
        raise TariffCsvError(["line 2: no tariffs after the header"])
    return specs
