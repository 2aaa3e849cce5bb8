"""The rule editor's model: validated, compiled to JavaScript, described.

People who do not write code build rules in the web editor. The editor keeps
its model in hub.rules.model (kind 'visual'); compile_model turns it into the
JavaScript stored in hub.rules.source, which runs through the same sandbox and
rule API as hand-written rules. There is no second way to run a rule.

The model (JSON; fields not listed here are errors, so typos are caught):

    {"version": 1,              optional; the only version so far
     "match": "all" | "any",    optional, default "all": every condition, or one
     "conditions": [...],       optional, default []: no condition always matches
     "actions": [...],          at least one
     "stop": false}             optional: true stops later rules when this one matched

Every condition has a "type", the fields below, and optionally "negate": true.
Conditions on the message are false for events without one (before negation).

    sender_matches   pattern: a glob ("+4479*", "*@example.com"; * is any run of
                     characters, ? one) or a list of globs; whole sender, any case
    text_contains    keyword: the text has these words (keywords.contains: case,
                     accents and the noise around words are ignored)
    text_starts_with keyword: the text begins with these words (keywords.startsWith)
    text_matches     pattern: a JavaScript regular expression; flags: "" or "i"
    connection       name: the message's connection (else the event's) is this one
    channel          channel: "sms", "mms" or "email"
    time_window      from, to: "HH:MM", from included, to not; to <= from runs past
                     midnight (from == to is the whole day); days: ISO weekdays
                     1 (Monday) to 7 (Sunday) on which the window begins; timezone:
                     an IANA name, default "UTC". The time is event.created_at.

Every action has a "type" and these fields (? marks optional ones):

    reply      text, channel?        answer the sender
    send       to, channel, text, subject?    to: an address or a list of them
    forward    to, channel?          send the message's text on (channel: the
                                     message's own); a message without text is
                                     not forwarded, rules cannot attach its parts
    move       folder
    assign     user?, group?         at least one of them
    http       method, url, body?, reply?, answer_field?, reply_failed?
                                     method GET, POST, PUT, PATCH or DELETE.
                                     reply: when the answer comes, answer the
                                     sender with this text; {answer} in it is
                                     the answer's text, or the value of
                                     answer_field (a JSON field: "temp",
                                     "current.temp", "items.0.name"). A call
                                     that fails (no answer, a status other
                                     than 2xx, no such field) gets reply_failed
                                     instead, or nothing (a warning in the
                                     rule's log)
    vote       poll                  counts the message's text in the poll
    log        message
    set_state  key, value            value: any JSON value
    incr_state key, by?              by: a number, default 1
    stop                             later rules do not run

reply, forward, move, assign and vote need a message; events without one skip
them. Texts (reply and send text, send subject, http body, reply and
reply_failed, log message) may hold the placeholders {sender}, {text},
{subject} and {connection}, and an http reply also {answer}; any other {word}
is an error. A compiled rule with an http action ignores the http_response
event of its calls except to reply with their answers, so an answer never
runs its actions again. Model values only ever reach the JavaScript as JSON
literals, so no value can become code.
"""

from __future__ import annotations

import json
import math
import re
import zoneinfo
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from msghub.errors import HubError
from msghub.rules.engine import run_once
from msghub.rules.errors import RuleError
from msghub.rules.keywords import normalize_keyword


class ModelError(HubError):
    """A rule model is not valid; the message starts with the path of the bad field."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


MAX_ITEMS = 100  # conditions, actions, globs or addresses in one list
MAX_TEXT = 10_000  # characters in one text field
CHANNELS = ("email", "mms", "sms")
HTTP_METHODS = ("DELETE", "GET", "PATCH", "POST", "PUT")
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# Zone offsets are embedded for this span (UTC years); past it the last offset holds.
ZONE_YEARS = (2000, 2100)
SECONDS_PER_DAY = 86_400

# Placeholder -> the fixed JavaScript that gives its text.
PLACEHOLDERS = {
    "connection": "__vm_say(__vm_connection())",
    "sender": "__vm_say(message && message.sender)",
    "subject": "__vm_say(message && message.subject)",
    "text": "__vm_say(message && message.text)",
}
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")

Check = Callable[[str, Any], Any]


# --- field checks: (path, value) -> the value to keep, or ModelError ---


def _text(path: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ModelError(path, "must be text")
    if not value.strip():
        raise ModelError(path, "must not be empty")
    if len(value) > MAX_TEXT:
        raise ModelError(path, f"is longer than {MAX_TEXT} characters")
    return value


def _template(path: str, value: Any) -> str:
    text = _text(path, value)
    for name in PLACEHOLDER.findall(text):
        if name not in PLACEHOLDERS:
            known = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
            raise ModelError(path, f"unknown placeholder {{{name}}} (known: {known})")
    return text


def _answer_template(path: str, value: Any) -> str:
    text = _text(path, value)
    for name in PLACEHOLDER.findall(text):
        if name not in PLACEHOLDERS and name != "answer":
            known = ", ".join("{" + p + "}" for p in (*PLACEHOLDERS, "answer"))
            raise ModelError(path, f"unknown placeholder {{{name}}} (known: {known})")
    return text


ANSWER_FIELD = re.compile(r"[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*")


def _answer_field(path: str, value: Any) -> str:
    if not isinstance(value, str) or not ANSWER_FIELD.fullmatch(value) or len(value) > 200:
        raise ModelError(path, "must be a field of the JSON answer, e.g. temp or current.temp or items.0.name")
    return value


def _keyword(path: str, value: Any) -> str:
    keyword = _text(path, value)
    if not normalize_keyword(keyword):
        raise ModelError(path, "has no letters or digits to match")
    return keyword


def _list(path: str, value: Any, item: Check, what: str) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise ModelError(path, f"must be {what} or a list of them")
    if len(value) > MAX_ITEMS:
        raise ModelError(path, f"has more than {MAX_ITEMS} entries")
    return [item(f"{path}[{n}]", v) for n, v in enumerate(value)]


def _globs(path: str, value: Any) -> list[str]:
    return _list(path, [value] if isinstance(value, str) else value, _text, "a pattern")


def _addresses(path: str, value: Any) -> str | list[str]:
    if isinstance(value, str):
        return _text(path, value)
    return _list(path, value, _text, "an address")


def _choice(options: tuple[str, ...], what: str) -> Check:
    def check(path: str, value: Any) -> str:
        if value not in options:
            raise ModelError(path, f"unknown {what} {_shown(value)} (known: {', '.join(options)})")
        return str(value)

    return check


def _flags(path: str, value: Any) -> str:
    if value not in ("", "i"):
        raise ModelError(path, "must be '' or 'i' (ignore case)")
    return str(value)


def _clock(path: str, value: Any) -> int:
    """Minutes since midnight."""
    found = re.fullmatch(r"([01][0-9]|2[0-3]):([0-5][0-9])", value) if isinstance(value, str) else None
    if found is None:
        raise ModelError(path, "must be a time as HH:MM, from 00:00 to 23:59")
    return int(found[1]) * 60 + int(found[2])


def _days(path: str, value: Any) -> list[int]:
    ok = isinstance(value, list) and value and all(type(d) is int and 1 <= d <= 7 for d in value)
    if not ok:
        raise ModelError(path, "must be a list of weekdays, 1 (Monday) to 7 (Sunday)")
    return sorted(set(value))


def _zone(path: str, value: Any) -> str:
    if not isinstance(value, str) or not _known_zone(value):
        raise ModelError(path, f"unknown time zone {_shown(value)}")
    return value


def _known_zone(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        return False
    return True


def _bool(path: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ModelError(path, "must be true or false")
    return value


def _number(path: str, value: Any) -> float | int:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ModelError(path, "must be a number")
    return value


def _json(path: str, value: Any) -> Any:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        raise ModelError(path, "must be a JSON value") from None
    return value


def _url(path: str, value: Any) -> str:
    url = _text(path, value)
    if not re.match(r"https?://[^\s/]", url, re.IGNORECASE):
        raise ModelError(path, "must start with http:// or https:// and a host")
    return url


_channel = _choice(CHANNELS, "channel")

# type -> field -> (required, check). Every condition may also have "negate".
CONDITIONS: dict[str, dict[str, tuple[bool, Check]]] = {
    "channel": {"channel": (True, _channel)},
    "connection": {"name": (True, _text)},
    "sender_matches": {"pattern": (True, _globs)},
    "text_contains": {"keyword": (True, _keyword)},
    "text_matches": {"pattern": (True, _text), "flags": (False, _flags)},
    "text_starts_with": {"keyword": (True, _keyword)},
    "time_window": {"from": (True, _clock), "to": (True, _clock), "days": (False, _days), "timezone": (False, _zone)},
}
ACTIONS: dict[str, dict[str, tuple[bool, Check]]] = {
    "assign": {"user": (False, _text), "group": (False, _text)},
    "forward": {"to": (True, _addresses), "channel": (False, _channel)},
    "http": {"method": (True, _choice(HTTP_METHODS, "method")), "url": (True, _url), "body": (False, _template),
             "reply": (False, _answer_template), "answer_field": (False, _answer_field),
             "reply_failed": (False, _template)},
    "incr_state": {"key": (True, _text), "by": (False, _number)},
    "log": {"message": (True, _template)},
    "move": {"folder": (True, _text)},
    "reply": {"text": (True, _template), "channel": (False, _channel)},
    "send": {"to": (True, _addresses), "channel": (True, _channel), "text": (True, _template),
             "subject": (False, _template)},
    "set_state": {"key": (True, _text), "value": (True, _json)},
    "stop": {},
    "vote": {"poll": (True, _text)},
}  # fmt: skip
TOP: dict[str, tuple[bool, Check]] = {
    "version": (False, lambda path, v: _version(path, v)),
    "match": (False, _choice(("all", "any"), "match")),
    "conditions": (False, lambda path, v: _items(path, v, CONDITIONS, "condition")),
    "actions": (True, lambda path, v: _items(path, v, ACTIONS, "action")),
    "stop": (False, _bool),
}


def validate_model(model: object) -> dict[str, Any]:
    """The model with its defaults filled in, or ModelError naming the bad field."""
    out = _fields("model", model, TOP, prefix="")
    out.pop("version", None)
    out.setdefault("match", "all")
    out.setdefault("conditions", [])
    out.setdefault("stop", False)
    if not out["actions"]:
        raise ModelError("actions", "add at least one action")
    return out


def _version(path: str, value: Any) -> int:
    if type(value) is not int or value != 1:
        raise ModelError(path, "must be 1, the only version so far")
    return value


def _items(path: str, value: Any, kinds: dict[str, dict[str, tuple[bool, Check]]], what: str) -> list[Any]:
    if not isinstance(value, list):
        raise ModelError(path, f"must be a list of {what}s")
    if len(value) > MAX_ITEMS:
        raise ModelError(path, f"has more than {MAX_ITEMS} {what}s")
    return [_item(f"{path}[{n}]", item, kinds, what) for n, item in enumerate(value)]


def _item(path: str, item: Any, kinds: dict[str, dict[str, tuple[bool, Check]]], what: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise ModelError(path, f"must be an object with a type, not {_json_kind(item)}")
    kind = item.get("type")
    if kind not in kinds:
        known = ", ".join(kinds)
        if "type" not in item:
            raise ModelError(f"{path}.type", f"missing (known: {known})")
        raise ModelError(path, f"unknown {what} {_shown(kind)} (known: {known})")
    spec = dict(kinds[kind], type=(True, lambda _p, v: v))
    if what == "condition":
        spec["negate"] = (False, _bool)
    out = _fields(path, item, spec, prefix=f"{path}.")
    if what == "condition":
        out.setdefault("negate", False)
    if kind == "assign" and not ({"user", "group"} & set(out)):
        raise ModelError(path, "name a user or a group to assign to")
    if kind == "text_matches":
        _check_regex(f"{path}.pattern", out["pattern"], out.setdefault("flags", ""))
    if kind == "http" and "reply" not in out:
        for name in ("answer_field", "reply_failed"):
            if name in out:
                raise ModelError(f"{path}.{name}", "is for replying with the answer: give the reply text too")
    return out


def _fields(path: str, value: Any, spec: dict[str, tuple[bool, Check]], prefix: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ModelError(path, f"must be an object, not {_json_kind(value)}")
    for name in value:
        if name not in spec:
            raise ModelError(f"{prefix}{name}", f"unknown field (known: {', '.join(sorted(spec))})")
    out: dict[str, Any] = {}
    for name, (required, check) in spec.items():
        if name in value:
            out[name] = check(f"{prefix}{name}", value[name])
        elif required:
            raise ModelError(f"{prefix}{name}", "missing")
    return out


def _check_regex(path: str, pattern: str, flags: str) -> None:
    # JavaScript's own parser decides: Python's re accepts a different language.
    try:
        run_once("", "new RegExp(input.p, input.f);", {"p": pattern, "f": flags}, "'{}'")
    except RuleError as exc:
        raise ModelError(path, f"not a valid regular expression ({exc.detail or exc})") from None


def _shown(value: Any) -> str:
    return _quote(value) if isinstance(value, str) else _json_kind(value)


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return "text" if isinstance(value, str) else "a number"


# --- compiling ---


def js_literal(value: Any) -> str:
    """A JavaScript literal for a JSON value: ASCII only, nothing a script tag or
    a line separator could end early."""
    text = json.dumps(value, ensure_ascii=True, allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


HELPERS = {
    "say": """function __vm_say(value) { return value === null || value === undefined ? '' : String(value); }""",
    "answer": """function __vm_answer(r, field) {
    if (!r || typeof r.status !== 'number' || r.status < 200 || r.status > 299) return null;
    if (field === null) return r.body === null || r.body === undefined ? null : String(r.body);
    let v = r.json;
    for (const k of field.split('.')) {
      if (v === null || typeof v !== 'object' || !Object.prototype.hasOwnProperty.call(v, k)) return null;
      v = v[k];
    }
    if (v === null || v === undefined) return null;
    return typeof v === 'object' ? JSON.stringify(v) : String(v);
  }
  function __vm_failure(r) {
    if (!r) return 'no response';
    if (r.error) return r.error;
    return typeof r.status === 'number' && (r.status < 200 || r.status > 299) ? 'status ' + r.status
      : 'no such field in the answer';
  }""",
    "connection": """function __vm_connection() {
    const c = (message && message.connection) || event.connection;
    return c ? c.name : null;
  }""",
    "forward": """function __vm_forward(to, channel) {
    if (!message || !message.text) return;
    const fields = { to: to, channel: channel || message.channel, text: message.text };
    if (fields.channel === 'email') fields.subject = 'Fwd: ' + __vm_say(message.subject);
    send(fields);
  }""",
    "window": """function __vm_now() {
    const t = /^(\\d{4})-(\\d\\d)-(\\d\\d)[T ](\\d\\d):(\\d\\d)(?::(\\d\\d)(?:\\.\\d+)?)?(Z|[+-]\\d\\d(?::?\\d\\d)?)?$/i
      .exec(String(event.created_at));
    if (!t) throw new Error('time window: event.created_at is not a time: ' + JSON.stringify(event.created_at));
    let ms = Date.UTC(+t[1], +t[2] - 1, +t[3], +t[4], +t[5], +(t[6] || 0));
    if (t[7] && t[7].toUpperCase() !== 'Z') {
      const digits = t[7].slice(1).replace(':', '');
      const minutes = +digits.slice(0, 2) * 60 + +(digits.slice(2) || 0);
      ms -= (t[7][0] === '-' ? -1 : 1) * minutes * 60000;
    }
    return ms;
  }
  // zone: [[since (UTC seconds), offset (seconds east of UTC)], ...] or null for UTC.
  function __vm_inWindow(from, to, days, zone) {
    const utc = __vm_now();
    let offset = zone ? zone[0][1] : 0;
    if (zone) for (const [since, off] of zone) { if (since * 1000 > utc) break; offset = off; }
    const local = new Date(utc + offset * 1000);
    const minute = local.getUTCHours() * 60 + local.getUTCMinutes();
    let day = local.getUTCDay() || 7;  // ISO: Monday 1 .. Sunday 7
    let inside = from <= minute && minute < to;
    if (to <= from) {
      inside = minute >= from || minute < to;
      if (minute < from) day = day === 1 ? 7 : day - 1;  // the window began yesterday
    }
    return inside && (days === null || days.indexOf(day) >= 0);
  }""",
}


class _Compiler:
    def __init__(self) -> None:
        self.helpers: set[str] = set()
        self.zones: dict[str, str] = {}  # time zone -> the const holding its offsets
        self.answers: list[dict[str, Any]] = []  # the http actions that reply with their answer

    def answer_replies(self) -> list[str]:
        """The statements that reply with the answers of http calls, for an
        http_response event (the context names the action)."""
        self.helpers.update(("say", "answer"))
        lines = ["const __vm_ctx = event.payload.context;"]
        for n, a in enumerate(self.answers):
            field = js_literal(a.get("answer_field"))
            url = js_literal(a["url"])
            failed = (f"reply({{ text: {self.text(a['reply_failed'])} }});" if "reply_failed" in a
                      else f"log.warn('no answer to reply with from ' + {url} + ': ' + __vm_failure(r));")
            lines += [
                f"if (message && __vm_ctx && __vm_ctx.__vm_answer === {n}) {{",
                f"  const r = event.payload.response; const __vm_a = __vm_answer(r, {field});",
                f"  if (__vm_a !== null) reply({{ text: {self.text(a['reply'], '__vm_a')} }});",
                f"  else {failed}",
                "}",
            ]
        return lines

    def text(self, template: str, answer: str | None = None) -> str:
        """A JavaScript expression for a text with placeholders; answer: the
        expression {answer} stands for (an http reply's)."""
        known = PLACEHOLDERS if answer is None else {**PLACEHOLDERS, "answer": answer}
        parts: list[str] = []
        at = 0
        for found in PLACEHOLDER.finditer(template):
            if found.start() > at:
                parts.append(js_literal(template[at : found.start()]))
            parts.append(known[found[1]])
            at = found.end()
        if at < len(template):
            parts.append(js_literal(template[at:]))
        self.helpers.add("say")
        if any(p == PLACEHOLDERS["connection"] for p in parts):
            self.helpers.add("connection")
        return " + ".join(parts)

    def condition(self, c: dict[str, Any]) -> str:
        kind = c["type"]
        self.helpers.add("say")
        if kind == "sender_matches":
            source = "^(?:" + "|".join(_glob_regex(p) for p in c["pattern"]) + ")$"
            test = f"(message ? new RegExp({js_literal(source)}, 'iu').test(__vm_say(message.sender)) : false)"
        elif kind in ("text_contains", "text_starts_with"):
            call = "contains" if kind == "text_contains" else "startsWith"
            test = f"(message ? keywords.{call}(__vm_say(message.text), {js_literal(c['keyword'])}) : false)"
        elif kind == "text_matches":
            regex = f"new RegExp({js_literal(c['pattern'])}, {js_literal(c['flags'])})"
            test = f"(message ? {regex}.test(__vm_say(message.text)) : false)"
        elif kind == "connection":
            self.helpers.add("connection")
            test = f"__vm_connection() === {js_literal(c['name'])}"
        elif kind == "channel":
            test = f"(message ? message.channel === {js_literal(c['channel'])} : false)"
        else:
            self.helpers.add("window")
            zone = self.zone(c.get("timezone", "UTC"))
            days = js_literal(c.get("days"))
            test = f"__vm_inWindow({c['from']}, {c['to']}, {days}, {zone})"
        return f"!({test})" if c["negate"] else f"({test})"

    def zone(self, name: str) -> str:
        if name in ("UTC", "Etc/UTC"):
            return "null"
        return self.zones.setdefault(name, f"__vm_zone{len(self.zones)}")

    def action(self, a: dict[str, Any]) -> str:
        kind = a["type"]
        if kind == "reply":
            fields = {"text": self.text(a["text"]), **_literals(a, "channel")}
            return f"if (message) reply({_object(fields)});"
        if kind == "send":
            fields = {**_literals(a, "to", "channel"), "text": self.text(a["text"])}
            if "subject" in a:
                fields["subject"] = self.text(a["subject"])
            return f"send({_object(fields)});"
        if kind == "forward":
            self.helpers.update(("say", "forward"))
            return f"__vm_forward({js_literal(a['to'])}, {js_literal(a.get('channel'))});"
        if kind == "move":
            return f"if (message) move({js_literal(a['folder'])});"
        if kind == "assign":
            return f"if (message) assign({_object(_literals(a, 'user', 'group'))});"
        if kind == "http":
            fields = _literals(a, "method", "url")
            if "body" in a:
                fields["body"] = self.text(a["body"])
            if "reply" in a:
                # the answer's event brings this back: which action's reply to send
                fields["context"] = _object({"__vm_answer": str(len(self.answers))})
                self.answers.append(a)
            return f"http.request({_object(fields)});"

        if kind == "vote":
            return f"if (message) poll.vote({js_literal(a['poll'])});"
        if kind == "log":
            return f"log.info({self.text(a['message'])});"
        if kind == "set_state":
            return f"state.set({js_literal(a['key'])}, {js_literal(a['value'])});"
        if kind == "incr_state":
            return f"state.incr({js_literal(a['key'])}, {js_literal(a.get('by', 1))});"
        return "stop();"


def _literals(item: dict[str, Any], *names: str) -> dict[str, str]:
    return {name: js_literal(item[name]) for name in names if name in item}


def _object(fields: dict[str, str]) -> str:
    return "{ " + ", ".join(f"{name}: {expr}" for name, expr in fields.items()) + " }"


def _glob_regex(glob: str) -> str:
    # Only the syntax characters may be escaped in a 'u' regular expression.
    special = set("^$\\.*+?()[]{}|/")
    return "".join("[^]*" if c == "*" else "[^]" if c == "?" else "\\" + c if c in special else c for c in glob)


@lru_cache(maxsize=64)
def zone_offsets(name: str) -> tuple[tuple[int, int], ...]:
    """(since, offset) in seconds: every change of the zone's UTC offset in ZONE_YEARS."""
    zone = zoneinfo.ZoneInfo(name)

    def offset(t: int) -> int:
        delta = datetime.fromtimestamp(t, zone).utcoffset()
        return int(delta.total_seconds()) if delta is not None else 0

    start = int(datetime(ZONE_YEARS[0], 1, 1, tzinfo=UTC).timestamp())
    end = int(datetime(ZONE_YEARS[1], 1, 1, tzinfo=UTC).timestamp())
    out = [(start, offset(start))]
    # Zones change offset at most every few weeks: a daily look finds each
    # change, a bisection finds its second.
    for day in range(start + SECONDS_PER_DAY, end + 1, SECONDS_PER_DAY):
        if offset(day) != out[-1][1]:
            low, high = day - SECONDS_PER_DAY, day
            while high - low > 1:
                mid = (low + high) // 2
                low, high = (mid, high) if offset(mid) == out[-1][1] else (low, mid)
            out.append((high, offset(high)))
    return tuple(out)


def compile_model(model: object) -> str:
    """The JavaScript a visual rule runs, or ModelError naming the bad field."""
    m = validate_model(model)
    compiler = _Compiler()
    tests = [compiler.condition(c) for c in m["conditions"]]
    body = [compiler.action(a) for a in m["actions"]]
    if m["stop"]:
        body.append("stop();")
    # an answer comes back to the rule that asked: reply with it, never run the actions again
    answer = compiler.answer_replies() if compiler.answers else []
    has_http = any(a["type"] == "http" for a in m["actions"])
    joiner = " && " if m["match"] == "all" else " || "
    lines = [
        "// Compiled from the rule editor's model (msghub.rules.model): edit the model, not this.",
        "(function () {",
        *(f"  {code}" for name, code in HELPERS.items() if name in compiler.helpers),
        *(f"  const {const} = {js_literal(zone_offsets(zone))};" for zone, const in compiler.zones.items()),
    ]
    if has_http:
        lines.append("  if (event.type === 'http_response') {")
        lines += [f"    {code}" for code in answer]
        lines.append("    return;")
        lines.append("  }")
    if tests:
        lines.append(f"  if (!({joiner.join(tests)})) return;")
    lines += [f"  {code}" for code in body]
    lines.append("})();")
    return "\n".join(lines) + "\n"


# --- describing ---


def describe_model(model: object) -> str:
    """One line for the rules list: "When text contains 'stop': reply 'Bye'"."""
    m = validate_model(model)
    joiner = " and " if m["match"] == "all" else " or "
    when = joiner.join(_describe_condition(c) for c in m["conditions"])
    actions = [_describe_action(a) for a in m["actions"]]
    if m["stop"]:
        actions.append("stop")
    return f"{'When ' + when if when else 'Always'}: {'; '.join(actions)}"


def _quote(text: str, limit: int = 40) -> str:
    one_line = " ".join(text.split())
    return "'" + (one_line if len(one_line) <= limit else one_line[: limit - 1] + "…") + "'"


def _describe_condition(c: dict[str, Any]) -> str:
    kind, no = c["type"], c["negate"]
    if kind == "sender_matches":
        globs = [_quote(p) for p in c["pattern"]]
        if no:
            return (
                f"sender does not match {globs[0]}" if len(globs) == 1 else f"sender matches none of {', '.join(globs)}"
            )
        return f"sender matches {' or '.join(globs)}"
    if kind == "text_contains":
        return f"text {'does not contain' if no else 'contains'} {_quote(c['keyword'])}"
    if kind == "text_starts_with":
        return f"text {'does not start' if no else 'starts'} with {_quote(c['keyword'])}"
    if kind == "text_matches":
        return f"text {'does not match' if no else 'matches'} /{' '.join(c['pattern'].split())}/{c['flags']}"
    if kind == "connection":
        return f"connection is {'not ' if no else ''}{_quote(c['name'])}"
    if kind == "channel":
        return f"channel is {'not ' if no else ''}{c['channel']}"
    span = f"{_clock_text(c['from'])} and {_clock_text(c['to'])}"
    days = f" on {', '.join(DAY_NAMES[d - 1] for d in c['days'])}" if "days" in c else ""
    return f"time is {'not ' if no else ''}between {span}{days} ({c.get('timezone', 'UTC')})"


def _clock_text(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _describe_action(a: dict[str, Any]) -> str:
    kind = a["type"]
    by = f" by {a['channel']}" if a.get("channel") else ""
    if kind == "reply":
        return f"reply {_quote(a['text'])}{by}"
    if kind in ("send", "forward"):
        to = a["to"] if isinstance(a["to"], list) else [a["to"]]
        what = f"send {_quote(a['text'])}" if kind == "send" else "forward"
        return f"{what} to {', '.join(to)}{by}"
    if kind == "move":
        return f"move to {_quote(a['folder'])}"
    if kind == "assign":
        names = [f"user {_quote(a['user'])}"] * ("user" in a) + [f"group {_quote(a['group'])}"] * ("group" in a)
        return f"assign to {' and '.join(names)}"
    if kind == "http":
        answer = f", reply {_quote(a['reply'])}" if "reply" in a else ""
        return f"{a['method']} {a['url']}{answer}"
    if kind == "vote":
        return f"vote in poll {_quote(a['poll'])}"
    if kind == "log":
        return f"log {_quote(a['message'])}"
    if kind == "set_state":
        return f"set {_quote(a['key'])} to {_quote(json.dumps(a['value'], ensure_ascii=False))}"
    if kind == "incr_state":
        return f"add {a.get('by', 1)} to {_quote(a['key'])}"
    return "stop"
