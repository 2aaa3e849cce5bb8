"""Directory logins against a real OpenLDAP slapd started by the suite.

slapd runs in the foreground on free loopback ports with a throwaway cn=config
(built with slapadd), an mdb database, the memberOf overlay, and TLS with a
CA made for the run. Entries are added over LDAP, so memberOf is maintained
as in a live directory.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import socket
import subprocess
import tempfile
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from msghub.auth import ldap as auth_ldap
from msghub.auth.external import (
    LOCKED,
    NOT_ALLOWED,
    UNAVAILABLE,
    WRONG,
    ExternalAuthSettings,
    check_external_login,
)
from msghub.auth.ldap import LDAP_ENV_SETTINGS, LdapAuthenticator, LdapSettings, Outcome, user_filter
from msghub.auth.pam import PAM_ENV_SETTINGS
from msghub.errors import ConfigError
from msghub.services.blocking import call
from msghub.services.users import LOCKOUT_THRESHOLD, LoginResult, add_user

# ldap3 as msghub imports it: with pyasn1's import-time deprecation warning silenced
ldap3 = auth_ldap.ldap3

SUFFIX = "dc=example,dc=org"
ROOT_DN = f"cn=admin,{SUFFIX}"
ROOT_PW = "root-secret-for-tests"
READER_DN = f"cn=reader,ou=service,{SUFFIX}"
READER_PW = "reader-secret-for-tests"
PEOPLE = f"ou=people,{SUFFIX}"
GROUPS = f"ou=groups,{SUFFIX}"
TOOLS = ("slapd", "slapadd", "slappasswd", "ldapwhoami", "openssl")
DOCS = Path(__file__).resolve().parent.parent / "docs"

# user -> (password, directory groups)
USERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "alice": ("alice-password-1", ("hub-admins", "hub-users", "team-north")),
    "bob": ("bob-password-22", ("helpdesk", "team-south")),
    "carol": ("carol-password-333", ("hub-users",)),
    "dave": ("dave-password-4444", ("outsiders",)),
    "erin": ("erin-password-55555", ("helpdesk", "hub-users", "team-north", "team-south")),
}
# spelled differently on purpose: DNs compare case- and space-insensitively
ROLE_MAP = (f"cn=hub-admins,{GROUPS}=admin; CN=Helpdesk, OU=Groups, DC=Example, DC=Org=operator;"
            f"cn=hub-users,{GROUPS}=user")
GROUP_MAP = f"cn=team-north,{GROUPS}=north;cn=team-south,{GROUPS}=south"


def _require_tools() -> None:
    missing = [t for t in TOOLS if shutil.which(t) is None and not Path("/usr/sbin", t).exists()]
    if not missing:
        return
    message = f"{', '.join(missing)} not installed: run scripts/install-test-deps (Debian slapd, ldap-utils)"
    if os.environ.get("MSGHUB_SKIP_PEERS") == "1":
        pytest.skip(message)
    pytest.fail(message)


def _tool(name: str) -> str:
    return shutil.which(name) or str(Path("/usr/sbin", name))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(*args: str, stdin: str | None = None) -> str:
    done = subprocess.run(args, input=stdin, capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, f"{args[0]} failed: {done.stderr}"
    return done.stdout


def _make_certificates(tmp: Path) -> None:
    """A CA, and a server certificate for 127.0.0.1 (IP only: 'localhost' must not match)."""
    _run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=msghub test CA",
         "-keyout", str(tmp / "ca.key"), "-out", str(tmp / "ca.pem"))
    _run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
         "-keyout", str(tmp / "server.key"), "-out", str(tmp / "server.csr"))
    (tmp / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
    _run("openssl", "x509", "-req", "-in", str(tmp / "server.csr"), "-CA", str(tmp / "ca.pem"),
         "-CAkey", str(tmp / "ca.key"), "-CAcreateserial", "-days", "2", "-extfile", str(tmp / "ext.cnf"),
         "-out", str(tmp / "server.pem"))


def _config_ldif(tmp: Path) -> str:
    root_hash = _run(_tool("slappasswd"), "-s", ROOT_PW).strip()
    return textwrap.dedent(f"""\
        dn: cn=config
        objectClass: olcGlobal
        cn: config
        olcPidFile: {tmp}/slapd.pid
        olcTLSCACertificateFile: {tmp}/ca.pem
        olcTLSCertificateFile: {tmp}/server.pem
        olcTLSCertificateKeyFile: {tmp}/server.key
        # like Active Directory: a DN with an empty password binds (unauthenticated)
        olcAllows: bind_anon_dn

        dn: cn=module{{0}},cn=config
        objectClass: olcModuleList
        cn: module{{0}}
        olcModulePath: /usr/lib/ldap
        olcModuleLoad: back_mdb
        olcModuleLoad: memberof

        dn: cn=schema,cn=config
        objectClass: olcSchemaConfig
        cn: schema

        include: file:///etc/ldap/schema/core.ldif
        include: file:///etc/ldap/schema/cosine.ldif
        include: file:///etc/ldap/schema/inetorgperson.ldif

        dn: olcDatabase={{-1}}frontend,cn=config
        objectClass: olcDatabaseConfig
        objectClass: olcFrontendConfig
        olcDatabase: {{-1}}frontend

        dn: olcDatabase={{0}}config,cn=config
        objectClass: olcDatabaseConfig
        olcDatabase: {{0}}config
        olcAccess: {{0}}to * by * none

        dn: olcDatabase={{1}}mdb,cn=config
        objectClass: olcDatabaseConfig
        objectClass: olcMdbConfig
        olcDatabase: {{1}}mdb
        olcSuffix: {SUFFIX}
        olcRootDN: {ROOT_DN}
        olcRootPW: {root_hash}
        olcDbDirectory: {tmp}/data
        olcDbMaxSize: 16777216
        olcAccess: {{0}}to attrs=userPassword by anonymous auth by * none
        olcAccess: {{1}}to * by * read

        dn: olcOverlay={{0}}memberof,olcDatabase={{1}}mdb,cn=config
        objectClass: olcOverlayConfig
        objectClass: olcMemberOf
        olcOverlay: {{0}}memberof
        olcMemberOfRefInt: TRUE
        olcMemberOfGroupOC: groupOfNames
        olcMemberOfMemberAD: member
        olcMemberOfMemberOfAD: memberOf
        """)


@contextlib.contextmanager
def _root(url: str) -> Iterator[Any]:
    """A connection bound as the root DN. ldap3's own `with` leaves an auto-bound connection open."""
    conn = ldap3.Connection(ldap3.Server(url, connect_timeout=5), ROOT_DN, ROOT_PW, auto_bind=True,
                            receive_timeout=5, raise_exceptions=True)
    try:
        yield conn
    finally:
        conn.unbind()


def _load(url: str) -> None:
    def hashed(password: str) -> str:
        return _run(_tool("slappasswd"), "-s", password).strip()

    with _root(url) as conn:
        conn.add(SUFFIX, ["dcObject", "organization"], {"o": "Example", "dc": "example"})
        for ou in ("people", "groups", "service"):
            conn.add(f"ou={ou},{SUFFIX}", "organizationalUnit", {"ou": ou})
        conn.add(READER_DN, ["organizationalRole", "simpleSecurityObject"],
                 {"cn": "reader", "userPassword": hashed(READER_PW)})
        for uid, (password, _) in USERS.items():
            conn.add(f"uid={uid},{PEOPLE}", "inetOrgPerson",
                     {"uid": uid, "cn": f"{uid.title()} Example", "sn": "Example",
                      "mail": f"{uid}@example.org", "userPassword": hashed(password)})
        groups = sorted({g for _, gs in USERS.values() for g in gs})
        for group in groups:
            members = [f"uid={u},{PEOPLE}" for u, (_, gs) in USERS.items() if group in gs]
            conn.add(f"cn={group},{GROUPS}", "groupOfNames", {"cn": group, "member": members})


@dataclass(frozen=True)
class Slapd:
    url: str
    tls_url: str
    ca_file: str

    def settings(self, **changes: Any) -> LdapSettings:
        env = {"MSGHUB_LDAP_URL": self.url, "MSGHUB_LDAP_BIND_DN": READER_DN,
               "MSGHUB_LDAP_BIND_PASSWORD": READER_PW, "MSGHUB_LDAP_USER_BASE": PEOPLE,
               "MSGHUB_LDAP_ROLE_MAP": ROLE_MAP, "MSGHUB_LDAP_GROUP_MAP": GROUP_MAP,
               "MSGHUB_LDAP_TIMEOUT_S": "5"}
        settings = LdapSettings.from_env(env)
        assert settings is not None
        return replace(settings, **changes)


def _wait_listening(proc: subprocess.Popen[bytes], port: int, log: Path, deadline_s: float = 15) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"slapd exited with {proc.returncode}: {log.read_text(errors='replace')}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"slapd did not listen on {port} within {deadline_s}s: {log.read_text(errors='replace')}")


@pytest.fixture(scope="module")
def slapd() -> Iterator[Slapd]:
    _require_tools()
    tmp = Path(tempfile.mkdtemp(prefix="msghub-slapd-"))
    try:
        (tmp / "data").mkdir()
        (tmp / "slapd.d").mkdir()
        _make_certificates(tmp)
        (tmp / "config.ldif").write_text(_config_ldif(tmp))
        _run(_tool("slapadd"), "-n0", "-F", str(tmp / "slapd.d"), "-l", str(tmp / "config.ldif"))
        port, tls_port = _free_port(), _free_port()
        log = tmp / "slapd.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [_tool("slapd"), "-h", f"ldap://127.0.0.1:{port}/ ldaps://127.0.0.1:{tls_port}/",
                 "-F", str(tmp / "slapd.d"), "-d", "0"],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        try:
            _wait_listening(proc, port, log)
            _wait_listening(proc, tls_port, log)
            url = f"ldap://127.0.0.1:{port}"
            _load(url)
            yield Slapd(url, f"ldaps://127.0.0.1:{tls_port}", str(tmp / "ca.pem"))
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _login(db_url: str, settings: LdapSettings | None, username: str, password: str) -> LoginResult:
    async def main() -> LoginResult:
        # dict rows, as the web app's pool has them (users.check_login needs them)
        async with await psycopg.AsyncConnection.connect(db_url, autocommit=True, row_factory=dict_row) as conn:
            return await check_external_login(conn, username, password,
                                              settings=ExternalAuthSettings(ldap=settings, pam=None),
                                              client="127.0.0.1")
    return asyncio.run(main())


def _user(db: psycopg.Connection[Any], username: str) -> dict[str, Any] | None:
    row: dict[str, Any] | None = db.execute(
        "SELECT id, username, display_name, email, role, auth_source, password_hash, failed_logins, "
        "locked_until IS NOT NULL AS locked FROM hub.users WHERE username = %s", (username,)).fetchone()
    return row


def _groups(db: psycopg.Connection[Any], username: str) -> list[str]:
    return [r["name"] for r in db.execute(
        "SELECT g.name FROM hub.memberships m JOIN hub.groups g ON g.id = m.group_id "
        "JOIN hub.users u ON u.id = m.user_id WHERE u.username = %s ORDER BY g.name", (username,))]


def _audit(db: psycopg.Connection[Any], action: str) -> list[dict[str, Any]]:
    return list(db.execute("SELECT actor, action, target, detail, source FROM hub.audit_log "
                           "WHERE action = %s ORDER BY id", (action,)))


# --- settings (no directory needed) ---------------------------------------------------------------


def test_settings_off_without_url_and_parsed_with_it():
    assert LdapSettings.from_env({}) is None
    s = LdapSettings.from_env({"MSGHUB_LDAP_URL": "ldap://dir.example.org", "MSGHUB_LDAP_USER_BASE": PEOPLE,
                               "MSGHUB_LDAP_ROLE_MAP": ROLE_MAP, "MSGHUB_LDAP_GROUP_MAP": GROUP_MAP})
    assert s is not None
    assert s.user_filter == "(uid={username})" and s.group_attribute == "memberOf" and s.default_role is None
    # DNs hold '=' themselves; they are compared case- and space-insensitively
    assert s.role_map == ((f"cn=hub-admins,{GROUPS}", "admin"), (f"cn=helpdesk,{GROUPS}", "operator"),
                          (f"cn=hub-users,{GROUPS}", "user"))
    assert s.managed_groups == {"north", "south"}


_BASE = {"MSGHUB_LDAP_URL": "ldap://dir.example.org", "MSGHUB_LDAP_USER_BASE": PEOPLE}


@pytest.mark.parametrize(("env", "complaint"), [
    ({**_BASE, "MSGHUB_LDAP_URL": "http://x"}, "use ldap://host"),
    ({"MSGHUB_LDAP_URL": "ldap://x"}, "MSGHUB_LDAP_USER_BASE is required"),
    ({**_BASE, "MSGHUB_LDAP_ROLE_MAP": f"cn=x,{GROUPS}=root"}, "unknown role 'root'"),
    ({**_BASE, "MSGHUB_LDAP_ROLE_MAP": "admin"}, "is not 'group DN=value'"),
    ({**_BASE, "MSGHUB_LDAP_GROUP_MAP": "=north"}, "is not 'group DN=value'"),
    ({**_BASE, "MSGHUB_LDAP_USER_FILTER": "(uid=alice)"}, "must contain {username}"),
    ({**_BASE, "MSGHUB_LDAP_USER_FILTER": "uid={username}"}, "written in parentheses"),
    ({**_BASE, "MSGHUB_LDAP_URL": "ldaps://x", "MSGHUB_LDAP_STARTTLS": "1"}, "ldaps:// is encrypted already"),
    ({**_BASE, "MSGHUB_LDAP_STARTTLS": "yes"}, "MSGHUB_LDAP_STARTTLS: use 0 or 1"),
    ({**_BASE, "MSGHUB_LDAP_BIND_DN": READER_DN}, "needs MSGHUB_LDAP_BIND_PASSWORD"),
    ({**_BASE, "MSGHUB_LDAP_DEFAULT_ROLE": "boss"}, "MSGHUB_LDAP_DEFAULT_ROLE='boss'"),
    ({**_BASE, "MSGHUB_LDAP_TIMEOUT_S": "soon"}, "is not a whole number"),
])
def test_wrong_settings_are_refused_with_a_clear_message(env, complaint):
    with pytest.raises(ConfigError, match=re.escape(complaint)):
        LdapSettings.from_env(env)


def test_user_filter_escapes_filter_metacharacters():
    s = LdapSettings.from_env({"MSGHUB_LDAP_URL": "ldap://x", "MSGHUB_LDAP_USER_BASE": PEOPLE})
    assert s is not None
    assert user_filter(s, "*") == r"(uid=\2a)"
    assert user_filter(s, ")(uid=*") == r"(uid=\29\28uid=\2a)"
    assert user_filter(s, "a\\b") == r"(uid=a\5cb)"


def test_every_auth_setting_is_documented():
    text = (DOCS / "AUTH.md").read_text()
    missing = [s.name for s in LDAP_ENV_SETTINGS + PAM_ENV_SETTINGS if f"`{s.name}`" not in text]
    assert missing == []


# --- against slapd --------------------------------------------------------------------------------


@pytest.mark.peer
def test_good_login_creates_a_directory_user(slapd, db_url, db):
    result = _login(db_url, slapd.settings(), "carol", USERS["carol"][0])
    assert result.error is None and result.user_id is not None
    row = _user(db, "carol")
    assert row is not None and row["id"] == result.user_id
    assert (row["auth_source"], row["role"], row["password_hash"]) == ("ldap", "user", None)
    assert (row["display_name"], row["email"]) == ("Carol Example", "carol@example.org")
    created = _audit(db, "user.create")
    assert [(a["target"], a["detail"]["auth_source"], a["source"]) for a in created] == [
        ("carol", "ldap", "127.0.0.1")]
    # a second login finds the same row and creates nothing
    again = _login(db_url, slapd.settings(), "carol", USERS["carol"][0])
    assert again.user_id == result.user_id and len(_audit(db, "user.create")) == 1


@pytest.mark.peer
def test_wrong_password_is_refused_and_counts_towards_the_lockout(slapd, db_url, db):
    result = _login(db_url, slapd.settings(), "carol", "not-carols-password")
    assert (result.user_id, result.error) == (None, WRONG)
    assert _user(db, "carol") is None, "a failed login must not create a hub user"
    ok = _login(db_url, slapd.settings(), "carol", USERS["carol"][0])
    assert ok.user_id is not None
    for n in range(1, LOCKOUT_THRESHOLD + 1):
        failed = _login(db_url, slapd.settings(), "carol", f"wrong-{n}")
        assert failed.user_id is None
        row = _user(db, "carol")
        assert row is not None and row["failed_logins"] == n
    row = _user(db, "carol")
    assert row is not None and row["locked"]
    # locked: even the right password is refused, and the directory is not asked
    locked = _login(db_url, slapd.settings(), "carol", USERS["carol"][0])
    assert (locked.user_id, locked.error) == (None, LOCKED)


@pytest.mark.peer
def test_lockout_cannot_be_dodged_by_changing_the_case_of_the_name(slapd, db_url, db):
    assert _login(db_url, slapd.settings(), "carol", USERS["carol"][0]).user_id is not None
    for n, spelling in enumerate(["CAROL", "Carol", "cArol", "caRol", "carOl"][:LOCKOUT_THRESHOLD], 1):
        result = _login(db_url, slapd.settings(), spelling, "wrong")
        assert result.error == WRONG
        row = _user(db, "carol")
        assert row is not None and row["failed_logins"] == n
    assert _login(db_url, slapd.settings(), "CAROL", USERS["carol"][0]).error == LOCKED
    assert db.execute("SELECT count(*) AS n FROM hub.users").fetchone() == {"n": 1}


@pytest.mark.peer
def test_the_directory_spelling_of_a_name_is_the_hub_user_name(slapd, db_url, db):
    result = _login(db_url, slapd.settings(), "CAROL", USERS["carol"][0])
    assert result.user_id is not None
    assert _user(db, "carol") is not None and _user(db, "CAROL") is None


@pytest.mark.peer
def test_empty_password_is_refused_without_any_bind(slapd, db_url, db, monkeypatch):
    # this server, like AD, lets a DN with an empty password bind: the danger is real here
    whoami = subprocess.run(["ldapwhoami", "-x", "-H", slapd.url, "-D", f"uid=carol,{PEOPLE}", "-w", ""],
                            capture_output=True, text=True, timeout=10, check=False)
    assert whoami.returncode == 0, whoami.stderr

    binds: list[str | None] = []

    class CountingConnection(ldap3.Connection):
        def bind(self, *args: Any, **kwargs: Any) -> Any:
            binds.append(self.user)
            return super().bind(*args, **kwargs)

    monkeypatch.setattr(auth_ldap, "Connection", CountingConnection)
    found = LdapAuthenticator(slapd.settings()).authenticate("carol", "")
    assert (found.outcome, found.reason) == (Outcome.BAD_CREDENTIALS, "empty password")
    result = _login(db_url, slapd.settings(), "carol", "")
    assert (result.user_id, result.error) == (None, WRONG)
    assert binds == []
    assert _user(db, "carol") is None
    # the spy does see the binds of a real login
    assert LdapAuthenticator(slapd.settings()).authenticate("carol", USERS["carol"][0]).outcome is Outcome.OK
    assert binds == [READER_DN, f"uid=carol,{PEOPLE}"]


@pytest.mark.peer
@pytest.mark.parametrize("name", ["*", ")(uid=*", "*)(|(uid=*", "alice)(|(uid=*", "al*", "alice\x00"])
def test_filter_injection_in_the_user_name_is_refused(slapd, db_url, db, name):
    # alice's password: a filter that matched her entry would let the login through
    found = LdapAuthenticator(slapd.settings()).authenticate(name, USERS["alice"][0])
    assert found.outcome is Outcome.BAD_CREDENTIALS and found.dn is None
    result = _login(db_url, slapd.settings(), name, USERS["alice"][0])
    assert (result.user_id, result.error) == (None, WRONG)
    assert db.execute("SELECT count(*) AS n FROM hub.users").fetchone() == {"n": 0}


@pytest.mark.peer
def test_escaped_filters_match_nothing_in_the_real_directory(slapd):
    settings = slapd.settings()
    with _root(slapd.url) as conn:
        conn.search(PEOPLE, "(uid=*)", attributes=[])
        assert len(conn.entries) == len(USERS), "the unescaped filter would match every user"
        for name in ("*", ")(uid=*", "al*"):
            conn.search(PEOPLE, user_filter(settings, name), attributes=[])
            assert conn.entries == [], name


@pytest.mark.peer
def test_roles_map_from_groups_and_the_highest_wins(slapd, db_url, db):
    for name, role in (("alice", "admin"), ("bob", "operator"), ("carol", "user")):
        result = _login(db_url, slapd.settings(), name, USERS[name][0])
        assert result.user_id is not None, name
        row = _user(db, name)
        assert row is not None and row["role"] == role, name


@pytest.mark.peer
def test_a_user_in_no_mapped_group_is_refused_unless_a_default_role_is_set(slapd, db_url, db):
    result = _login(db_url, slapd.settings(), "dave", USERS["dave"][0])
    assert (result.user_id, result.error) == (None, NOT_ALLOWED)
    assert _user(db, "dave") is None
    refused = _audit(db, "login.refused")
    assert [(a["target"], a["detail"]["auth_source"]) for a in refused] == [("dave", "ldap")]
    assert "no group" in refused[0]["detail"]["reason"]
    # a wrong password gets the usual answer, not the "not allowed" one
    assert _login(db_url, slapd.settings(), "dave", "wrong").error == WRONG

    allowed = _login(db_url, slapd.settings(default_role="user"), "dave", USERS["dave"][0])
    assert allowed.user_id is not None
    row = _user(db, "dave")
    assert row is not None and row["role"] == "user"


@pytest.mark.peer
def test_mapped_groups_become_hub_groups_and_memberships(slapd, db_url, db):
    db.execute("INSERT INTO hub.groups (name) VALUES ('kept-local')")
    assert _login(db_url, slapd.settings(), "alice", USERS["alice"][0]).user_id is not None
    assert _groups(db, "alice") == ["north"]
    names = {r["name"] for r in db.execute("SELECT name FROM hub.groups")}
    assert names == {"north", "kept-local"}, "only mapped directory groups become hub groups"
    added = _audit(db, "membership.add")
    assert [(a["target"], a["detail"]["groups"]) for a in added] == [("alice", ["north"])]
    # a membership granted in the hub, in an unmapped group, is not the directory's to remove
    db.execute("INSERT INTO hub.memberships (user_id, group_id) SELECT u.id, g.id FROM hub.users u, hub.groups g "
               "WHERE u.username = 'alice' AND g.name = 'kept-local'")
    assert _login(db_url, slapd.settings(), "alice", USERS["alice"][0]).user_id is not None
    assert _groups(db, "alice") == ["kept-local", "north"]
    assert _audit(db, "membership.remove") == []


@pytest.mark.peer
def test_directory_changes_reach_the_hub_at_the_next_login(slapd, db_url, db):
    settings = slapd.settings()
    assert _login(db_url, settings, "erin", USERS["erin"][0]).user_id is not None
    row = _user(db, "erin")
    assert row is not None and row["role"] == "operator"
    assert _groups(db, "erin") == ["north", "south"]
    erin = f"uid=erin,{PEOPLE}"
    with _root(slapd.url) as conn:
        for group in ("team-south", "helpdesk"):
            conn.modify(f"cn={group},{GROUPS}", {"member": [(ldap3.MODIFY_DELETE, [erin])]})
    try:
        assert _login(db_url, settings, "erin", USERS["erin"][0]).user_id is not None
        assert _groups(db, "erin") == ["north"]
        row = _user(db, "erin")
        assert row is not None and row["role"] == "user"
        removed = _audit(db, "membership.remove")
        assert [(a["target"], a["detail"]["groups"]) for a in removed] == [("erin", ["south"])]
        demoted = _audit(db, "user.role")
        assert [(a["detail"]["from"], a["detail"]["to"]) for a in demoted] == [("operator", "user")]
    finally:
        with _root(slapd.url) as conn:
            for group in ("team-south", "helpdesk"):
                conn.modify(f"cn={group},{GROUPS}", {"member": [(ldap3.MODIFY_ADD, [erin])]})


@pytest.mark.peer
def test_groups_found_by_a_group_search_and_an_anonymous_user_search(slapd, db_url, db):
    settings = slapd.settings(group_base=GROUPS, group_attribute="noSuchAttribute", bind_dn=None,
                              bind_password=None)
    found = LdapAuthenticator(settings).authenticate("bob", USERS["bob"][0])
    assert (found.outcome, found.role, found.groups) == (Outcome.OK, "operator", {"south"})
    assert _login(db_url, settings, "bob", USERS["bob"][0]).user_id is not None
    assert _groups(db, "bob") == ["south"]


@pytest.mark.peer
def test_a_local_account_is_never_taken_over_by_the_directory(slapd, db_url, db):
    with psycopg.connect(db_url, autocommit=True, row_factory=dict_row) as conn:
        call(conn, add_user, "alice", "local-password-123", role="user")
    # an existing local user stays with its local password
    assert _login(db_url, slapd.settings(), "alice", USERS["alice"][0]).error == WRONG
    assert _login(db_url, slapd.settings(), "alice", "local-password-123").user_id is not None
    # and a differently spelled name that the directory resolves to it is refused too
    assert _login(db_url, slapd.settings(), "ALICE", USERS["alice"][0]).error == WRONG
    row = _user(db, "alice")
    assert row is not None and (row["auth_source"], row["role"]) == ("local", "user")
    assert row["password_hash"] is not None
    assert _audit(db, "login.refused")[0]["detail"]["reason"] == "the name belongs to a local account"


@pytest.mark.peer
def test_ldaps_and_starttls_verify_the_certificate_and_the_host_name(slapd):
    password = USERS["carol"][0]
    ldaps = slapd.settings(url=slapd.tls_url, ca_file=slapd.ca_file)
    assert LdapAuthenticator(ldaps).authenticate("carol", password).outcome is Outcome.OK
    starttls = slapd.settings(start_tls=True, ca_file=slapd.ca_file)
    assert LdapAuthenticator(starttls).authenticate("carol", password).outcome is Outcome.OK
    # not signed by a CA the system trusts
    for settings in (slapd.settings(url=slapd.tls_url), slapd.settings(start_tls=True)):
        unknown_ca = LdapAuthenticator(settings).authenticate("carol", password)
        assert unknown_ca.outcome is Outcome.UNAVAILABLE
        assert "CERTIFICATE_VERIFY_FAILED" in unknown_ca.reason
    # the certificate is for 127.0.0.1, not for "localhost"
    wrong_host = slapd.settings(url=slapd.tls_url.replace("127.0.0.1", "localhost"), ca_file=slapd.ca_file)
    mismatch = LdapAuthenticator(wrong_host).authenticate("carol", password)
    assert mismatch.outcome is Outcome.UNAVAILABLE
    assert "Hostname mismatch" in mismatch.reason


@pytest.mark.peer
def test_an_unreachable_directory_says_so_and_counts_no_failure(slapd, db_url, db):
    assert _login(db_url, slapd.settings(), "carol", USERS["carol"][0]).user_id is not None
    down = slapd.settings(url=f"ldap://127.0.0.1:{_free_port()}", timeout_s=2)
    started = time.monotonic()
    result = _login(db_url, down, "carol", USERS["carol"][0])
    assert (result.user_id, result.error) == (None, UNAVAILABLE)
    assert time.monotonic() - started < 10
    row = _user(db, "carol")
    assert row is not None and row["failed_logins"] == 0
    # a wrong service account password is the directory's problem, not the user's
    bad_service = slapd.settings(bind_password="not-the-reader-password")
    assert _login(db_url, bad_service, "carol", USERS["carol"][0]).error == UNAVAILABLE


@pytest.mark.peer
def test_a_failing_search_is_an_error_not_an_unknown_user(slapd, db_url, db):
    password = USERS["alice"][0]
    assert _login(db_url, slapd.settings(), "alice", password).user_id is not None
    assert _groups(db, "alice") == ["north"]
    nowhere = f"ou=nowhere,{SUFFIX}"
    found = LdapAuthenticator(slapd.settings(user_base=nowhere)).authenticate("alice", password)
    assert found.outcome is Outcome.UNAVAILABLE and "noSuchObject" in found.reason
    # a group search that fails must not pass for "in no group": that would strip memberships
    assert _login(db_url, slapd.settings(group_base=nowhere), "alice", password).error == UNAVAILABLE
    assert _groups(db, "alice") == ["north"]
    row = _user(db, "alice")
    assert row is not None and row["role"] == "admin" and row["failed_logins"] == 0
