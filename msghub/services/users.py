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


WRONG = "wrong user name or password"
LOCKED = "too many failed attempts: this account is locked for a while, try later"


async def check_login(conn: Tx, username: str, password: str) -> LoginResult:
    """Verifies a local login and records failures, locking out with backoff.

    Every answer costs one argon2 verification, and a name without a usable
    account (unknown, disabled, no password) is refused and locked out
    exactly like a wrong password: neither the time taken nor the words
    tell which names exist."""
    user = await QUERIES.one(conn, "user_by_name", UserRow, {"username": username})
    if user is None:
        return await refuse_unknown(conn, username, password)
    locked = await QUERIES.one(conn, "account_locked", Locked, {"t": user["locked_until"]})
    if locked and locked["locked"]:
        burn(password)
        return LoginResult(None, LOCKED)
    usable = user["password_hash"] if user["enabled"] else None  # the hash to verify against, if any
    if not (_verify(_DUMMY_HASH if usable is None else usable, password) and usable is not None):
        await conn.execute(QUERIES["login_failed"], {"id": user["id"], "threshold": LOCKOUT_THRESHOLD})
        return LoginResult(None, WRONG)
    await conn.execute(QUERIES["login_succeeded"], {"id": user["id"]})
    return LoginResult(int(user["id"]), None)


async def refuse_unknown(conn: Tx, name: str, password: str) -> LoginResult:
    """The answer for a name no account has, at an account's cost: a
    verification against a dummy hash, and a lockout counted for the name
    (hub.login_failures) as it would be for an account."""
    burn(password)
    if await name_locked(conn, name):
        return LoginResult(None, LOCKED)
    await record_unknown_failure(conn, name)
    return LoginResult(None, WRONG)


async def name_locked(conn: Tx, name: str) -> bool:
    row = await QUERIES.one(conn, "login_name_locked", Locked, {"name": name})
    return bool(row and row["locked"])


async def record_unknown_failure(conn: Tx, name: str) -> None:
    await QUERIES.run(conn, "login_name_failed", {"name": name, "threshold": LOCKOUT_THRESHOLD})


def burn(password: str) -> None:
    """The work of one verification, for answers that need none: so that
    they take as long as a wrong password."""
    _verify(_DUMMY_HASH, password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class FirstAdmin:
    created: bool
    generated_password: str | None  # to show once; None when the operator chose it


async def ensure_first_admin(tx: Tx, password: str | None) -> FirstAdmin:
    """Creates user "admin" when there is no user at all, with the given
    password or a random one. Only a random one is handed back to be shown:
    a chosen one (MSGHUB_ADMIN_PASSWORD) must not end up in logs. Run it in
    a transaction: nodes starting together create one admin between them."""
    await tx.execute(QUERIES["lock_first_admin"])  # held until the caller commits
    row = await (await tx.execute(QUERIES["count_users"])).fetchone()
    if row and row["users"]:
        return FirstAdmin(False, None)
    generated = None if password else random_password()
    await add_user(tx, "admin", password or generated, role="admin", display_name="Administrator")
    await audit.record(tx, SYSTEM, "user.create", "admin", {"role": "admin", "first_admin": True})
    return FirstAdmin(True, generated)
