"""The branded send forms' rules, without a database: logos checked by
their bytes, colours, allowed recipients, and the signed one-time token
that proves a send came from a form this hub served (no CAPTCHA)."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time

from msghub.errors import HubError

MAX_LOGO_BYTES = 256 * 1024
TOKEN_TTL_S = 3600
_COLOUR = re.compile(r"^#[0-9a-f]{6}$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
LOGINS = ("account", "code", "kiosk")


class FormError(HubError):
    """A form setting or a send that is not allowed; the message says why."""


def logo_type(data: bytes) -> str:
    """The image type the bytes are (PNG, JPEG or GIF), whatever the file is called."""
    if len(data) > MAX_LOGO_BYTES:
        raise FormError(f"the logo is {len(data)} bytes; at most {MAX_LOGO_BYTES} are allowed")
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    raise FormError("the logo must be a PNG, JPEG or GIF image (checked by its content)")


def colour(value: str) -> str:
    value = value.strip().lower()
    if not _COLOUR.match(value):
        raise FormError(f"{value[:20]!r} is not a colour like #1f6feb")
    return value


def slug(value: str) -> str:
    if not _SLUG.match(value):
        raise FormError("a form's name is 1-40 lower-case letters, digits and dashes")
    return value


def recipient_allowed(number: str, prefixes: list[str]) -> bool:
    return not prefixes or any(number.startswith(p) for p in prefixes)


def new_token(secret: str, form: str, client: str, now: float | None = None) -> str:
    issued = int(time.time() if now is None else now)
    nonce = secrets.token_urlsafe(16)
    return f"{issued}.{nonce}.{_mac(secret, form, client, issued, nonce)}"


def check_token(secret: str, form: str, client: str, token: str, now: float | None = None) -> str:
    """The token's nonce (to spend once) when it is genuine, for this form and
    address, and fresh; FormError otherwise."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[0].isdigit():
        raise FormError("The form expired. Please send it again.")
    issued, nonce, mac = int(parts[0]), parts[1], parts[2]
    if not hmac.compare_digest(mac, _mac(secret, form, client, issued, nonce)):
        raise FormError("The form expired. Please send it again.")
    if not 0 <= (time.time() if now is None else now) - issued <= TOKEN_TTL_S:
        raise FormError("The form expired. Please send it again.")
    return nonce


def _mac(secret: str, form: str, client: str, issued: int, nonce: str) -> str:
    text = f"{form}\n{client}\n{issued}\n{nonce}".encode()
    return hmac.new(secret.encode(), text, hashlib.sha256).hexdigest()[:40]


def code_digest(code: str) -> bytes:
    return hashlib.sha256(code.encode()).digest()
