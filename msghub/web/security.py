"""Sessions, CSRF tokens and security headers for the web app.

The session cookie holds a random token; the database keeps only its SHA-256
(hub.web_sessions). Every state-changing request carries a CSRF token: the
session's own once logged in, and before login a double-submit token bound
to a cookie of its own.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

SESSION_COOKIE = "msghub_session"
PRELOGIN_COOKIE = "msghub_prelogin"
SESSION_TTL_S = 12 * 3600

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True)
class SessionUser:
    user_id: int
    username: str
    display_name: str
    role: str
    csrf_token: str


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


def tokens_match(expected: str | None, given: str | None) -> bool:
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())
