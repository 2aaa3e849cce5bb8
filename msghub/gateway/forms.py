"""The branded send forms' rules, without a database: logos checked by
their bytes, colours, allowed recipients, and the signed one-time token
that proves a send came from a form this hub served (no CAPTCHA)."""

from __future__ import annotations

import hashlib
import hmac
import io
import re
import secrets
import time

from PIL import Image

from msghub.errors import HubError

MAX_LOGO_BYTES = 256 * 1024
MAX_PICTURE_BYTES = 600 * 1024  # an MMS picture: what operators' MMSCs take
MAX_IMAGE_PIXELS = 4096 * 4096
CHANNELS = ("sms", "mms", "email")
MAX_TEXT_CHARS = 2000  # a form's intro, footer and text after sending
_MAGIC = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"), (b"GIF87a", "image/gif"),
          (b"GIF89a", "image/gif"))
_PILLOW_FORMAT = {"image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF"}
TOKEN_TTL_S = 3600
_COLOUR = re.compile(r"^#[0-9a-f]{6}$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
LOGINS = ("account", "code", "kiosk")


class FormError(HubError):
    """A form setting or a send that is not allowed; the message says why."""


def image_type(data: bytes, what: str = "the logo", max_bytes: int = MAX_LOGO_BYTES) -> str:
    """The image type the bytes are (PNG, JPEG or GIF), whatever the file is
    called: the magic number first, then Pillow must read the whole image
    as that format, of at most MAX_IMAGE_PIXELS (no decompression bomb)."""
    if len(data) > max_bytes:
        raise FormError(f"{what} is {len(data)} bytes; at most {max_bytes} are allowed")
    kind = next((k for magic, k in _MAGIC if data.startswith(magic)), None)
    if kind is None:
        raise FormError(f"{what} must be a PNG, JPEG or GIF image (checked by its content)")
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != _PILLOW_FORMAT[kind] or image.width * image.height > MAX_IMAGE_PIXELS:
                raise FormError(f"{what} must be a PNG, JPEG or GIF of at most {MAX_IMAGE_PIXELS} pixels")
            image.load()  # decodes every byte: a truncated or corrupt file fails here
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise FormError(f"{what} is not a readable {kind.removeprefix('image/').upper()} image ({exc})") from None
    return kind


def logo_type(data: bytes) -> str:
    return image_type(data)


def colour(value: str) -> str:
    value = value.strip().lower()
    if not _COLOUR.match(value):
        raise FormError(f"{value[:20]!r} is not a colour like #1f6feb")
    return value


def slug(value: str) -> str:
    if not _SLUG.match(value):
        raise FormError("a form's name is 1-40 lower-case letters, digits and dashes")
    return value


def recipient_allowed(address: str, prefixes: list[str], channel: str = "sms") -> bool:
    """A number under one of the prefixes; an e-mail address under one of
    the entries that start with @ (its domain). None given: any."""
    if not prefixes:
        return True
    if channel == "email":
        return any(p.startswith("@") and address.lower().endswith(p.lower()) for p in prefixes)
    return any(not p.startswith("@") and address.startswith(p) for p in prefixes)


def text(value: str, what: str) -> str:
    value = value.strip()
    if len(value) > MAX_TEXT_CHARS or "\x00" in value:
        raise FormError(f"{what} must be at most {MAX_TEXT_CHARS} characters")
    return value


def channels(values: list[str]) -> list[str]:
    chosen = [c for c in CHANNELS if c in values]
    if not chosen or len(chosen) != len(set(values)):
        raise FormError(f"choose the form's channels among {', '.join(CHANNELS)}")
    return chosen


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
