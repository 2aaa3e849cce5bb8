"""One rule HTTP request performed, and its outcome as the JSON a rule reads.

The outcome is always a value, never an exception: a refused connection, a
timeout or a bad URL is a response with status null and the reason in
"error". Rules see:

    {"status": 200, "headers": {...}, "body": "...", "json": {...} or null,
     "truncated": false, "error": null, "elapsed_ms": 12}
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

MAX_TIMEOUT_S = 30.0
MIN_TIMEOUT_S = 0.1
MAX_BODY_BYTES = 1024 * 1024
ALLOWED_SCHEMES = ("http", "https")


def timeout_for(requested_s: float | None) -> float:
    """The rule's timeout, kept between MIN_TIMEOUT_S and MAX_TIMEOUT_S."""
    if requested_s is None:
        return MAX_TIMEOUT_S
    return min(max(float(requested_s), MIN_TIMEOUT_S), MAX_TIMEOUT_S)


def url_problem(url: str) -> str | None:
    """Why a URL may not be requested, or None when it may."""
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        return f"not a valid URL: {exc}"
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        return f"only http and https URLs may be requested, not {parts.scheme or 'a URL without a scheme'!r}"
    if not parts.hostname:
        return "the URL names no host"
    return None


def error_response(error: str, elapsed_ms: int = 0) -> dict[str, Any]:
    return {
        "status": None,
        "headers": {},
        "body": "",
        "json": None,
        "truncated": False,
        "error": error,
        "elapsed_ms": elapsed_ms,
    }


async def public_address(url: str) -> tuple[str | None, str | None]:
    """(why the URL's host may not be reached by a rule, or None; the address
    to connect to when it may).

    Rules run with the hub's network position, inside the organisation: by
    default they may reach only public addresses, never the hub itself, the
    LAN or a cloud metadata service (MSGHUB_RULE_HTTP_PRIVATE=1 allows it).
    Every address the name resolves to is checked, and the connection goes
    to one of those checked addresses (pinned_url), so a name that resolves
    differently a moment later (DNS rebinding) cannot lead elsewhere."""
    host = urlsplit(url).hostname or ""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None)
    except OSError as exc:
        return f"cannot resolve {host!r}: {exc.strerror or exc}", None
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    for address in addresses:
        if not address.is_global or address.is_multicast:
            return (
                f"{host} is a private, local or reserved address ({address}); rules may reach only public"
                " addresses unless MSGHUB_RULE_HTTP_PRIVATE=1"
            ), None
    if not addresses:
        return f"cannot resolve {host!r}", None
    return None, str(addresses[0])


def pinned_url(url: str, address: str) -> tuple[str, str]:
    """The URL with its host replaced by the checked address, and the Host
    header the server expects (the name, with a non-default port)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    literal = f"[{address}]" if ":" in address else address
    netloc = literal if parts.port is None else f"{literal}:{parts.port}"
    shown_host = f"[{host}]" if ":" in host else host
    header = shown_host if parts.port is None else f"{shown_host}:{parts.port}"
    return parts._replace(netloc=netloc).geturl(), header


async def fetch(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    headers: Mapping[str, Any] | None,
    body: str | None,
    timeout_s: float | None,
    *,
    allow_private: bool = False,
) -> dict[str, Any]:
    """Performs the request; the whole exchange, body included, ends within the timeout."""
    started = time.monotonic()
    problem = url_problem(url)
    address = None
    if problem is None and not allow_private:
        problem, address = await public_address(url)
    if problem:
        return error_response(problem)
    if headers is not None and not isinstance(headers, Mapping):
        return error_response("headers must be an object of name: value")
    limit_s = timeout_for(timeout_s)
    try:
        async with asyncio.timeout(limit_s):
            response = await _exchange(client, method.upper(), url, headers or {}, body, limit_s, address)
    except TimeoutError:
        response = error_response(f"no complete answer within {limit_s:g} s")
    except httpx.HTTPError as exc:
        response = error_response(_describe(exc))
    except Exception as exc:  # a bad header, method or URL part: the rule's mistake, told to the rule
        response = error_response(f"{type(exc).__name__}: {exc}")
    response["elapsed_ms"] = int((time.monotonic() - started) * 1000)
    return response


async def _exchange(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    headers: Mapping[str, Any],
    body: str | None,
    limit_s: float,
    address: str | None,
) -> dict[str, Any]:
    request_headers = [(str(name), str(value)) for name, value in headers.items()]
    extensions: dict[str, Any] = {}
    if address is not None:
        # connect to the address that was checked; TLS still checks the name
        host = urlsplit(url).hostname or ""
        url, host_header = pinned_url(url, address)
        request_headers = [(n, v) for n, v in request_headers if n.lower() != "host"] + [("Host", host_header)]
        extensions["sni_hostname"] = host
    request = client.build_request(
        method, url, headers=request_headers, content=body, timeout=httpx.Timeout(limit_s), extensions=extensions
    )
    response = await client.send(request, stream=True)
    try:
        raw, truncated = await _read_capped(response)
    finally:
        await response.aclose()
    text = _decode(raw, response.charset_encoding)
    return {
        "status": response.status_code,
        "headers": dict(response.headers.items()),
        "body": text,
        "json": None if truncated else _json_or_none(response.headers.get("content-type", ""), text),
        "truncated": truncated,
        "error": None,
        "elapsed_ms": 0,
    }


async def _read_capped(response: httpx.Response) -> tuple[bytes, bool]:
    """The body up to MAX_BODY_BYTES; True when there was more (left unread)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return b"".join(chunks)[:MAX_BODY_BYTES], True
    return b"".join(chunks), False


def _decode(raw: bytes, charset: str | None) -> str:
    try:
        text = raw.decode(charset or "utf-8", errors="replace")
    except LookupError:  # a charset Python does not know
        text = raw.decode("utf-8", errors="replace")
    return text.replace("\x00", "\ufffd")  # jsonb cannot hold NUL


def _json_or_none(content_type: str, text: str) -> Any:
    media = content_type.split(";", 1)[0].strip().lower()
    if media != "application/json" and not media.endswith("+json"):
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _describe(exc: httpx.HTTPError) -> str:
    kind = {
        httpx.ConnectError: "could not connect",
        httpx.TimeoutException: "timed out",
        httpx.RemoteProtocolError: "the server broke the HTTP protocol",
        httpx.UnsupportedProtocol: "unsupported protocol",
    }
    for cls, words in kind.items():
        if isinstance(exc, cls):
            return f"{words}: {exc}" if str(exc) else words
    return f"{type(exc).__name__}: {exc}"
