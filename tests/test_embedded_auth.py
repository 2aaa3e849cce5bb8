"""The embedded PostgreSQL asks every connection for a password
(scram-sha-256), the hub's own included (a secret generated in the data
directory), and a data directory made before that is switched over."""

from __future__ import annotations

import stat
import subprocess
import sys
import textwrap
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

from msghub.hub.db import connect
from msghub.hub.embedded import start_embedded
from msghub.hub.migrate import migrate
from msghub.services import access
from msghub.services.blocking import call
from msghub.services.users import add_user

SECRET_FILE = "pg-secret"  # msghub.hub.embedded.SECRET_FILE, spelled out as the docs do

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="pgserver data directory layout is tested on Linux")

# a data directory as msghub made it before: pgserver's own, trusting every local connection
OLD_STYLE = textwrap.dedent("""
    import sys, psycopg, pgserver
    server = pgserver.get_server(sys.argv[1], cleanup_mode="stop")
    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        conn.execute("CREATE DATABASE msghub")
    with psycopg.connect(server.get_uri("msghub"), autocommit=True) as conn:
        conn.execute("CREATE TABLE kept (n int)")
        conn.execute("INSERT INTO kept VALUES (7)")
    server.cleanup()
""")


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    return parts._replace(netloc=f"{parts.username}@{parts.netloc.rpartition('@')[2]}").geturl()


def _refused(url: str) -> str:
    with pytest.raises(psycopg.OperationalError) as caught:
        psycopg.connect(url).close()
    return str(caught.value)


def test_every_connection_authenticates_with_scram(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    url, handle = start_embedded(data_dir)
    try:
        secret = data_dir / SECRET_FILE
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600
        assert urlsplit(url).password == secret.read_text().strip()
        assert "password" in _refused(_without_password(url))
        assert "password authentication failed" in _refused(url.replace(urlsplit(url).password or "", "wrong"))
        hba = (data_dir / "pg" / "pg_hba.conf").read_text()
        rules = [line.split() for line in hba.splitlines() if line.strip() and not line.startswith("#")]
        assert rules and all(rule[-1] == "scram-sha-256" for rule in rules)
        assert {rule[0] for rule in rules} == {"local", "host"}

        migrate(url)
        with connect(url) as conn:
            call(conn, add_user, "alice", "alice password 1")
            access.add_integrator(conn, "crm", "crm password 123", username="alice", group=None)
            stored = conn.execute("SELECT rolpassword FROM pg_authid WHERE rolname = 'crm'").fetchone()
            conn.commit()
        assert stored is not None and stored["rolpassword"].startswith("SCRAM-SHA-256$")
        crm = urlsplit(url)._replace(netloc=f"crm:crm%20password%20123@{urlsplit(url).netloc.rpartition('@')[2]}")
        with psycopg.connect(crm.geturl()) as conn:
            assert conn.execute("SELECT current_user").fetchone() == ("crm",)
        assert "password authentication failed" in _refused(crm.geturl().replace("123@", "124@"))
        assert "password" in _refused(_without_password(crm.geturl()))
    finally:
        handle.cleanup()

    # the next start reads the same secret
    again, handle = start_embedded(data_dir)
    try:
        assert again == url
        with psycopg.connect(again) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
    finally:
        handle.cleanup()


def test_a_data_directory_from_before_is_switched_to_passwords(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    data_dir.mkdir()
    subprocess.run([sys.executable, "-c", OLD_STYLE, str(data_dir / "pg")], check=True, timeout=120)
    assert "trust" in (data_dir / "pg" / "pg_hba.conf").read_text()
    assert not (data_dir / SECRET_FILE).exists()

    url, handle = start_embedded(data_dir)
    try:
        assert (data_dir / SECRET_FILE).exists()
        assert "trust" not in (data_dir / "pg" / "pg_hba.conf").read_text()
        assert "password" in _refused(_without_password(url))
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT n FROM kept").fetchone() == (7,)
    finally:
        handle.cleanup()


def test_a_lost_secret_is_an_error_not_a_new_password(tmp_path: Path) -> None:
    from msghub.hub.embedded import EmbeddedDatabaseError

    data_dir = tmp_path / "var"
    _, handle = start_embedded(data_dir)
    handle.cleanup()
    (data_dir / SECRET_FILE).unlink()
    with pytest.raises(EmbeddedDatabaseError, match=r"pg-secret is missing.*restore"):
        start_embedded(data_dir)
    assert not (data_dir / SECRET_FILE).exists(), "a new secret would not match the server's password"
