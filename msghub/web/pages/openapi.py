"""``GET /api/v1/openapi.json``: the HTTP API as an OpenAPI 3.1 document.

Built from the declarations the handlers validate with (the send fields and
their limits in pages/api.py, the folders and page bounds, the webhook
events and URL limit, Kannel's sendsms fields), so the document cannot
describe fields the API does not accept, nor miss one it does;
tests/gateway/test_openapi.py checks that every route is in it.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from msghub.gateway import kannel
from msghub.gateway.webhooks import EVENTS
from msghub.web.api_fields import Operation, body_schema
from msghub.web.common import MAX_ID
from msghub.web.pages import api, api_contacts, api_reports, api_status, webhooks_api

# the declared operations (msghub/web/api_fields.py); the older routes are written out below
DECLARED: tuple[Operation, ...] = (*api_status.OPERATIONS, *api_contacts.OPERATIONS, *api_reports.OPERATIONS)

_ERROR = {"$ref": "#/components/schemas/Error"}
_FIELD_DOC = {
    "channel": "sms (default), mms or email", "text": "the message text (the e-mail body)",
    "subject": "MMS and e-mail subject", "sender": "a number, up to 11 letters and digits (SMS), or an e-mail address",
    "list": "a distribution list's name: its members are added to to",
    "connection": "send through this connection; otherwise routing chooses",
    "idempotency_key": "a repeated request with the same key queues nothing new",
    "correlation_id": "your own reference, returned with the message",
    "delivery_report": "ask the operator for a delivery report",
    "transliterate": "replace characters outside the GSM alphabet by look-alikes (SMS)",
    "send_at": "send then, not now", "valid_until": "give up after it",
    "cc": "MMS only, with one recipient in to: copies every recipient sees",
    "bcc": "MMS only, with one recipient in to: hidden copies",
}


def _send_schema() -> dict[str, Any]:
    props: dict[str, Any] = {}
    for name in api._STRING_FIELDS:
        props[name] = {"type": "string", "maxLength": api.MAX_STRING.get(name, 1000)}
    props["channel"]["enum"] = ["sms", "mms", "email"]
    for name in api._BOOL_FIELDS:
        props[name] = {"type": "boolean", "default": False}
    for name in api._TIME_FIELDS:
        props[name] = {"type": "string", "format": "date-time", "description": "ISO 8601 with a time zone"}
    props["to"] = {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1,
                                                  "maxItems": 10_000}],
                   "description": "phone numbers or e-mail addresses"}
    props["priority"] = {"oneOf": [{"type": "integer", "minimum": 0, "maximum": 3},
                                   {"type": "string", "enum": list(api.PRIORITIES)}], "default": 1}
    for name in api._COPY_FIELDS:
        props[name] = {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"},
                                                      "maxItems": api.MAX_COPIES}]}
    props["attachments"] = {"type": "array", "items": {
        "type": "object", "additionalProperties": False,
        "properties": {"filename": {"type": "string"}, "content_type": {"type": "string"},
                       "data": {"type": "string", "contentEncoding": "base64"}}}}
    for name, doc in _FIELD_DOC.items():
        props[name]["description"] = doc
    assert set(props) == api.KNOWN_FIELDS  # the document and the validator share one list
    return {"type": "object", "additionalProperties": False, "properties": dict(sorted(props.items()))}


def _multipart_schema(send: dict[str, Any]) -> dict[str, Any]:
    """The same fields as form fields: to repeated, attachments as file parts."""
    props = {name: value for name, value in send["properties"].items() if name != "attachments"}
    props["to"] = {"type": "array", "items": {"type": "string"}, "description": "repeat the field per recipient"}
    for name in api._COPY_FIELDS:
        props[name] = {"type": "array", "items": {"type": "string"}, "description": "repeat the field per copy"}
    props["attachment"] = {"type": "array", "items": {"type": "string", "contentMediaType": "application/octet-stream"},
                           "description": "file parts (any field name): each is an attachment, its filename and "
                                          "Content-Type kept"}
    return {"type": "object", "properties": props}


def _declared_operation(op: Operation) -> dict[str, Any]:
    doc: dict[str, Any] = {"summary": op.summary, "operationId": op.operation_id}
    parameters = [{"name": f.name, "in": "path", "required": True, "description": f.doc, "schema": f.schema()}
                  for f in op.path_fields]
    parameters += [{"name": f.name, "in": "query", "required": f.required, "description": f.doc,
                    "schema": f.schema()} for f in op.query]
    if parameters:
        doc["parameters"] = parameters
    if op.body is not None:
        doc["requestBody"] = {"required": True, "content": {"application/json": {"schema": body_schema(op.body)}}}
    doc["responses"] = _responses(str(op.ok), None if op.ok == 204 else op.answer or {"type": "object"},
                                  *op.statuses())
    return doc


def _declared_paths() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for op in DECLARED:
        paths.setdefault(op.document_path, {})[op.method.lower()] = _declared_operation(op)
    return paths


def _message_schema() -> dict[str, Any]:
    text = {"type": ["string", "null"]}
    return {"type": "object", "properties": {
        "id": {"type": "integer"}, "channel": {"type": "string"},
        "direction": {"type": "string", "enum": ["in", "out"]},
        "connection": text, "sender": text, "recipients": {"type": "array", "items": {"type": "string"}},
        "subject": text, "text": {"type": "string"},
        "status": {"type": "string", "enum": ["received", "queued", "sending", "sent", "delivered", "failed"]},
        "status_at": {"type": "string", "format": "date-time"}, "created_at": {"type": "string", "format": "date-time"},
        "correlation_id": text}}


def _responses(ok: str, schema: dict[str, Any] | None, *errors: int) -> dict[str, Any]:
    answers: dict[str, Any] = {ok: {"description": "success"}}
    if schema is not None:
        answers[ok]["content"] = {"application/json": {"schema": schema}}
    for status in errors:
        answers[str(status)] = {"description": "error", "content": {"application/json": {"schema": _ERROR}}}
    return answers


def _int_param(name: str, where: str, low: int, high: int, doc: str) -> dict[str, Any]:
    return {"name": name, "in": where, "required": where == "path", "description": doc,
            "schema": {"type": "integer", "minimum": low, "maximum": high}}


def _sendsms_operation() -> dict[str, Any]:
    names = sorted({"username", "password", "to", "from", "text", "charset", "udh", "priority",
                    *kannel.HEADER_FIELDS.values(), *kannel._RANGES})
    return {
        "summary": "Kannel-compatible sendsms (docs/KANNEL.md)", "tags": ["kannel"], "security": [],
        "parameters": [{"name": n, "in": "query", "schema": {"type": "string"}} for n in names],
        "responses": {
            "202": {"description": f"{kannel.ACCEPTED[1]} or {kannel.QUEUED_LATER[1]}",
                    "content": {"text/html": {"schema": {"type": "string"}}}},
            "400": {"description": "one of Kannel's field errors, e.g. Missing receiver number, rejected"},
            "403": {"description": f"{kannel.AUTH_FAILED[1]}, or {kannel.NOT_ROUTABLE[1]}"},
            "503": {"description": kannel.TEMPORARY[1]},
        },
    }


def document() -> dict[str, Any]:
    message_id = _int_param("message_id", "path", 1, MAX_ID, "the message id")
    webhook_id = _int_param("webhook_id", "path", 1, MAX_ID, "the webhook id")
    send = _send_schema()
    webhook_in = {"type": "object", "additionalProperties": False, "required": ["url", "events"], "properties": {
        "url": {"type": "string", "format": "uri", "maxLength": webhooks_api.MAX_URL},
        "events": {"type": "array", "minItems": 1, "items": {"type": "string", "enum": list(EVENTS)}}}}
    sendsms = _sendsms_operation()
    return {
        "openapi": "3.1.0",
        "info": {"title": "msghub HTTP API", "version": "1", "description": "See docs/API.md."},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "an API key: mh_<key id>_<secret>; its scopes are send, "
                                                          "read and contacts"}},
            "schemas": {
                "Error": {"type": "object", "properties": {"error": {"type": "object", "properties": {
                    "code": {"type": "string"}, "message": {"type": "string"}, "field": {"type": "string"}}}}},
                "SendRequest": send,
                "Message": _message_schema(),
            },
        },
        "security": [{"bearer": []}],
        "paths": {
            "/api/v1/messages": {
                "post": {"summary": "send (scope send)", "operationId": "send",
                         "requestBody": {"required": True, "content": {
                             "application/json": {"schema": {"$ref": "#/components/schemas/SendRequest"}},
                             "multipart/form-data": {"schema": _multipart_schema(send)}}},
                         "responses": _responses("201", {"type": "object"}, 400, 401, 403, 409, 413, 415, 422,
                                                 429)},
                "get": {"summary": "a folder, oldest first after a message id (scope read)", "operationId": "list",
                        "parameters": [
                            {"name": "folder", "in": "query", "schema": {"type": "string", "enum": list(api.FOLDERS),
                                                                         "default": "inbox"}},
                            _int_param("after", "query", 0, MAX_ID, "the page starts after this id"),
                            _int_param("limit", "query", 1, api.MAX_PAGE, "messages per page")],
                        "responses": _responses("200", {"type": "object", "properties": {
                            "messages": {"type": "array", "items": {"$ref": "#/components/schemas/Message"}},
                            "next_after": {"type": ["integer", "null"]}}}, 400, 401, 403)},
            },
            "/api/v1/messages/{message_id}": {"get": {
                "summary": "one message (scope read)", "operationId": "get", "parameters": [message_id],
                "responses": _responses("200", {"$ref": "#/components/schemas/Message"}, 401, 403, 404)}},
            "/api/v1/messages/{message_id}/cancel": {"post": {
                "summary": "cancel a queued message (scope send)", "operationId": "cancel", "parameters": [message_id],
                "responses": _responses("200", {"$ref": "#/components/schemas/Message"}, 401, 403, 404, 409)}},
            "/api/v1/webhooks": {
                "post": {"summary": "register a webhook for the key's user (scope read)", "operationId": "addWebhook",
                         "requestBody": {"required": True, "content": {"application/json": {"schema": webhook_in}}},
                         "responses": _responses("201", {"type": "object"}, 400, 401, 403, 413)},
                "get": {"summary": "the key user's webhooks", "operationId": "listWebhooks",
                        "responses": _responses("200", {"type": "object"}, 401, 403)},
            },
            "/api/v1/webhooks/{webhook_id}": {"delete": {
                "summary": "remove a webhook", "operationId": "removeWebhook", "parameters": [webhook_id],
                "responses": _responses("204", None, 401, 403, 404)}},
            "/api/v1/openapi.json": {"get": {"summary": "this document", "operationId": "openapi", "security": [],
                                             "responses": _responses("200", {"type": "object"})}},
            "/cgi-bin/sendsms": {"get": {**sendsms, "operationId": "sendsmsGet"},
                                 "post": {**sendsms, "operationId": "sendsmsPost"}},
            **_declared_paths(),
        },
    }


async def openapi(request: Request) -> Response:
    return JSONResponse(document())


routes: list[BaseRoute] = [Route("/api/v1/openapi.json", openapi, methods=["GET"])]
