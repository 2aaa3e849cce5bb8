"""Logins of accounts that live outside the hub: host accounts (PAM) and
directory accounts (LDAP / Active Directory).

An existing hub user is checked against its own ``auth_source`` only; a
local account goes to users.check_login. An unknown name is tried against
LDAP (when MSGHUB_LDAP_URL is set), then PAM (when MSGHUB_PAM_SERVICE is
set); the first that accepts creates the hub user. Each successful login
brings the role, display name, e-mail and directory-mapped group
memberships up to date, so the source stays authoritative. See docs/AUTH.md.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, LiteralString

import psycopg
from psycopg.rows import DictRow, dict_row

from msghub.auth.ldap import USERNAME_FORMAT, LdapAuthenticator, LdapSettings, Outcome
from msghub.auth.pam import PamSettings, host_display_name, pam_authenticate, pam_role
from msghub.auth.queries import AUTH_QUERIES
from msghub.hub.queries import QUERIES
from msghub.services import audit
from msghub.services.tx import Actor
from msghub.services.users import (
    LOCKED,
    LOCKOUT_THRESHOLD,
    WRONG,
    LoginResult,
    burn,
    check_login,
    name_locked,
    record_unknown_failure,
    refuse_unknown,
)

log = logging.getLogger(__name__)


# WRONG and LOCKED are users.check_login's words, so a refusal tells nothing about the account's kind
__all__ = ["LOCKED", "NOT_ALLOWED", "UNAVAILABLE", "WRONG", "ExternalAuthSettings", "TrialAnswer",
           "check_external_login", "try_external_login"]
UNAVAILABLE = "signing in is unavailable right now: try again later"
NOT_ALLOWED = "this account may not use msghub: ask an administrator"


@dataclass(frozen=True)
class ExternalAuthSettings:
    ldap: LdapSettings | None
    pam: PamSettings | None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ExternalAuthSettings:
        """Raises ConfigError for a wrong setting: call it at start-up to fail early."""
        return cls(ldap=LdapSettings.from_env(environ), pam=PamSettings.from_env(environ))


@dataclass(frozen=True)
class _Attempt:
    source: str  # 'ldap' or 'pam', as in hub.users.auth_source
    outcome: Outcome
    reason: str
    username: str | None = None  # the source's name for the account, once found
    role: str | None = None
    display_name: str | None = None
    email: str | None = None
    groups: frozenset[str] = frozenset()
    managed_groups: frozenset[str] = frozenset()


def _pam_attempt(settings: PamSettings, username: str, password: str) -> _Attempt:
    try:
        ok = pam_authenticate(username, password, settings.service)
    except OSError as e:  # libpam missing or unusable
        log.error("PAM unusable: %s", e)
        return _Attempt("pam", Outcome.UNAVAILABLE, f"PAM unusable: {e}")
    if not ok:
        return _Attempt("pam", Outcome.BAD_CREDENTIALS, "PAM refused")
    return _Attempt("pam", Outcome.OK, "ok", username=username, role=pam_role(settings, username),
                    display_name=host_display_name(username))


@functools.lru_cache(maxsize=4)
def _ldap_authenticator(settings: LdapSettings) -> LdapAuthenticator:
    # one per settings: it holds the TLS context, whose CA certificates are read once
    return LdapAuthenticator(settings)


def _ldap_attempt(settings: LdapSettings, username: str, password: str) -> _Attempt:
    found = _ldap_authenticator(settings).authenticate(username, password)
    return _Attempt("ldap", found.outcome, found.reason, username=found.username, role=found.role,
                    display_name=found.display_name, email=found.email, groups=found.groups,
                    managed_groups=settings.managed_groups)


async def _attempt(settings: ExternalAuthSettings, source: str, username: str, password: str) -> _Attempt | None:
    # PAM and ldap3 block (PAM may sleep seconds after a failure): off the event loop
    if source == "ldap" and settings.ldap is not None:
        return await asyncio.to_thread(_ldap_attempt, settings.ldap, username, password)
    if source == "pam" and settings.pam is not None:
        return await asyncio.to_thread(_pam_attempt, settings.pam, username, password)
    return None


@dataclass(frozen=True)
class TrialAnswer:
    """What one source said to a trial login (try_external_login)."""

    source: str  # 'ldap' or 'pam'
    outcome: str  # an Outcome's value: ok, bad credentials, not allowed, unavailable
    reason: str
    username: str | None
    role: str | None
    display_name: str | None
    email: str | None
    groups: tuple[str, ...]  # the hub groups the directory puts the user in
    managed_groups: tuple[str, ...]  # the hub groups whose memberships the directory decides


async def try_external_login(settings: ExternalAuthSettings, username: str, password: str) -> list[TrialAnswer]:
    """Asks every configured source (LDAP, then PAM) about the name and
    password, as a login would, and says what each answered: the role and
    groups it would map to. Touches no hub user, session or lockout: for an
    administrator checking the settings (the admin pages audit it)."""
    answers = []
    for source in ("ldap", "pam"):
        attempt = await _attempt(settings, source, username, password)
        if attempt is None:
            continue
        answers.append(TrialAnswer(
            source, attempt.outcome.value, attempt.reason, attempt.username,
            attempt.role if attempt.outcome is Outcome.OK else None, attempt.display_name, attempt.email,
            tuple(sorted(attempt.groups)), tuple(sorted(attempt.managed_groups))))
    return answers


async def _one(conn: psycopg.AsyncConnection[Any], query: LiteralString,
               params: Mapping[str, Any]) -> DictRow | None:
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(query, params)
    return await cur.fetchone() if cur.description else None


async def _user(conn: psycopg.AsyncConnection[Any], username: str) -> DictRow | None:
    return await _one(conn, AUTH_QUERIES["external_user_by_name"], {"username": username})


async def _audit(conn: psycopg.AsyncConnection[Any], action: str, target: str, detail: dict[str, Any], *,
                 user_id: int | None, client: str | None) -> None:
    await audit.record(conn, Actor("msghub", user_id, client), action, target, detail)


async def check_external_login(conn: psycopg.AsyncConnection[Any], username: str, password: str, *,
                               settings: ExternalAuthSettings | None = None,
                               client: str | None = None) -> LoginResult:
    """Verifies a login against the account's source; creates or updates the
    hub user on success. ``client`` (an address) goes to the audit log.

    A refusal that asked no source costs an argon2 verification all the
    same, and names without an account lock out like accounts
    (users.refuse_unknown), so neither time nor words tell which names
    exist. ``conn`` needs dict rows, as for users.check_login (local
    accounts go there). Without ``settings``, they are read from the
    environment, which raises ConfigError for a wrong value."""
    if settings is None:
        settings = ExternalAuthSettings.from_env()
    if not USERNAME_FORMAT.fullmatch(username):
        burn(password)  # no account can have such a name, but it costs the same
        return LoginResult(None, WRONG)
    user = await _user(conn, username)
    if user is not None:
        if user["auth_source"] == "local":
            return await check_login(conn, username, password)
        if not user["enabled"] or user["locked"]:
            return await _refuse(conn, user, password)
        sources: tuple[str, ...] = (user["auth_source"],)
    else:
        if await name_locked(conn, username):
            burn(password)
            return LoginResult(None, LOCKED)
        sources = tuple(s for s, on in (("ldap", settings.ldap), ("pam", settings.pam)) if on is not None)
    unavailable = asked = False
    unknown = username
    row: DictRow | None
    for source in sources:
        attempt = await _attempt(settings, source, username, password)
        if attempt is None:
            log.warning("user %r signs in with %s, which is not configured", username, source)
            continue
        asked = True
        if user is not None:
            name, row = str(user["username"]), user
        else:
            # the source may spell a new name differently ("Alice" typed, "alice" in
            # the directory): the hub user, lockout included, goes by the source's name
            name = attempt.username or username
            row = await _user(conn, name) if name != username else None
        if row is not None and row["auth_source"] != source:
            if attempt.outcome is Outcome.OK:
                log.warning("%s account %r matches a %s hub user: refused", source, name, row["auth_source"])
                await _audit(conn, "login.refused", name, {"auth_source": source, "reason":
                             f"the name belongs to a {row['auth_source']} account"}, user_id=None, client=client)
            continue
        if row is not None and (not row["enabled"] or row["locked"]):
            return await _refuse(conn, row, None)
        if row is None:
            if name != username and await name_locked(conn, name):
                return LoginResult(None, LOCKED)
            unknown = name  # counted by the source's spelling, as an account would be
        if attempt.outcome is Outcome.OK:
            user_id = await _store(conn, row, name, attempt, client)
            if user_id is not None:
                await conn.execute(QUERIES["login_name_forget"], {"names": list({username, name})})
            return LoginResult(user_id, None) if user_id is not None else LoginResult(None, WRONG)
        if attempt.outcome is Outcome.NOT_ALLOWED:
            # the password was right: say why, and don't count it as a failure;
            # an account the source no longer lets in loses its sessions now
            if row is not None:
                await conn.execute(QUERIES["end_sessions"], {"user_id": row["id"]})
            await _audit(conn, "login.refused", name, {"auth_source": source, "reason": attempt.reason},
                         user_id=None if row is None else int(row["id"]), client=client)
            return LoginResult(None, NOT_ALLOWED)
        if attempt.outcome is Outcome.UNAVAILABLE:
            unavailable = True
            continue
        if row is not None:
            await conn.execute(QUERIES["login_failed"], {"id": row["id"], "threshold": LOCKOUT_THRESHOLD})
            return LoginResult(None, WRONG)
    if unavailable:
        return LoginResult(None, UNAVAILABLE)
    if not asked:  # no source to ask: answer as a local login would
        return await (refuse_unknown(conn, username, password) if user is None
                      else _refuse(conn, user, password))
    if user is None:  # no source knows the name: it locks out as an account would
        await record_unknown_failure(conn, unknown)
    return LoginResult(None, WRONG)


async def _refuse(conn: psycopg.AsyncConnection[Any], row: DictRow, password: str | None) -> LoginResult:
    """An account that cannot sign in (disabled, locked, or its source not
    configured) is answered as a wrong password would be: counted towards
    the lockout, locked when locked. With ``password``, no source was asked:
    the verification's cost is paid here."""
    if password is not None:
        burn(password)
    if row["locked"]:
        return LoginResult(None, LOCKED)
    await conn.execute(QUERIES["login_failed"], {"id": row["id"], "threshold": LOCKOUT_THRESHOLD})
    return LoginResult(None, WRONG)


async def _store(conn: psycopg.AsyncConnection[Any], row: DictRow | None, name: str, attempt: _Attempt,
                 client: str | None) -> int | None:
    """Creates or updates the hub user after a successful external login;
    None when the name turned out to belong to another kind of account."""
    assert attempt.role is not None
    fields = {"role": attempt.role, "display_name": attempt.display_name, "email": attempt.email,
              "auth_source": attempt.source}
    async with conn.transaction():
        if row is None:
            created = await _one(conn, AUTH_QUERIES["insert_external_user"], {"username": name, **fields})
            if created is not None:
                user_id = int(created["id"])
                await _audit(conn, "user.create", name, {"auth_source": attempt.source, "role": attempt.role},
                             user_id=user_id, client=client)
            else:  # created meanwhile by a concurrent login (or an administrator)
                row = await _user(conn, name)
                if row is None or row["auth_source"] != attempt.source:
                    return None
        if row is not None:
            user_id = int(row["id"])
            cur = await conn.execute(AUTH_QUERIES["update_external_user"], {"id": user_id, **fields})
            if cur.rowcount != 1:
                return None
            if row["role"] != attempt.role:
                await _audit(conn, "user.role", name, {"auth_source": attempt.source, "from": row["role"],
                                                       "to": attempt.role}, user_id=user_id, client=client)
        if attempt.managed_groups:
            await _sync_groups(conn, user_id, name, attempt, client)
        await conn.execute(QUERIES["login_succeeded"], {"id": user_id})
    return user_id


async def _sync_groups(conn: psycopg.AsyncConnection[Any], user_id: int, name: str, attempt: _Attempt,
                       client: str | None) -> None:
    """Memberships of the mapped hub groups follow the directory; other
    memberships (granted in the hub) are left alone."""
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(AUTH_QUERIES["user_group_names"], {"user_id": user_id})
    current = {str(r["name"]) for r in await cur.fetchall()}
    add = sorted(attempt.groups - current)
    remove = sorted((attempt.managed_groups & current) - attempt.groups)
    if add:
        await conn.execute(AUTH_QUERIES["ensure_groups"], {"names": add})
        await conn.execute(AUTH_QUERIES["add_memberships"], {"user_id": user_id, "names": add})
        await _audit(conn, "membership.add", name, {"auth_source": attempt.source, "groups": add},
                     user_id=user_id, client=client)
    if remove:
        await conn.execute(AUTH_QUERIES["remove_memberships"], {"user_id": user_id, "names": remove})
        await _audit(conn, "membership.remove", name, {"auth_source": attempt.source, "groups": remove},
                     user_id=user_id, client=client)
