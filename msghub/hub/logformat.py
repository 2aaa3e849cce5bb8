"""Log output: the usual text lines, or one JSON object per line
(MSGHUB_LOG_FORMAT=json) for a log collector.

A JSON line carries the time, level, logger and message, and every id a
caller passed with ``extra=`` (``message_id``, ``connection_id``,
``connection``, ``node``, ``rule``, ``event_id``), so a collector can find
every line about one message or one connection.
"""

from __future__ import annotations

import datetime as dt
import json
import logging

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# the fields a caller may attach with extra=; anything else stays out of the line
ID_FIELDS = ("message_id", "connection_id", "connection", "node", "rule", "event_id")
FORMATS = ("text", "json")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in ID_FIELDS:
            value = getattr(record, field, None)
            if value is not None:
                line[field] = value if isinstance(value, int | float | str | bool) else str(value)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure_logging(level: str, fmt: str) -> None:
    """Like logging.basicConfig: one handler on standard error, unless the
    host (a test runner, an embedding program) installed its own."""
    root = logging.getLogger()
    root.setLevel(level)
    ours = [h for h in root.handlers if getattr(h, "msghub", False)]
    if len(ours) != len(root.handlers):
        return
    for old in ours:
        root.removeHandler(old)
    handler = logging.StreamHandler()
    handler.msghub = True  # type: ignore[attr-defined]
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root.addHandler(handler)
