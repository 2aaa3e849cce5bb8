"""Local accounts: argon2 password hashes, first admin, lockout."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import psycopg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from psycopg.types.json import Jsonb

from msghub.errors import HubError
from msghub.hub.queries import QUERIES

_HASHER = PasswordHasher()

MIN_PASSWORD_LENGTH = 10
LOCKOUT_THRESHOLD = 5
# verified against when the user does not exist, so timing tells nothing
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))

ROLES = ("admin", "operator", "user", "integrator")


class UserError(HubError):
    pass


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"password too short: at least {MIN_PASSWORD_LENGTH} characters")
    return _HASHER.hash(password)


def random_password() -> str:
    return secrets.token_urlsafe(15)


def add_user(conn: psycopg.Connection[Any], username: str, password: str | None, *,
             role: str = "user", display_name: str = "", email: str | None = None) -> int:
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    try:
        row = conn.execute(QUERIES["insert_user"], {
            "username": username, "display_name": display_name, "email": email, "role": role,
            "password_hash": hash_password(password) if password is not None else None,
        }).fetchone()
    except psycopg.errors.UniqueViolation:
        raise UserError(f"user {username!r} already exists") from None
    except psycopg.errors.CheckViolation:
        raise UserError(f"invalid user name {username!r}: letters, digits and _.@- only, at most 64") from None
    assert row is not None
    return int(row["id"])


def set_password(conn: psycopg.Connection[Any], username: str, password: str) -> None:
    cur = conn.execute(QUERIES["set_password"], {"username": username, "password_hash": hash_password(password)})
    if cur.rowcount == 0:
        raise UserError(f"no user {username!r}")


@dataclass(frozen=True)
class LoginResult:
    user_id: int | None
    error: str | None


async def check_login(conn: psycopg.AsyncConnection[Any], username: str, password: str) -> LoginResult:
    """Verifies a local login and records failures, locking out with backoff."""
    cur = await conn.execute(QUERIES["user_by_name"], {"username": username})
    user = await cur.fetchone()
    generic = "wrong user name or password"
    if user is None or user["password_hash"] is None or not user["enabled"]:
        _verify(_DUMMY_HASH, password)
        return LoginResult(None, generic)
    locked = await (await conn.execute("SELECT %(t)s::timestamptz > now() AS locked",
                                         {"t": user["locked_until"]})).fetchone()
    if locked and locked["locked"]:
        return LoginResult(None, "too many failed attempts: this account is locked for a while, try later")
    if not _verify(user["password_hash"], password):
        await conn.execute(QUERIES["login_failed"], {"id": user["id"], "threshold": LOCKOUT_THRESHOLD})
        return LoginResult(None, generic)
    await conn.execute(QUERIES["login_succeeded"], {"id": user["id"]})
    return LoginResult(int(user["id"]), None)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def audit(conn: psycopg.Connection[Any], actor: str, action: str, target: str | None = None,
          detail: dict[str, Any] | None = None, *, actor_user_id: int | None = None,
          source: str = "cli") -> None:
    conn.execute(QUERIES["audit"], {"actor_user_id": actor_user_id, "actor": actor, "action": action,
                                    "target": target, "detail": Jsonb(detail or {}), "source": source})


def ensure_first_admin(conn: psycopg.Connection[Any], password: str | None) -> str | None:
    """Creates user "admin" when there is no user at all; returns the password
    to show once (a random one unless given), or None when users exist."""
    row = conn.execute(QUERIES["count_users"]).fetchone()
    if row and row["users"]:
        return None
    chosen = password or random_password()
    add_user(conn, "admin", chosen, role="admin", display_name="Administrator")
    audit(conn, "msghub", "user.create", "admin", {"role": "admin", "first_admin": True})
    return chosen
