"""Host-account logins through the real PAM stack, with real Unix users.

Each test creates its own user (useradd + chpasswd, removed with userdel -r)
and checks it through a PAM service file of its own (/etc/pam.d/msghub-test-*,
plain pam_unix, removed afterwards). Needs root: only root can create users
and let pam_unix read /etc/shadow.
"""

from __future__ import annotations

import asyncio
import glob
import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pam
import psycopg
import pytest
from psycopg.rows import dict_row

from msghub.auth.external import LOCKED, WRONG, ExternalAuthSettings, check_external_login
from msghub.auth.pam import PamSettings, pam_authenticate, pam_role, unix_groups
from msghub.services.blocking import call
from msghub.services.users import LOCKOUT_THRESHOLD, LoginResult, add_user

pytestmark = pytest.mark.peer

TOOLS = ("useradd", "userdel", "chpasswd", "groupadd", "groupdel", "gpasswd", "passwd")
PAM_DIR = Path("/etc/pam.d")


def _require_pam() -> None:
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if not glob.glob("/usr/lib/*/security/pam_unix.so") + glob.glob("/lib/*/security/pam_unix.so"):
        missing.append("pam_unix.so (libpam-modules)")
    if missing:
        message = f"{', '.join(missing)} not installed: run scripts/install-test-deps"
        if os.environ.get("MSGHUB_SKIP_PEERS") == "1":
            pytest.skip(message)
        pytest.fail(message)
    if os.geteuid() != 0:
        pytest.skip("PAM tests create Unix users and read /etc/shadow through pam_unix: run them as root")


def _run(*args: str, stdin: str | None = None) -> None:
    done = subprocess.run(args, input=stdin, capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, f"{' '.join(args)}: {done.stderr}"


@dataclass(frozen=True)
class HostUser:
    name: str
    password: str
    service: str  # a PAM service that checks pam_unix only


@pytest.fixture
def pam_service() -> Iterator[str]:
    _require_pam()
    service = f"msghub-test-{os.getpid()}-{secrets.token_hex(3)}"
    path = PAM_DIR / service
    # no "nullok": an empty password never passes; "nodelay": no 2 s pause per failure
    path.write_text("auth    required pam_unix.so nodelay\naccount required pam_unix.so\n")
    try:
        yield service
    finally:
        path.unlink(missing_ok=True)


def _unique(prefix: str) -> str:
    return f"{prefix}{os.getpid() % 10000}{secrets.token_hex(3)}"


@pytest.fixture
def host_user(pam_service: str) -> Iterator[HostUser]:
    name = _unique("mht")
    password = secrets.token_urlsafe(12)
    _run("useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", "--comment", "Test Person,,,", name)
    try:
        _run("chpasswd", stdin=f"{name}:{password}\n")
        yield HostUser(name, password, pam_service)
    finally:
        subprocess.run(["userdel", "-r", name], capture_output=True, timeout=30, check=False)


@pytest.fixture
def unix_group() -> Iterator[str]:
    name = _unique("mhg")
    _run("groupadd", name)
    try:
        yield name
    finally:
        subprocess.run(["groupdel", name], capture_output=True, timeout=30, check=False)


def _login(db_url: str, pam_settings: PamSettings | None, username: str, password: str) -> LoginResult:
    async def main() -> LoginResult:
        async with await psycopg.AsyncConnection.connect(db_url, autocommit=True, row_factory=dict_row) as conn:
            return await check_external_login(conn, username, password,
                                              settings=ExternalAuthSettings(ldap=None, pam=pam_settings))
    return asyncio.run(main())


def _user(db: psycopg.Connection[Any], username: str) -> dict[str, Any] | None:
    row: dict[str, Any] | None = db.execute(
        "SELECT id, display_name, role, auth_source, password_hash, failed_logins, last_login_at "
        "FROM hub.users WHERE username = %s", (username,)).fetchone()
    return row


def test_pam_accepts_the_right_password_only(host_user):
    assert pam_authenticate(host_user.name, host_user.password, host_user.service)
    assert not pam_authenticate(host_user.name, host_user.password + "x", host_user.service)
    assert not pam_authenticate(host_user.name, "", host_user.service)
    assert not pam_authenticate(_unique("nobody"), host_user.password, host_user.service)


def test_the_login_service_works_too(host_user):
    # Debian's stock "login" stack (common-auth + common-account)
    assert pam_authenticate(host_user.name, host_user.password, "login")


def test_an_empty_password_never_reaches_pam(host_user):
    _run("passwd", "--delete", host_user.name)
    # Debian's common-auth has pam_unix "nullok": PAM itself lets this account in with ""
    assert pam.PamAuthenticator().authenticate(host_user.name, "", service="login", resetcreds=False)
    assert not pam_authenticate(host_user.name, "", "login")


def test_names_outside_the_hub_format_are_refused_before_pam(host_user):
    for name in (f"{host_user.name}\x00", f"{host_user.name} ", "", "x" * 65):
        assert not pam_authenticate(name, host_user.password, host_user.service)


def test_first_login_creates_a_pam_hub_user(host_user, db_url, db):
    settings = PamSettings(service=host_user.service, admin_group=None, operator_group=None)
    result = _login(db_url, settings, host_user.name, host_user.password)
    assert result.error is None and result.user_id is not None
    row = _user(db, host_user.name)
    assert row is not None and row["id"] == result.user_id
    assert (row["auth_source"], row["role"], row["password_hash"]) == ("pam", "user", None)
    assert row["display_name"] == "Test Person" and row["last_login_at"] is not None
    created = list(db.execute("SELECT target, detail FROM hub.audit_log WHERE action = 'user.create'"))
    assert created == [{"target": host_user.name, "detail": {"auth_source": "pam", "role": "user"}}]


def test_wrong_and_unknown_are_refused_and_failures_lock_the_account(host_user, db_url, db):
    settings = PamSettings(service=host_user.service, admin_group=None, operator_group=None)
    assert _login(db_url, settings, host_user.name, "wrong-password").error == WRONG
    assert _user(db, host_user.name) is None, "a failed login must not create a hub user"
    assert _login(db_url, settings, _unique("nobody"), host_user.password).error == WRONG
    assert _login(db_url, settings, host_user.name, host_user.password).user_id is not None
    for n in range(1, LOCKOUT_THRESHOLD + 1):
        assert _login(db_url, settings, host_user.name, f"wrong-{n}").error == WRONG
        row = _user(db, host_user.name)
        assert row is not None and row["failed_logins"] == n
    assert _login(db_url, settings, host_user.name, host_user.password).error == LOCKED
    assert db.execute("SELECT count(*) AS n FROM hub.users").fetchone() == {"n": 1}


def test_unix_groups_map_to_roles_at_every_login(host_user, unix_group, db_url, db):
    settings = PamSettings(service=host_user.service, admin_group=unix_group, operator_group=None)
    assert pam_role(settings, host_user.name) == "user"
    _run("gpasswd", "--add", host_user.name, unix_group)
    assert unix_group in unix_groups(host_user.name)
    assert _login(db_url, settings, host_user.name, host_user.password).user_id is not None
    row = _user(db, host_user.name)
    assert row is not None and row["role"] == "admin"
    operator = PamSettings(service=host_user.service, admin_group=None, operator_group=unix_group)
    assert _login(db_url, operator, host_user.name, host_user.password).user_id is not None
    row = _user(db, host_user.name)
    assert row is not None and row["role"] == "operator"
    _run("gpasswd", "--delete", host_user.name, unix_group)
    assert _login(db_url, operator, host_user.name, host_user.password).user_id is not None
    row = _user(db, host_user.name)
    assert row is not None and row["role"] == "user"
    changes = [(r["detail"]["from"], r["detail"]["to"]) for r in
               db.execute("SELECT detail FROM hub.audit_log WHERE action = 'user.role' ORDER BY id")]
    assert changes == [("admin", "operator"), ("operator", "user")]


def test_pam_is_off_unless_a_service_is_set(host_user, db_url, db, monkeypatch):
    monkeypatch.delenv("MSGHUB_PAM_SERVICE", raising=False)
    monkeypatch.delenv("MSGHUB_LDAP_URL", raising=False)
    assert ExternalAuthSettings.from_env() == ExternalAuthSettings(ldap=None, pam=None)
    assert _login(db_url, None, host_user.name, host_user.password).error == WRONG
    assert _user(db, host_user.name) is None
    monkeypatch.setenv("MSGHUB_PAM_SERVICE", host_user.service)
    monkeypatch.setenv("MSGHUB_PAM_ADMIN_GROUP", "wheel")
    assert ExternalAuthSettings.from_env().pam == PamSettings(host_user.service, "wheel", None)
    # settings read from the environment when none are given
    async def main() -> LoginResult:
        async with await psycopg.AsyncConnection.connect(db_url, autocommit=True, row_factory=dict_row) as conn:
            return await check_external_login(conn, host_user.name, host_user.password)
    assert asyncio.run(main()).user_id is not None
    # an existing PAM user cannot sign in once PAM is switched off again
    assert _login(db_url, None, host_user.name, host_user.password).error == WRONG


def test_a_local_account_keeps_its_own_password(host_user, db_url, db):
    with psycopg.connect(db_url, autocommit=True, row_factory=dict_row) as conn:
        call(conn, add_user, host_user.name, "local-password-123")
    settings = PamSettings(service=host_user.service, admin_group=None, operator_group=None)
    assert _login(db_url, settings, host_user.name, host_user.password).error == WRONG
    assert _login(db_url, settings, host_user.name, "local-password-123").user_id is not None
    row = _user(db, host_user.name)
    assert row is not None and row["auth_source"] == "local" and row["password_hash"] is not None
