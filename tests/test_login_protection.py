"""Logins tell nothing about which names exist: an unknown name costs the
same argon2 verification as an account and gets the same answers, lockout
included; and failures from one client address are limited."""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
import pytest
from argon2 import PasswordHasher
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg.rows import dict_row

from msghub.auth.external import LOCKED, WRONG, ExternalAuthSettings, check_external_login
from msghub.hub.db import connect
from msghub.services import users
from msghub.services.blocking import call
from msghub.services.users import LOCKOUT_THRESHOLD, LoginResult, add_user

PASSWORD = "correct horse battery"
NO_SOURCES = ExternalAuthSettings(ldap=None, pam=None)  # neither LDAP nor PAM: local accounts only


class CountingHasher(PasswordHasher):
    """The hub's hasher, counting the verifications it does."""

    def __init__(self) -> None:
        super().__init__()
        self.verified: list[str] = []

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        self.verified.append(hash if isinstance(hash, str) else hash.decode())
        return super().verify(hash, password)


@pytest.fixture
def hasher(monkeypatch: pytest.MonkeyPatch) -> CountingHasher:
    counting = CountingHasher()
    monkeypatch.setattr(users, "_HASHER", counting)
    return counting


def _logins(db_url: str, attempts: list[tuple[str, str]]) -> list[LoginResult]:
    async def main() -> list[LoginResult]:
        async with await psycopg.AsyncConnection.connect(db_url, autocommit=True, row_factory=dict_row) as conn:
            return [await check_external_login(conn, name, password, settings=NO_SOURCES, client="192.0.2.1")
                    for name, password in attempts]
    return asyncio.run(main())


def _accounts(db_url: str) -> None:
    with connect(db_url) as conn:
        call(conn, add_user, "alice", PASSWORD)
        call(conn, add_user, "off", PASSWORD)
        conn.execute("UPDATE hub.users SET enabled = false WHERE username = 'off'")
        call(conn, add_user, "external", None)
        conn.execute("UPDATE hub.users SET auth_source = 'ldap' WHERE username = 'external'")
        conn.commit()


@pytest.mark.parametrize("name", ["alice", "nobody", "off", "external", "bad name!"])
def test_every_refusal_costs_one_argon2_verification(db_url: str, hasher: CountingHasher, name: str) -> None:
    """A real name, an unknown one, a disabled account, an account of a
    source that is not configured, a name no account can have: each wrong
    password runs the same verification (the hasher, once)."""
    _accounts(db_url)
    (result,) = _logins(db_url, [(name, "wrong password!")])
    assert (result.user_id, result.error) == (None, WRONG)
    assert len(hasher.verified) == 1, f"{name}: {len(hasher.verified)} argon2 verifications"


def test_a_locked_name_costs_the_same_as_an_open_one(db_url: str, hasher: CountingHasher) -> None:
    _accounts(db_url)
    for name in ("alice", "nobody"):
        hasher.verified.clear()
        results = _logins(db_url, [(name, f"wrong {n}") for n in range(LOCKOUT_THRESHOLD + 1)])
        assert [r.error for r in results][-1] == LOCKED, name
        assert len(hasher.verified) == LOCKOUT_THRESHOLD + 1, name


def test_unknown_names_lock_out_like_accounts(db_url: str, db: Any) -> None:
    _accounts(db_url)
    answers: dict[str, list[str | None]] = {}
    for name in ("alice", "nobody", "off"):
        wrong = [(name, f"wrong password {n}") for n in range(LOCKOUT_THRESHOLD)]
        answers[name] = [r.error for r in _logins(db_url, [*wrong, (name, PASSWORD)])]
    expected = [WRONG] * LOCKOUT_THRESHOLD + [LOCKED]
    assert answers == {"alice": expected, "nobody": expected, "off": expected}
    # the unknown name's count is not an account
    assert db.execute("SELECT count(*) AS n FROM hub.users WHERE username = 'nobody'").fetchone() == {"n": 0}


def test_a_count_a_day_old_starts_again_for_accounts_and_unknown_names(db_url: str, db: Any) -> None:
    _accounts(db_url)
    _logins(db_url, [(n, f"wrong {i}") for n in ("alice", "nobody") for i in range(LOCKOUT_THRESHOLD)])
    db.execute("UPDATE hub.users SET last_failed_login_at = now() - interval '25 hours', locked_until = NULL")
    db.execute("UPDATE hub.login_failures SET last_failed_at = now() - interval '25 hours', locked_until = NULL")
    assert [r.error for r in _logins(db_url, [("alice", "wrong"), ("nobody", "wrong")])] == [WRONG, WRONG]
    assert _logins(db_url, [("alice", PASSWORD)])[0].user_id is not None


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.one_of(st.from_regex(r"[A-Za-z0-9_.@-]{1,64}", fullmatch=True), st.text(max_size=300)),
       password=st.text(max_size=100))
def test_any_name_is_refused_with_one_verification_and_no_error(db_url: str, hasher: CountingHasher, name: str,
                                                                password: str) -> None:
    hasher.verified.clear()
    (result,) = _logins(db_url, [(name, password)])
    assert result.user_id is None and result.error in (WRONG, LOCKED)
    assert len(hasher.verified) == 1
