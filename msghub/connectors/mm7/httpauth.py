"""Checks an MMSC's HTTP credentials on the inbound route: Basic, or Digest
(RFC 2617, MD5, qop=auth) with stateless nonces, so that every web node
accepts a nonce any of them issued."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import time

REALM = "msghub MM7"
NONCE_LIFETIME_S = 300
_DIGEST_FIELD = re.compile(r'(\w+)=(?:"([^"]*)"|([^,\s]*))')


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def _nonce(secret: str, stamp: int) -> str:
    mac = hmac.new(secret.encode("utf-8"), str(stamp).encode(), hashlib.sha256).hexdigest()[:32]
    return f"{stamp}.{mac}"


def _nonce_ok(secret: str, nonce: str, now: float) -> bool:
    stamp, _, _ = nonce.partition(".")
    if not stamp.isdigit() or now - int(stamp) > NONCE_LIFETIME_S:
        return False
    return hmac.compare_digest(_nonce(secret, int(stamp)), nonce)


def challenge(scheme: str, secret: str, now: float | None = None) -> str:
    if scheme == "digest":
        nonce = _nonce(secret, int(time.time() if now is None else now))
        return f'Digest realm="{REALM}", qop="auth", algorithm=MD5, nonce="{nonce}", opaque="{secrets.token_hex(8)}"'
    return f'Basic realm="{REALM}", charset="UTF-8"'


def check(scheme: str, header: str | None, user: str, password: str, method: str,
          now: float | None = None) -> bool:  # fmt: skip
    """True when the Authorization header carries these credentials."""
    if not header:
        return False
    kind, _, value = header.partition(" ")
    if scheme == "basic" and kind.lower() == "basic":
        try:
            given = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        name, _, secret = given.partition(":")
        return hmac.compare_digest(name, user) & hmac.compare_digest(secret, password)
    if scheme == "digest" and kind.lower() == "digest":
        fields = {m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3)
                  for m in _DIGEST_FIELD.finditer(value)}  # fmt: skip
        needed = ("username", "realm", "nonce", "uri", "response")
        if any(key not in fields for key in needed) or fields["username"] != user:
            return False
        if not _nonce_ok(password, fields["nonce"], time.time() if now is None else now):
            return False
        ha1 = _md5(f"{user}:{fields['realm']}:{password}")
        ha2 = _md5(f"{method}:{fields['uri']}")
        if fields.get("qop") == "auth":
            expected = _md5(f"{ha1}:{fields['nonce']}:{fields.get('nc', '')}:{fields.get('cnonce', '')}:auth:{ha2}")
        else:
            expected = _md5(f"{ha1}:{fields['nonce']}:{ha2}")
        return hmac.compare_digest(expected, fields["response"].lower())
    return False
