"""The visual rule editor's form layer: the rows it shows for each condition
and action of msghub.rules.model, turning a posted form into a model and a
model into rows, and placing a ModelError beside the field it names.

Field names are the model's own paths (``conditions[0].keyword``), so an
error's path leads straight to its input.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from msghub.rules.model import CHANNELS, HTTP_METHODS, ModelError

DAYS = ((1, "Mon"), (2, "Tue"), (3, "Wed"), (4, "Thu"), (5, "Fri"), (6, "Sat"), (7, "Sun"))
ROW = re.compile(r"^(conditions|actions)\[(\d{1,4})\]\.([a-z_]+[1-7]?)$")
ERROR_PATH = re.compile(r"^(conditions|actions)\[(\d+)\](?:\.([a-z_]+))?")


@dataclass(frozen=True, slots=True)
class Field:
    """One input of a condition or action row. widget: text, textarea,
    select, check (flags "i"), time, days, list (globs or addresses, one or
    several), json or number."""

    name: str
    label: str
    widget: str = "text"
    required: bool = True
    choices: tuple[str, ...] = ()
    hint: str = ""


@dataclass(frozen=True, slots=True)
class Kind:
    type: str
    label: str
    fields: tuple[Field, ...]


_TEXT_HINT = "may hold {sender}, {text}, {subject} and {connection}"
CONDITION_KINDS = {
    k.type: k
    for k in (
        Kind("sender_matches", "Sender matches",
             (Field("pattern", "Pattern", "list", hint="e.g. +4479* or *@example.com; several separated by commas"),)),
        Kind("text_contains", "Text contains", (Field("keyword", "Words"),)),
        Kind("text_starts_with", "Text starts with", (Field("keyword", "Words"),)),
        Kind("text_matches", "Text matches pattern",
             (Field("pattern", "Regular expression", hint="JavaScript syntax, e.g. ^stop\\b"),
              Field("flags", "Ignore case", "check", required=False))),
        Kind("connection", "Connection is", (Field("name", "Connection name"),)),
        Kind("channel", "Channel is", (Field("channel", "Channel", "select", choices=CHANNELS),)),
        Kind("time_window", "Time window",
             (Field("from", "From", "time"), Field("to", "Until", "time"),
              Field("days", "On", "days", required=False, hint="none ticked: every day"),
              Field("timezone", "Time zone", required=False, hint="e.g. Europe/London; empty: UTC"))),
    )
}  # fmt: skip
ACTION_KINDS = {
    k.type: k
    for k in (
        Kind("reply", "Reply",
             (Field("text", "Text", "textarea", hint=_TEXT_HINT),
              Field("channel", "Channel", "select", required=False, choices=CHANNELS, hint="empty: the message's"))),
        Kind("send", "Send a message",
             (Field("to", "To", "list", hint="an address, or several separated by commas"),
              Field("channel", "Channel", "select", choices=CHANNELS),
              Field("text", "Text", "textarea", hint=_TEXT_HINT),
              Field("subject", "Subject", required=False, hint="e-mail only"))),
        Kind("forward", "Forward",
             (Field("to", "To", "list", hint="an address, or several separated by commas"),
              Field("channel", "Channel", "select", required=False, choices=CHANNELS, hint="empty: the message's"))),
        Kind("move", "Move to folder", (Field("folder", "Folder"),)),
        Kind("assign", "Assign",
             (Field("user", "User", required=False), Field("group", "Group", required=False))),
        Kind("http", "Call a web address",
             (Field("method", "Method", "select", choices=HTTP_METHODS), Field("url", "URL"),
              Field("body", "Body", "textarea", required=False, hint=_TEXT_HINT),
              Field("reply", "Reply with the answer", "textarea", required=False,
                    hint="{answer} is the answer, e.g. It is {answer} degrees; empty: no reply"),
              Field("answer_field", "Answer field", required=False,
                    hint="a field of a JSON answer, e.g. temp or current.temp; empty: the answer's text"),
              Field("reply_failed", "Reply when the call fails", "textarea", required=False,
                    hint="no answer, an error status or no such field; empty: nothing is sent"))),
        Kind("vote", "Vote in poll", (Field("poll", "Poll"),)),
        Kind("log", "Write to the rule's log", (Field("message", "Message", hint=_TEXT_HINT),)),
        Kind("set_state", "Set a stored value",
             (Field("key", "Key"), Field("value", "Value", "json", hint="JSON: 3, \"text\", true, [1, 2]"))),
        Kind("incr_state", "Add to a stored number",
             (Field("key", "Key"), Field("by", "By", "number", required=False, hint="empty: 1"))),
        Kind("stop", "Stop later rules", ()),
    )
}  # fmt: skip
SECTIONS = {"conditions": CONDITION_KINDS, "actions": ACTION_KINDS}


def _split_list(text: str) -> str | list[str]:
    items = [p for p in re.split(r"[,\s]+", text) if p]
    return items[0] if len(items) == 1 else items if items else ""


def _shown(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


def rows_from_model(model: dict[str, Any] | None) -> dict[str, list[dict[str, Any]]]:
    """The editor's rows (every value as the text its input shows) for a stored model."""
    out: dict[str, list[dict[str, Any]]] = {"conditions": [], "actions": []}
    for section, kinds in SECTIONS.items():
        for item in (model or {}).get(section) or []:
            if not isinstance(item, dict) or item.get("type") not in kinds:
                continue
            values: dict[str, Any] = {}
            for f in kinds[item["type"]].fields:
                v = item.get(f.name)
                if f.widget == "check":
                    values[f.name] = v == "i"
                elif f.widget == "days":
                    values[f.name] = [d for d in v if isinstance(d, int)] if isinstance(v, list) else []
                elif f.widget == "json":
                    values[f.name] = "" if f.name not in item else json.dumps(v, ensure_ascii=False)
                else:
                    values[f.name] = _shown(v)
            out[section].append({"type": item["type"], "negate": item.get("negate") is True, "values": values})
    return out


def rows_from_form(form: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
    """The editor's rows as posted, in index order (gaps from removed rows closed)."""
    found: dict[tuple[str, int], dict[str, str]] = {}
    for key, value in form.items():
        m = ROW.match(key)
        if m:
            found.setdefault((m[1], int(m[2])), {})[m[3]] = value
    out: dict[str, list[dict[str, Any]]] = {"conditions": [], "actions": []}
    for (section, _n), posted in sorted(found.items()):
        kind = SECTIONS[section].get(posted.get("type", ""))
        if kind is None:
            continue
        values: dict[str, Any] = {}
        for f in kind.fields:
            if f.widget == "check":
                values[f.name] = posted.get(f.name) == "on"
            elif f.widget == "days":
                values[f.name] = [d for d, _ in DAYS if posted.get(f"{f.name}{d}") == "on"]
            else:
                values[f.name] = posted.get(f.name, "")
        out[section].append({"type": kind.type, "negate": posted.get("negate") == "on", "values": values})
    return out


def model_from_rows(
    rows: dict[str, list[dict[str, Any]]], match: str, stop: bool
) -> tuple[dict[str, Any], dict[str, str]]:
    """The model the rows describe, and the errors the model cannot express
    (a value that is not JSON, a number that is not one) by field."""
    errors: dict[str, str] = {}
    model: dict[str, Any] = {"match": match, "conditions": [], "actions": []}
    for section, kinds in SECTIONS.items():
        for n, row in enumerate(rows[section]):
            item: dict[str, Any] = {"type": row["type"]}
            for f in kinds[row["type"]].fields:
                raw = row["values"][f.name]
                path = f"{section}[{n}].{f.name}"
                if f.widget == "check":
                    item[f.name] = "i" if raw else ""
                elif f.widget == "days":
                    if raw and len(raw) < len(DAYS):
                        item[f.name] = raw
                elif not str(raw).strip() and not f.required:
                    continue
                elif f.widget == "list":
                    item[f.name] = _split_list(raw)
                elif f.widget == "json":
                    try:
                        item[f.name] = json.loads(raw)
                    except ValueError:
                        errors[path] = 'must be a JSON value, e.g. 3, "some text", true or [1, 2]'
                elif f.widget == "number":
                    try:
                        number = float(raw)
                        item[f.name] = int(number) if number.is_integer() else number
                    except ValueError:
                        errors[path] = "must be a number, e.g. 1 or -2.5"
                else:
                    item[f.name] = raw
            if section == "conditions":
                item["negate"] = bool(row["negate"])
            model[section].append(item)
    model["stop"] = stop
    return model, errors


def error_key(exc: ModelError, rows: dict[str, list[dict[str, Any]]]) -> str:
    """Where the page shows a ModelError: the input its path names
    (``actions[1].text``), else its row (``actions[1]``), else its section."""
    m = ERROR_PATH.match(exc.path)
    if m:
        section, n, field = m[1], int(m[2]), m[3]
        if n < len(rows[section]):
            names = {f.name for f in SECTIONS[section][rows[section][n]["type"]].fields}
            return f"{section}[{n}].{field}" if field in names else f"{section}[{n}]"
        return section
    top = exc.path.split("[", 1)[0].split(".", 1)[0]
    return top if top in ("conditions", "actions", "match", "stop") else "_"


def blank_row(section: str, kind_type: str) -> dict[str, Any] | None:
    kind = SECTIONS[section].get(kind_type)
    if kind is None:
        return None
    values: dict[str, Any] = {}
    for f in kind.fields:
        values[f.name] = False if f.widget == "check" else [] if f.widget == "days" else ""
    if kind_type == "time_window":
        values.update({"from": "09:00", "to": "17:00", "timezone": "UTC"})
    if kind_type == "http":
        values["method"] = "POST"
    return {"type": kind_type, "negate": False, "values": values}


BLANKS = {section: {t: blank_row(section, t) for t in kinds} for section, kinds in SECTIONS.items()}
