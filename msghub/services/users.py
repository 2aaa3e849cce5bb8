"""Local accounts: argon2 password hashes, the account row, first admin,
login with lockout. The use cases a person runs (create, password) are in
accounts.py."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import TypedDict

import psycopg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from msghub.errors import HubError
from msghub.hub.queries import QUERIES
from msghub.services import audit
from msghub.services.tx import SYSTEM, Tx

_HASHER = PasswordHasher()

MIN_PASSWORD_LENGTH = 10
LOCKOUT_THRESHOLD = 5
# verified against when the user does not exist, so timing tells nothing
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))

ROLES = ("admin", "operator", "user", "integrator")


class UserError(HubError):
    pass


class UserRow(TypedDict):
    id: int
    username: str
    display_name: str
    role: str
    password_hash: str | None
    auth_source: str
    enabled: bool
    failed_logins: int
    locked_until: datetime | None


class Locked(TypedDict):
    locked: bool


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"password too short: at least {MIN_PASSWORD_LENGTH} characters")
    return _HASHER.hash(password)


def random_password() -> str:
    return secrets.token_urlsafe(15)


async def add_user(tx: Tx, username: str, password: str | None, *, role: str = "user", display_name: str = "",
                   email: str | None = None) -> int:
    """The account row alone (no audit): for create_user and for tests."""
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    try:
        row = await (await tx.execute(QUERIES["insert_user"], {
            "username": username, "display_name": display_name, "email": email, "role": role,
            "password_hash": hash_password(password) if password is not None else None,
        })).fetchone()
    except psycopg.errors.UniqueViolation:
        raise UserError(f"user {username!r} already exists") from None
    except psycopg.errors.CheckViolation:
        raise UserError(f"invalid user name {username!r}: letters, digits and _.@- only, at most 64") from None
    assert row is not None
    return int(row["id"])


@dataclass(frozen=True)
class LoginResult:
    user_id: int | None
    error: str | None


async def check_login(conn: Tx, username: str, password: str) -> LoginResult:
    """Verifies a local login and records failures, locking out with backoff."""
    user = await QUERIES.one(conn, "user_by_name", UserRow, {"username": username})
    generic = "wrong user name or password"
    if user is None or user["password_hash"] is None or not user["enabled"]:
        _verify(_DUMMY_HASH, password)
        return LoginResult(None, generic)
    locked = await QUERIES.one(conn, "account_locked", Locked, {"t": user["locked_until"]})
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


async def ensure_first_admin(tx: Tx, password: str | None) -> str | None:
    """Creates user "admin" when there is no user at all; returns the password
    to show once (a random one unless given), or None when users exist."""
    row = await (await tx.execute(QUERIES["count_users"])).fetchone()
    if row and row["users"]:
        return None
    chosen = password or random_password()
    await add_user(tx, "admin", chosen, role="admin", display_name="Administrator")
    await audit.record(tx, SYSTEM, "user.create", "admin", {"role": "admin", "first_admin": True})
    return chosen
