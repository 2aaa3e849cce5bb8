"""HTTP control API of the modem simulator (JSON in and out, loopback).

  GET  /status              profile, path, connected, signal, registered, settings, counters
  GET  /sent?limit=N        the last N accepted sends (default 50)
  GET  /commands?limit=N    the last N command lines received (default 200)
  GET  /storage?memory=SM   stored messages by index
  POST /inject   {"sender", "text", "message_class"?, "encoding"?}  -> {"indices": [...]}
  POST /inject_pdu {"pdu"}                                          -> {"index": n | null}
  POST /signal   {"rssi", "ber"?}
  POST /registration {"registered": bool, "roaming"?: bool}
  POST /fault    {"kind", "duration_s"?, "count"?, "code"?, "delay_s"?}
  POST /clear                                  ends every fault (and an unplug)
  POST /replug                                 -> {"path"}
  POST /cms_error {"prefix", "code" | null}    +CMS ERROR for sends to a prefix
  POST /report_status {"prefix", "status" | [statuses] | null}
                                               TP-ST of reports for a prefix; a list: one report each
  POST /status_report {"mr", "recipient", "status"?}   a status report now (e.g. a stray one)

Bodies up to 64 KiB. Errors: {"error": "..."} with 400/404. Meant for tests
and manual trials on loopback, not for exposure.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from msghub.errors import HubError

if TYPE_CHECKING:
    from msghub.devtools.modem.device import SentSms
    from msghub.devtools.modem.simulator import ModemSimulator

MAX_BODY = 65536
JOIN_TIMEOUT_S = 10.0


class BadRequest(Exception):
    pass


def sent_json(item: SentSms) -> dict[str, Any]:
    text = item.text.hex() if isinstance(item.text, bytes) else item.text
    return {"mr": item.mr, "recipient": item.recipient, "text": text, "pdu": item.pdu, "srr": item.srr,
            "at": item.at.isoformat(), "error": item.error}


def _limit(query: dict[str, list[str]], default: int) -> int:
    try:
        return max(0, int(query.get("limit", [str(default)])[0]))
    except ValueError:
        raise BadRequest("limit must be a number") from None


def _field(body: dict[str, Any], name: str, kind: type | tuple[type, ...], required: bool = True) -> Any:
    if name not in body:
        if required:
            raise BadRequest(f"missing field {name!r}")
        return None
    value = body[name]
    if value is not None and (not isinstance(value, kind) or (isinstance(value, bool) and kind is int)):
        raise BadRequest(f"field {name!r} has the wrong type")
    return value


class ControlApi:
    """The requests, apart from HTTP: (method, path, query, body) -> JSON."""

    def __init__(self, sim: ModemSimulator) -> None:
        self.sim = sim

    def handle(self, method: str, path: str, query: dict[str, list[str]], body: dict[str, Any]) -> Any:
        sim = self.sim
        if method == "GET":
            if path == "/status":
                return self.status()
            if path == "/sent":
                return [sent_json(s) for s in sim.sent[-_limit(query, 50):]] if _limit(query, 50) else []
            if path == "/commands":
                limit = _limit(query, 200)
                return sim.commands[-limit:] if limit else []
            if path == "/storage":
                memory = query.get("memory", ["SM"])[0]
                return {str(k): v for k, v in sim.storage(memory).items()}
            raise LookupError(path)
        if method != "POST":
            raise BadRequest(f"method {method} not allowed")
        if path == "/inject":
            indices = sim.inject_sms(_field(body, "sender", str), _field(body, "text", str),
                                     message_class=_field(body, "message_class", int, False),
                                     encoding=_field(body, "encoding", str, False))
            return {"indices": indices}
        if path == "/inject_pdu":
            return {"index": sim.inject_pdu(_field(body, "pdu", str))}
        if path == "/signal":
            sim.set_signal(_field(body, "rssi", int), _field(body, "ber", int, False) or 99)
            return {"ok": True}
        if path == "/registration":
            sim.set_registered(bool(_field(body, "registered", bool)),
                               roaming=bool(_field(body, "roaming", bool, False)))
            return {"ok": True}
        if path == "/fault":
            sim.fault(_field(body, "kind", str), duration_s=_field(body, "duration_s", (int, float), False),
                      count=_field(body, "count", int, False), code=_field(body, "code", int, False) or 38,
                      delay_s=_field(body, "delay_s", (int, float), False) or 5.0)
            return {"ok": True}
        if path == "/clear":
            sim.clear_faults()
            if sim.pty_path is None:
                sim.replug()
            return {"ok": True}
        if path == "/replug":
            return {"path": sim.replug()}
        if path == "/cms_error":
            sim.set_cms_error(_field(body, "prefix", str), _field(body, "code", int))
            return {"ok": True}
        if path == "/report_status":
            status = _field(body, "status", (int, list))
            if isinstance(status, list):
                if not status or not all(isinstance(v, int) and not isinstance(v, bool) for v in status):
                    raise BadRequest("status must be a number or a list of numbers")
                status = tuple(status)
            sim.set_report_status(_field(body, "prefix", str), status)
            return {"ok": True}
        if path == "/status_report":
            sim.inject_status_report(_field(body, "mr", int), _field(body, "recipient", str),
                                     _field(body, "status", int, False) or 0)
            return {"ok": True}
        raise LookupError(path)

    def status(self) -> dict[str, Any]:
        sim = self.sim
        settings = sim.settings
        with sim._lock:  # one consistent picture
            state = sim.state
            status: dict[str, Any] = {
                "profile": sim.profile.name,
                "path": sim.pty_path,
                "link": str(sim.link) if sim.link else None,
                "tcp_port": sim.tcp_port,
                "connected": sim.connected,
                "rssi": state.rssi,
                "registered": state.registered,
                "pin_state": state.pin_state if state.sim_present else "NO SIM",
                "sent": len(state.sent),
                "refused": len(state.refused),
                "reports": len(state.reports),
                "commands": len(state.commands),
            }
        status["settings"] = {"echo": settings.echo, "cmee": settings.cmee, "cmgf": settings.cmgf,
                              "cnmi": list(settings.cnmi), "csms": settings.csms, "creg": settings.creg}
        return status


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _reply(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def _serve(self, method: str) -> None:
        url = urlsplit(self.path)
        try:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._reply(413, {"error": "body too large"})
                return
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else {}
            if not isinstance(body, dict):
                raise BadRequest("the body must be a JSON object")
            result = self.server.api.handle(method, url.path, parse_qs(url.query), body)
        except LookupError:
            self._reply(404, {"error": f"no such resource {url.path}"})
        except (BadRequest, HubError, ValueError) as e:
            self._reply(400, {"error": str(e)})
        else:
            self._reply(200, result)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], api: ControlApi) -> None:
        super().__init__(address, _Handler)
        self.api = api


class ControlServer:
    def __init__(self, sim: ModemSimulator, host: str, port: int) -> None:
        self._server = _Server((host, port), ControlApi(sim))
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="modem-sim-control", daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(JOIN_TIMEOUT_S)
