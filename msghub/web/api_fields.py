"""Declarations of the HTTP API's operations: each field (query parameter,
path parameter or JSON body member) says its type and bounds once, and the
same declaration checks a request and writes the OpenAPI document
(msghub/web/pages/openapi.py), so the two cannot disagree.

An `Operation` binds a method and path to a handler, the API key scope it
needs, its fields, and the shape of its answer; `routes_of` turns a module's
operations into Starlette routes that authenticate, validate, and answer
errors as JSON (docs/API.md).
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from msghub.web.common import MAX_ID
from msghub.web.pages.api import ApiFailure, ApiKey, authenticate

Kind = Literal["string", "integer", "boolean", "date"]
MAX_JSON_BODY_BYTES = 256 * 1024
_TRUE, _FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off", "")


@dataclass(frozen=True)
class Field:
    name: str
    kind: Kind
    doc: str
    required: bool = False
    max_length: int = 1000
    low: int = 0
    high: int = MAX_ID
    enum: tuple[str, ...] = ()
    default: Any = None
    nullable: bool = False

    def schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"description": self.doc}
        if self.kind == "string":
            schema.update(type="string", maxLength=self.max_length, pattern="^[^\\u0000]*$")
            if self.enum:
                schema["enum"] = list(self.enum)
        elif self.kind == "integer":
            schema.update(type="integer", minimum=self.low, maximum=self.high)
        elif self.kind == "boolean":
            schema["type"] = "boolean"
        else:
            schema.update(type="string", format="date")
        if self.nullable:
            schema["type"] = [schema["type"], "null"]
        if self.default is not None:
            schema["default"] = self.default
        return schema

    def _bad(self, what: str) -> ApiFailure:
        return ApiFailure(400, "invalid", f"{self.name} {what}", self.name)

    def check(self, value: Any) -> Any:
        """A JSON value of this field, checked (ApiFailure naming the field)."""
        if value is None:
            if self.nullable or not self.required:
                return None
            raise self._bad("is required")
        if self.kind == "string" or self.kind == "date":
            if not isinstance(value, str):
                raise self._bad("must be a string")
            if len(value) > self.max_length or "\x00" in value:
                raise self._bad(f"must be at most {self.max_length} characters, without NUL")
            if self.enum and value not in self.enum:
                raise self._bad(f"must be one of {', '.join(self.enum)}")
            if self.kind == "date":
                try:
                    return date.fromisoformat(value)
                except ValueError:
                    raise self._bad("must be a date like 2026-02-01") from None
            return value
        if self.kind == "integer":
            if isinstance(value, bool) or not isinstance(value, int) or not self.low <= value <= self.high:
                raise self._bad(f"must be a whole number from {self.low} to {self.high}")
            return value
        if not isinstance(value, bool):
            raise self._bad("must be true or false")
        return value

    def from_text(self, raw: str | None) -> Any:
        """The value of a query or path parameter (text), checked."""
        if raw is None or (raw == "" and self.kind != "string"):
            if self.required:
                raise self._bad("is required")
            return self.default
        if self.kind == "integer":
            if not raw.isascii() or not raw.isdigit():
                raise self._bad(f"must be a whole number from {self.low} to {self.high}")
            return self.check(int(raw))
        if self.kind == "boolean":
            if raw.lower() not in _TRUE + _FALSE:
                raise self._bad("must be true or false")
            return raw.lower() in _TRUE
        return self.check(raw)


def path_param(name: str, doc: str) -> Field:
    return Field(name, "integer", doc, required=True, low=1)


AFTER = Field("after", "integer", "the page starts after this id", default=0)


def limit_field(default: int, high: int) -> Field:
    return Field("limit", "integer", "at most this many", default=default, low=1, high=high)


Handler = Callable[[Request, ApiKey, dict[str, Any]], Awaitable[Response]]


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # Starlette's, e.g. /api/v1/contacts/{contact_id:int}
    operation_id: str
    summary: str
    scope: str
    handler: Handler
    query: tuple[Field, ...] = ()
    body: tuple[Field, ...] | None = None
    ok: int = 200
    answer: dict[str, Any] | None = field(default=None)
    errors: tuple[int, ...] = ()

    @property
    def path_fields(self) -> tuple[Field, ...]:
        return tuple(path_param(name, f"the {name.removesuffix('_id')}'s id")
                     for name in re.findall(r"\{(\w+):int\}", self.path))

    @property
    def document_path(self) -> str:
        return re.sub(r"\{(\w+):int\}", r"{\1}", self.path)

    def statuses(self) -> tuple[int, ...]:
        """Every error status this operation may answer."""
        found = {401, 403, 429, *self.errors}
        if self.query or self.body is not None or self.path_fields:
            found.add(400)
        if self.body is not None:
            found.update((413, 415))
        if self.path_fields:
            found.add(404)
        return tuple(sorted(found))

    async def arguments(self, request: Request) -> dict[str, Any]:
        args: dict[str, Any] = {}
        for item in self.path_fields:
            value = request.path_params[item.name]
            if not 1 <= value <= MAX_ID:
                raise ApiFailure(404, "not_found", "No such object, or not one this key's user can see.")
            args[item.name] = value
        unknown = sorted(set(request.query_params) - {f.name for f in self.query})
        if unknown:
            raise ApiFailure(400, "unknown_field", f"Unknown query parameter {unknown[0]!r}.", unknown[0])
        for item in self.query:
            args[item.name] = item.from_text(request.query_params.get(item.name))
        if self.body is not None:
            args.update(check_body(await json_body(request), self.body))
        return args


async def json_body(request: Request, limit: int = MAX_JSON_BODY_BYTES) -> Any:
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
        raise ApiFailure(415, "unsupported_media_type", "Send JSON (Content-Type: application/json).")
    if int(request.headers.get("content-length") or 0) > limit:
        raise ApiFailure(413, "too_large", f"The request is larger than {limit} bytes.")
    raw = await request.body()
    if len(raw) > limit:
        raise ApiFailure(413, "too_large", f"The request is larger than {limit} bytes.")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiFailure(400, "invalid_json", f"The body is not valid JSON: {exc}") from None


def check_body(body: Any, fields: Sequence[Field]) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiFailure(400, "invalid_json", "The body must be a JSON object.")
    known = {f.name for f in fields}
    unknown = sorted(set(body) - known)
    if unknown:
        raise ApiFailure(400, "unknown_field", f"Unknown field {unknown[0]!r}; see docs/API.md.", unknown[0])
    args = {}
    for item in fields:
        if item.name not in body:
            if item.required:
                raise ApiFailure(400, "invalid", f"{item.name} is required", item.name)
            args[item.name] = item.default
            continue
        value = body[item.name]
        if value is None and not item.nullable:
            raise ApiFailure(400, "invalid", f"{item.name} must not be null", item.name)
        args[item.name] = item.check(value)
    return args


def body_schema(fields: Sequence[Field]) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False,
            "required": [f.name for f in fields if f.required],
            "properties": {f.name: f.schema() for f in fields}}


def _endpoint(operations: Sequence[Operation]) -> Callable[[Request], Awaitable[Response]]:
    by_method = {op.method: op for op in operations}

    async def endpoint(request: Request) -> Response:
        # Starlette answers HEAD on GET routes: run the GET, send no body
        op = by_method["GET" if request.method == "HEAD" else request.method]
        try:
            key = await authenticate(request, op.scope)
            return await op.handler(request, key, await op.arguments(request))
        except ApiFailure as failure:
            return failure.response()

    return endpoint


def routes_of(operations: Sequence[Operation]) -> list[BaseRoute]:
    """One route per path, answering each declared method."""
    paths: dict[str, list[Operation]] = {}
    for op in operations:
        paths.setdefault(op.path, []).append(op)
    return [Route(path, _endpoint(ops), methods=[op.method for op in ops]) for path, ops in paths.items()]


def jsonable(row: dict[str, Any]) -> dict[str, Any]:
    """A row as JSON values: times and dates in ISO 8601, numerics as numbers."""
    out: dict[str, Any] = {}
    for name, value in row.items():
        if isinstance(value, datetime | date):
            value = value.isoformat()
        elif isinstance(value, Decimal):
            value = float(value)
        out[name] = value
    return out


def answer(value: Any, status: int = 200) -> Response:
    if status == 204:
        return Response(status_code=204)
    return JSONResponse(value, status_code=status)


def not_found(what: str) -> ApiFailure:
    return ApiFailure(404, "not_found", f"No such {what}, or not one this key's user can see.")
